//! How source columns become model columns: numeric columns normalised with statistics of
//! the training split, categorical ones one-hot encoded over the training split's
//! categories plus an `<unknown>` slot. The fitted encodings are public, so a saved model
//! can apply exactly the same preprocessing to new rows.

use crate::spec::{Normalize, default_markers, is_marker};
use rustc_hash::FxHashMap;

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

/// Where each category of a one-hot encoding goes, for encoding many cells: one hash
/// lookup a cell (Fx, a few instructions for a short string), instead of comparing it
/// with every category in turn (a column of 2,000 codes compared each of a million cells
/// with a thousand of them on average; with 8 categories the search took 12 % longer).
#[derive(Default)]
pub struct Slots<'a> {
    hashed: FxHashMap<&'a str, usize>,
}

impl<'a> Slots<'a> {
    pub fn of(encoding: &'a ColumnEncoding) -> Slots<'a> {
        match &encoding.encoding {
            Encoding::OneHot { categories, .. } => Slots::over(categories),
            Encoding::Numeric { .. } => Slots::default(),
        }
    }

    /// The slots of `categories`, in order (the first of equal ones wins, as a search in
    /// order finds it).
    pub fn over(categories: &'a [String]) -> Slots<'a> {
        Slots { hashed: categories.iter().enumerate().rev().map(|(slot, c)| (c.as_str(), slot)).collect() }
    }

    /// The slot of `cell`, if it is one of the categories.
    pub fn get(&self, cell: &str) -> Option<usize> {
        self.hashed.get(cell).copied()
    }
}

impl ColumnEncoding {
    /// Encodes one raw text cell, appending its model columns to `out`; `slots` are this
    /// encoding's ([`Slots::of`]).
    pub fn encode(&self, slots: &Slots, cell: &str, out: &mut Vec<f32>) -> Result<(), CellProblem> {
        let missing = is_marker(&self.missing, cell);
        match &self.encoding {
            Encoding::Numeric { .. } => {
                let value = if missing {
                    None
                } else {
                    // As the training data was typed: a cell is the same number in both.
                    Some(crate::typing::number(cell).ok_or(CellProblem::NotANumber)?)
                };
                self.encoding.encode_number(value, out)
            }
            Encoding::OneHot { categories, .. } => {
                let slot = self.one_hot_slot(slots, cell)?;
                out.extend((0..=categories.len()).map(|i| f32::from(u8::from(i == slot))));
                Ok(())
            }
        }
    }

    /// The model column a one-hot encoding sets to 1 for `cell` (the last, `<unknown>`, for
    /// a category not seen in training); `slots` are this encoding's. A numeric encoding
    /// sets none: `NotANumber`.
    pub fn one_hot_slot(&self, slots: &Slots, cell: &str) -> Result<usize, CellProblem> {
        let Encoding::OneHot { categories, fill } = &self.encoding else { return Err(CellProblem::NotANumber) };
        let category = match is_marker(&self.missing, cell) {
            true => fill.as_deref().ok_or(CellProblem::Missing)?,
            false => cell,
        };
        Ok(slots.get(category).unwrap_or(categories.len()))
    }

    /// Whether `cell` is a category this column did not see in training (a missing cell
    /// is not one); `slots` are this encoding's.
    pub fn is_unseen_category(&self, slots: &Slots, cell: &str) -> bool {
        match &self.encoding {
            Encoding::OneHot { .. } => !is_marker(&self.missing, cell) && slots.get(cell).is_none(),
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

/// `(offset, scale)` so that `(x - offset) / scale` is standardised or in [0, 1]. The
/// values are read twice (for the mean, then the variance), where they are.
pub(crate) fn fit_numeric(values: impl Iterator<Item = f32> + Clone, normalize: Normalize) -> (f32, f32) {
    match normalize {
        Normalize::None => (0.0, 1.0),
        Normalize::Standard => {
            let Some(mean) = mean_f64(values.clone()) else { return (0.0, 1.0) };
            let (squares, n) = sum_and_count(values.map(|v| (f64::from(v) - mean).powi(2)));
            let var = squares / n as f64;
            (mean as f32, if var > 0.0 { var.sqrt() as f32 } else { 1.0 })
        }
        Normalize::MinMax => {
            let min = values.clone().fold(f32::INFINITY, f32::min);
            let max = values.fold(f32::NEG_INFINITY, f32::max);
            if min > max {
                return (0.0, 1.0);
            }
            (min, if max > min { max - min } else { 1.0 })
        }
    }
}

pub(crate) fn mean(values: impl Iterator<Item = f32>) -> Option<f32> {
    mean_f64(values).map(|mean| mean as f32)
}

fn mean_f64(values: impl Iterator<Item = f32>) -> Option<f64> {
    let (sum, n) = sum_and_count(values.map(f64::from));
    (n > 0).then(|| sum / n as f64)
}

/// The sum in order, as `Iterator::sum` adds (from -0.0, so that the sum of -0.0 alone
/// keeps its sign), and the count.
fn sum_and_count(values: impl Iterator<Item = f64>) -> (f64, usize) {
    values.fold((-0.0, 0), |(sum, n), v| (sum + v, n + 1))
}

/// The sorted distinct categories of `counted` (distinct cells, each with how many times
/// it occurs; those in `missing` left out) and the most frequent one (the first in sort
/// order on ties).
pub(crate) fn categories<'a>(
    counted: impl Iterator<Item = (&'a str, usize)>,
    missing: &[String],
) -> (Vec<String>, Option<String>) {
    let mut counts: Vec<(&str, usize)> = counted.filter(|&(cell, n)| n > 0 && !is_marker(missing, cell)).collect();
    counts.sort_unstable_by(|a, b| a.0.cmp(b.0));
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

#[cfg(test)]
mod tests {
    use super::{ColumnEncoding, Encoding, Slots, fit_numeric, mean};

    /// Slots are the categories' positions: every category's own slot, the first of two
    /// equal ones, and none for a cell that is not a category.
    #[test]
    fn slots_are_the_categories_positions() {
        for count in [1, 2, 16, 17, 300] {
            let mut categories: Vec<String> = (0..count).map(|i| format!("c{i}")).collect();
            categories.push("c0".to_string());
            let slots = Slots::over(&categories);
            for (slot, category) in categories.iter().enumerate().take(count) {
                assert_eq!(slots.get(category), Some(slot), "{count} categories");
            }
            assert_eq!(slots.get("c0"), Some(0));
            assert_eq!(slots.get("none"), None);
            assert_eq!(slots.get(""), None);
        }
    }
    use crate::spec::Normalize;

    /// A cell is encoded for prediction as the same number it was typed as for training,
    /// also where rounding the decimal to f64 first (as typing does) and rounding it
    /// straight to f32 differ: this one lies just below a point halfway between two f32s,
    /// and rounds onto it as an f64.
    #[test]
    fn prediction_reads_a_number_as_training_did() {
        let cell = "1.0000001788139343";
        let straight: f32 = cell.parse().expect("a number");
        let typed = crate::typing::number(cell).expect("a number");
        assert_ne!(straight, typed, "the cell tells the two roundings apart");
        let encoding = ColumnEncoding {
            column: "x".to_string(),
            encoding: Encoding::Numeric { offset: 0.0, scale: 1.0, fill: None },
            missing: Vec::new(),
        };
        let mut out = Vec::new();
        assert!(encoding.encode(&Slots::of(&encoding), cell, &mut out).is_ok());
        assert_eq!(out, [typed]);
    }

    /// Fitting reads the values in place in the order a copy of them was summed: the same
    /// mean and scale to the bit, and the sign of a mean of negative zeros.
    #[test]
    fn fits_sum_as_a_copy_did() {
        let values = [0.1f32, 3.7, -2.25, 1e-3, 7.5, -0.0];
        let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
        let mean_then = sum / values.len() as f64;
        let var_then = values.iter().map(|&v| (f64::from(v) - mean_then).powi(2)).sum::<f64>() / values.len() as f64;
        let (offset, scale) = fit_numeric(values.iter().copied(), Normalize::Standard);
        assert_eq!(
            (offset.to_bits(), scale.to_bits()),
            ((mean_then as f32).to_bits(), (var_then.sqrt() as f32).to_bits())
        );
        assert_eq!(mean([-0.0f32, -0.0].into_iter()).map(f32::to_bits), Some((-0.0f32).to_bits()));
        assert_eq!(fit_numeric(std::iter::empty(), Normalize::Standard), (0.0, 1.0));
        assert_eq!(fit_numeric(std::iter::empty(), Normalize::MinMax), (0.0, 1.0));
        assert_eq!(fit_numeric([2.0f32, 5.0].into_iter(), Normalize::MinMax), (2.0, 3.0));
    }
}
