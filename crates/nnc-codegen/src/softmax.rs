//! Each row's softmax over a finished product (`nnc_kernels::Softmax`), which the GEMM
//! helper computes on the rows a block has just stored, while they are in L1: the row's
//! maximum, `exp(x − max)` for every element, and their sum. A kernel for each class of
//! CPU, chosen as the product kernels are (`crate::cpu::class`, so `NNC_CPU` forces any):
//! 16 and 8 lanes with the ragged end of a row masked, and plain Rust. The vector
//! exponentials are `math::exp`'s polynomial, as generated code computes them.

/// `m` rows of `n` elements at `c` (row stride `ldc`); `exps` is laid out as `c`, `max`
/// and `total` hold one value per row.
pub(crate) struct Rows {
    pub c: *const f32,
    pub ldc: usize,
    pub m: usize,
    pub n: usize,
    pub max: *mut f32,
    pub exps: *mut f32,
    pub total: *mut f32,
}

/// Writes each row's maximum (NaNs skipped, as a `max` reduction skips them), its
/// exponentials and their sum.
///
/// # Safety
/// The pointers must cover the rows `r` describes; `exps` may not overlap `c` or the rest.
pub(crate) unsafe fn softmax_rows(r: &Rows) {
    #[cfg(target_arch = "x86_64")]
    match crate::cpu::class() {
        // SAFETY: forwarded; the class's instructions are the host's (`cpu::class`).
        crate::cpu::CpuClass::Avx512 => return unsafe { x86::rows_avx512(r) },
        // SAFETY: as above.
        crate::cpu::CpuClass::Avx2 => return unsafe { x86::rows_avx2(r) },
        crate::cpu::CpuClass::Generic => {}
    }
    // SAFETY: forwarded from the caller.
    unsafe { rows_portable(r) }
}

