//! The AVX2 + FMA kernel (Haswell and later, Zen 1 and later): the AVX-512 kernel's plan
//! on 8-lane vectors and 16 registers. Blocks of 8 rows × 1 vector, 6 × 2 or 4 × 3 keep
//! the accumulators, B's vectors and A's broadcast within the 16 `ymm` registers. A ragged
//! last vector is read with `vmaskmovps` and written back in plain stores of 4, 2 and 1
//! lanes ([`store_first`]); full vectors use plain loads and stores, because masked stores
//! are slow on AMD's cores before Zen 4.

use super::Operands;
use std::arch::x86_64::*;

/// Column blocks of up to three vectors (24 columns), each over every row. With `F`, each block gets
/// the bias row and the ReLU, with `G` the mask and the column sums, as it is stored.
///
/// # Safety
/// AVX2 and FMA must be present; `b` is B with unit column stride and row stride `b_rows`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn product<const F: bool, const G: bool>(o: &Operands, b: *const f32, b_rows: isize) {
    let mut j = 0;
    while j < o.n {
        let width = block_width(o.n - j);
        // SAFETY: forwarded from the caller; column j lies in B.
        unsafe { block::<F, G>(o, b.add(j), b_rows, j, width) };
        j += width;
    }
}

/// The next column block's width with `left` columns to go: 17–24 columns as one 4 × 3
/// block, wider as blocks of 16 (6 × 2). At most 24: `on_panels`' panel holds that many.
fn block_width(left: usize) -> usize {
    if left <= 24 { left } else { 16 }
}

/// Every row of C's columns `j..j + width` (at most 24), whose B columns start at `b`.
///
/// # Safety
/// As [`product`]; columns `j..j + width` lie in C, and `width` columns from `b` in B.
#[target_feature(enable = "avx2,fma")]
unsafe fn block<const F: bool, const G: bool>(o: &Operands, b: *const f32, b_rows: isize, j: usize, width: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match width.div_ceil(8) {
            1 => rows::<8, 1, F, G>(o, b, b_rows, j, width),
            2 => rows::<6, 2, F, G>(o, b, b_rows, j, width),
            _ => rows::<4, 3, F, G>(o, b, b_rows, j, width),
        }
    }
}

/// [`product`] for B given transposed (unit row stride, `Wᵀ` in an input gradient
/// `δ·Wᵀ`), at any size: each column block (16 columns, or the last 17–24 as one) is first
/// copied row-major into `panel` through the 8 × 8 register transposes, and its row tiles
/// then read it in order, with the finish in registers.
///
/// # Safety
/// As [`product`]; `o.b` is B given transposed: column j of B is the row of `k` elements
/// at `o.b + j·b_columns`; `panel` holds at least k · 24 elements; AVX2 and FMA must be
/// present.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn on_panels<const F: bool, const G: bool>(o: &Operands, panel: &mut [f32]) {
    debug_assert!(panel.len() >= o.k * 24);
    let mut j = 0;
    while j < o.n {
        let width = block_width(o.n - j);
        // SAFETY: columns j..j + width of B lie in the caller's matrix, and the panel holds
        // k rows of width.
        unsafe {
            copy_transposed(o.b.offset(j as isize * o.b_columns), o.b_columns, (width, o.k), panel);
            block::<F, G>(o, panel.as_ptr(), width as isize, j, width);
        }
        j += width;
    }
}

