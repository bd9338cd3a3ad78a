//! What a checked `data` block asks for: plain settings with the spans they came from.
//!
//! `nnc-lower` builds these from the syntax tree; this crate carries them out.

use nnc_diagnostics::Span;

/// A name written in the program (a data block, a column), with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub name: String,
    pub span: Span,
}

/// A checked data block.
#[derive(Clone, Debug)]
pub struct DataSpec {
    pub name: Name,
    pub source: Source,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Source {
    Table(TableSpec),
    Csv(Box<CsvSpec>),
    Images(ImageSpec),
}

/// A folder of images in one sub-folder per class (Keras' `image_dataset_from_directory`,
/// torchvision's `ImageFolder`): each image is a row of pixels scaled to [0, 1], height ×
/// width × channels, channels last; its class is its folder's name.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// Relative to the program's directory.
    pub path: String,
    pub path_span: Span,
    /// `resize H W`: every image is resized to this (bilinear); without it, every image
    /// must have the first one's size.
    pub resize: Option<[usize; 2]>,
    /// `color grey|rgb`; without it, grey when every image is grey, else RGB.
    pub color: Option<Color>,
    pub split: Split,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Grey,
    Rgb,
}

impl Color {
    pub fn channels(self) -> usize {
        match self {
            Color::Grey => 1,
            Color::Rgb => 3,
        }
    }
}

/// An inline table: column names, then rows of numbers. All of it trains.
#[derive(Clone, Debug)]
pub struct TableSpec {
    pub inputs: Vec<Name>,
    pub targets: Vec<Name>,
    /// Each row's inputs then its targets, row after row.
    pub values: Vec<f32>,
    pub rows: usize,
    pub span: Span,
}

impl TableSpec {
    /// Row by row, every value of the row (inputs then targets).
    pub fn row_values(&self) -> impl Iterator<Item = &[f32]> {
        self.values.chunks_exact((self.inputs.len() + self.targets.len()).max(1))
    }
}

/// How to turn a CSV file into examples.
#[derive(Clone, Debug)]
pub struct CsvSpec {
    /// Relative to the program's directory.
    pub path: String,
    pub path_span: Span,
    /// `None`: every column except the targets.
    pub features: Option<Features>,
    pub target: Target,
    /// Columns declared categorical: names and `a..b` ranges ([`CsvSpec::declares_categorical`]).
    pub categorical: Vec<ColumnRef>,
    pub normalize: Normalize,
    pub split: Split,
    pub window: Option<Window>,
    /// Keep only rows whose column equals the value.
    pub filter: Option<(Name, String)>,
    pub missing: Missing,
    /// Which cells are missing values.
    pub missing_values: MissingValues,
    /// An empty span at the end of the `file` setting: where a fix inserts a new setting.
    pub insert_at: Span,
}

#[derive(Clone, Debug)]
pub enum Features {
    /// Names and `a..b` ranges, in order.
    Columns(Vec<ColumnRef>, Span),
    /// Every column except these (and the targets).
    AllBut(Vec<Name>, Span),
}

#[derive(Clone, Debug)]
pub enum ColumnRef {
    Name(Name),
    Range(Name, Name),
}

impl ColumnRef {
    pub fn span(&self) -> Span {
        match self {
            ColumnRef::Name(name) => name.span,
            ColumnRef::Range(from, to) => from.span.to(to.span),
        }
    }

    /// Whether this names, or its range covers, column `column` of a file with `header`
    /// (a range whose ends are not both in the file covers nothing: it is reported when
    /// the columns are resolved).
    pub fn covers(&self, header: &[String], column: usize) -> bool {
        let position = |name: &Name| header.iter().position(|h| *h == name.name);
        match self {
            ColumnRef::Name(name) => header.get(column) == Some(&name.name),
            ColumnRef::Range(from, to) => match (position(from), position(to)) {
                (Some(a), Some(b)) => (a..=b).contains(&column),
                _ => false,
            },
        }
    }
}

impl CsvSpec {
    /// Whether `categorical` names column `column` of a file with `header`.
    pub fn declares_categorical(&self, header: &[String], column: usize) -> bool {
        self.categorical.iter().any(|c| c.covers(header, column))
    }
}

#[derive(Clone, Debug)]
pub enum Target {
    Columns(Vec<Name>),
    /// Reconstruct the features (auto-encoders).
    Features(Span),
    /// The next value of the window's series.
    Window,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Normalize {
    None,
    Standard,
    MinMax,
}

/// The cells that mean "no value" unless the data says otherwise (`missing_values`):
/// pandas' markers that occur in practice, exact and case-sensitive (a category named
/// `none` or `na` is a category), and `?`, which UCI's files use.
pub const DEFAULT_MISSING_VALUES: &[&str] = &["", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "?"];

/// Which cells are missing values: `missing_values "" "NA" "?"` for every column, and
/// `missing_values region("")` for one (there, `NA` is North America).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingValues {
    pub markers: Vec<String>,
    pub per_column: Vec<(Name, Vec<String>)>,
}

impl Default for MissingValues {
    fn default() -> MissingValues {
        MissingValues { markers: default_markers(), per_column: Vec::new() }
    }
}

pub fn default_markers() -> Vec<String> {
    DEFAULT_MISSING_VALUES.iter().map(|m| m.to_string()).collect()
}

impl MissingValues {
    /// The markers of `column`.
    pub fn markers_for(&self, column: &str) -> &[String] {
        self.per_column.iter().find(|(name, _)| name.name == column).map_or(&self.markers, |(_, m)| m)
    }

    pub fn is_missing(&self, column: &str, cell: &str) -> bool {
        is_marker(self.markers_for(column), cell)
    }
}

/// Whether `cell` is one of `markers` (exactly).
pub fn is_marker(markers: &[String], cell: &str) -> bool {
    // Length and first byte first: most cells are not markers, and comparing their bytes
    // calls `memcmp` (a tenth of loading a million rows with two text columns).
    let cell = cell.as_bytes();
    markers.iter().any(|m| m.len() == cell.len() && m.as_bytes().first() == cell.first() && m.as_bytes() == cell)
}

/// What missing cells (empty, `NA`, `nan`, `?`, ...) do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Missing {
    /// A diagnostic naming the first one.
    Error,
    /// Rows (or windows) with a missing value are left out.
    Drop,
    /// Numeric features take the training split's mean, categorical ones its most
    /// frequent category; rows whose target is missing are left out.
    Mean,
}

/// Fractions of the rows for training, validation and testing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
    /// Shuffles rows before splitting; the training seed when not given.
    pub seed: Option<u64>,
    pub span: Span,
}

impl Split {
    /// Every row trains.
    pub fn all_train(span: Span) -> Split {
        Split { train: 1.0, validation: 0.0, test: 0.0, seed: None, span }
    }
}

/// `window COLUMN K`: rows of K consecutive values predicting the next one.
#[derive(Clone, Debug)]
pub struct Window {
    pub column: Name,
    pub size: usize,
    pub span: Span,
}
