//! Checking `data` blocks: an inline table, or the settings that say how to read a CSV file.

use crate::settings::{Settings, expect_number, single_value};
use nnc_diagnostics::{Diagnostic, Span};
use nnc_syntax::ast::{self, DataBody, ValueKind};

/// A checked data block.
#[derive(Clone, Debug)]
pub struct DataSpec {
    pub name: ast::Ident,
    pub source: DataSource,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum DataSource {
    Table(ast::Table),
    Csv(CsvSpec),
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
    pub categorical: Vec<ast::Ident>,
    pub normalize: Normalize,
    pub split: Split,
    pub window: Option<Window>,
    /// Keep only rows whose column equals the value.
    pub filter: Option<(ast::Ident, String)>,
}

#[derive(Clone, Debug)]
pub enum Features {
    /// Names and `a..b` ranges, in order.
    Columns(Vec<ColumnRef>, Span),
    /// Every column except these (and the targets).
    AllBut(Vec<ast::Ident>, Span),
}

#[derive(Clone, Debug)]
pub enum ColumnRef {
    Name(ast::Ident),
    Range(ast::Ident, ast::Ident),
}

#[derive(Clone, Debug)]
pub enum Target {
    Columns(Vec<ast::Ident>),
    /// Reconstruct the features (auto-encoders).
    Features(Span),
    /// The next value of the window's series.
    Window,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    None,
    Standard,
    MinMax,
}

/// Fractions of the rows for training, validation and testing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
    pub span: Span,
}

/// `window COLUMN K`: rows of K consecutive values predicting the next one.
#[derive(Clone, Debug)]
pub struct Window {
    pub column: ast::Ident,
    pub size: usize,
    pub span: Span,
}

const KEYS: &[&str] = &["file", "features", "target", "categorical", "normalize", "split", "window", "where"];

pub(crate) fn check_data(block: &ast::DataBlock, errors: &mut Vec<Diagnostic>) -> Option<DataSpec> {
    let source = match &block.body {
        DataBody::Table(table) => check_table(block, table, errors).map(|()| DataSource::Table(table.clone())),
        DataBody::Settings(settings) => check_csv(block, settings, errors).map(DataSource::Csv),
    }?;
    Some(DataSpec { name: block.name.clone(), source, span: block.span })
}

fn check_table(block: &ast::DataBlock, table: &ast::Table, errors: &mut Vec<Diagnostic>) -> Option<()> {
    let before = errors.len();
    if table.rows.is_empty() {
        errors.push(
            Diagnostic::error("E0405", format!("data `{}` has no rows", block.name.name), table.span, "header only")
                .with_help("add rows such as `0 1 -> 1` below the header"),
        );
    }
    let header = span_of_idents(&table.inputs, table.span).to(span_of_idents(&table.targets, table.span));
    for (index, row) in table.rows.iter().enumerate() {
        let (want_in, want_out) = (table.inputs.len(), table.targets.len());
        if row.inputs.len() != want_in || row.targets.len() != want_out {
            errors.push(
                Diagnostic::error(
                    "E0304",
                    format!(
                        "row {} has {} -> {} values, the header names {want_in} -> {want_out}",
                        index + 1,
                        row.inputs.len(),
                        row.targets.len()
                    ),
                    row.span,
                    "wrong number of values",
                )
                .with_secondary(header, "columns named here")
                .with_help("every row needs one value per column, with `->` between inputs and targets"),
            );
        }
    }
    (errors.len() == before).then_some(())
}

pub(crate) fn span_of_idents(idents: &[ast::Ident], fallback: Span) -> Span {
    match (idents.first(), idents.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => fallback,
    }
}