/// Every row of one column block, `R` rows at a time, the last of them with the ragged rest
/// as two lower blocks.
///
/// # Safety
/// As [`product`]; columns `j..j + width` lie in C.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    j: usize,
    width: usize,
) {
    let lanes: [usize; V] = std::array::from_fn(|v| width.saturating_sub(8 * v).min(8));
    let masks: [__m256i; V] = std::array::from_fn(|v| lane_mask(lanes[v]));
    // The last full block and a ragged rest are run as two blocks of nearly equal height:
    // a block of one or two rows has too few accumulators to hide the FMA's latency
    // (6 + 6 + 6 + 6 + 4 + 4 rows instead of 6 + 6 + 6 + 6 + 6 + 2 for 32).
    let rest = o.m % R;
    let full = if rest > 0 && o.m > R { o.m / R - 1 } else { o.m / R };
    for block in 0..full {
        // SAFETY: rows block·R..(block + 1)·R lie in A and C.
        unsafe { tile::<R, V, F, G>(o, b, b_rows, block * R, j, &lanes, &masks) };
    }
    let i = full * R;
    let left = o.m - i;
    let (first, second) = if left > R { (left.div_ceil(2), left / 2) } else { (left, 0) };
    for (start, count) in [(i, first), (i + first, second)] {
        // SAFETY: rows start..start + count lie in A and C; count is at most R (at most 8).
        unsafe { short_tile::<V, F, G>(o, b, b_rows, start, count, j, &lanes, &masks) };
    }
}

/// Rows `i..i + count` of one column block (`count` ≤ 8), as a block of that height.
///
/// # Safety
/// As [`tile`].
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn short_tile<const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    count: usize,
    j: usize,
    lanes: &[usize; V],
    masks: &[__m256i; V],
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match count {
            0 => {}
            1 => tile::<1, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            2 => tile::<2, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            3 => tile::<3, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            4 => tile::<4, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            5 => tile::<5, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            6 => tile::<6, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            7 => tile::<7, V, F, G>(o, b, b_rows, i, j, lanes, masks),
            _ => tile::<8, V, F, G>(o, b, b_rows, i, j, lanes, masks),
        }
    }
}

/// The first `lanes` lanes set (all-ones 32-bit lanes), for `vmaskmovps`.
#[target_feature(enable = "avx2,fma")]
pub(super) fn lane_mask(lanes: usize) -> __m256i {
    let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes as i32), index)
}

/// One vector of a row of B (or C): a plain load when all 8 lanes are in the block.
///
/// # Safety
/// The first `lanes` elements from `at` must be readable.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn load(at: *const f32, lanes: usize, mask: __m256i) -> __m256 {
    // SAFETY: a plain load reads 8 elements only when 8 are in the block; a masked one
    // touches only the lanes its mask sets.
    unsafe { if lanes == 8 { _mm256_loadu_ps(at) } else { _mm256_maskload_ps(at, mask) } }
}

/// Stores the first `lanes` lanes of `value` (at most 8) at `at`, in plain stores of 4, 2
/// and 1 lanes. `vmaskmovps` stores would take one instruction, but AMD's cores before
/// Zen 4 run each as tens of micro-ops: on a Zen 1, W2's 10-wide weight gradient spent
/// over half its time in the masked stores of its 5-wide rows.
///
/// # Safety
/// The first `lanes` elements from `at` must be writable.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn store_first(at: *mut f32, lanes: usize, value: __m256) {
    // SAFETY: each store writes only elements below `lanes`.
    unsafe {
        if lanes >= 8 {
            _mm256_storeu_ps(at, value);
            return;
        }
        let (mut at, mut left, mut part) = (at, lanes, _mm256_castps256_ps128(value));
        if left >= 4 {
            _mm_storeu_ps(at, part);
            (at, left, part) = (at.add(4), left - 4, _mm256_extractf128_ps::<1>(value));
        }
        if left >= 2 {
            _mm_storel_epi64(at.cast(), _mm_castps_si128(part));
            (at, left, part) = (at.add(2), left - 2, _mm_movehl_ps(part, part));
        }
        if left == 1 {
            _mm_store_ss(at, part);
        }
    }
}

/// The accumulators of rows `i..i + R`, columns `j..j + 8·V` of A·B; with `RAGGED`, the
/// last vector's lanes are read under `last`.
///
/// # Safety
/// As [`tile`].
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn reduce<const R: usize, const V: usize, const RAGGED: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    last: __m256i,
) -> [[__m256; V]; R] {
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    // SAFETY: as in `tile`; a ragged last vector is read only in its lanes.
    unsafe {
        let a = o.a.offset(i as isize * o.a_rows);
        for p in 0..o.k {
            let row = b.offset(p as isize * b_rows);
            let bv: [__m256; V] = std::array::from_fn(|v| {
                let at = row.add(8 * v);
                if RAGGED && v == V - 1 { _mm256_maskload_ps(at, last) } else { _mm256_loadu_ps(at) }
            });
            let column = a.offset(p as isize * o.a_columns);
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm256_broadcast_ss(&*column.offset(r as isize * o.a_rows));
                for v in 0..V {
                    acc[v] = _mm256_fmadd_ps(x, bv[v], acc[v]);
                }
            }
        }
    }
    acc
}

