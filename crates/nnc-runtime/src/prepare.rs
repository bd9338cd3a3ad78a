//! Turning a checked data block into training, validation and test sets: reading CSV,
//! selecting columns, splitting, one-hot encoding and normalising (statistics from the
//! training split only), and time-series windows.

use crate::data::Dataset;
use nnc_diagnostics::{Diagnostic, Span, did_you_mean};
use nnc_lower::{ColumnRef, CsvSpec, DataSource, DataSpec, Features, Normalize, Target};
use nnc_syntax::ast;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// What kind of prediction the targets ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    Regression,
    /// One 0/1 target column.
    Binary,
    /// One-hot targets over these class names.
    Classes(Vec<String>),
}

/// The splits, ready for training, with what evaluation needs to undo or report.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub train: Dataset,
    pub validation: Option<Dataset>,
    pub test: Option<Dataset>,
    pub task: Task,
    /// Class names of a binary target (`[negative, positive]`), if it was categorical.
    pub binary_classes: Option<[String; 2]>,
    /// Per target column `(offset, scale)`: original = normalised * scale + offset.
    pub target_scale: Vec<(f32, f32)>,
    /// Per-feature statistics fixed on the training split, for the report.
    pub preprocessing: Vec<String>,
    /// For a time-series window: the mean absolute error of "next = last" on each split.
    pub naive_mae: Option<Vec<(String, f32)>>,
}

impl Prepared {
    /// `(split name, dataset)` for every split that has rows.
    pub fn splits(&self) -> Vec<(&'static str, &Dataset)> {
        let mut splits = vec![("train", &self.train)];
        splits.extend(self.validation.as_ref().map(|d| ("val", d)));
        splits.extend(self.test.as_ref().map(|d| ("test", d)));
        splits
    }
}

/// Loads and prepares the data of one job. `seed` shuffles rows before splitting.
pub fn prepare(spec: &DataSpec, base_dir: &Path, output_width: usize, seed: u64) -> Result<Prepared, Vec<Diagnostic>> {
    match &spec.source {
        DataSource::Table(table) => Ok(from_table(table)),
        DataSource::Csv(csv) => from_csv(csv, base_dir, output_width, seed),
    }
}

fn from_table(table: &ast::Table) -> Prepared {
    let train = Dataset {
        input_names: table.inputs.iter().map(|i| i.name.clone()).collect(),
        target_names: table.targets.iter().map(|i| i.name.clone()).collect(),
        inputs: table.rows.iter().flat_map(|r| r.inputs.iter().map(|n| n.value as f32)).collect(),
        targets: table.rows.iter().flat_map(|r| r.targets.iter().map(|n| n.value as f32)).collect(),
        rows: table.rows.len(),
    };
    let binary = train.n_targets() == 1 && train.targets.iter().all(|&t| t == 0.0 || t == 1.0);
    Prepared {
        target_scale: vec![(0.0, 1.0); train.n_targets()],
        train,
        validation: None,
        test: None,
        task: if binary { Task::Binary } else { Task::Regression },
        binary_classes: None,
        preprocessing: Vec::new(),
        naive_mae: None,
    }
}

/// A CSV file as text columns.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_csv(spec: &CsvSpec, base_dir: &Path) -> Result<Table, Diagnostic> {
    let path = base_dir.join(&spec.path);
    let fail = |message: String, note: String| {
        Diagnostic::error("E0410", message, spec.path_span, "while reading this file")
            .with_note(note)
            .with_help("paths are relative to the folder of the .nn file")
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(&path)
        .map_err(|e| fail(format!("cannot read data file `{}`", spec.path), e.to_string()))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(format!("bad CSV header in `{}`", spec.path), e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| fail(format!("bad CSV row in `{}`", spec.path), e.to_string()))?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    if rows.is_empty() {
        return Err(fail(format!("data file `{}` has no rows", spec.path), "only a header was found".to_string()));
    }
    Ok(Table { header, rows })
}

fn column_index(table: &Table, ident: &ast::Ident) -> Result<usize, Diagnostic> {
    table.header.iter().position(|h| *h == ident.name).ok_or_else(|| {
        let diagnostic = Diagnostic::error(
            "E0412",
            format!("the file has no column `{}`", ident.name),
            ident.span,
            "unknown column",
        );
        match did_you_mean(&ident.name, table.header.iter().map(String::as_str)) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
            None => diagnostic.with_help(format!("the columns are: {}", table.header.join(", "))),
        }
    })
}

