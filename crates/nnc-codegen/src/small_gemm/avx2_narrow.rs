//! The AVX2 + FMA kernel for a narrow product whose left operand is given transposed:
//! `Xᵀ·δ`, the weight gradient of a layer with a few outputs (10 classes, one regression
//! target). Along C's rows a 10-wide row fills 10 of the 16 lanes of two vectors; here
//! the vectors run down C's columns instead, which are A's contiguous columns, so every
//! lane works. Each block holds 16 rows × up to 6 columns of C over the whole reduction,
//! B's elements broadcast wherever its strides put them (a transposed B needs no copy),
//! then each 8 × 8 corner is transposed in registers and stored a row at a time through
//! the row kernel's finish (`avx2::finish_vector`).

use super::Operands;
use super::avx2::{finish_vector, lane_mask, load, store_first, transpose};
use std::arch::x86_64::*;

/// Columns in one block, at most: 2 × 6 accumulators, A's two vectors and B's broadcast
/// fill 15 of the 16 `ymm` registers.
const WIDTH: usize = 6;

/// Whether this kernel takes the product: A's columns contiguous, C at most 12 columns
/// wide and not a whole number of vectors (those fill their lanes on the row kernel), and
/// at least 16 rows.
pub(super) fn takes(o: &Operands) -> bool {
    o.a_rows == 1 && o.n <= 2 * WIDTH && o.n != 8 && o.m >= 16
}

/// The product in blocks of 16 rows (the last ragged) by column groups of nearly equal
/// width, at most [`WIDTH`]. With `F`, C gets the bias row and the ReLU, with `G` the mask
/// and the column sums, as it is stored.
///
/// # Safety
/// AVX2 and FMA must be present; the operands' pointers must cover their shapes and
/// strides, and A's row stride must be 1.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn product<const F: bool, const G: bool>(o: &Operands) {
    let groups = o.n.div_ceil(WIDTH);
    let mut j = 0;
    for group in 0..groups {
        let width = (o.n - j).div_ceil(groups - group);
        // SAFETY: forwarded from the caller; columns j..j + width lie in C.
        unsafe {
            match width {
                1 => rows::<1, F, G>(o, j),
                2 => rows::<2, F, G>(o, j),
                3 => rows::<3, F, G>(o, j),
                4 => rows::<4, F, G>(o, j),
                5 => rows::<5, F, G>(o, j),
                _ => rows::<6, F, G>(o, j),
            }
        }
        j += width;
    }
}

/// Columns `j..j + W` of every row, 16 rows at a time; the column sums are carried
/// through the blocks in row order.
///
/// # Safety
/// As [`product`]; columns `j..j + W` lie in C.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows<const W: usize, const F: bool, const G: bool>(o: &Operands, j: usize) {
    let mask = lane_mask(W);
    let summed = G && !o.sums.is_null();
    // SAFETY: the caller guarantees the operands; `mask` covers the block's W columns.
    unsafe {
        let mut sums = if summed { load(o.sums.add(j), W, mask) } else { _mm256_setzero_ps() };
        let mut i = 0;
        while i < o.m {
            let count = (o.m - i).min(16);
            let acc = if count == 16 { reduce::<W, false>(o, i, j, 16) } else { reduce::<W, true>(o, i, j, count) };
            for (half, columns) in acc.iter().enumerate() {
                let first = i + 8 * half;
                let stored = count.saturating_sub(8 * half).min(8);
                for (r, row) in transpose(columns).iter().take(stored).enumerate() {
                    finish_vector::<F, G>(o, *row, first + r, j, W, mask, &mut sums);
                }
            }
            i += count;
        }
        if summed {
            store_first(o.sums.add(j), W, sums);
        }
    }
}

/// Rows `i..i + count` (at most 16; with `RAGGED`, A's loads are masked to them), columns
/// `j..j + W` of A·B: `acc[h][c]` holds column `j + c` of rows `i + 8h..i + 8h + 8`.
///
/// # Safety
/// As [`rows`]; rows `i..i + count` lie in A and C.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn reduce<const W: usize, const RAGGED: bool>(
    o: &Operands,
    i: usize,
    j: usize,
    count: usize,
) -> [[__m256; W]; 2] {
    let row_masks = [lane_mask(count.min(8)), lane_mask(count.saturating_sub(8))];
    let mut acc = [[_mm256_setzero_ps(); W]; 2];
    // SAFETY: A's column p holds rows i..i + count contiguously (row stride 1); a ragged
    // block reads only its rows. B's elements (p, j..j + W) lie in B.
    unsafe {
        let a = o.a.add(i);
        let b = o.b.offset(j as isize * o.b_columns);
        for p in 0..o.k as isize {
            let column = a.offset(p * o.a_columns);
            let x: [__m256; 2] = std::array::from_fn(|h| {
                let at = column.add(8 * h);
                if RAGGED { _mm256_maskload_ps(at, row_masks[h]) } else { _mm256_loadu_ps(at) }
            });
            let row = b.offset(p * o.b_rows);
            let [low, high] = &mut acc;
            for (c, (low, high)) in low.iter_mut().zip(high.iter_mut()).enumerate() {
                let y = _mm256_broadcast_ss(&*row.offset(c as isize * o.b_columns));
                *low = _mm256_fmadd_ps(x[0], y, *low);
                *high = _mm256_fmadd_ps(x[1], y, *high);
            }
        }
    }
    acc
}
