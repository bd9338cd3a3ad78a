//! The AVX-512 kernel: blocks of 6–8 rows × up to four 16-lane vectors of C held in
//! registers over the whole reduction; ragged columns by masked loads and stores.

use super::Operands;
use std::arch::x86_64::*;

/// Column blocks of up to four vectors (64 columns), each over every row. With `F`, each block gets
/// the bias row and the ReLU, with `G` the mask and the column sums, as it is stored.
///
/// # Safety
/// AVX-512F must be present; `b` is B with unit column stride and row stride `b_rows`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn product<const F: bool, const G: bool>(o: &Operands, b: *const f32, b_rows: isize) {
    let mut j = 0;
    while j < o.n {
        let width = (o.n - j).min(64);
        // SAFETY: forwarded from the caller.
        unsafe {
            block::<F, G>(o, b.add(j), b_rows, j, width);
        }
        j += width;
    }
}

/// Every row of C's columns `j..j + width` (at most 64), whose B columns start at `b`.
///
/// # Safety
/// As [`product`]; columns `j..j + width` lie in C, and `width` columns from `b` in B.
#[target_feature(enable = "avx512f")]
unsafe fn block<const F: bool, const G: bool>(o: &Operands, b: *const f32, b_rows: isize, j: usize, width: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match width.div_ceil(16) {
            1 => rows::<8, 1, F, G>(o, b, b_rows, j, width),
            2 => rows::<8, 2, F, G>(o, b, b_rows, j, width),
            3 => rows::<6, 3, F, G>(o, b, b_rows, j, width),
            _ => rows::<6, 4, F, G>(o, b, b_rows, j, width),
        }
    }
}

/// Every row of one column block, `R` rows at a time; the last full block and the rows left
/// after it as one taller tile when it fits the registers ([`tallest`]), else as two of
/// nearly equal height. A tile of one or two rows has too few accumulators to hide the
/// FMA's latency: W5's first-convolution gradient (9 × 16 over 1,024 rows a thread) took
/// as long for its ninth row as for the other eight.
///
/// # Safety
/// As [`product`]; columns `j..j + width` lie in C.
#[target_feature(enable = "avx512f")]
unsafe fn rows<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    j: usize,
    width: usize,
) {
    let masks: [__mmask16; V] = std::array::from_fn(|v| lane_mask(width.saturating_sub(16 * v)));
    let full = if !o.m.is_multiple_of(R) && o.m > R { o.m / R - 1 } else { o.m / R };
    for block in 0..full {
        // SAFETY: rows block·R..(block + 1)·R lie in A and C.
        unsafe { tile::<R, V, F, G>(o, b, b_rows, block * R, j, &masks) };
    }
    let i = full * R;
    let left = o.m - i;
    let (first, second) = if left > tallest(V) { (left.div_ceil(2), left / 2) } else { (left, 0) };
    for (start, count) in [(i, first), (i + first, second)] {
        // SAFETY: rows start..start + count lie in A and C; count is at most tallest(V).
        unsafe { short_tile::<V, F, G>(o, b, b_rows, start, count, j, &masks) };
    }
}

/// The most rows a tile of `vectors` vectors keeps in the 32 `zmm` registers, beside B's
/// vectors and A's broadcast.
const fn tallest(vectors: usize) -> usize {
    match vectors {
        1 => 16,
        2 => 12,
        3 => 8,
        _ => 6,
    }
}

/// Rows `i..i + count` of one column block (`count` at most [`tallest`]`(V)`), as one tile.
///
/// # Safety
/// As [`tile`].
#[target_feature(enable = "avx512f")]
unsafe fn short_tile<const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    count: usize,
    j: usize,
    masks: &[__mmask16; V],
) {
    debug_assert!(count <= tallest(V));
    // SAFETY: forwarded from the caller.
    unsafe {
        match count {
            0 => {}
            1 => tile::<1, V, F, G>(o, b, b_rows, i, j, masks),
            2 => tile::<2, V, F, G>(o, b, b_rows, i, j, masks),
            3 => tile::<3, V, F, G>(o, b, b_rows, i, j, masks),
            4 => tile::<4, V, F, G>(o, b, b_rows, i, j, masks),
            5 => tile::<5, V, F, G>(o, b, b_rows, i, j, masks),
            6 => tile::<6, V, F, G>(o, b, b_rows, i, j, masks),
            7 if V <= 3 => tile::<7, V, F, G>(o, b, b_rows, i, j, masks),
            8 if V <= 3 => tile::<8, V, F, G>(o, b, b_rows, i, j, masks),
            9 if V <= 2 => tile::<9, V, F, G>(o, b, b_rows, i, j, masks),
            10 if V <= 2 => tile::<10, V, F, G>(o, b, b_rows, i, j, masks),
            11 if V <= 2 => tile::<11, V, F, G>(o, b, b_rows, i, j, masks),
            12 if V <= 2 => tile::<12, V, F, G>(o, b, b_rows, i, j, masks),
            13 if V == 1 => tile::<13, V, F, G>(o, b, b_rows, i, j, masks),
            14 if V == 1 => tile::<14, V, F, G>(o, b, b_rows, i, j, masks),
            15 if V == 1 => tile::<15, V, F, G>(o, b, b_rows, i, j, masks),
            16 if V == 1 => tile::<16, V, F, G>(o, b, b_rows, i, j, masks),
            _ => unreachable!("internal error: a tile of {count} rows of {V} vectors"),
        }
    }
}