fn from_csv(spec: &CsvSpec, base_dir: &Path, output_width: usize, seed: u64) -> Result<Prepared, Vec<Diagnostic>> {
    let mut table = read_csv(spec, base_dir).map_err(|d| vec![d])?;
    if let Some((column, wanted)) = &spec.filter {
        let index = column_index(&table, column).map_err(|d| vec![d])?;
        table.rows.retain(|row| row[index] == *wanted);
        if table.rows.is_empty() {
            return Err(vec![
                Diagnostic::error(
                    "E0413",
                    format!("no row has `{}` equal to `{wanted}`", column.name),
                    column.span,
                    "filter keeps nothing",
                )
                .with_help("check the value; comparison is exact text"),
            ]);
        }
    }
    match &spec.window {
        Some(window) => crate::window::prepare_window(spec, window, &table.header, &table.rows),
        None => tabular(spec, &table, output_width, seed),
    }
}

fn resolve_columns(spec: &CsvSpec, table: &Table) -> Result<(Vec<usize>, Vec<usize>), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut range_errors = Vec::new();
    let mut lookup = |ident: &ast::Ident| column_index(table, ident).map_err(|d| errors.push(d)).ok();
    let targets: Vec<usize> = match &spec.target {
        Target::Columns(columns) => columns.iter().filter_map(&mut lookup).collect(),
        Target::Features(_) | Target::Window => Vec::new(),
    };
    let features: Vec<usize> = match &spec.features {
        None => (0..table.header.len()).filter(|i| !targets.contains(i)).collect(),
        Some(Features::AllBut(excluded, _)) => {
            let excluded: Vec<usize> = excluded.iter().filter_map(&mut lookup).collect();
            (0..table.header.len()).filter(|i| !targets.contains(i) && !excluded.contains(i)).collect()
        }
        Some(Features::Columns(columns, _)) => {
            let mut picked = Vec::new();
            for column in columns {
                match column {
                    ColumnRef::Name(ident) => picked.extend(lookup(ident)),
                    ColumnRef::Range(from, to) => {
                        if let (Some(a), Some(b)) = (lookup(from), lookup(to)) {
                            if a > b {
                                range_errors.push(
                                    Diagnostic::error(
                                        "E0412",
                                        format!("`{}` comes after `{}` in the file", from.name, to.name),
                                        from.span.to(to.span),
                                        "empty range",
                                    )
                                    .with_help(format!("write `{}..{}`", to.name, from.name)),
                                );
                            }
                            picked.extend(a..=b);
                        }
                    }
                }
            }
            picked
        }
    };
    for ident in &spec.categorical {
        lookup(ident);
    }
    errors.extend(range_errors);
    if features.is_empty() && errors.is_empty() {
        let span = match &spec.features {
            Some(Features::Columns(_, span) | Features::AllBut(_, span)) => *span,
            None => spec.path_span,
        };
        errors.push(
            Diagnostic::error("E0412", "no feature columns are left", span, "selects nothing")
                .with_help("name at least one input column"),
        );
    }
    if errors.is_empty() { Ok((features, targets)) } else { Err(errors) }
}

/// Row indices of each split: chosen by a shuffle with `seed`, cut by the fractions,
/// each kept in file order.
fn split_rows(n: usize, split: &nnc_lower::Split, seed: u64, shuffle: bool) -> [Vec<usize>; 3] {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5b1e)));
    }
    let n_train = ((split.train * n as f64).round() as usize).clamp(1, n);
    let n_val = ((split.validation * n as f64).round() as usize).min(n - n_train);
    let mut test = order.split_off(n_train + n_val);
    let mut val = order.split_off(n_train);
    // Within a split, rows keep file order, so reports list them in data order.
    for part in [&mut order, &mut val, &mut test] {
        part.sort_unstable();
    }
    [order, val, test]
}

/// How one source column becomes model columns.
enum Encoding {
    Numeric {
        offset: f32,
        scale: f32,
    },
    /// One-hot over the training split's categories plus a last `<unknown>` slot.
    OneHot(Vec<String>),
}

fn is_numeric(table: &Table, column: usize) -> bool {
    table.rows.iter().all(|row| row[column].parse::<f32>().is_ok_and(f32::is_finite))
}

fn fit(table: &Table, column: usize, rows: &[usize], categorical: bool, normalize: Normalize) -> Encoding {
    if categorical {
        let mut categories: Vec<String> = rows.iter().map(|&r| table.rows[r][column].clone()).collect();
        categories.sort();
        categories.dedup();
        return Encoding::OneHot(categories);
    }
    let values: Vec<f32> = rows.iter().map(|&r| table.rows[r][column].parse::<f32>().unwrap_or(0.0)).collect();
    let (offset, scale) = fit_numeric(&values, normalize);
    Encoding::Numeric { offset, scale }
}