fn check_csv(block: &ast::DataBlock, settings: &[ast::Setting], errors: &mut Vec<Diagnostic>) -> Option<CsvSpec> {
    let before = errors.len();
    let mut s = Settings::new(settings, KEYS, errors);
    let file = s.take("file");
    let Some(file) = file else {
        s.errors.push(
            Diagnostic::error(
                "E0406",
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
    let target = match (s.take("target"), &window) {
        (Some(target), Some(window)) => {
            s.errors.push(
                Diagnostic::error("E0409", "a window already names its target", target.span, "not used with `window`")
                    .with_secondary(window.span, "the window predicts the next value of this column")
                    .with_help("remove `target`; a window predicts the next value of its column"),
            );
            None
        }
        (Some(target), None) => target_value(target, s.errors),
        (None, Some(_)) => Some(Target::Window),
        (None, None) => {
            s.errors.push(
                Diagnostic::error(
                    "E0409",
                    format!("data `{}` does not name its target", block.name.name),
                    block.name.span,
                    "no `target`",
                )
                .with_help("add `target COLUMN` (or `target features` to reconstruct the inputs)"),
            );
            None
        }
    };
    let categorical = s.take("categorical").map(|c| idents(c, s.errors)).unwrap_or_default();
    let normalize = match s.take("normalize") {
        Some(n) => s.ident_choice(
            n,
            "normalisation",
            &[("standard", Normalize::Standard), ("minmax", Normalize::MinMax), ("none", Normalize::None)],
        ),
        None => Some(Normalize::None),
    };
    let split = match s.take("split") {
        Some(split_setting) => split(split_setting, s.errors),
        None => Some(Split { train: 1.0, validation: 0.0, test: 0.0, span: block.name.span }),
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
    };
    (errors.len() == before).then_some(spec)
}

fn string_value(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<(String, Span)> {
    let value = single_value(setting, errors)?;
    match &value.kind {
        ValueKind::Str(text) => Some((text.clone(), value.span)),
        _ => {
            errors.push(
                Diagnostic::error("E0402", "expected a quoted file path", value.span, "not a string")
                    .with_help("write `file \"data/name.csv\"`, relative to the program's folder"),
            );
            None
        }
    }
}

fn idents(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Vec<ast::Ident> {
    setting
        .values
        .iter()
        .filter_map(|value| match &value.kind {
            ValueKind::Ident(name) => Some(ast::Ident { name: name.clone(), span: value.span }),
            _ => {
                errors.push(
                    Diagnostic::error("E0402", "expected a column name", value.span, "not a name")
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
            Diagnostic::error("E0402", "`features` needs column names", span, "no columns")
                .with_help("write `features a b c`, `features p0..p63` or `features all but label`"),
        );
        return None;
    }
    let mut columns = Vec::new();
    for value in &setting.values {
        match &value.kind {
            ValueKind::Ident(name) => {
                columns.push(ColumnRef::Name(ast::Ident { name: name.clone(), span: value.span }))
            }
            ValueKind::Range(from, to) => columns.push(ColumnRef::Range(from.clone(), to.clone())),
            _ => errors.push(
                Diagnostic::error("E0402", "expected a column name or a range `a..b`", value.span, "not a column")
                    .with_help("write `features a b c`, `features p0..p63` or `features all but label`"),
            ),
        }
    }
    Some(Features::Columns(columns, span))
}

fn target_value(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Target> {
    match setting.values.as_slice() {
        [value] if matches!(&value.kind, ValueKind::Ident(n) if n == "features") => Some(Target::Features(value.span)),
        [] => {
            errors.push(
                Diagnostic::error("E0402", "`target` needs a column name", setting.span, "no column")
                    .with_help("write `target COLUMN`, or `target features` to reconstruct the inputs"),
            );
            None
        }
        _ => Some(Target::Columns(idents(setting, errors))),
    }
}

fn split(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Split> {
    let fractions: Vec<f64> = setting.values.iter().map(|v| expect_number(v, errors)).collect::<Option<_>>()?;
    let (train, validation, test) = match fractions.as_slice() {
        [train, test] => (*train, 0.0, *test),
        [train, validation, test] => (*train, *validation, *test),
        _ => {
            errors.push(
                Diagnostic::error(
                    "E0402",
                    "`split` takes two or three fractions",
                    setting.span,
                    "train [validation] test",
                )
                .with_help("write `split 0.8 0.2` (train, test) or `split 0.7 0.15 0.15` (train, validation, test)"),
            );
            return None;
        }
    };
    let all = [train, validation, test];
    if all.iter().any(|f| !(0.0..=1.0).contains(f)) || (all.iter().sum::<f64>() - 1.0).abs() > 1e-6 || train <= 0.0 {
        errors.push(
            Diagnostic::error(
                "E0401",
                "split fractions must be between 0 and 1 and add up to 1",
                setting.span,
                "invalid split",
            )
            .with_help("for example `split 0.7 0.15 0.15`"),
        );
        return None;
    }
    Some(Split { train, validation, test, span: setting.span })
}

fn window(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Window> {
    let help = "write `window COLUMN K`: the previous K values of COLUMN predict the next one";
    match setting.values.as_slice() {
        [column, size] => {
            let ValueKind::Ident(name) = &column.kind else {
                errors.push(
                    Diagnostic::error("E0402", "expected a column name", column.span, "not a name").with_help(help),
                );
                return None;
            };
            let k = expect_number(size, errors)?;
            if k < 1.0 || k.fract() != 0.0 || k > 10_000.0 {
                errors.push(
                    Diagnostic::error(
                        "E0401",
                        "the window size must be a whole number >= 1",
                        size.span,
                        "invalid size",
                    )
                    .with_help(help),
                );
                return None;
            }
            Some(Window {
                column: ast::Ident { name: name.clone(), span: column.span },
                size: k as usize,
                span: setting.span,
            })
        }
        _ => {
            errors.push(
                Diagnostic::error("E0402", "`window` takes a column and a size", setting.span, "expected 2 values")
                    .with_help(help),
            );
            None
        }
    }
}

fn filter(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<(ast::Ident, String)> {
    match setting.values.as_slice() {
        [column, value] => {
            let ValueKind::Ident(name) = &column.kind else {
                errors.push(
                    Diagnostic::error("E0402", "expected a column name", column.span, "not a name")
                        .with_help("write `where symbol \"AAPL\"`"),
                );
                return None;
            };
            let wanted = match &value.kind {
                ValueKind::Str(s) | ValueKind::Ident(s) => s.clone(),
                ValueKind::Number(n) => n.to_string(),
                _ => {
                    errors.push(
                        Diagnostic::error("E0402", "expected a value to compare with", value.span, "not a value")
                            .with_help("write `where symbol \"AAPL\"`"),
                    );
                    return None;
                }
            };
            Some((ast::Ident { name: name.clone(), span: column.span }, wanted))
        }
        _ => {
            errors.push(
                Diagnostic::error("E0402", "`where` takes a column and a value", setting.span, "expected 2 values")
                    .with_help("write `where symbol \"AAPL\"` to keep the rows whose `symbol` is AAPL"),
            );
            None
        }
    }
}