/// The first `lanes` lanes of a vector (all 16 when `lanes` ≥ 16).
fn lane_mask(lanes: usize) -> __mmask16 {
    if lanes >= 16 { 0xffff } else { ((1u32 << lanes) - 1) as __mmask16 }
}

/// Rows `i..i + R`, columns `j..` of C under `masks` (B's columns from `b`): the whole
/// reduction in registers.
///
/// # Safety
/// As [`rows`]. Masked-off lanes are neither read nor written (AVX-512 masked accesses do
/// not touch them), so a ragged last vector stays inside the buffers.
#[target_feature(enable = "avx512f")]
unsafe fn tile<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    j: usize,
    masks: &[__mmask16; V],
) {
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    // SAFETY: every address below is an element of A, B or C inside the caller's block.
    unsafe {
        let a = o.a.offset(i as isize * o.a_rows);
        for p in 0..o.k {
            let row = b.offset(p as isize * b_rows);
            let bv: [__m512; V] = std::array::from_fn(|v| _mm512_maskz_loadu_ps(masks[v], row.add(16 * v)));
            let column = a.offset(p as isize * o.a_columns);
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*column.offset(r as isize * o.a_rows));
                for v in 0..V {
                    acc[v] = _mm512_fmadd_ps(x, bv[v], acc[v]);
                }
            }
        }
        let (alpha, beta) = (_mm512_set1_ps(o.alpha), _mm512_set1_ps(o.beta));
        // The block's column sums, added to row by row in order.
        let summed = G && !o.sums.is_null();
        let mut sums = [_mm512_setzero_ps(); V];
        if summed {
            for v in 0..V {
                sums[v] = _mm512_maskz_loadu_ps(masks[v], o.sums.add(j + 16 * v));
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let c = o.c.add((i + r) * o.ldc + j);
            for v in 0..V {
                let mut out = _mm512_mul_ps(acc[v], beta);
                if o.read {
                    out = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(masks[v], c.add(16 * v)), alpha, out);
                }
                if F && !o.bias.is_null() {
                    out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(masks[v], o.bias.add(j + 16 * v)));
                }
                if F && o.relu {
                    // `out > 0 ? out : 0`, as the interpreter's max (a NaN gives 0).
                    out = _mm512_max_ps(out, _mm512_setzero_ps());
                }
                if G && !o.mask.is_null() {
                    // `out · (m > 0)`, as the interpreter's `mul` of a `cmp_gt` (NaN > 0 is false).
                    let m = _mm512_maskz_loadu_ps(masks[v], o.mask.add((i + r) * o.ldc + j + 16 * v));
                    let keep = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(m, _mm512_setzero_ps());
                    out = _mm512_mul_ps(out, _mm512_maskz_mov_ps(keep, _mm512_set1_ps(1.0)));
                }
                if summed {
                    sums[v] = _mm512_add_ps(sums[v], out);
                }
                _mm512_mask_storeu_ps(c.add(16 * v), masks[v], out);
            }
        }
        if summed {
            for v in 0..V {
                _mm512_mask_storeu_ps(o.sums.add(j + 16 * v), masks[v], sums[v]);
            }
        }
    }
}

/// [`product`] for B given transposed (unit row stride, a weight matrix `W` read as
/// `Wᵀ` in an input gradient `δ·Wᵀ`), at any size: each block of 64 columns of B is
/// first copied row-major into `panel` (k rows of at most 64, contiguous, through the
/// 8 × 8 register transposes), and the row tiles then read it in order, the block's
/// finish applied in registers as in [`product`].
///
/// # Safety
/// As [`product`]; `o.b` is B given transposed: column j of B is the row of `k` elements
/// at `o.b + j·b_columns`; `panel` holds at least k · 64 elements.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn on_panels<const F: bool, const G: bool>(o: &Operands, panel: &mut [f32]) {
    debug_assert!(panel.len() >= o.k * 64);
    let mut j = 0;
    while j < o.n {
        let width = (o.n - j).min(64);
        // SAFETY: columns j..j + width of B lie in the caller's matrix, and the panel holds
        // k rows of width; AVX-512 implies AVX2.
        unsafe {
            super::avx2::copy_transposed(o.b.offset(j as isize * o.b_columns), o.b_columns, (width, o.k), panel);
            block::<F, G>(o, panel.as_ptr(), width as isize, j, width);
        }
        j += width;
    }
}
