//! Checking `data` blocks into [`nnc_data::DataSpec`]: an inline table, or the settings
//! that say how to read a CSV file. Loading the data is `nnc-data`'s job.

use crate::settings::{Settings, expect_number, single_value};
use nnc_data::{
    Color, ColumnRef, CsvSpec, DataSpec, Features, ImageSpec, Missing, MissingValues, Name, Normalize, Source, Split,
    TableSpec, Target, Window,
};
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_syntax::ast::{self, DataBody, ValueKind};

const KEYS: &[&str] = &[
    "file",
    "features",
    "target",
    "categorical",
    "normalize",
    "split",
    "window",
    "where",
    "missing",
    "missing_values",
    "images",
    "resize",
    "color",
];

/// Settings of a CSV file that an image folder does not take: its inputs are its pixels and
/// its target is the class folder.
const CSV_ONLY: &[&str] =
    &["file", "features", "target", "categorical", "normalize", "window", "where", "missing", "missing_values"];

pub(crate) fn check_data(block: &ast::DataBlock, errors: &mut Vec<Diagnostic>) -> Option<DataSpec> {
    let source = match &block.body {
        DataBody::Table(table) => check_table(block, table, errors).map(Source::Table),
        DataBody::Settings(settings) if settings.iter().any(|s| s.key.name == "images") => {
            check_images(block, settings, errors).map(Source::Images)
        }
        DataBody::Settings(settings) => check_csv(block, settings, errors).map(|csv| Source::Csv(Box::new(csv))),
    }?;
    Some(DataSpec { name: name(&block.name), source, span: block.span })
}

pub(crate) fn name(ident: &ast::Ident) -> Name {
    Name { name: ident.name.clone(), span: ident.span }
}

fn check_table(block: &ast::DataBlock, table: &ast::Table, errors: &mut Vec<Diagnostic>) -> Option<TableSpec> {
    let before = errors.len();
    if table.rows.is_empty() {
        errors.push(
            Diagnostic::error(
                codes::EMPTY_TABLE,
                format!("data `{}` has no rows", block.name.name),
                table.span,
                "header only",
            )
            .with_help("add rows such as `0 1 -> 1` below the header"),
        );
    }
    let header = span_of_idents(&table.inputs, table.span).to(span_of_idents(&table.targets, table.span));
    for (index, row) in table.rows.iter().enumerate() {
        let (want_in, want_out) = (table.inputs.len(), table.targets.len());
        if row.inputs as usize != want_in || row.targets as usize != want_out {
            errors.push(
                Diagnostic::error(
                    codes::TABLE_ROW_WIDTH,
                    format!(
                        "row {} has {} -> {} values, the header names {want_in} -> {want_out}",
                        index + 1,
                        row.inputs,
                        row.targets
                    ),
                    row.span,
                    "wrong number of values",
                )
                .with_secondary(header, "columns named here")
                .with_help("every row needs one value per column, with `->` between inputs and targets"),
            );
        }
    }
    // Every row has the header's width here, so the values are rows of that width.
    (errors.len() == before).then(|| TableSpec {
        inputs: table.inputs.iter().map(name).collect(),
        targets: table.targets.iter().map(name).collect(),
        values: table.values.clone(),
        rows: table.rows.len(),
        span: table.span,
    })
}

pub(crate) fn span_of_idents(idents: &[ast::Ident], fallback: Span) -> Span {
    match (idents.first(), idents.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => fallback,
    }
}

/// `images "folder"`, with `resize H W`, `color grey|rgb` and `split`.
fn check_images(block: &ast::DataBlock, settings: &[ast::Setting], errors: &mut Vec<Diagnostic>) -> Option<ImageSpec> {
    let before = errors.len();
    let mut s = Settings::new(settings, KEYS, errors);
    let folder = s.take("images")?;
    for key in CSV_ONLY {
        if let Some(setting) = s.take(key) {
            s.errors.push(
                Diagnostic::error(
                    codes::CONFLICTING_SETTINGS,
                    format!("an image folder does not take `{key}`"),
                    setting.key.span,
                    "not used with `images`",
                )
                .with_secondary(folder.span, "the inputs are each image's pixels, the target its class folder")
                .with_help("remove it; an image folder takes `resize`, `color` and `split`")
                .with_fix(setting.span, ""),
            );
        }
    }
    let (path, path_span) = string_value(folder, s.errors)?;
    let resize = s.take("resize").and_then(|r| resize(r, s.errors));
    let color = match s.take("color") {
        Some(c) => {
            Some(s.ident_choice(c, "colour", &[("grey", Color::Grey), ("gray", Color::Grey), ("rgb", Color::Rgb)])?)
        }
        None => None,
    };
    let split = match s.take("split") {
        Some(split_setting) => split(split_setting, s.errors),
        None => Some(Split::all_train(block.name.span)),
    };
    let spec = ImageSpec { path, path_span, resize, color, split: split? };
    (errors.len() == before).then_some(spec)
}

