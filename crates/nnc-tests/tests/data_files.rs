//! A catalogue of damaged CSV files, as users produce them: each either loads exactly like
//! its clean original (and trains), or is a diagnostic that names the file and the line.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_diagnostics::{Code, Diagnostic, codes};
use nnc_driver::Overrides;

const CLEAN: &str = "size,rooms,city,price\n1.5,2,north,10\n2.0,3,south,19\n2.5,3,north,31\n3.0,4,east,40\n3.5,4,south,52\n4.0,5,north,59\n";

fn program(extra: &str) -> String {
    format!(
        "data homes {{\n  file \"data.csv\"\n  features size rooms city\n  target price{extra}\n}}\n\
         model m {{ input 6; dense 1 }}\ntrain m on homes {{ loss mse; optimizer sgd(lr = 0.01); epochs 3 }}\n"
    )
}

/// A fresh folder holding `data.csv` with `bytes`.
/// A fresh directory holding `data.csv`, removed when dropped.
fn folder_with(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), bytes).unwrap();
    dir
}

fn load(bytes: &[u8], extra: &str) -> Result<nnc_driver::Checked, Vec<Diagnostic>> {
    let dir = folder_with(bytes);
    nnc_driver::check(&program(extra), dir.path(), Overrides::default())
}

/// The cell at `line` (1-based, the header is line 1) and `column` replaced by `cell`.
fn with_cell(line: usize, column: usize, cell: &str) -> String {
    let mut lines: Vec<String> = CLEAN.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[line - 1].split(',').collect();
    cells[column] = cell;
    lines[line - 1] = cells.join(",");
    lines.join("\n") + "\n"
}

fn expect_error(name: &str, bytes: &[u8], code: Code, line: Option<u64>) {
    let errors = load(bytes, "").err().unwrap_or_else(|| panic!("{name}: loaded, expected {}", code.id));
    let first = &errors[0];
    assert_eq!(first.code, code, "{name}: {}", first.message);
    let text = format!("{} {}", first.message, first.primary.message);
    assert!(text.contains("data.csv") || first.message.contains("data.csv"), "{name}: the file is not named: {text}");
    if let Some(line) = line {
        assert!(text.contains(&format!("line {line}")), "{name}: line {line} is not named: {text}");
    }
}

fn inputs_of(checked: &nnc_driver::Checked) -> (Vec<String>, Vec<f32>, Vec<f32>) {
    let data = &checked.jobs[0].data.train;
    (data.input_names.clone(), data.inputs.clone(), data.targets.clone())
}

#[test]
fn damaged_cells_name_the_file_and_line() {
    for (name, cell) in [("empty cell", ""), ("NA", "NA"), ("nan", "nan"), ("question mark", "?")] {
        expect_error(name, with_cell(4, 0, cell).as_bytes(), codes::MISSING_VALUE, Some(4));
    }
    expect_error("inf in a feature", with_cell(3, 0, "inf").as_bytes(), codes::ODD_VALUE, Some(3));
    expect_error("inf in the target", with_cell(5, 3, "inf").as_bytes(), codes::ODD_VALUE, Some(5));
    expect_error("-inf in the target", with_cell(5, 3, "-inf").as_bytes(), codes::ODD_VALUE, Some(5));
    expect_error("a word in a number column", with_cell(6, 1, "four").as_bytes(), codes::ODD_VALUE, Some(6));
    expect_error("beyond f32", with_cell(2, 0, "1e39").as_bytes(), codes::ODD_VALUE, Some(2));
}

/// With several missing cells, the one reported is on the earliest line, and the
/// leftmost of that line's, whether its column is numeric or categorical.
#[test]
fn the_first_missing_cell_is_reported() {
    let first = |bytes: &str| {
        let errors = load(bytes.as_bytes(), "").err().unwrap();
        assert_eq!(errors[0].code, codes::MISSING_VALUE, "{}", errors[0].message);
        errors[0].primary.message.clone()
    };
    let two = |a: (usize, usize), b: (usize, usize)| {
        let once = with_cell(a.0, a.1, "");
        let mut lines: Vec<String> = once.lines().map(str::to_string).collect();
        let mut cells: Vec<&str> = lines[b.0 - 1].split(',').collect();
        cells[b.1] = "";
        lines[b.0 - 1] = cells.join(",");
        lines.join("\n") + "\n"
    };
    assert_eq!(first(&two((5, 0), (3, 1))), "line 3, column 2 (`rooms`)");
    assert_eq!(first(&two((3, 1), (5, 0))), "line 3, column 2 (`rooms`)");
    assert_eq!(first(&two((4, 2), (4, 1))), "line 4, column 2 (`rooms`)");
    assert_eq!(first(&two((4, 3), (4, 2))), "line 4, column 3 (`city`)");
    assert_eq!(first(&two((6, 2), (7, 0))), "line 6, column 3 (`city`)");
    assert_eq!(first(&two((7, 3), (7, 3))), "line 7, column 4 (`price`)");
}

