//! Time-series windows: the previous K values of one column predict the next value.
//!
//! The series is cut into training, validation and test parts in time order first, and
//! windows are built inside each part, so no window spans two parts (no leakage). A window
//! holding a missing value is left out under `missing drop`; under `missing mean` the
//! value is the training part's mean.

use crate::dataset::{Dataset, Prepared, Preprocessing, SplitOrder, TargetEncoding, Task};
use crate::encode::{ColumnEncoding, Encoding, fit_numeric, mean};
use crate::read::Table;
use crate::select::column_index;
use crate::spec::{CsvSpec, Missing, Window};
use crate::split::{check_windows, part_sizes};
use crate::typing::{ColumnType, column_type, first_missing};
use nnc_diagnostics::Diagnostic;

pub(crate) fn prepare(spec: &CsvSpec, window: &Window, table: &Table) -> Result<Prepared, Vec<Diagnostic>> {
    let column = column_index(&table.header, &window.column).map_err(|d| vec![d])?;
    let series = match column_type(spec, table, column).map_err(|d| vec![d])? {
        ColumnType::Numeric(values) => values,
        ColumnType::Categorical => return Err(vec![not_numeric(spec, window)]),
    };
    first_missing(spec, table, &[column], &[ColumnType::Numeric(series.clone())]).map_err(|d| vec![d])?;
    let series = series.to_options();
    let n = series.len();
    let k = window.size;
    check_windows(&spec.split, n, k, window.span).map_err(|d| vec![d])?;
    let [n_train, n_val, _] = part_sizes(n, &spec.split);
    let (train_part, rest) = series.split_at(n_train);
    let (val_part, test_part) = rest.split_at(n_val);
    let present = train_part.iter().flatten().copied();
    let (offset, scale) = fit_numeric(present.clone(), spec.normalize);
    let fill = if spec.missing == Missing::Mean { mean(present) } else { None };
    let encoding = Encoding::Numeric { offset, scale, fill };
    let name = &window.column.name;
    let windows = Windows { k, name, encoding: &encoding };
    let train = windows.build(train_part);
    if train.rows == 0 {
        return Err(vec![all_dropped(spec, window)]);
    }
    let (validation, test) = (windows.build(val_part), windows.build(test_part));
    let mut naive_mae = Vec::new();
    for (split, part) in [("train", train_part), ("val", val_part), ("test", test_part)] {
        naive_mae.extend(windows.naive_mae(part).map(|mae| (split.to_string(), mae)));
    }
    let possible: usize = [train_part, val_part, test_part].iter().map(|p| p.len().saturating_sub(k)).sum();
    let dropped = possible - (train.rows + validation.rows + test.rows);
    let missing = spec.missing_values.markers_for(name).to_vec();
    let column_encoding = ColumnEncoding { column: name.clone(), encoding, missing };
    Ok(Prepared {
        train,
        validation: (validation.rows > 0).then_some(validation),
        test: (test.rows > 0).then_some(test),
        task: Task::Regression,
        preprocessing: Preprocessing {
            features: vec![column_encoding.clone()],
            target: TargetEncoding::Columns(vec![column_encoding]),
            window: Some(k),
        },
        split_order: SplitOrder::TimeOrder,
        dropped_rows: dropped,
        naive_mae: Some(naive_mae),
        input_span: window.span,
        target_span: window.column.span,
        largest_input: None,
    })
}

struct Windows<'a> {
    k: usize,
    name: &'a str,
    encoding: &'a Encoding,
}

impl Windows<'_> {
    /// Every window of the part whose values are all usable.
    fn build(&self, part: &[Option<f32>]) -> Dataset {
        let k = self.k;
        let input_names: Vec<String> = (1..=k).rev().map(|lag| format!("{}[t-{lag}]", self.name)).collect();
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        for start in 0..part.len().saturating_sub(k) {
            let mut row = Vec::with_capacity(k + 1);
            let complete = part[start..=start + k].iter().all(|&v| self.encoding.encode_number(v, &mut row).is_ok());
            if complete {
                targets.push(row[k]);
                inputs.extend_from_slice(&row[..k]);
            }
        }
        Dataset {
            rows: targets.len(),
            input_names,
            target_names: vec![format!("{}[t]", self.name)],
            inputs,
            targets,
            annotation: None,
            lines: Vec::new(),
        }
    }

    /// The mean absolute error of "next = last" over the part's complete windows, in the
    /// series' units.
    fn naive_mae(&self, part: &[Option<f32>]) -> Option<f32> {
        let errors: Vec<f32> = (self.k..part.len()).filter_map(|t| Some((part[t]? - part[t - 1]?).abs())).collect();
        mean(errors.iter().copied())
    }
}

fn not_numeric(spec: &CsvSpec, window: &Window) -> Diagnostic {
    Diagnostic::error(
        nnc_diagnostics::codes::ODD_VALUE,
        format!("the window column `{}` of `{}` holds text, not numbers", window.column.name, spec.path),
        window.column.span,
        "this column",
    )
    .with_help("a window predicts the next value of a numeric column; name one")
}

fn all_dropped(spec: &CsvSpec, window: &Window) -> Diagnostic {
    Diagnostic::error(
        nnc_diagnostics::codes::EMPTY_SPLIT,
        format!("every training window of `{}` holds a missing value", window.column.name),
        window.span,
        "no complete window",
    )
    .with_help(format!("use a shorter window, or `missing mean` to fill the gaps in `{}`", spec.path))
}
