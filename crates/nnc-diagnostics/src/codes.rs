//! The registry of diagnostic codes: every code nnc can report, each with one meaning.
//!
//! A diagnostic names its code by one of these constants, never by a string, so a code
//! cannot be used without being registered here. `docs/errors.md` lists every code with a
//! wrong program and its fix; a test keeps the two in sync.

/// A diagnostic code: `E01xx` syntax, `E02xx` names, `E03xx` shapes and sizes, `E04xx`
/// training settings and data, `E05xx` saved models and their use, `E09xx` internal errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    pub id: &'static str,
    /// What every diagnostic with this code means, in one line.
    pub meaning: &'static str,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

macro_rules! registry {
    ($($name:ident = $id:literal: $meaning:literal,)*) => {
        $(pub const $name: Code = Code { id: $id, meaning: $meaning };)*
        /// Every registered code, in numeric order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

registry! {
    SYNTAX = "E0101": "the text does not follow the grammar",
    BAD_NUMBER = "E0102": "a number is malformed or outside the range of 32-bit floats",
    DUPLICATE_OBJECTIVE = "E0103": "a minimize block has more than one objective",
    TOO_DEEP = "E0104": "brackets nest too deeply or a formula is too long",
    UNKNOWN_MODEL = "E0201": "a train block names a model that is not defined",
    UNKNOWN_DATA = "E0202": "a train block names data that is not defined",
    DUPLICATE_NAME = "E0203": "a block or parameter name is defined twice",
    UNKNOWN_CHOICE = "E0204": "an unknown activation, loss, optimizer, initialiser, normalisation, schedule or function",
    UNKNOWN_KEY = "E0205": "an unknown setting, layer option or argument name",
    UNKNOWN_LAYER = "E0206": "a setting names a layer the model does not have",
    UNKNOWN_PARAMETER = "E0207": "an objective uses a parameter that is not declared",
    INPUT_WIDTH = "E0301": "the model's input width differs from the data's input columns",
    OUTPUT_WIDTH = "E0302": "the model's output width differs from the data's targets",
    LITERAL_SHAPE = "E0303": "literal weights or biases have the wrong shape",
    TABLE_ROW_WIDTH = "E0304": "a row of an inline table has the wrong number of values",
    MODEL_STRUCTURE = "E0305": "a model's input is missing, repeated or misplaced, or it has no layers",
    ZERO_WIDTH = "E0306": "an input or layer has zero units",
    LOSS_OUTPUT = "E0307": "the loss does not fit the model's last layer",
    MINIMIZE_STRUCTURE = "E0308": "a minimize block has no parameters or no objective",
    TOO_LARGE = "E0309": "the program needs more memory than nnc may allocate",
    LAYER_SHAPE = "E0310": "a layer does not fit the shape it receives: a kernel larger than its input, a pool that leaves nothing, shapes that do not meet",
    LAYER_FORM = "E0311": "a layer is written with a size, activation or source it does not take, or without one it needs",
    EMBEDDING_COLUMN = "E0312": "an embedding names a column that is not a categorical input column",
    VALUE_RANGE = "E0401": "a setting's value is outside its valid range",
    VALUE_FORM = "E0402": "a setting's value has the wrong form",
    MISSING_LOSS = "E0403": "a train block does not name its loss",
    DUPLICATE_SETTING = "E0404": "a setting is given twice",
    EMPTY_TABLE = "E0405": "an inline table has no rows",
    NO_DATA_SOURCE = "E0406": "a data block has neither a table nor a file",
    NOTHING_TO_RUN = "E0407": "the program has no train or minimize block",
    DIVERGED = "E0408": "training diverged: the loss stopped being a finite number",
    MISSING_TARGET = "E0409": "a data block does not name its target",
    UNREADABLE_FILE = "E0410": "a data file cannot be read or is not valid CSV",
    MISSING_VALUE = "E0411": "a cell is missing (empty, NA, nan, ?) and the data says `missing error`",
    UNKNOWN_COLUMN = "E0412": "a setting names a column the file does not have",
    FILTER_EMPTY = "E0413": "a `where` filter keeps no rows",
    UNSEEN_CLASS = "E0414": "a class occurs in validation or test rows but not in training rows",
    ODD_VALUE = "E0415": "a numeric column holds a value that is not a finite number",
    EMPTY_SPLIT = "E0416": "a split part would have no rows (or no windows)",
    NEEDS_VALIDATION = "E0417": "early stopping needs a validation split",
    WRITE_FAILED = "E0418": "an output file cannot be written",
    CONFLICTING_SETTINGS = "E0419": "two data settings cannot be used together",
    MULTI_TARGET_CLASSES = "E0420": "a categorical target is not the only target",
    REVERSED_RANGE = "E0421": "a column range runs backwards through the file",
    NO_FEATURES = "E0422": "the feature selection leaves no columns",
    DUPLICATE_HEADER = "E0423": "the file's header names a column twice",
    TARGET_IN_FEATURES = "E0424": "a target column is also a feature (target leakage)",
    DUPLICATE_FEATURE = "E0425": "a column is selected as a feature twice",
    LOSS_TASK = "E0426": "the loss does not fit the task the target column gives",
    EMPTY_FILE = "E0427": "a data file has no header or no rows",
    IMAGE_FOLDER = "E0428": "an image folder has no class folders or images, or an image cannot be read or has another size",
    WEIGHTS_UNREADABLE = "E0501": "a weight file cannot be read or was not written by nnc",
    WEIGHTS_MISMATCH = "E0502": "saved weights do not fit the program's model or columns",
    INPUT_COLUMNS = "E0503": "rows to predict lack a column the model was trained on",
    NO_IDENTITIES = "E0504": "rows to match or score have no identities: no class column, or not a folder of class folders",
    TOO_FEW_ROWS = "E0505": "clustering asks for more clusters than there are rows, or for fewer than 2",
    THRESHOLD_RANGE = "E0506": "a similarity threshold is outside the range of its metric",
    INTERNAL = "E0900": "an internal compiler error (a bug in nnc)",
}

/// The registered code with this id.
pub fn lookup(id: &str) -> Option<Code> {
    ALL.iter().copied().find(|code| code.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_well_formed() {
        for pair in ALL.windows(2) {
            assert!(pair[0].id < pair[1].id, "{} and {} out of order or repeated", pair[0].id, pair[1].id);
        }
        for code in ALL {
            assert!(code.id.len() == 5 && code.id.starts_with('E'), "{}", code.id);
            assert!(code.id[1..].chars().all(|c| c.is_ascii_digit()), "{}", code.id);
            assert!(!code.meaning.is_empty());
        }
        assert_eq!(lookup("E0412"), Some(UNKNOWN_COLUMN));
        assert_eq!(lookup("E9999"), None);
    }
}
