//! The baseline x86-64 kernel (SSE2, which every x86-64 CPU has: `NNC_CPU=generic`):
//! `avx2.rs`'s plan on 4-lane vectors, without FMA or masked memory access. Blocks of
//! 6 rows × 2 vectors keep the accumulators, B's vectors and A's broadcast in the 16
//! `xmm` registers; a ragged last vector is read through a zero-padded copy and written
//! lane by lane.

use super::Operands;
use std::arch::x86_64::*;

/// Column blocks of up to two vectors (8 columns), each over every row. With `F`, each block gets
/// the bias row and the ReLU, with `G` the mask and the column sums, as it is stored.
///
/// # Safety
/// `b` is B with unit column stride and row stride `b_rows`; the operands' pointers cover
/// their matrices.
pub(super) unsafe fn product<const F: bool, const G: bool>(o: &Operands, b: *const f32, b_rows: isize) {
    let mut j = 0;
    while j < o.n {
        let width = (o.n - j).min(8);
        // SAFETY: forwarded from the caller.
        unsafe {
            if width <= 4 {
                rows::<8, 1, F, G>(o, b, b_rows, j, width)
            } else {
                rows::<6, 2, F, G>(o, b, b_rows, j, width)
            }
        }
        j += width;
    }
}

/// Every row of one column block, `R` rows at a time, then the rest as a smaller block.
///
/// # Safety
/// As [`product`]; columns `j..j + width` lie in C.
unsafe fn rows<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    j: usize,
    width: usize,
) {
    let lanes: [usize; V] = std::array::from_fn(|v| width.saturating_sub(4 * v).min(4));
    let mut i = 0;
    while i + R <= o.m {
        // SAFETY: rows i..i + R lie in A and C.
        unsafe { tile::<R, V, F, G>(o, b, b_rows, i, j, &lanes) };
        i += R;
    }
    // SAFETY: rows i..m lie in A and C; fewer than R (at most 8) remain.
    unsafe {
        match o.m - i {
            0 => {}
            1 => tile::<1, V, F, G>(o, b, b_rows, i, j, &lanes),
            2 => tile::<2, V, F, G>(o, b, b_rows, i, j, &lanes),
            3 => tile::<3, V, F, G>(o, b, b_rows, i, j, &lanes),
            4 => tile::<4, V, F, G>(o, b, b_rows, i, j, &lanes),
            5 => tile::<5, V, F, G>(o, b, b_rows, i, j, &lanes),
            6 => tile::<6, V, F, G>(o, b, b_rows, i, j, &lanes),
            _ => tile::<7, V, F, G>(o, b, b_rows, i, j, &lanes),
        }
    }
}

/// `lanes` (1 to 4) elements from `at` as a vector, the rest zero.
///
/// # Safety
/// The first `lanes` elements from `at` must be readable.
#[inline(always)]
unsafe fn load(at: *const f32, lanes: usize) -> __m128 {
    // SAFETY: only `lanes` elements are read.
    unsafe {
        if lanes == 4 {
            _mm_loadu_ps(at)
        } else {
            let mut padded = [0.0f32; 4];
            std::ptr::copy_nonoverlapping(at, padded.as_mut_ptr(), lanes);
            _mm_loadu_ps(padded.as_ptr())
        }
    }
}

/// Writes the first `lanes` lanes of `value` to `at`.
///
/// # Safety
/// The first `lanes` elements from `at` must be writable.
#[inline(always)]
unsafe fn store(at: *mut f32, lanes: usize, value: __m128) {
    // SAFETY: only `lanes` elements are written.
    unsafe {
        if lanes == 4 {
            _mm_storeu_ps(at, value);
        } else {
            let mut padded = [0.0f32; 4];
            _mm_storeu_ps(padded.as_mut_ptr(), value);
            std::ptr::copy_nonoverlapping(padded.as_ptr(), at, lanes);
        }
    }
}

/// Rows `i..i + R`, columns `j..` of C: the whole reduction in registers.
///
/// # Safety
/// As [`rows`].
#[inline(always)]
unsafe fn tile<const R: usize, const V: usize, const F: bool, const G: bool>(
    o: &Operands,
    b: *const f32,
    b_rows: isize,
    i: usize,
    j: usize,
    lanes: &[usize; V],
) {
    // SAFETY: SSE2 is part of x86-64; every address below is an element of A, B or C
    // inside the caller's block.
    unsafe {
        let mut acc = [[_mm_setzero_ps(); V]; R];
        let a = o.a.offset(i as isize * o.a_rows);
        for p in 0..o.k {
            let row = b.offset(p as isize * b_rows).add(j);
            let bv: [__m128; V] = std::array::from_fn(|v| load(row.add(4 * v), lanes[v]));
            let column = a.offset(p as isize * o.a_columns);
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm_set1_ps(*column.offset(r as isize * o.a_rows));
                for v in 0..V {
                    acc[v] = _mm_add_ps(acc[v], _mm_mul_ps(x, bv[v]));
                }
            }
        }
        let (alpha, beta) = (_mm_set1_ps(o.alpha), _mm_set1_ps(o.beta));
        // The block's column sums, added to row by row in order.
        let summed = G && !o.sums.is_null();
        let mut sums = [_mm_setzero_ps(); V];
        if summed {
            for v in 0..V {
                sums[v] = load(o.sums.add(j + 4 * v), lanes[v]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let c = o.c.add((i + r) * o.ldc + j);
            for v in 0..V {
                let at = c.add(4 * v);
                let mut out = _mm_mul_ps(acc[v], beta);
                if o.read {
                    out = _mm_add_ps(out, _mm_mul_ps(load(at, lanes[v]), alpha));
                }
                if F && !o.bias.is_null() {
                    out = _mm_add_ps(out, load(o.bias.add(j + 4 * v), lanes[v]));
                }
                if F && o.relu {
                    // `out > 0 ? out : 0`, as the interpreter's max (a NaN gives 0).
                    out = _mm_max_ps(out, _mm_setzero_ps());
                }
                if G && !o.mask.is_null() {
                    // `out · (m > 0)`, as the interpreter's `mul` of a `cmp_gt` (NaN > 0 is false).
                    let m = load(o.mask.add((i + r) * o.ldc + j + 4 * v), lanes[v]);
                    let keep = _mm_cmpgt_ps(m, _mm_setzero_ps());
                    out = _mm_mul_ps(out, _mm_and_ps(keep, _mm_set1_ps(1.0)));
                }
                if summed {
                    sums[v] = _mm_add_ps(sums[v], out);
                }
                store(at, lanes[v], out);
            }
        }
        if summed {
            for v in 0..V {
                store(o.sums.add(j + 4 * v), lanes[v], sums[v]);
            }
        }
    }
}