/// Stores `acc`, one vector of A·B (row `i`, columns `j..j + lanes`), into C as
/// `alpha·C + beta·acc`, with the bias and ReLU when `F` and the mask when `G`, and adds
/// it to `sums` when `G` and the product has sums.
///
/// # Safety
/// The `lanes` elements from (i, j) must lie in C (and the bias row and the mask, when
/// given); `mask` sets the first `lanes` lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn finish_vector<const F: bool, const G: bool>(
    o: &Operands,
    acc: __m256,
    i: usize,
    j: usize,
    lanes: usize,
    mask: __m256i,
    sums: &mut __m256,
) {
    // SAFETY: as the caller guarantees; masked-off lanes are neither read nor written.
    unsafe {
        let at = o.c.add(i * o.ldc + j);
        let mut out = _mm256_mul_ps(acc, _mm256_set1_ps(o.beta));
        if o.read {
            out = _mm256_fmadd_ps(load(at, lanes, mask), _mm256_set1_ps(o.alpha), out);
        }
        let bias = (F && !o.bias.is_null()).then(|| load(o.bias.add(j), lanes, mask));
        let keep = (G && !o.mask.is_null()).then(|| load(o.mask.add(i * o.ldc + j), lanes, mask));
        out = finished(out, bias, F && o.relu, keep);
        if G && !o.sums.is_null() {
            *sums = _mm256_add_ps(*sums, out);
        }
        store_first(at, lanes, out);
    }
}

/// `out` with the bias added, then the ReLU applied, then multiplied by `mask > 0`, each
/// when given: the finish of one vector, as the interpreter computes it.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn finished(mut out: __m256, bias: Option<__m256>, relu: bool, mask: Option<__m256>) -> __m256 {
    if let Some(bias) = bias {
        out = _mm256_add_ps(out, bias);
    }
    if relu {
        // `out > 0 ? out : 0`, as the interpreter's max (a NaN gives 0).
        out = _mm256_max_ps(out, _mm256_setzero_ps());
    }
    if let Some(mask) = mask {
        // `out · (m > 0)`, as the interpreter's `mul` of a `cmp_gt` (NaN > 0 is false).
        let keep = _mm256_cmp_ps::<_CMP_GT_OQ>(mask, _mm256_setzero_ps());
        out = _mm256_mul_ps(out, _mm256_and_ps(keep, _mm256_set1_ps(1.0)));
    }
    out
}

/// Rows `i..i + R`, columns `j..` of C: the whole reduction in registers.
///
/// # Safety
/// As [`rows`]. Masked-off lanes are neither read nor written.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    j: usize,
    lanes: &[usize; V],
    masks: &[__m256i; V],
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if lanes[V - 1] == 8 && !o.read && o.beta == 1.0 {
            whole_tile::<R, V, F, G>(o, b, b_rows, i, j, masks);
        } else {
            any_tile::<R, V, F, G>(o, b, b_rows, i, j, lanes, masks);
        }
    }
}