#[test]
fn damaged_files_name_the_file_and_line() {
    let short = CLEAN.replace("2.5,3,north,31", "2.5,3,north");
    expect_error("a short row", short.as_bytes(), codes::UNREADABLE_FILE, Some(4));
    let long = CLEAN.replace("3.0,4,east,40", "3.0,4,east,40,7");
    expect_error("a long row", long.as_bytes(), codes::UNREADABLE_FILE, Some(5));
    let mut latin1 = CLEAN.as_bytes().to_vec();
    let at = CLEAN.find("south").unwrap();
    latin1.splice(at..at + 5, [b's', 0xF6, b'd']);
    expect_error("non-UTF-8 bytes", &latin1, codes::UNREADABLE_FILE, Some(3));
    let duplicate = CLEAN.replacen("rooms", "size", 1);
    expect_error("a duplicate header", duplicate.as_bytes(), codes::DUPLICATE_HEADER, None);
    expect_error("header only", b"size,rooms,city,price\n", codes::EMPTY_FILE, None);
    expect_error("an empty file", b"", codes::EMPTY_FILE, None);
    expect_error("only blank lines", b"\n\n  \n", codes::EMPTY_FILE, None);
    let cr_alone = CLEAN.replace('\n', "\r");
    expect_error("lines ended by CR alone", cr_alone.as_bytes(), codes::UNREADABLE_FILE, None);
}

#[test]
fn harmless_variations_load_exactly_like_the_clean_file() {
    let clean = inputs_of(&load(CLEAN.as_bytes(), "").unwrap());
    let bom = [b"\xEF\xBB\xBF".as_slice(), CLEAN.as_bytes()].concat();
    let crlf = CLEAN.replace('\n', "\r\n");
    let quoted = CLEAN.replace("north", "\"north\"");
    let spaced = CLEAN.replace(',', ", ");
    let padded = CLEAN.replace(',', " ,\t").replace('\n', " \n");
    for (name, bytes) in [
        ("padded with spaces and tabs, the header too", padded.into_bytes()),
        ("a byte-order mark", bom),
        ("CRLF", crlf.into_bytes()),
        ("quoted", quoted.into_bytes()),
        ("spaces", spaced.into_bytes()),
    ] {
        let loaded = load(&bytes, "").unwrap_or_else(|d| panic!("{name}: {d:?}"));
        assert_eq!(inputs_of(&loaded), clean, "{name}");
    }
}

#[test]
fn quoted_commas_stay_inside_their_cell() {
    let text = CLEAN.replace("north", "\"north, upper\"");
    let loaded = load(text.as_bytes(), "").unwrap();
    let names = &loaded.jobs[0].data.train.input_names;
    assert!(names.contains(&"city=north, upper".to_string()), "{names:?}");
}

#[test]
fn missing_drop_leaves_rows_out_and_missing_mean_fills_them() {
    let text = with_cell(4, 0, "NA");
    let dropped = load(text.as_bytes(), "\n  missing drop").unwrap();
    assert_eq!(dropped.jobs[0].data.train.rows, 5);
    assert_eq!(dropped.jobs[0].data.dropped_rows, 1);
    let filled = load(text.as_bytes(), "\n  missing mean").unwrap();
    let data = &filled.jobs[0].data.train;
    assert_eq!(data.rows, 6);
    // Row 3 (line 4) takes the mean of the other sizes: (1.5 + 2 + 3 + 3.5 + 4) / 5 = 2.8.
    let width = data.n_inputs();
    assert!((data.inputs[2 * width] - 2.8).abs() < 1e-6, "{:?}", &data.inputs[2 * width..3 * width]);
    // A missing target is never filled: the row is left out.
    let no_target = with_cell(3, 3, "");
    let filled = load(no_target.as_bytes(), "\n  missing mean").unwrap();
    assert_eq!(filled.jobs[0].data.train.rows, 5);
    // A marker that reads as a number is a marker, not the number.
    let sentinel = with_cell(4, 0, "-999");
    let dropped = load(sentinel.as_bytes(), "\n  missing_values \"-999\"\n  missing drop").unwrap();
    assert_eq!((dropped.jobs[0].data.train.rows, dropped.jobs[0].data.dropped_rows), (5, 1));
    assert_eq!(load(sentinel.as_bytes(), "\n  missing drop").unwrap().jobs[0].data.train.rows, 6);
}