/// `resize H W`: two whole numbers from 1 to 4096.
fn resize(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<[usize; 2]> {
    let numbers: Vec<f64> = setting.values.iter().filter_map(|v| expect_number(v, errors)).collect();
    match numbers[..] {
        [h, w] if [h, w].iter().all(|n| n.fract() == 0.0 && (1.0..=4096.0).contains(n)) => {
            Some([h as usize, w as usize])
        }
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    "`resize` takes a height and a width, whole numbers from 1 to 4096",
                    setting.span,
                    "wrong form",
                )
                .with_help("write `resize 28 28`"),
            );
            None
        }
    }
}

fn check_csv(block: &ast::DataBlock, settings: &[ast::Setting], errors: &mut Vec<Diagnostic>) -> Option<CsvSpec> {
    let before = errors.len();
    let mut s = Settings::new(settings, KEYS, errors);
    for key in ["resize", "color"] {
        if let Some(setting) = s.take(key) {
            s.errors.push(
                Diagnostic::error(
                    codes::CONFLICTING_SETTINGS,
                    format!("`{key}` is for an image folder"),
                    setting.key.span,
                    "not used with `file`",
                )
                .with_help("read images with `images \"folder\"`, one sub-folder per class; or remove it")
                .with_fix(setting.span, ""),
            );
        }
    }
    let file = s.take("file");
    let Some(file) = file else {
        s.errors.push(
            Diagnostic::error(
                codes::NO_DATA_SOURCE,
                format!("data `{}` has neither a table nor a file", block.name.name),
                block.name.span,
                "no data",
            )
            .with_help("write `file \"data/name.csv\"`, or an inline table such as `x1 x2 -> y` followed by rows"),
        );
        return None;
    };
    let (path, path_span) = string_value(file, s.errors)?;
    let window = s.take("window").and_then(|w| window(w, s.errors));
    let features = s.take("features").and_then(|f| features(f, s.errors));
    if let (Some(window), Some(features_setting)) = (&window, s.take("features")) {
        s.errors.push(
            Diagnostic::error(
                codes::CONFLICTING_SETTINGS,
                "a window's inputs are past values of its column, so `features` would be ignored",
                features_setting.span,
                "not used with `window`",
            )
            .with_secondary(window.span, "the inputs are the previous values of this column")
            .with_help("remove `features`, or remove `window` to predict from the named columns instead")
            .with_fix(features_setting.span, ""),
        );
    }
    let target = match (s.take("target"), &window) {
        (Some(target), Some(window)) => {
            s.errors.push(
                Diagnostic::error(
                    codes::CONFLICTING_SETTINGS,
                    "a window already names its target",
                    target.span,
                    "not used with `window`",
                )
                .with_secondary(window.span, "the window predicts the next value of this column")
                .with_help("remove `target`; a window predicts the next value of its column")
                .with_fix(target.span, ""),
            );
            None
        }
        (Some(target), None) => target_value(target, s.errors),
        (None, Some(_)) => Some(Target::Window),
        (None, None) => {
            s.errors.push(
                Diagnostic::error(
                    codes::MISSING_TARGET,
                    format!("data `{}` does not name its target", block.name.name),
                    block.name.span,
                    "no `target`",
                )
                .with_help("add `target COLUMN` (or `target features` to reconstruct the inputs)"),
            );
            None
        }
    };
    let categorical = s.take("categorical").map(|c| column_refs(c, CATEGORICAL_HELP, s.errors)).unwrap_or_default();
    let normalize = match s.take("normalize") {
        Some(n) => s.ident_choice(
            n,
            "normalisation",
            &[("standard", Normalize::Standard), ("minmax", Normalize::MinMax), ("none", Normalize::None)],
        ),
        None => Some(Normalize::None),
    };
    let missing = match s.take("missing") {
        Some(m) => s.ident_choice(
            m,
            "missing-value rule",
            &[("error", Missing::Error), ("drop", Missing::Drop), ("mean", Missing::Mean)],
        ),
        None => Some(Missing::Error),
    };
    let missing_values = match s.take("missing_values") {
        Some(setting) => missing_values(setting, s.errors),
        None => Some(MissingValues::default()),
    };
    let split = match s.take("split") {
        Some(split_setting) => split(split_setting, s.errors),
        None => Some(Split::all_train(block.name.span)),
    };
    let filter = s.take("where").and_then(|w| filter(w, s.errors));
    let spec = CsvSpec {
        path,
        path_span,
        features,
        target: target?,
        categorical,
        normalize: normalize?,
        split: split?,
        window,
        filter,
        missing: missing?,
        missing_values: missing_values?,
        insert_at: Span { start: file.span.end, end: file.span.end },
    };
    (errors.len() == before).then_some(spec)
}

