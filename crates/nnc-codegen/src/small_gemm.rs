//! Small matrix products on AVX-512, without packing.
//!
//! The `gemm` crate packs its operands into buffers it allocates on every call and works
//! in 16-lane panels; for the products of a small network (32×128×10, its gradients with
//! a 10-long side, 32×64×128) packing and the ragged panel cost as much as the
//! arithmetic: 1.5 µs for 41 K multiply-adds. Here each block of `R` rows × `V` vectors
//! of C stays in registers while the reduction runs, B's rows are read in place with
//! masked loads (so a 10-wide row is one masked vector), and A's elements are broadcast
//! from wherever its strides put them. A right operand given transposed is copied once
//! into a per-thread buffer that is kept between calls, so no call allocates after the
//! first.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::cell::RefCell;

/// Blocks of products (the share of one thread) with at most this many multiply-adds (and
/// whose transposed right operand fits [`SCRATCH_MAX`]) run here when the CPU has AVX-512.
/// Measured against `gemm` (medians of interleaved runs): W2 13.8 → 11.4 µs per step,
/// the width-16 sweep network 42 → 31 µs; equal at W3's size (blocks up to 12.8 M), where
/// larger blocks' panels of B no longer stay in L2 and packing starts to pay.
pub(crate) const SMALL_MAX_MACS: usize = 1 << 24;

/// Elements of a transposed right operand copied to the per-thread buffer, at most.
const SCRATCH_MAX: usize = 1 << 16;

/// `C = alpha·C + beta·A·B` (C not read unless `read`); strides in elements, C row-major
/// with row stride `ldc`.
#[derive(Clone, Copy)]
pub(crate) struct Operands {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const f32,
    pub a_rows: isize,
    pub a_columns: isize,
    pub b: *const f32,
    pub b_rows: isize,
    pub b_columns: isize,
    pub c: *mut f32,
    pub ldc: usize,
    pub read: bool,
    pub alpha: f32,
    pub beta: f32,
}

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Computes the product and returns true, or returns false (computing nothing) when it is
/// not one this module takes.
///
/// # Safety
/// The pointers must cover the matrices their shapes and strides describe.
pub(crate) unsafe fn try_product(o: &Operands) -> bool {
    if o.m * o.n * o.k > SMALL_MAX_MACS || o.m == 0 || o.n == 0 || !has_avx512() {
        return false;
    }
    if o.b_columns == 1 {
        // SAFETY: AVX-512 is present; the caller guarantees the matrices.
        unsafe { product(o, o.b, o.b_rows) };
        return true;
    }
    if o.b_rows != 1 || o.k * o.n > SCRATCH_MAX {
        return false;
    }
    SCRATCH.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else { return false };
        scratch.resize(o.k * o.n, 0.0);
        // Column j of B is a contiguous row of the matrix given transposed: read it in order.
        for j in 0..o.n {
            // SAFETY: column j of B lies in the caller's matrix.
            let column = unsafe { std::slice::from_raw_parts(o.b.offset(j as isize * o.b_columns), o.k) };
            for (p, &x) in column.iter().enumerate() {
                scratch[p * o.n + j] = x;
            }
        }
        // SAFETY: AVX-512 is present; B is now the row-major copy.
        unsafe { product(o, scratch.as_ptr(), o.n as isize) };
        true
    })
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    crate::cpu::class() == crate::cpu::CpuClass::Avx512
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx512() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn product(_: &Operands, _: *const f32, _: isize) {
    unreachable!("has_avx512 is false off x86-64")
}

/// Column blocks of up to four vectors (64 columns), each over every row.
///
/// # Safety
/// AVX-512F must be present; `b` is B with unit column stride and row stride `b_rows`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn product(o: &Operands, b: *const f32, b_rows: isize) {
    let mut j = 0;
    while j < o.n {
        let width = (o.n - j).min(64);
        // SAFETY: forwarded from the caller.
        unsafe {
            match width.div_ceil(16) {
                1 => rows::<8, 1>(o, b, b_rows, j, width),
                2 => rows::<8, 2>(o, b, b_rows, j, width),
                3 => rows::<6, 3>(o, b, b_rows, j, width),
                _ => rows::<6, 4>(o, b, b_rows, j, width),
            }
        }
        j += width;
    }
}

/// Every row of one column block, `R` (at most 8) rows at a time, then the remaining rows
/// as one smaller block.
///
/// # Safety
/// As [`product`]; columns `j..j + width` lie in C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn rows<const R: usize, const V: usize>(o: &Operands, b: *const f32, b_rows: isize, j: usize, width: usize) {
    let masks: [__mmask16; V] = std::array::from_fn(|v| lane_mask(width.saturating_sub(16 * v)));
    let mut i = 0;
    while i + R <= o.m {
        // SAFETY: rows i..i + R lie in A and C.
        unsafe { tile::<R, V>(o, b, b_rows, i, j, &masks) };
        i += R;
    }
    // SAFETY: rows i..m lie in A and C; fewer than R (at most 8) remain.
    unsafe {
        match o.m - i {
            0 => {}
            1 => tile::<1, V>(o, b, b_rows, i, j, &masks),
            2 => tile::<2, V>(o, b, b_rows, i, j, &masks),
            3 => tile::<3, V>(o, b, b_rows, i, j, &masks),
            4 => tile::<4, V>(o, b, b_rows, i, j, &masks),
            5 => tile::<5, V>(o, b, b_rows, i, j, &masks),
            6 => tile::<6, V>(o, b, b_rows, i, j, &masks),
            _ => tile::<7, V>(o, b, b_rows, i, j, &masks),
        }
    }
}

