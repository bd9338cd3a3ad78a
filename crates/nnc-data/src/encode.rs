//! How source columns become model columns: numeric columns normalised with statistics of
//! the training split, categorical ones one-hot encoded over the training split's
//! categories plus an `<unknown>` slot. The fitted encodings are public, so a saved model
//! can apply exactly the same preprocessing to new rows.

use crate::spec::{Normalize, default_markers, is_marker};

/// How one source column becomes one or more model columns.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Encoding {
    /// `(x - offset) / scale`; a missing cell takes `fill` first, when there is one.
    Numeric { offset: f32, scale: f32, fill: Option<f32> },
    /// One column per category seen in training, plus a last `<unknown>` column; a
    /// missing cell takes `fill`, when there is one.
    OneHot { categories: Vec<String>, fill: Option<String> },
}

/// A source column, its encoding, and the cells that are missing in it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnEncoding {
    pub column: String,
    pub encoding: Encoding,
    /// Cells that mean "no value" (`missing_values`); weight files of format 1 have none
    /// and take the default.
    #[serde(default = "default_markers")]
    pub missing: Vec<String>,
}

impl ColumnEncoding {
    /// Encodes one raw text cell, appending its model columns to `out`.
    pub fn encode(&self, cell: &str, out: &mut Vec<f32>) -> Result<(), CellProblem> {
        let missing = is_marker(&self.missing, cell);
        match &self.encoding {
            Encoding::Numeric { .. } => {
                let value = if missing {
                    None
                } else {
                    Some(cell.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or(CellProblem::NotANumber)?)
                };
                self.encoding.encode_number(value, out)
            }
            Encoding::OneHot { categories, fill } => {
                let category = if missing { fill.as_deref().ok_or(CellProblem::Missing)? } else { cell };
                let slot = categories.iter().position(|c| c == category).unwrap_or(categories.len());
                out.extend((0..=categories.len()).map(|i| f32::from(u8::from(i == slot))));
                Ok(())
            }
        }
    }

    /// Whether `cell` is a category this column did not see in training (a missing cell
    /// is not one).
    pub fn is_unseen_category(&self, cell: &str) -> bool {
        match &self.encoding {
            Encoding::OneHot { categories, .. } => {
                !is_marker(&self.missing, cell) && !categories.iter().any(|c| c == cell)
            }
            Encoding::Numeric { .. } => false,
        }
    }
}

/// Why a cell could not be encoded.
#[derive(Clone, Debug, PartialEq)]
pub enum CellProblem {
    Missing,
    NotANumber,
}

impl Encoding {
    /// Model columns this source column becomes.
    pub fn width(&self) -> usize {
        match self {
            Encoding::Numeric { .. } => 1,
            Encoding::OneHot { categories, .. } => categories.len() + 1,
        }
    }

    /// Encodes a parsed numeric value (`None` when missing).
    pub fn encode_number(&self, value: Option<f32>, out: &mut Vec<f32>) -> Result<(), CellProblem> {
        let Encoding::Numeric { offset, scale, fill } = self else { return Err(CellProblem::NotANumber) };
        let value = value.or(*fill).ok_or(CellProblem::Missing)?;
        out.push((value - offset) / scale);
        Ok(())
    }

    /// Names of the model columns of source column `column`.
    pub fn names(&self, column: &str) -> Vec<String> {
        match self {
            Encoding::Numeric { .. } => vec![column.to_string()],
            Encoding::OneHot { categories, .. } => {
                categories.iter().map(|c| format!("{column}={c}")).chain([format!("{column}=<unknown>")]).collect()
            }
        }
    }

    /// One line for reports: the column's type and what is done to it.
    pub fn describe(&self, column: &str) -> String {
        match self {
            Encoding::Numeric { offset, scale, fill } => {
                let scaling = if (*offset, *scale) == (0.0, 1.0) {
                    "as is".to_string()
                } else {
                    format!("(x - {offset}) / {scale}")
                };
                let filled = fill.map_or(String::new(), |f| format!(", missing -> {f}"));
                format!("{column}: number, {scaling}{filled}")
            }
            Encoding::OneHot { categories, fill } => {
                let filled = fill.as_ref().map_or(String::new(), |f| format!(", missing -> {f}"));
                format!("{column}: category, one-hot over {} categories + <unknown>{filled}", categories.len())
            }
        }
    }
}

/// `(offset, scale)` so that `(x - offset) / scale` is standardised or in [0, 1].
pub(crate) fn fit_numeric(values: &[f32], normalize: Normalize) -> (f32, f32) {
    if values.is_empty() {
        return (0.0, 1.0);
    }
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

pub(crate) fn mean(values: &[f32]) -> Option<f32> {
    (!values.is_empty()).then(|| (values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64) as f32)
}

/// The sorted distinct categories of `cells` (those in `missing` left out) and the most
/// frequent one (the first in sort order on ties).
pub(crate) fn categories<'a>(
    cells: impl Iterator<Item = &'a str>,
    missing: &[String],
) -> (Vec<String>, Option<String>) {
    let mut seen: Vec<&str> = cells.filter(|c| !is_marker(missing, c)).collect();
    seen.sort_unstable();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for cell in seen {
        match counts.last_mut() {
            Some((last, count)) if *last == cell => *count += 1,
            _ => counts.push((cell, 1)),
        }
    }
    let most = counts.iter().fold(None, |best: Option<(&str, usize)>, &(c, n)| match best {
        Some((_, m)) if m >= n => best,
        _ => Some((c, n)),
    });
    (counts.iter().map(|(c, _)| c.to_string()).collect(), most.map(|(c, _)| c.to_string()))
}

/// Numbers in numeric order (so labels 2 < 10), other text alphabetically.
pub(crate) fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}