/// `missing_values "" "NA" region("")`: strings are the markers of every column (replacing
/// the default list when any is given); `column("", ...)` gives one column its own.
fn missing_values(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<MissingValues> {
    let before = errors.len();
    let mut global = Vec::new();
    let mut per_column: Vec<(Name, Vec<String>)> = Vec::new();
    let strings = |args: &[&ast::Value], errors: &mut Vec<Diagnostic>| -> Vec<String> {
        args.iter().filter_map(|value| marker(value, errors)).collect()
    };
    for value in &setting.values {
        match &value.kind {
            ValueKind::Call(column, args) => {
                let values: Vec<&ast::Value> = args
                    .iter()
                    .filter_map(|arg| match arg {
                        ast::Arg::Positional(value) => Some(value),
                        ast::Arg::Named(named) => {
                            errors.push(marker_form(named.key.span));
                            None
                        }
                    })
                    .collect();
                per_column.push((name(column), strings(&values, errors)));
            }
            _ => global.extend(marker(value, errors)),
        }
    }
    if setting.values.is_empty() {
        errors.push(marker_form(setting.span));
    }
    let any_global = setting.values.iter().any(|v| !matches!(v.kind, ValueKind::Call(..)));
    let markers = if any_global { global } else { nnc_data::default_markers() };
    (errors.len() == before).then_some(MissingValues { markers, per_column })
}

fn marker(value: &ast::Value, errors: &mut Vec<Diagnostic>) -> Option<String> {
    match &value.kind {
        ValueKind::Str(text) => Some(text.clone()),
        _ => {
            errors.push(marker_form(value.span));
            None
        }
    }
}

fn marker_form(span: Span) -> Diagnostic {
    Diagnostic::error(codes::VALUE_FORM, "expected a quoted cell value", span, "not a string")
        .with_help("write the cells that mean \"no value\" in quotes: `missing_values \"\" \"NA\" \"?\"`, or `COLUMN(\"\")` for one column")
}

fn string_value(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<(String, Span)> {
    let value = single_value(setting, errors)?;
    match &value.kind {
        ValueKind::Str(text) => Some((text.clone(), value.span)),
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected a quoted file path", value.span, "not a string")
                    .with_help("write `file \"data/name.csv\"`, relative to the program's folder"),
            );
            None
        }
    }
}

fn idents(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Vec<Name> {
    setting
        .values
        .iter()
        .filter_map(|value| match &value.kind {
            ValueKind::Ident(name) => Some(Name { name: name.clone(), span: value.span }),
            _ => {
                errors.push(
                    Diagnostic::error(codes::VALUE_FORM, "expected a column name", value.span, "not a name")
                        .with_help("column names are written bare, as in the CSV header"),
                );
                None
            }
        })
        .collect()
}

fn features(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Features> {
    let span = setting.span;
    let is_word = |v: &ast::Value, word: &str| matches!(&v.kind, ValueKind::Ident(n) if n == word);
    if setting.values.len() >= 2 && is_word(&setting.values[0], "all") && is_word(&setting.values[1], "but") {
        let rest = ast::Setting { values: setting.values[2..].to_vec(), ..setting.clone() };
        return Some(Features::AllBut(idents(&rest, errors), span));
    }
    if setting.values.is_empty() {
        errors.push(
            Diagnostic::error(codes::VALUE_FORM, "`features` needs column names", span, "no columns")
                .with_help(FEATURES_HELP),
        );
        return None;
    }
    Some(Features::Columns(column_refs(setting, FEATURES_HELP, errors), span))
}

const FEATURES_HELP: &str = "write `features a b c`, `features p0..p63` or `features all but label`";
const CATEGORICAL_HELP: &str = "write `categorical a b c` or `categorical q1..q20`";

/// A setting's column names and `a..b` ranges, in order; `help` says how to write them.
fn column_refs(setting: &ast::Setting, help: &str, errors: &mut Vec<Diagnostic>) -> Vec<ColumnRef> {
    let mut columns = Vec::new();
    for value in &setting.values {
        match &value.kind {
            ValueKind::Ident(name) => columns.push(ColumnRef::Name(Name { name: name.clone(), span: value.span })),
            ValueKind::Range(from, to) => columns.push(ColumnRef::Range(name(from), name(to))),
            _ => errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    "expected a column name or a range `a..b`",
                    value.span,
                    "not a column",
                )
                .with_help(help),
            ),
        }
    }
    columns
}