/// The first `lanes` lanes of a vector (all 16 when `lanes` ≥ 16).
#[cfg(target_arch = "x86_64")]
fn lane_mask(lanes: usize) -> __mmask16 {
    if lanes >= 16 { 0xffff } else { ((1u32 << lanes) - 1) as __mmask16 }
}

/// Rows `i..i + R`, columns `j..` of C under `masks`: the whole reduction in registers.
///
/// # Safety
/// As [`rows`]. Masked-off lanes are neither read nor written (AVX-512 masked accesses do
/// not touch them), so a ragged last vector stays inside the buffers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tile<const R: usize, const V: usize>(
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
            let row = b.offset(p as isize * b_rows).add(j);
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
        for (r, acc) in acc.iter().enumerate() {
            let c = o.c.add((i + r) * o.ldc + j);
            for v in 0..V {
                let mut out = _mm512_mul_ps(acc[v], beta);
                if o.read {
                    out = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(masks[v], c.add(16 * v)), alpha, out);
                }
                _mm512_mask_storeu_ps(c.add(16 * v), masks[v], out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Operands, SMALL_MAX_MACS, has_avx512, try_product};

    /// Every ragged edge of the tiles (rows not a multiple of 6 or 8, 1 to 130 columns,
    /// a reduction of 1), every layout (transposed left, transposed right) and both
    /// writes (C = A·B, C = alpha·C + beta·A·B), against an f64 reference.
    #[test]
    fn ragged_products_match_a_reference() {
        if !has_avx512() {
            // Nothing here runs without AVX-512 (`NNC_CPU` below it, or the CPU lacks it).
            nnc_testkit::skip("small_gemm::ragged_products_match_a_reference", "no AVX-512 on this CPU or NNC_CPU");
            return;
        }
        for (m, n, k) in [
            (1, 1, 1),
            (7, 15, 3),
            (9, 16, 1),
            (13, 17, 5),
            (32, 10, 128),
            (5, 63, 9),
            (6, 64, 2),
            (11, 65, 4),
            (3, 130, 7),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
            for ((a_rows, a_columns), (b_rows, b_columns)) in [((k, 1), (n, 1)), ((1, m), (n, 1)), ((k, 1), (1, k))] {
                for (read, alpha, beta) in [(false, 0.0, 1.0), (true, 1.0, -0.1)] {
                    let mut c: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
                    let want: Vec<f64> = (0..m * n)
                        .map(|e| {
                            let (i, j) = (e / n, e % n);
                            let dot: f64 = (0..k)
                                .map(|p| {
                                    f64::from(a[i * a_rows + p * a_columns]) * f64::from(b[p * b_rows + j * b_columns])
                                })
                                .sum();
                            let old = if read { f64::from(alpha) * f64::from(c[e]) } else { 0.0 };
                            old + f64::from(beta) * dot
                        })
                        .collect();
                    #[rustfmt::skip]
                    let operands = Operands {
                        m, n, k, a: a.as_ptr(), a_rows: a_rows as isize, a_columns: a_columns as isize,
                        b: b.as_ptr(), b_rows: b_rows as isize, b_columns: b_columns as isize,
                        c: c.as_mut_ptr(), ldc: n, read, alpha, beta,
                    };
                    // SAFETY: the strides describe matrices inside `a`, `b` and `c`.
                    assert!(unsafe { try_product(&operands) }, "{m}x{n}x{k} was not taken");
                    for (e, (got, want)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (f64::from(*got) - want).abs() <= 1e-5 * (1.0 + want.abs()),
                            "{m}x{n}x{k} element {e}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// Large products and general strides are left to the library.
    #[test]
    fn products_it_does_not_take_are_left_untouched() {
        let (m, n, k) = (260, 260, 260);
        assert!(m * n * k > SMALL_MAX_MACS);
        let (a, b, mut c) = (vec![1.0f32; m * k], vec![1.0f32; k * n], vec![7.0f32; m * n]);
        #[rustfmt::skip]
        let operands = Operands {
            m, n, k, a: a.as_ptr(), a_rows: k as isize, a_columns: 1, b: b.as_ptr(), b_rows: n as isize,
            b_columns: 1, c: c.as_mut_ptr(), ldc: n, read: false, alpha: 0.0, beta: 1.0,
        };
        // SAFETY: the strides describe matrices inside `a`, `b` and `c`.
        assert!(!unsafe { try_product(&operands) });
        let strided = Operands { m: 2, n: 2, k: 2, b_rows: 2, b_columns: 3, ..operands };
        // SAFETY: as above.
        assert!(!unsafe { try_product(&strided) });
        assert!(c.iter().all(|&x| x == 7.0));
    }
}
