//! What each hidden unit did over every row of a split: on how many rows its output was
//! above 0, and on how many it sat at its activation's limits. A report keeps the
//! activations of a sample of rows only (`sampled_rows`); these counts are taken from
//! every row while the evaluation runs, so a diagnosis that calls a unit dead has seen
//! every row, and a unit that wakes on row 70,000 is not called dead.

use nnc_check::{Activation, Layer};
use nnc_data::Rows;

/// Outputs at or beyond which a sigmoid or tanh unit's gradient is nearly 0 (its slope
/// there is below 0.01 of its largest).
pub fn saturation_band(activation: Activation) -> Option<(f32, f32)> {
    match activation {
        Activation::Sigmoid => Some((0.01, 0.99)),
        Activation::Tanh => Some((-0.99, 0.99)),
        _ => None,
    }
}

/// Whether a diagnosis reads a layer's counts: ReLU units die, sigmoid and tanh units
/// saturate; other activations have neither.
fn counted(activation: Activation) -> bool {
    matches!(activation, Activation::Relu) || saturation_band(activation).is_some()
}

/// One hidden layer's counts, per output column (a convolution's columns are its
/// positions × filters, filters last).
#[derive(Clone, Debug, Default)]
pub struct UnitCounts {
    /// Rows counted.
    pub rows: usize,
    /// Whether the column's output was above 0 on some row, or not a number (a NaN unit
    /// is broken, not dead).
    pub alive: Vec<bool>,
    /// Rows on which it was in its activation's [`saturation_band`]; all 0 for the others.
    pub pinned: Vec<u64>,
    /// Every column is alive: later rows need not be looked at for it.
    all_alive: bool,
}

/// Rows looked at between checks of whether every column is alive yet.
const ALIVE_BLOCK_ROWS: usize = 256;

impl UnitCounts {
    fn new(width: usize) -> UnitCounts {
        UnitCounts { rows: 0, alive: vec![false; width], pinned: vec![0; width], all_alive: width == 0 }
    }

    /// The counts of `rows` (a sample, for a live view).
    pub fn of_rows(rows: &Rows, activation: Activation) -> UnitCounts {
        let mut counts = UnitCounts::new(if rows.is_empty() { 0 } else { rows.width });
        counts.add(&rows.values, activation);
        counts
    }

    /// Adds rows of outputs, row-major at this layer's width.
    fn add(&mut self, values: &[f32], activation: Activation) {
        let width = self.alive.len();
        if width == 0 {
            return;
        }
        self.rows += values.len() / width;
        // A healthy layer has every unit alive within its first rows; looking no further
        // makes the count free for it (a million rows of 32 units took 18 ms to count).
        for block in values.chunks(ALIVE_BLOCK_ROWS * width) {
            if self.all_alive {
                break;
            }
            for row in block.chunks_exact(width) {
                for (alive, &v) in self.alive.iter_mut().zip(row) {
                    *alive |= v > 0.0 || v.is_nan();
                }
            }
            self.all_alive = self.alive.iter().all(|&alive| alive);
        }
        if let Some((low, high)) = saturation_band(activation) {
            // Counted in 32 bits, four lanes to an SSE2 compare, in blocks that keep them exact:
            // counting straight into u64 cost a million rows of 32 sigmoid units 6 ms more
            // (242 against 236 ms of evaluation, medians of 9 interleaved runs, Zen 1).
            let mut block = vec![0u32; width];
            for values in values.chunks((u32::MAX as usize).saturating_mul(width)) {
                block.fill(0);
                for row in values.chunks_exact(width) {
                    for (count, &v) in block.iter_mut().zip(row) {
                        *count += u32::from(v <= low || v >= high);
                    }
                }
                for (total, &n) in self.pinned.iter_mut().zip(&block) {
                    *total += u64::from(n);
                }
            }
        }
    }
}

/// Counts for each hidden layer a diagnosis reads, fed an evaluation's chunks as they
/// come ([`nnc_runtime::evaluate_observed`]).
pub struct UnitTally<'a> {
    layers: Vec<(&'a Layer, UnitCounts)>,
}

impl<'a> UnitTally<'a> {
    pub fn new(layers: &'a [Layer]) -> UnitTally<'a> {
        let counted = layers.iter().filter(|layer| counted(layer.activation));
        UnitTally { layers: counted.map(|layer| (layer, UnitCounts::new(layer.output.size()))).collect() }
    }

    /// Adds a chunk of the output named `name` (row-major); other outputs are ignored.
    pub fn observe(&mut self, name: &str, values: &[f32]) {
        if let Some((layer, counts)) = self.layers.iter_mut().find(|(layer, _)| layer.name == name) {
            debug_assert_eq!(values.len() % counts.alive.len().max(1), 0, "{name}: a chunk of whole rows");
            counts.add(values, layer.activation);
        }
    }

    /// Each counted layer's counts, by name, for the layers the evaluation produced.
    pub fn finish(self) -> Vec<(String, UnitCounts)> {
        self.layers.into_iter().filter(|(_, c)| c.rows > 0).map(|(layer, c)| (layer.name.clone(), c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_alive_above_zero_and_pinned_in_its_band() {
        let rows = Rows::new(vec![0.0, 0.995, -1.0, 0.5, 2.0, 0.005, f32::NAN, -0.3], 2);
        let relu = UnitCounts::of_rows(&rows, Activation::Relu);
        assert_eq!((relu.rows, relu.alive, relu.pinned), (4, vec![true, true], vec![0, 0]));
        let dead = UnitCounts::of_rows(&Rows::new(vec![0.0, 1.0, -2.0, 0.0], 2), Activation::Relu);
        assert_eq!(dead.alive, vec![false, true]);
        let sigmoid = UnitCounts::of_rows(&rows, Activation::Sigmoid);
        // column 0: 0.0, -1.0 and 2.0 (NaN is in neither end); column 1: 0.995, 0.005, -0.3.
        assert_eq!(sigmoid.pinned, vec![3, 3]);
        let tanh = UnitCounts::of_rows(&rows, Activation::Tanh);
        assert_eq!(tanh.pinned, vec![2, 1]);
    }

    #[test]
    fn no_rows_count_nothing() {
        let counts = UnitCounts::of_rows(&Rows::default(), Activation::Relu);
        assert_eq!((counts.rows, counts.alive.len(), counts.pinned.len()), (0, 0, 0));
    }
}