/// [`tile`] of whole vectors stored as they are (C not read, β = 1), as most products
/// are: the same [`finished`] on the same values as [`finish_vector`], without the lane
/// and read checks and the multiplication by β, in one function with the reduction, so
/// that the accumulators go from the reduction to C in registers. On short reductions
/// the finish is a large part of a tile: W2's input gradient `δ2·W2ᵀ` (k = 10) ran 36
/// instructions a stored vector under callgrind through [`finish_vector`]; with this
/// finish in a function of its own, or deciding between the two finishes after the
/// reduction, LLVM kept the accumulators on the stack (k = 10 products 6–12 % slower),
/// and with that decision inside [`any_tile`] it slowed the other tiles (W2's weight
/// gradient with its update, 13.9 → 14.8 µs).
///
/// # Safety
/// As [`tile`], with every lane of the tile's vectors inside C.
#[target_feature(enable = "avx2,fma")]
unsafe fn whole_tile<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    j: usize,
    masks: &[__m256i; V],
) {
    let (bias, relu) = (F && !o.bias.is_null(), F && o.relu);
    let (mask, summed) = (G && !o.mask.is_null(), G && !o.sums.is_null());
    // SAFETY: rows i..i + R, columns j..j + 8·V lie in C, and in the bias row, the mask
    // and the sums when they are given, as the caller guarantees.
    unsafe {
        // The block's column sums, added to row by row in order.
        let mut sums: [__m256; V] =
            std::array::from_fn(|v| if summed { _mm256_loadu_ps(o.sums.add(j + 8 * v)) } else { _mm256_setzero_ps() });
        let acc = reduce::<R, V, false>(o, b, b_rows, i, masks[V - 1]);
        let biases: [__m256; V] =
            std::array::from_fn(|v| if bias { _mm256_loadu_ps(o.bias.add(j + 8 * v)) } else { _mm256_setzero_ps() });
        for (r, acc) in acc.iter().enumerate() {
            let at = (i + r) * o.ldc + j;
            for v in 0..V {
                let keep = mask.then(|| _mm256_loadu_ps(o.mask.add(at + 8 * v)));
                let out = finished(acc[v], bias.then_some(biases[v]), relu, keep);
                if summed {
                    sums[v] = _mm256_add_ps(sums[v], out);
                }
                _mm256_storeu_ps(o.c.add(at + 8 * v), out);
            }
        }
        if summed {
            for (v, sum) in sums.iter().enumerate() {
                _mm256_storeu_ps(o.sums.add(j + 8 * v), *sum);
            }
        }
    }
}