#[test]
fn every_accepted_file_trains() {
    let dir = folder_with(CLEAN.replace('\n', "\r\n").as_bytes());
    let report = nnc_driver::run(&program("\n  missing drop"), dir.path(), Overrides::default()).unwrap();
    assert!(report.jobs[0].final_loss.is_finite());
}

/// A column of text with a few number-like values is categorical, and its categories are
/// the cells' text as written (`007`, not 7): the loader keeps no text for numbers it may
/// not need, and reads the file again when a column turns out to need it.
#[test]
fn number_like_categories_keep_their_text() {
    let text = CLEAN.replacen(",south,", ",007,", 1).replacen(",north,", ",12,", 1);
    let checked = load_auto(text.as_bytes(), "").unwrap();
    let names = &checked.jobs[0].data.train.input_names;
    for category in ["city=007", "city=12", "city=north", "city=east"] {
        assert!(names.contains(&category.to_string()), "{category} in {names:?}");
    }
    // Declared categorical: the same categories, read once.
    let declared = load_auto(text.as_bytes(), "\n  categorical city").unwrap();
    assert_eq!(&declared.jobs[0].data.train.input_names, names);
    // A file of more than 4 MiB, read as two halves, the same way.
    let mut big = String::from("size,rooms,city,price\n");
    for row in 0..400_000 {
        let city = ["north", "12", "south", "007", "east"][row % 5];
        big.push_str(&format!("{}.5,{},{city},{}\n", row % 7, row % 5, row % 11));
    }
    assert!(big.len() > 4 << 20);
    let checked = load_auto(big.as_bytes(), "").unwrap();
    let names = &checked.jobs[0].data.train.input_names;
    assert!(names.contains(&"city=007".to_string()) && names.contains(&"city=12".to_string()), "{names:?}");
}

/// `load`, with the model's width taken from the data (categories change it).
fn load_auto(bytes: &[u8], extra: &str) -> Result<nnc_driver::Checked, Vec<Diagnostic>> {
    let dir = folder_with(bytes);
    nnc_driver::check(&program(extra).replace("input 6", "input auto"), dir.path(), Overrides::default())
}

/// Values that look like missing-value markers are categories where the data says so:
/// lowercase `none` always (pandas agrees), `NA` once the column's markers leave it out.
/// Every diagnostic about such a cell says how.
#[test]
fn marker_looking_values_can_be_categories() {
    let names = |checked: &nnc_driver::Checked| checked.jobs[0].data.train.input_names.clone();
    // A real column's levels (Saratoga houses' `sewer`): `septic`, `public/commercial`, `none`.
    let none = with_cell(3, 2, "none");
    let checked = load_auto(none.as_bytes(), "").unwrap();
    assert!(names(&checked).contains(&"city=none".to_string()), "{:?}", names(&checked));

    let na = with_cell(3, 2, "NA");
    let errors = load_auto(na.as_bytes(), "").err().unwrap();
    assert_eq!(errors[0].code, codes::MISSING_VALUE);
    assert!(errors[0].notes.iter().any(|n| n.contains("missing_values city(\"\")")), "{:?}", errors[0].notes);
    let checked = load_auto(na.as_bytes(), "\n  missing_values city(\"\")").unwrap();
    assert!(names(&checked).contains(&"city=NA".to_string()), "{:?}", names(&checked));
    // Only an empty cell is missing in `city` now; other columns keep the default markers.
    let empty_city = with_cell(3, 2, "");
    assert!(load_auto(empty_city.as_bytes(), "\n  missing_values city(\"\")").is_err());
    let na_size = with_cell(3, 0, "NA");
    assert!(load_auto(na_size.as_bytes(), "\n  missing_values city(\"\")").is_err());

    // A list of strings replaces the default markers for every column.
    let dash = with_cell(4, 0, "-");
    let errors = load_auto(dash.as_bytes(), "\n  missing_values \"-\"").err().unwrap();
    assert_eq!(errors[0].code, codes::MISSING_VALUE, "`-` is missing: {}", errors[0].message);
    let checked = load_auto(dash.as_bytes(), "\n  missing_values \"-\"\n  missing drop").unwrap();
    assert_eq!(checked.jobs[0].data.dropped_rows, 1);
    let question = with_cell(4, 2, "?");
    let checked = load_auto(question.as_bytes(), "\n  missing_values \"\"").unwrap();
    assert!(names(&checked).contains(&"city=?".to_string()));

    // Malformed settings and unknown columns are diagnostics.
    let errors = load_auto(CLEAN.as_bytes(), "\n  missing_values NA").err().unwrap();
    assert_eq!(errors[0].code, codes::VALUE_FORM);
    let errors = load_auto(CLEAN.as_bytes(), "\n  missing_values town(\"\")").err().unwrap();
    assert_eq!(errors[0].code, codes::UNKNOWN_COLUMN, "{}", errors[0].message);
}