/// # Safety
/// As [`softmax_rows`].
unsafe fn rows_portable(r: &Rows) {
    for i in 0..r.m {
        // SAFETY: row i of `c` and of `exps` holds `n` elements; `max` and `total` `m`.
        unsafe {
            let row = std::slice::from_raw_parts(r.c.add(i * r.ldc), r.n);
            let exps = std::slice::from_raw_parts_mut(r.exps.add(i * r.ldc), r.n);
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
            let mut total = 0.0;
            for (e, &x) in exps.iter_mut().zip(row) {
                *e = (x - max).exp();
                total += *e;
            }
            *r.max.add(i) = max;
            *r.total.add(i) = total;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Rows;
    use std::arch::x86_64::*;

    /// `math::exp`'s range, reduction and polynomial.
    const LOW: f32 = -87.3;
    const HIGH: f32 = 88.72;
    const MAGIC: f32 = 12_582_912.0;
    const LN2_HI: f32 = -0.693_145_75;
    const LN2_LO: f32 = -1.428_606_8e-6;
    const POLYNOMIAL: [f32; 6] = [1.985_276_2e-4, 1.393_043_6e-3, 8.333_361e-3, 4.166_648_5e-2, 0.166_666_67, 0.5];

    /// # Safety
    /// As [`super::softmax_rows`]; the CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn rows_avx2(r: &Rows) {
        let (full, rest) = (r.n / 8, r.n % 8);
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        let lanes = _mm256_castsi256_ps(mask);
        let lowest = _mm256_set1_ps(f32::NEG_INFINITY);
        for i in 0..r.m {
            // SAFETY: row i of `c` and `exps` holds `n` elements, read and written in full
            // vectors and one masked to the rest; `max` and `total` hold `m`.
            unsafe {
                let (row, out) = (r.c.add(i * r.ldc), r.exps.add(i * r.ldc));
                // `max_ps(x, m)` gives `m` for a NaN `x`.
                let mut greatest = lowest;
                for v in 0..full {
                    greatest = _mm256_max_ps(_mm256_loadu_ps(row.add(8 * v)), greatest);
                }
                if rest > 0 {
                    let x = _mm256_blendv_ps(lowest, _mm256_maskload_ps(row.add(8 * full), mask), lanes);
                    greatest = _mm256_max_ps(x, greatest);
                }
                let halves = _mm_max_ps(_mm256_castps256_ps128(greatest), _mm256_extractf128_ps(greatest, 1));
                let pairs = _mm_max_ps(halves, _mm_movehl_ps(halves, halves));
                let max = _mm_cvtss_f32(_mm_max_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
                let shift = _mm256_set1_ps(max);
                let mut sum = _mm256_setzero_ps();
                for v in 0..full {
                    let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row.add(8 * v)), shift));
                    _mm256_storeu_ps(out.add(8 * v), e);
                    sum = _mm256_add_ps(sum, e);
                }
                if rest > 0 {
                    let e = exp8(_mm256_sub_ps(_mm256_maskload_ps(row.add(8 * full), mask), shift));
                    crate::small_gemm::store_first(out.add(8 * full), rest, e);
                    sum = _mm256_add_ps(sum, _mm256_and_ps(e, lanes));
                }
                let halves = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
                let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
                *r.max.add(i) = max;
                *r.total.add(i) = _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
            }
        }
    }

    /// `exp` in 8 lanes, as `math::exp` computes it.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn exp8(x: __m256) -> __m256 {
        let (low, high) = (_mm256_set1_ps(LOW), _mm256_set1_ps(HIGH));
        let below = _mm256_cmp_ps::<_CMP_LT_OQ>(x, low);
        let above = _mm256_cmp_ps::<_CMP_GT_OQ>(x, high);
        let clamped = _mm256_blendv_ps(_mm256_blendv_ps(x, low, below), high, above);
        let magic = _mm256_set1_ps(MAGIC);
        let t = _mm256_fmadd_ps(clamped, _mm256_set1_ps(std::f32::consts::LOG2_E), magic);
        let n = _mm256_sub_ps(t, magic);
        let r = _mm256_fmadd_ps(n, _mm256_set1_ps(LN2_HI), clamped);
        let r = _mm256_fmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
        let p = POLYNOMIAL[1..]
            .iter()
            .fold(_mm256_set1_ps(POLYNOMIAL[0]), |p, &c| _mm256_fmadd_ps(p, r, _mm256_set1_ps(c)));
        let e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0));
        // 2ⁿ: n sits in the low bits of t; add it to the exponent of e.
        let n = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(MAGIC.to_bits() as i32));
        let scaled = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(e), _mm256_slli_epi32::<23>(n)));
        let result = _mm256_blendv_ps(scaled, _mm256_setzero_ps(), below);
        let result = _mm256_blendv_ps(result, _mm256_set1_ps(f32::INFINITY), above);
        _mm256_blendv_ps(result, x, _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x))
    }

    /// # Safety
    /// As [`super::softmax_rows`]; the CPU has AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn rows_avx512(r: &Rows) {
        let (full, rest) = (r.n / 16, r.n % 16);
        let mask: __mmask16 = ((1u32 << rest) - 1) as __mmask16;
        let lowest = _mm512_set1_ps(f32::NEG_INFINITY);
        for i in 0..r.m {
            // SAFETY: as in `rows_avx2`, 16 lanes at a time.
            unsafe {
                let (row, out) = (r.c.add(i * r.ldc), r.exps.add(i * r.ldc));
                let mut greatest = lowest;
                for v in 0..full {
                    greatest = _mm512_max_ps(_mm512_loadu_ps(row.add(16 * v)), greatest);
                }
                if rest > 0 {
                    greatest = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, mask, row.add(16 * full)), greatest);
                }
                let max = _mm512_reduce_max_ps(greatest);
                let shift = _mm512_set1_ps(max);
                let mut sum = _mm512_setzero_ps();
                for v in 0..full {
                    let e = exp16(_mm512_sub_ps(_mm512_loadu_ps(row.add(16 * v)), shift));
                    _mm512_storeu_ps(out.add(16 * v), e);
                    sum = _mm512_add_ps(sum, e);
                }
                if rest > 0 {
                    let x = _mm512_maskz_loadu_ps(mask, row.add(16 * full));
                    let e = exp16(_mm512_sub_ps(x, shift));
                    _mm512_mask_storeu_ps(out.add(16 * full), mask, e);
                    sum = _mm512_mask_add_ps(sum, mask, sum, e);
                }
                *r.max.add(i) = max;
                *r.total.add(i) = _mm512_reduce_add_ps(sum);
            }
        }
    }

    /// `exp` in 16 lanes, as `math::exp` computes it.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn exp16(x: __m512) -> __m512 {
        let (low, high) = (_mm512_set1_ps(LOW), _mm512_set1_ps(HIGH));
        let below = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, low);
        let above = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x, high);
        let clamped = _mm512_mask_blend_ps(above, _mm512_mask_blend_ps(below, x, low), high);
        let magic = _mm512_set1_ps(MAGIC);
        let t = _mm512_fmadd_ps(clamped, _mm512_set1_ps(std::f32::consts::LOG2_E), magic);
        let n = _mm512_sub_ps(t, magic);
        let r = _mm512_fmadd_ps(n, _mm512_set1_ps(LN2_HI), clamped);
        let r = _mm512_fmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
        let p = POLYNOMIAL[1..]
            .iter()
            .fold(_mm512_set1_ps(POLYNOMIAL[0]), |p, &c| _mm512_fmadd_ps(p, r, _mm512_set1_ps(c)));
        let e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0));
        let n = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(MAGIC.to_bits() as i32));
        let scaled = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(e), _mm512_slli_epi32::<23>(n)));
        let result = _mm512_mask_blend_ps(below, scaled, _mm512_setzero_ps());
        let result = _mm512_mask_blend_ps(above, result, _mm512_set1_ps(f32::INFINITY));
        _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x), result, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kernel this CPU runs against f64, on rows of every width around the vectors'
    /// (full vectors, a masked rest, both), at a row stride wider than the row, with a
    /// NaN (skipped by the maximum, NaN in its exponential and the sum), an infinity below
    /// and values far enough below the maximum that their exponentials are 0.
    #[test]
    fn every_kernel_matches_a_reference_on_ragged_rows() {
        for n in [1, 2, 7, 8, 9, 10, 15, 16, 17, 24, 33] {
            let (m, ldc) = (5, n + 3);
            let c: Vec<f32> = (0..m * ldc).map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0).collect();
            let mut c = c;
            c[ldc + n - 1] = f32::NAN;
            c[2 * ldc] = f32::NEG_INFINITY;
            c[3 * ldc] = -200.0;
            for (name, kernel) in kernels() {
                let (mut max, mut total, mut exps) = (vec![0.0; m], vec![0.0; m], vec![7.0f32; m * ldc]);
                #[rustfmt::skip]
                let rows = Rows {
                    c: c.as_ptr(), ldc, m, n, max: max.as_mut_ptr(), exps: exps.as_mut_ptr(), total: total.as_mut_ptr(),
                };
                // SAFETY: the buffers hold m rows of ldc (max and total m); the kernel runs here.
                unsafe { kernel(&rows) };
                for i in 0..m {
                    let row = &c[i * ldc..i * ldc + n];
                    let want_max = row.iter().filter(|x| !x.is_nan()).fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    assert_eq!(max[i], want_max, "{name} n {n} row {i}: max");
                    let mut want_total = 0.0f64;
                    for j in 0..n {
                        let want = ((row[j] - want_max) as f64).exp();
                        want_total += want;
                        let got = exps[i * ldc + j];
                        let close = (got as f64 - want).abs() <= 2e-7 * want.max(1e-30) + 1e-38;
                        assert!(close || (got.is_nan() && want.is_nan()), "{name} n {n} ({i}, {j}): {got} vs {want}");
                    }
                    let close = (total[i] as f64 - want_total).abs() <= 1e-6 * want_total;
                    assert!(close || (total[i].is_nan() && want_total.is_nan()), "{name} n {n} row {i}: total");
                    assert!(
                        exps[i * ldc + n..(i + 1) * ldc].iter().all(|&x| x == 7.0),
                        "{name} n {n}: wrote past the row"
                    );
                }
            }
        }
    }

    type RowKernel = unsafe fn(&Rows);

    /// The kernels this CPU can run, by name.
    fn kernels() -> Vec<(&'static str, RowKernel)> {
        let mut kernels: Vec<(&'static str, RowKernel)> = vec![("portable", rows_portable)];
        #[cfg(target_arch = "x86_64")]
        {
            use crate::cpu::{CpuClass, host_class};
            if host_class() >= CpuClass::Avx2 {
                kernels.push(("avx2", x86::rows_avx2));
            }
            if host_class() >= CpuClass::Avx512 {
                kernels.push(("avx512", x86::rows_avx512));
            }
        }
        kernels
    }
}