/// [`tile`] for any tile: C read, scaled, or a ragged last vector.
///
/// # Safety
/// As [`tile`].
#[target_feature(enable = "avx2,fma")]
unsafe fn any_tile<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    j: usize,
    lanes: &[usize; V],
    masks: &[__m256i; V],
) {
    // SAFETY: every address below is an element of A, B or C inside the caller's block.
    unsafe {
        // Only the last vector can be ragged: deciding that once, outside the reduction,
        // keeps a compare and branch per load out of its loop (LLVM did not hoist it).
        let acc = if lanes[V - 1] == 8 {
            reduce::<R, V, false>(o, b, b_rows, i, masks[V - 1])
        } else {
            reduce::<R, V, true>(o, b, b_rows, i, masks[V - 1])
        };
        // The block's column sums, added to row by row in order.
        let summed = G && !o.sums.is_null();
        let mut sums = [_mm256_setzero_ps(); V];
        if summed {
            for v in 0..V {
                sums[v] = load(o.sums.add(j + 8 * v), lanes[v], masks[v]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for v in 0..V {
                finish_vector::<F, G>(o, acc[v], i + r, j + 8 * v, lanes[v], masks[v], &mut sums[v]);
            }
        }
        if summed {
            for v in 0..V {
                store_first(o.sums.add(j + 8 * v), lanes[v], sums[v]);
            }
        }
    }
}

/// The 8 rows of the 8 × W corner whose columns are `columns` (the lanes past W are 0);
/// equally, the 8 columns of the W × 8 corner whose rows are `columns`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn transpose<const W: usize>(columns: &[__m256; W]) -> [__m256; 8] {
    let c: [__m256; 8] = std::array::from_fn(|x| if x < W { columns[x] } else { _mm256_setzero_ps() });
    // Pairs of columns interleaved, then pairs of pairs, then the two halves of each row.
    let pairs = [
        _mm256_unpacklo_ps(c[0], c[1]),
        _mm256_unpackhi_ps(c[0], c[1]),
        _mm256_unpacklo_ps(c[2], c[3]),
        _mm256_unpackhi_ps(c[2], c[3]),
        _mm256_unpacklo_ps(c[4], c[5]),
        _mm256_unpackhi_ps(c[4], c[5]),
        _mm256_unpacklo_ps(c[6], c[7]),
        _mm256_unpackhi_ps(c[6], c[7]),
    ];
    let quads = [
        _mm256_shuffle_ps::<0x44>(pairs[0], pairs[2]),
        _mm256_shuffle_ps::<0xEE>(pairs[0], pairs[2]),
        _mm256_shuffle_ps::<0x44>(pairs[1], pairs[3]),
        _mm256_shuffle_ps::<0xEE>(pairs[1], pairs[3]),
        _mm256_shuffle_ps::<0x44>(pairs[4], pairs[6]),
        _mm256_shuffle_ps::<0xEE>(pairs[4], pairs[6]),
        _mm256_shuffle_ps::<0x44>(pairs[5], pairs[7]),
        _mm256_shuffle_ps::<0xEE>(pairs[5], pairs[7]),
    ];
    std::array::from_fn(|r| {
        let (low, high) = (quads[r % 4], quads[4 + r % 4]);
        if r < 4 { _mm256_permute2f128_ps::<0x20>(low, high) } else { _mm256_permute2f128_ps::<0x31>(low, high) }
    })
}

/// Source columns past the last 8 (a reduction of 10: two) that [`copy_transposed`]
/// copies an element at a time: transposing 8 × 8 corners for one or two of their rows
/// took a third of the copy of W2's 128 × 10 `W2ᵀ` (0.8 µs, a fifth of its input
/// gradient).
const NARROW_CORNER: usize = 2;

/// Rows `p..k` of the transpose of the `n` × `k` matrix at `s` (row stride `s_rows`),
/// into `out` as [`copy_transposed`] writes them, an element at a time.
///
/// # Safety
/// As [`copy_transposed`], and `p <= k`.
unsafe fn copy_columns(s: *const f32, s_rows: isize, (n, k): (usize, usize), p: usize, out: &mut [f32]) {
    for (c, row) in out[p * n..k * n].chunks_exact_mut(n).enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            // SAFETY: element (j, p + c) of the source, which the caller guarantees.
            *x = unsafe { *s.offset(j as isize * s_rows).add(p + c) };
        }
    }
}

/// Writes the transpose of the `n` × `k` matrix at `s` (row stride `s_rows`, unit column
/// stride) to `out` (`k` rows of `n`), in 8 × 8 corners transposed in registers: about a
/// quarter of the scalar copy's time (a right operand given transposed, `δ·Wᵀ`). Each 8
/// columns of the source are walked down all its rows, so the output is written eight
/// rows at a time from start to end (0.29 ns an element for 256 × 512, against 0.47 when
/// the source was walked a row block at a time; warm caches).
///
/// # Safety
/// AVX2 must be present; `s` must cover the matrix, and `out` hold `k · n` elements.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn copy_transposed(s: *const f32, s_rows: isize, (n, k): (usize, usize), out: &mut [f32]) {
    debug_assert!(out.len() >= k * n);
    for p in (0..k).step_by(8) {
        let columns = (k - p).min(8);
        if columns <= NARROW_CORNER {
            // SAFETY: forwarded from the caller; columns p..k of each of the n rows.
            unsafe { copy_columns(s, s_rows, (n, k), p, out) };
            continue;
        }
        let column_mask = lane_mask(columns);
        for j in (0..n).step_by(8) {
            let rows = (n - j).min(8);
            // SAFETY: rows j..j + rows of the source, its columns p..p + columns; rows past
            // n are zero, not read.
            let corner: [__m256; 8] = std::array::from_fn(|r| unsafe {
                let at = s.offset((j + r) as isize * s_rows).add(p);
                if r >= rows { _mm256_setzero_ps() } else { load(at, columns, column_mask) }
            });
            for (c, row) in transpose(&corner).iter().take(columns).enumerate() {
                // SAFETY: row p + c of `out` holds n elements; j..j + rows of them.
                unsafe { store_first(out.as_mut_ptr().add((p + c) * n + j), rows, *row) };
            }
        }
    }
}
