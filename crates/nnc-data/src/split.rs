//! Splitting rows into training, validation and test parts, and refusing a split whose
//! requested part would be empty.
//!
//! With `n` rows, validation gets `round(validation × n)` rows, test `round(test × n)`, and
//! training the rest, so rounding never takes a row from a small part to give it to a
//! large one. Tabular rows are shuffled with the split seed first and each part is put
//! back in file order; a time series is cut in time order (training first).

use crate::spec::Split;
use nnc_diagnostics::{Diagnostic, codes};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub(crate) const PART_NAMES: [&str; 3] = ["training", "validation", "test"];

/// How many of `n` items each part gets.
pub(crate) fn part_sizes(n: usize, split: &Split) -> [usize; 3] {
    let n_val = ((split.validation * n as f64).round() as usize).min(n);
    let n_test = ((split.test * n as f64).round() as usize).min(n - n_val);
    [n - n_val - n_test, n_val, n_test]
}

/// Row indices of each part: shuffled with `seed`, cut by [`part_sizes`], each part in
/// file order.
pub(crate) fn split_rows(n: usize, split: &Split, seed: u64) -> [Vec<usize>; 3] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5b1e));
    let [n_train, n_val, n_test] = part_sizes(n, split);
    // The shuffle draws by position, not by value, so shuffling 32-bit row numbers gives
    // the same order as `usize` ones in half the memory (a million rows: 4 MB, which
    // stays in cache; the shuffle's random swaps took 20 ms over 8 MB).
    let part_of = match u32::try_from(n) {
        Ok(n) => parts_of(&mut (0..n).collect::<Vec<u32>>(), &mut rng, n_train, n_val, |row| row as usize),
        Err(_) => parts_of(&mut (0..n).collect::<Vec<usize>>(), &mut rng, n_train, n_val, |row| row),
    };
    let mut parts = [Vec::with_capacity(n_train), Vec::with_capacity(n_val), Vec::with_capacity(n_test)];
    for (row, &part) in part_of.iter().enumerate() {
        parts[usize::from(part)].push(row);
    }
    parts
}

/// Each row's part (0, 1, 2) once `order` is shuffled and cut after `n_train` and
/// `n_train + n_val` rows: with the rows of each part then taken in file order, this is
/// linear, where sorting each part took most of splitting a million rows.
fn parts_of<T: Copy>(
    order: &mut [T],
    rng: &mut ChaCha8Rng,
    n_train: usize,
    n_val: usize,
    row: impl Fn(T) -> usize,
) -> Vec<u8> {
    order.shuffle(rng);
    let mut part_of = vec![0u8; order.len()];
    for &at in &order[n_train..n_train + n_val] {
        part_of[row(at)] = 1;
    }
    for &at in &order[n_train + n_val..] {
        part_of[row(at)] = 2;
    }
    part_of
}

fn fractions(split: &Split) -> [f64; 3] {
    [split.train, split.validation, split.test]
}

/// Every part the split asks for (a positive fraction) gets at least one row.
pub(crate) fn check_rows(split: &Split, n: usize) -> Result<(), Diagnostic> {
    let sizes = part_sizes(n, split);
    for part in 0..3 {
        let fraction = fractions(split)[part];
        if fraction > 0.0 && sizes[part] == 0 {
            let name = PART_NAMES[part];
            let label = if part == 0 {
                format!("{} validation and {} test rows leave none of {n} to train", sizes[1], sizes[2])
            } else {
                format!("{fraction} × {n} rows = {:.2} rows, which rounds to 0", fraction * n as f64)
            };
            return Err(Diagnostic::error(
                codes::EMPTY_SPLIT,
                format!("the {name} part of the split would have no rows"),
                split.span,
                label,
            )
            .with_note(format!("the data has {n} rows; each part needs at least 1"))
            .with_help(format!("give the {name} part at least {:.4} of the rows (1 of {n})", 1.0 / n as f64)));
        }
    }
    Ok(())
}

/// Every part a windowed series asks for holds more values than the window, so it has
/// at least one window.
pub(crate) fn check_windows(
    split: &Split,
    n: usize,
    window: usize,
    window_span: nnc_diagnostics::Span,
) -> Result<(), Diagnostic> {
    let sizes = part_sizes(n, split);
    for part in 0..3 {
        let fraction = fractions(split)[part];
        if fraction > 0.0 && sizes[part] <= window {
            let name = PART_NAMES[part];
            let largest = sizes[part].saturating_sub(1);
            let help = if largest >= 1 {
                format!("use a window of at most {largest}, or give the {name} part a larger fraction")
            } else {
                format!("give the {name} part a larger fraction")
            };
            return Err(Diagnostic::error(
                codes::EMPTY_SPLIT,
                format!("the {name} part of the series would have no windows"),
                split.span,
                format!("{} of {n} values go to {name}", sizes[part]),
            )
            .with_secondary(window_span, format!("a window of {window} needs {} values", window + 1))
            .with_note(format!(
                "each window takes {window} consecutive values and the one after them; the parts are cut in time \
                 order and no window crosses two parts"
            ))
            .with_help(help));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{part_sizes, split_rows};
    use crate::spec::Split;
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    use rand_chacha::ChaCha8Rng;

    /// The parts are those of cutting the shuffled rows and sorting each piece.
    #[test]
    fn parts_are_the_shuffled_pieces_in_file_order() {
        let split = Split { train: 0.7, validation: 0.2, test: 0.1, seed: None, span: Default::default() };
        for (n, seed) in [(0, 1), (1, 2), (10, 3), (1_001, 4), (200_000, 5)] {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed + 0x5b1e));
            let [n_train, n_val, _] = part_sizes(n, &split);
            let mut want = [
                order[..n_train].to_vec(),
                order[n_train..n_train + n_val].to_vec(),
                order[n_train + n_val..].to_vec(),
            ];
            want.iter_mut().for_each(|part| part.sort_unstable());
            assert_eq!(split_rows(n, &split, seed), want, "{n} rows");
        }
    }
}