/// `(offset, scale)` so that `(x - offset) / scale` is standardised or in [0, 1].
pub(crate) fn fit_numeric(values: &[f32], normalize: Normalize) -> (f32, f32) {
    match normalize {
        Normalize::None => (0.0, 1.0),
        Normalize::Standard => {
            let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / values.len() as f64;
            (mean as f32, if var > 0.0 { var.sqrt() as f32 } else { 1.0 })
        }
        Normalize::MinMax => {
            let min = values.iter().copied().fold(f32::INFINITY, f32::min);
            let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            (min, if max > min { max - min } else { 1.0 })
        }
    }
}

fn encode(encoding: &Encoding, text: &str, out: &mut Vec<f32>) {
    match encoding {
        Encoding::Numeric { offset, scale } => out.push((text.parse::<f32>().unwrap_or(0.0) - offset) / scale),
        Encoding::OneHot(categories) => {
            let slot = categories.iter().position(|c| c == text).unwrap_or(categories.len());
            out.extend((0..=categories.len()).map(|i| f32::from(u8::from(i == slot))));
        }
    }
}

fn encoded_names(name: &str, encoding: &Encoding) -> Vec<String> {
    match encoding {
        Encoding::Numeric { .. } => vec![name.to_string()],
        Encoding::OneHot(categories) => {
            categories.iter().map(|c| format!("{name}={c}")).chain([format!("{name}=<unknown>")]).collect()
        }
    }
}

fn describe(name: &str, encoding: &Encoding) -> String {
    match encoding {
        Encoding::Numeric { offset, scale } => format!("{name}: (x - {offset}) / {scale}"),
        Encoding::OneHot(categories) => format!("{name}: one-hot over {} categories + <unknown>", categories.len()),
    }
}

fn tabular(spec: &CsvSpec, table: &Table, output_width: usize, seed: u64) -> Result<Prepared, Vec<Diagnostic>> {
    let (features, targets) = resolve_columns(spec, table)?;
    let [train_rows, val_rows, test_rows] = split_rows(table.rows.len(), &spec.split, seed, true);
    let forced = |column: usize| spec.categorical.iter().any(|c| c.name == table.header[column]);
    let encodings: Vec<Encoding> = features
        .iter()
        .map(|&c| fit(table, c, &train_rows, forced(c) || !is_numeric(table, c), spec.normalize))
        .collect();
    let mut input_names = Vec::new();
    for (&column, encoding) in features.iter().zip(&encodings) {
        input_names.extend(encoded_names(&table.header[column], encoding));
    }
    let mut preprocessing: Vec<String> =
        features.iter().zip(&encodings).map(|(&c, e)| describe(&table.header[c], e)).collect();
    let target_plan = plan_targets(spec, table, &targets, &train_rows, output_width)?;
    let build = |rows: &[usize]| -> Result<Option<Dataset>, Diagnostic> {
        if rows.is_empty() {
            return Ok(None);
        }
        let mut inputs = Vec::with_capacity(rows.len() * input_names.len());
        for &r in rows {
            for (&column, encoding) in features.iter().zip(&encodings) {
                encode(encoding, &table.rows[r][column], &mut inputs);
            }
        }
        let targets = match &target_plan {
            TargetPlan::Reconstruct => inputs.clone(),
            TargetPlan::Columns { columns, encodings, .. } => {
                let mut out = Vec::new();
                for &r in rows {
                    for (&column, encoding) in columns.iter().zip(encodings) {
                        encode(encoding, &table.rows[r][column], &mut out);
                    }
                }
                out
            }
            TargetPlan::Classes { column, classes, binary, span } => {
                let mut out = Vec::new();
                for &r in rows {
                    let label = &table.rows[r][*column];
                    let Some(class) = classes.iter().position(|c| c == label) else {
                        return Err(Diagnostic::error(
                            "E0414",
                            format!("class `{label}` does not occur in the training split"),
                            *span,
                            "target column",
                        )
                        .with_note(format!("training classes: {}", classes.join(", ")))
                        .with_help(
                            "use a larger training fraction or a different seed so every class is seen in training",
                        ));
                    };
                    if *binary {
                        out.push(class as f32);
                    } else {
                        out.extend((0..classes.len()).map(|i| f32::from(u8::from(i == class))));
                    }
                }
                out
            }
        };
        Ok(Some(Dataset {
            input_names: input_names.clone(),
            target_names: target_plan.names(&input_names),
            inputs,
            targets,
            rows: rows.len(),
        }))
    };
    let wrap = |r: Result<Option<Dataset>, Diagnostic>| r.map_err(|d| vec![d]);
    let train = wrap(build(&train_rows))?.expect("the training split has at least one row");
    let (validation, test) = (wrap(build(&val_rows))?, wrap(build(&test_rows))?);
    preprocessing.extend(target_plan.describe());
    Ok(Prepared {
        target_scale: target_plan.scale(train.n_targets()),
        task: target_plan.task(),
        binary_classes: target_plan.binary_classes(),
        train,
        validation,
        test,
        preprocessing,
        naive_mae: None,
    })
}