/// `categorical` takes ranges as `features` does: `size..rooms` makes both numeric columns
/// one-hot, a range that runs backwards is the same diagnostic, and a range end the file
/// lacks is an unknown column.
#[test]
fn categorical_takes_ranges_of_columns() {
    let checked = load_auto(CLEAN.as_bytes(), "\n  categorical size..rooms").unwrap();
    let names = &checked.jobs[0].data.train.input_names;
    for category in ["size=1.5", "size=4.0", "rooms=2", "rooms=5", "city=north"] {
        assert!(names.contains(&category.to_string()), "{category} in {names:?}");
    }
    let errors = load_auto(CLEAN.as_bytes(), "\n  categorical rooms..size").err().unwrap();
    assert_eq!(errors[0].code, codes::REVERSED_RANGE, "{}", errors[0].message);
    let errors = load_auto(CLEAN.as_bytes(), "\n  categorical size..room").err().unwrap();
    assert_eq!(errors[0].code, codes::UNKNOWN_COLUMN, "{}", errors[0].message);
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `rooms`?"));
}

/// A column of text with missing-value markers among its cells is categorical, its
/// markers missing; a column of markers alone has no values. (Both are decided from the
/// numbers the reader parsed when the column has none.)
#[test]
fn text_with_markers_is_categorical_and_markers_alone_have_no_values() {
    let with_city = |cells: [&str; 6]| {
        let mut lines: Vec<String> = CLEAN.lines().map(str::to_string).collect();
        for (line, cell) in lines[1..].iter_mut().zip(cells) {
            let mut row: Vec<&str> = line.split(',').collect();
            row[2] = cell;
            *line = row.join(",");
        }
        lines.join("\n") + "\n"
    };
    let text = with_city(["NA", "south", "north", "", "east", "north"]);
    let checked = load(text.as_bytes(), "\n  missing drop").unwrap();
    let (names, _, _) = inputs_of(&checked);
    assert_eq!(names, ["size", "rooms", "city=east", "city=north", "city=south", "city=<unknown>"]);
    assert_eq!(checked.jobs[0].data.dropped_rows, 2);
    let markers = with_city(["NA", "", "?", "NA", "", "nan"]);
    let errors = load(markers.as_bytes(), "\n  missing drop").err().unwrap();
    assert_eq!(errors[0].code, codes::MISSING_VALUE, "{}", errors[0].message);
    assert!(errors[0].message.contains("every cell is missing"), "{}", errors[0].message);
}

/// A class that only validation or test rows hold is E0414, naming the class and its
/// line, whichever split it falls in; a split that trains on it loads.
#[test]
fn a_class_missing_from_training_names_its_line() {
    let mut text = String::from("size,rooms,city,price\n");
    for row in 0..20 {
        let class = if row == 10 {
            "c"
        } else if row % 2 == 0 {
            "a"
        } else {
            "b"
        };
        text.push_str(&format!("{},{},north,{class}\n", row % 7, row % 3));
    }
    let (mut refused, mut loaded) = (0, 0);
    for seed in 0..12 {
        let dir = folder_with(text.as_bytes());
        let program = program(&format!("\n  split 0.5 0.25 0.25 seed {seed}"));
        let program = program.replace("input 6; dense 1", "input 4; dense 3");
        match nnc_driver::check(&program, dir.path(), Overrides::default()) {
            Err(errors) => {
                assert_eq!(errors[0].code, codes::UNSEEN_CLASS, "{}", errors[0].message);
                assert!(errors[0].message.contains("class `c` (line 12 of `data.csv`)"), "{}", errors[0].message);
                refused += 1;
            }
            Ok(_) => loaded += 1,
        }
    }
    assert!(refused > 0 && loaded > 0, "refused {refused}, loaded {loaded}");
}
