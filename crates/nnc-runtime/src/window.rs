//! Time-series windows: the previous K values of one column predict the next value.
//!
//! The series is cut into training, validation and test segments in time order first,
//! and windows are built inside each segment, so no window spans two splits (no leakage).

use crate::data::Dataset;
use crate::prepare::{Prepared, Task, fit_numeric};
use nnc_diagnostics::{Diagnostic, did_you_mean};
use nnc_lower::{CsvSpec, Window};

pub(crate) fn prepare_window(
    spec: &CsvSpec,
    window: &Window,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Prepared, Vec<Diagnostic>> {
    let column = header.iter().position(|h| *h == window.column.name).ok_or_else(|| {
        let d = Diagnostic::error(
            "E0412",
            format!("the file has no column `{}`", window.column.name),
            window.column.span,
            "unknown column",
        );
        vec![match did_you_mean(&window.column.name, header.iter().map(String::as_str)) {
            Some(close) => d.with_help(format!("did you mean `{close}`?")),
            None => d.with_help(format!("the columns are: {}", header.join(", "))),
        }]
    })?;
    let mut series = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        match row[column].parse::<f32>() {
            Ok(value) if value.is_finite() => series.push(value),
            _ => {
                return Err(vec![
                    Diagnostic::error(
                        "E0415",
                        format!("`{}` is not a number in data row {}", row[column], index + 1),
                        window.column.span,
                        "this column",
                    )
                    .with_help("a window needs a numeric column"),
                ]);
            }
        }
    }
    let n = series.len();
    let n_train = ((spec.split.train * n as f64).round() as usize).clamp(1, n);
    let n_val = ((spec.split.validation * n as f64).round() as usize).min(n - n_train);
    let (train_part, rest) = series.split_at(n_train);
    let (val_part, test_part) = rest.split_at(n_val);
    let k = window.size;
    if train_part.len() <= k {
        return Err(vec![
            Diagnostic::error(
                "E0416",
                format!("the training part of the series has {} values, too few for a window of {k}", train_part.len()),
                window.span,
                "window too long",
            )
            .with_help("use a shorter window or a larger training fraction"),
        ]);
    }
    let (offset, scale) = fit_numeric(train_part, spec.normalize);
    let name = &window.column.name;
    let input_names: Vec<String> = (1..=k).rev().map(|lag| format!("{name}[t-{lag}]")).collect();
    let build = |part: &[f32]| -> Option<Dataset> {
        let count = part.len().checked_sub(k).filter(|&c| c > 0)?;
        let mut inputs = Vec::with_capacity(count * k);
        let mut targets = Vec::with_capacity(count);
        for start in 0..count {
            inputs.extend(part[start..start + k].iter().map(|v| (v - offset) / scale));
            targets.push((part[start + k] - offset) / scale);
        }
        Some(Dataset {
            input_names: input_names.clone(),
            target_names: vec![format!("{name}[t]")],
            inputs,
            targets,
            rows: count,
        })
    };
    let naive = |part: &[f32]| -> Option<f32> {
        let count = part.len().checked_sub(k).filter(|&c| c > 0)?;
        Some((0..count).map(|i| (part[i + k] - part[i + k - 1]).abs()).sum::<f32>() / count as f32)
    };
    let mut naive_mae = Vec::new();
    for (split, part) in [("train", train_part), ("val", val_part), ("test", test_part)] {
        naive_mae.extend(naive(part).map(|mae| (split.to_string(), mae)));
    }
    Ok(Prepared {
        train: build(train_part).expect("checked above that the training part is longer than the window"),
        validation: build(val_part),
        test: build(test_part),
        task: Task::Regression,
        binary_classes: None,
        target_scale: vec![(offset, scale)],
        preprocessing: vec![format!("{name}: (x - {offset}) / {scale}, windows of {k} within each split")],
        naive_mae: Some(naive_mae),
    })
}