enum TargetPlan {
    Reconstruct,
    Columns { columns: Vec<usize>, encodings: Vec<Encoding>, names: Vec<String> },
    Classes { column: usize, classes: Vec<String>, binary: bool, span: Span },
}

impl TargetPlan {
    fn names(&self, input_names: &[String]) -> Vec<String> {
        match self {
            TargetPlan::Reconstruct => input_names.to_vec(),
            TargetPlan::Columns { names, .. } => names.clone(),
            TargetPlan::Classes { classes, binary: true, column: _, span: _ } => vec![classes[1].clone()],
            TargetPlan::Classes { classes, .. } => classes.clone(),
        }
    }

    fn task(&self) -> Task {
        match self {
            TargetPlan::Reconstruct | TargetPlan::Columns { .. } => Task::Regression,
            TargetPlan::Classes { binary: true, .. } => Task::Binary,
            TargetPlan::Classes { classes, .. } => Task::Classes(classes.clone()),
        }
    }

    fn binary_classes(&self) -> Option<[String; 2]> {
        match self {
            TargetPlan::Classes { classes, binary: true, .. } => Some([classes[0].clone(), classes[1].clone()]),
            TargetPlan::Reconstruct | TargetPlan::Columns { .. } | TargetPlan::Classes { .. } => None,
        }
    }

    fn scale(&self, width: usize) -> Vec<(f32, f32)> {
        match self {
            TargetPlan::Columns { encodings, .. } => encodings
                .iter()
                .map(|e| match e {
                    Encoding::Numeric { offset, scale } => (*offset, *scale),
                    Encoding::OneHot(_) => (0.0, 1.0),
                })
                .collect(),
            TargetPlan::Reconstruct | TargetPlan::Classes { .. } => vec![(0.0, 1.0); width],
        }
    }

    fn describe(&self) -> Vec<String> {
        match self {
            TargetPlan::Reconstruct => vec!["target: the (normalised) features themselves".to_string()],
            TargetPlan::Columns { encodings, names, .. } => {
                names.iter().zip(encodings).map(|(n, e)| format!("target {}", describe(n, e))).collect()
            }
            TargetPlan::Classes { classes, .. } => vec![format!("target classes: {}", classes.join(", "))],
        }
    }
}

fn plan_targets(
    spec: &CsvSpec,
    table: &Table,
    targets: &[usize],
    train_rows: &[usize],
    output_width: usize,
) -> Result<TargetPlan, Vec<Diagnostic>> {
    let Target::Columns(idents) = &spec.target else { return Ok(TargetPlan::Reconstruct) };
    let categorical = |c: usize| spec.categorical.iter().any(|i| i.name == table.header[c]) || !is_numeric(table, c);
    match targets {
        [column] if categorical(*column) => {
            let mut classes: Vec<String> = train_rows.iter().map(|&r| table.rows[r][*column].clone()).collect();
            classes.sort_by(|a, b| natural_order(a, b));
            classes.dedup();
            let binary = classes.len() == 2 && output_width == 1;
            Ok(TargetPlan::Classes { column: *column, classes, binary, span: idents[0].span })
        }
        _ => {
            if let Some(&c) = targets.iter().find(|&&c| categorical(c)) {
                let ident = idents.iter().find(|i| i.name == table.header[c]).map_or(spec.path_span, |i| i.span);
                return Err(vec![
                    Diagnostic::error("E0409", "a categorical target must be the only target", ident, "categorical")
                        .with_help("predict one class column at a time"),
                ]);
            }
            let encodings = targets.iter().map(|&c| fit(table, c, train_rows, false, spec.normalize)).collect();
            Ok(TargetPlan::Columns {
                columns: targets.to_vec(),
                encodings,
                names: targets.iter().map(|&c| table.header[c].clone()).collect(),
            })
        }
    }
}

/// Numbers in numeric order (so labels 2 < 10), other text alphabetically.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}
