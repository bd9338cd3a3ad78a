//! The AVX2 + FMA kernel for the last few columns of a product whose width is not a whole
//! number of vectors: `h·W` for an output layer of 10 classes is 8 columns on the row
//! kernel and 2 here. Along C's rows those 2 columns take a vector of 8 lanes for every
//! row and every step of the reduction; here the vectors run along the reduction instead,
//! A's rows against B's columns (copied so by the caller), and each element's 8 partial
//! sums are added across lanes once at the end. Each block holds R rows × W columns of C
//! (R · W ≤ 9); a row's W sums are then one vector of W lanes, stored through the row
//! kernel's finish (`avx2::finish_vector`).

use super::Operands;
use super::avx2::{finish_vector, lane_mask, load, store_first};
use std::arch::x86_64::*;

/// Columns this kernel takes, at most.
pub(super) const WIDTH: usize = 3;

/// The product's columns, `bt` holding B's columns as rows of `k`, `bt_rows` apart. With
/// `F`, C gets the bias row and the ReLU, with `G` the mask and the column sums, as it is
/// stored.
///
/// # Safety
/// AVX2 and FMA must be present; the operands' pointers must cover their shapes and
/// strides, A's column stride must be 1, `n` at most [`WIDTH`], and `bt` must hold `n`
/// rows of `k`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn product<const F: bool, const G: bool>(o: &Operands, bt: *const f32, bt_rows: isize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match o.n {
            1 => rows::<8, 1, F, G>(o, bt, bt_rows),
            2 => rows::<4, 2, F, G>(o, bt, bt_rows),
            _ => rows::<3, 3, F, G>(o, bt, bt_rows),
        }
    }
}

/// Every row, `R` at a time; the column sums are carried through the blocks in row order.
///
/// # Safety
/// As [`product`]; `W` is the product's `n`.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows<const R: usize, const W: usize, const F: bool, const G: bool>(
    o: &Operands,
    bt: *const f32,
    bt_rows: isize,
) {
    let mask = lane_mask(W);
    let summed = G && !o.sums.is_null();
    // SAFETY: the caller guarantees the operands; `mask` covers the W columns.
    unsafe {
        let mut sums = if summed { load(o.sums, W, mask) } else { _mm256_setzero_ps() };
        let mut i = 0;
        while i < o.m {
            let count = (o.m - i).min(R);
            let acc = reduce::<R, W>(o, bt, bt_rows, i, count);
            for (r, partial) in acc.iter().take(count).enumerate() {
                finish_vector::<F, G>(o, add_lanes(partial), i + r, 0, W, mask, &mut sums);
            }
            i += count;
        }
        if summed {
            store_first(o.sums, W, sums);
        }
    }
}

/// The partial sums of rows `i..i + R` of A against the W rows of `bt`: `acc[r][c]`'s
/// lanes add up to C's element (i + r, c). A block of fewer than R rows (`count`) reads
/// its last row in place of the missing ones, whose sums are not stored.
///
/// # Safety
/// As [`rows`]; rows `i..i + count` lie in A.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn reduce<const R: usize, const W: usize>(
    o: &Operands,
    bt: *const f32,
    bt_rows: isize,
    i: usize,
    count: usize,
) -> [[__m256; W]; R] {
    let mut acc = [[_mm256_setzero_ps(); W]; R];
    // SAFETY: each row pointer is a row of A in the block; the reduction reads `k`
    // elements from each row of A and of `bt`, the last ragged vector under a mask.
    unsafe {
        let a: [*const f32; R] = std::array::from_fn(|r| o.a.offset((i + r.min(count - 1)) as isize * o.a_rows));
        let b: [*const f32; W] = std::array::from_fn(|c| bt.offset(c as isize * bt_rows));
        let whole = o.k / 8 * 8;
        let step = |acc: &mut [[__m256; W]; R], x: [__m256; R], y: [__m256; W]| {
            for (acc, x) in acc.iter_mut().zip(x) {
                for (acc, y) in acc.iter_mut().zip(y) {
                    *acc = _mm256_fmadd_ps(x, y, *acc);
                }
            }
        };
        for p in (0..whole).step_by(8) {
            step(&mut acc, a.map(|a| _mm256_loadu_ps(a.add(p))), b.map(|b| _mm256_loadu_ps(b.add(p))));
        }
        if whole < o.k {
            // Masked-off lanes load as 0 in both operands, so they add 0.
            let tail = lane_mask(o.k - whole);
            let x = a.map(|a| _mm256_maskload_ps(a.add(whole), tail));
            step(&mut acc, x, b.map(|b| _mm256_maskload_ps(b.add(whole), tail)));
        }
    }
    acc
}

/// One vector whose lane `c` is the sum of the lanes of `partial[c]` (lanes past W are 0).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn add_lanes<const W: usize>(partial: &[__m256; W]) -> __m256 {
    let v: [__m256; 4] = std::array::from_fn(|c| if c < W { partial[c] } else { _mm256_setzero_ps() });
    // After two rounds of pairwise sums each 128-bit half holds the four vectors' sums
    // over that half; adding the halves gives lanes 0–3 (4–7 are 0).
    let quads = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    let total = _mm_add_ps(_mm256_castps256_ps128(quads), _mm256_extractf128_ps::<1>(quads));
    _mm256_zextps128_ps256(total)
}