fn target_value(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Target> {
    match setting.values.as_slice() {
        [value] if matches!(&value.kind, ValueKind::Ident(n) if n == "features") => Some(Target::Features(value.span)),
        [] => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "`target` needs a column name", setting.span, "no column")
                    .with_help("write `target COLUMN`, or `target features` to reconstruct the inputs"),
            );
            None
        }
        _ => Some(Target::Columns(idents(setting, errors))),
    }
}

/// `split TRAIN [VALIDATION] TEST [seed N]`.
fn split(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Split> {
    let help = "write `split 0.8 0.2` (train, test) or `split 0.7 0.15 0.15` (train, validation, test), \
                optionally followed by `seed N`";
    let mut values = setting.values.as_slice();
    let mut seed = None;
    if let [rest @ .., word, number] = values
        && matches!(&word.kind, ValueKind::Ident(w) if w == "seed")
    {
        let n = expect_number(number, errors)?;
        if n < 0.0 || n.fract() != 0.0 || n > 1e15 {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_RANGE,
                    "a split seed is a whole number >= 0",
                    number.span,
                    "invalid seed",
                )
                .with_help(help),
            );
            return None;
        }
        seed = Some(n as u64);
        values = rest;
    }
    let fractions: Vec<f64> = values.iter().map(|v| expect_number(v, errors)).collect::<Option<_>>()?;
    let (train, validation, test) = match fractions.as_slice() {
        [train, test] => (*train, 0.0, *test),
        [train, validation, test] => (*train, *validation, *test),
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    "`split` takes two or three fractions",
                    setting.span,
                    "train [validation] test",
                )
                .with_help(help),
            );
            return None;
        }
    };
    if fractions.iter().any(|f| *f <= 0.0 || *f > 1.0) || (fractions.iter().sum::<f64>() - 1.0).abs() > 1e-6 {
        let zero = fractions.contains(&0.0);
        let diagnostic = Diagnostic::error(
            codes::VALUE_RANGE,
            "split fractions must be above 0 and add up to 1",
            setting.span,
            if zero { "a part with no rows" } else { "invalid split" },
        );
        errors.push(if zero {
            diagnostic.with_help("leave out a part you do not want: `split 0.8 0.2` has no validation part; without `split`, every row trains")
        } else {
            diagnostic.with_help("for example `split 0.7 0.15 0.15`")
        });
        return None;
    }
    Some(Split { train, validation, test, seed, span: setting.span })
}

fn window(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Window> {
    let help = "write `window COLUMN K`: the previous K values of COLUMN predict the next one";
    match setting.values.as_slice() {
        [column, size] => {
            let ValueKind::Ident(name) = &column.kind else {
                errors.push(
                    Diagnostic::error(codes::VALUE_FORM, "expected a column name", column.span, "not a name")
                        .with_help(help),
                );
                return None;
            };
            let k = expect_number(size, errors)?;
            if k < 1.0 || k.fract() != 0.0 || k > 10_000.0 {
                errors.push(
                    Diagnostic::error(
                        codes::VALUE_RANGE,
                        "the window size must be a whole number >= 1",
                        size.span,
                        "invalid size",
                    )
                    .with_help(help),
                );
                return None;
            }
            Some(Window {
                column: Name { name: name.clone(), span: column.span },
                size: k as usize,
                span: setting.span,
            })
        }
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    "`window` takes a column and a size",
                    setting.span,
                    "expected 2 values",
                )
                .with_help(help),
            );
            None
        }
    }
}

fn filter(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<(Name, String)> {
    match setting.values.as_slice() {
        [column, value] => {
            let ValueKind::Ident(name) = &column.kind else {
                errors.push(
                    Diagnostic::error(codes::VALUE_FORM, "expected a column name", column.span, "not a name")
                        .with_help("write `where symbol \"AAPL\"`"),
                );
                return None;
            };
            let wanted = match &value.kind {
                ValueKind::Str(s) | ValueKind::Ident(s) => s.clone(),
                ValueKind::Number(n) => n.to_string(),
                _ => {
                    errors.push(
                        Diagnostic::error(
                            codes::VALUE_FORM,
                            "expected a value to compare with",
                            value.span,
                            "not a value",
                        )
                        .with_help("write `where symbol \"AAPL\"`"),
                    );
                    return None;
                }
            };
            Some((Name { name: name.clone(), span: column.span }, wanted))
        }
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    "`where` takes a column and a value",
                    setting.span,
                    "expected 2 values",
                )
                .with_help("write `where symbol \"AAPL\"` to keep the rows whose `symbol` is AAPL"),
            );
            None
        }
    }
}
