//! Datasets, and what loading a data block produces.

use crate::encode::ColumnEncoding;
use nnc_diagnostics::Span;

/// Rows of input features and targets, as row-major `f32` matrices.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub input_names: Vec<String>,
    pub target_names: Vec<String>,
    /// `rows x input_names.len()`, row-major.
    pub inputs: Vec<f32>,
    /// `rows x target_names.len()`, row-major.
    pub targets: Vec<f32>,
    pub rows: usize,
    /// A column of the file the model does not use but that labels its rows with a few
    /// values (the digit of an autoencoder's image): its name and each row's value, for
    /// colouring plots.
    pub annotation: Option<(String, Vec<String>)>,
    /// The data file line each row comes from (empty for inline tables and windows): how
    /// an exported project finds the same split.
    pub lines: Vec<u64>,
}

impl Dataset {
    pub fn n_inputs(&self) -> usize {
        self.input_names.len()
    }

    pub fn n_targets(&self) -> usize {
        self.target_names.len()
    }

    pub fn input_row(&self, row: usize) -> &[f32] {
        &self.inputs[row * self.n_inputs()..(row + 1) * self.n_inputs()]
    }

    pub fn target_row(&self, row: usize) -> &[f32] {
        &self.targets[row * self.n_targets()..(row + 1) * self.n_targets()]
    }
}

/// What kind of prediction the targets ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    Regression,
    /// One 0/1 target column; the class names when the column was categorical.
    Binary(Option<[String; 2]>),
    /// One-hot targets over these class names.
    Classes(Vec<String>),
}

impl Task {
    pub fn name(&self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Binary(_) => "binary classification",
            Task::Classes(_) => "classification",
        }
    }

    /// Class names, in output order (empty for regression).
    pub fn class_names(&self) -> Vec<String> {
        match self {
            Task::Classes(classes) => classes.clone(),
            Task::Binary(Some(pair)) => pair.to_vec(),
            Task::Binary(None) => vec!["0".to_string(), "1".to_string()],
            Task::Regression => Vec::new(),
        }
    }
}

/// What becomes of the targets.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TargetEncoding {
    /// The (encoded) features themselves: auto-encoders.
    Features,
    /// Numeric columns, each normalised like a feature.
    Columns(Vec<ColumnEncoding>),
    /// One categorical column: a 0/1 target (`binary`) or one-hot over the classes.
    Classes { column: String, classes: Vec<String>, binary: bool },
}

/// Everything fitted on the training split that new rows need to look like training rows.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Preprocessing {
    /// Per source feature column, in model-column order.
    pub features: Vec<ColumnEncoding>,
    pub target: TargetEncoding,
    /// For a time series: the number of past values per row.
    pub window: Option<usize>,
}

impl Preprocessing {
    /// Per target column `(offset, scale)`: original = value * scale + offset.
    pub fn target_scale(&self, width: usize) -> Vec<(f32, f32)> {
        match &self.target {
            TargetEncoding::Columns(columns) => columns
                .iter()
                .map(|c| match c.encoding {
                    crate::Encoding::Numeric { offset, scale, .. } => (offset, scale),
                    crate::Encoding::OneHot { .. } => (0.0, 1.0),
                })
                .collect(),
            TargetEncoding::Features | TargetEncoding::Classes { .. } => vec![(0.0, 1.0); width],
        }
    }

    /// Whether the model sees the inputs changed (normalised, one-hot, windowed).
    pub fn changes_inputs(&self) -> bool {
        self.window.is_some()
            || self.features.iter().any(|c| match c.encoding {
                crate::Encoding::Numeric { offset, scale, .. } => (offset, scale) != (0.0, 1.0),
                crate::Encoding::OneHot { .. } => true,
            })
    }

    /// One line per source column: its type and encoding, then the target's.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = describe_runs(&self.features);
        match &self.target {
            TargetEncoding::Features => lines.push("target: the (encoded) features themselves".to_string()),
            TargetEncoding::Columns(columns) => {
                lines.extend(columns.iter().map(|c| format!("target {}", c.encoding.describe(&c.column))))
            }
            TargetEncoding::Classes { column, classes, .. } => {
                lines.push(format!("target {column}: {} classes: {}", classes.len(), classes.join(", ")))
            }
        }
        if let Some(size) = self.window {
            lines.push(format!("windows of {size} consecutive values within each split"));
        }
        lines
    }
}

/// One line per column, except that a run of four or more columns read alike (an image's
/// pixels, `p0` to `p143`: number, as is) is one line.
fn describe_runs(features: &[ColumnEncoding]) -> Vec<String> {
    let how = |c: &ColumnEncoding| c.encoding.describe(&c.column).split_once(": ").map(|(_, h)| h.to_string());
    let mut lines = Vec::new();
    let mut start = 0;
    while start < features.len() {
        let kind = how(&features[start]);
        let end = (start..features.len()).find(|&i| how(&features[i]) != kind).unwrap_or(features.len());
        match &kind {
            Some(kind) if end - start >= 4 => lines.push(format!(
                "{} .. {} ({} columns): {kind}",
                features[start].column,
                features[end - 1].column,
                end - start
            )),
            _ => lines.extend(features[start..end].iter().map(|c| c.encoding.describe(&c.column))),
        }
        start = end;
    }
    lines
}

/// How rows were assigned to the parts.
#[derive(Clone, Debug, PartialEq)]
pub enum SplitOrder {
    /// An inline table: every row trains.
    AllTrain,
    /// Shuffled with this seed, then cut.
    Shuffled(u64),
    /// A time series, cut in time order.
    TimeOrder,
}

/// The splits, ready for training, with what reports and saved models need.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub train: Dataset,
    pub validation: Option<Dataset>,
    pub test: Option<Dataset>,
    pub task: Task,
    pub preprocessing: Preprocessing,
    pub split_order: SplitOrder,
    /// Rows left out because of missing values (`missing drop`, or a missing target).
    pub dropped_rows: usize,
    /// For a time-series window: the mean absolute error of "next = last" on each split.
    pub naive_mae: Option<Vec<(String, f32)>>,
    /// Where the input and target columns are chosen in the program, for diagnostics.
    pub input_span: Span,
    pub target_span: Span,
    /// The largest magnitude of an input the model sees, and its column, when the data is
    /// not normalised (a hint when training diverges).
    pub largest_input: Option<(String, f32)>,
}

impl Prepared {
    /// `(split name, dataset)` for every split that has rows.
    pub fn splits(&self) -> Vec<(&'static str, &Dataset)> {
        let mut splits = vec![("train", &self.train)];
        splits.extend(self.validation.as_ref().map(|d| ("val", d)));
        splits.extend(self.test.as_ref().map(|d| ("test", d)));
        splits
    }

    pub fn target_scale(&self) -> Vec<(f32, f32)> {
        self.preprocessing.target_scale(self.train.n_targets())
    }
}

/// The largest `|x|` in `data`'s inputs and its column name.
pub(crate) fn largest_input(data: &Dataset) -> Option<(String, f32)> {
    let width = data.n_inputs().max(1);
    let (index, value) = data.inputs.iter().enumerate().map(|(i, v)| (i % width, v.abs())).fold(
        None,
        |best: Option<(usize, f32)>, (i, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        },
    )?;
    Some((data.input_names.get(index)?.clone(), value))
}
