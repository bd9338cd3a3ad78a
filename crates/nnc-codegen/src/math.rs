//! Elementwise math in CLIF, on one f32 or four: comparisons written for the x86 lowering,
//! and exp, log and tanh as inline polynomials (Cranelift has no instruction for them).
//!
//! - `exp`: Cody–Waite reduction `x = n·ln2 + r` with `n` rounded by the 1.5·2²³
//!   "magic add", SLEEF's degree-6 polynomial for `e^r` on `|r| ≤ ln2/2`, and `2ⁿ` added to
//!   the exponent bits; 0 below -87.3, +inf above 88.72.
//! - `log`: SLEEF's reduction `x = m·2ᵉ` with `m ∈ [0.75, 1.5)`, `t = (m-1)/(m+1)`, an odd
//!   polynomial in `t`; subnormal inputs are scaled by 2²³ first; `log 0 = -inf`, negative
//!   inputs and NaN give NaN, `log inf = inf`.
//! - `log1p`: `log(u) − ((u − 1) − x)/u` for `u = 1 + x` rounded: `x` where `u` rounds to 1.
//! - `tanh`: an odd Taylor polynomial up to `x¹⁷` for `|x| < 0.55`, else
//!   `sign(x)·(1 - 2/(e^{2|x|} + 1))`, which cannot cancel there.
//!
//! The maximum errors, measured against f64 over every f32 in the range the networks use,
//! are in `docs/performance.md` and checked by `crates/nnc-tests/tests/numeric.rs`.

use crate::emit::Emitter;
use cranelift::prelude::*;
use cranelift_codegen::ir::MemFlagsData;
use cranelift_codegen::ir::condcodes::FloatCC;

fn float_type(lanes: usize) -> Type {
    if lanes == 1 { types::F32 } else { types::F32X4 }
}

fn int_type(lanes: usize) -> Type {
    if lanes == 1 { types::I32 } else { types::I32X4 }
}

fn constant(em: &mut Emitter, x: f32, lanes: usize) -> Value {
    em.fconst(x, lanes)
}

fn int_constant(em: &mut Emitter, x: i32, lanes: usize) -> Value {
    em.int32_const(x, lanes)
}

fn lane_order() -> MemFlagsData {
    MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little)
}

fn to_bits(em: &mut Emitter, x: Value, lanes: usize) -> Value {
    em.b.ins().bitcast(int_type(lanes), lane_order(), x)
}

fn from_bits(em: &mut Emitter, x: Value, lanes: usize) -> Value {
    em.b.ins().bitcast(float_type(lanes), lane_order(), x)
}

/// `cond ? x : y` for a comparison result of the same width.
fn choose(em: &mut Emitter, cond: Value, x: Value, y: Value, lanes: usize) -> Value {
    if lanes == 1 {
        em.b.ins().select(cond, x, y)
    } else {
        let mask = from_bits(em, cond, lanes);
        em.b.ins().bitselect(mask, x, y)
    }
}

/// `a > b ? a : b`, as the interpreter computes it (a NaN in `a` gives `b`). Written as
/// `b < a`: on four lanes Cranelift then lowers the select to one `maxps`, whose result is
/// exactly that (its second operand when either is NaN or both are zeros), instead of a
/// compare and a blend.
pub(crate) fn max(em: &mut Emitter, x: Value, y: Value, lanes: usize) -> Value {
    let greater = em.b.ins().fcmp(FloatCC::LessThan, y, x);
    choose(em, greater, x, y, lanes)
}

/// `1.0` where `a > b`, else `0.0`.
pub(crate) fn greater(em: &mut Emitter, x: Value, y: Value, lanes: usize) -> Value {
    let greater = em.b.ins().fcmp(FloatCC::GreaterThan, x, y);
    let one = constant(em, 1.0, lanes);
    if lanes == 1 {
        let zero = constant(em, 0.0, lanes);
        return em.b.ins().select(greater, one, zero);
    }
    // The lanes' all-ones or all-zeros masks select 1.0 by themselves: one `andps`.
    let mask = from_bits(em, greater, lanes);
    em.b.ins().band(mask, one)
}

/// Horner's rule, `c[0]·xⁿ + ... + c[n]`, with multiply-adds (fused where the class has FMA).
fn horner(em: &mut Emitter, x: Value, coefficients: &[f32], lanes: usize) -> Value {
    let mut acc = constant(em, coefficients[0], lanes);
    for &c in &coefficients[1..] {
        let c = constant(em, c, lanes);
        acc = em.mul_add(acc, x, c);
    }
    acc
}

const MAGIC: f32 = 12_582_912.0; // 1.5 · 2²³

pub(crate) fn exp(em: &mut Emitter, x: Value, lanes: usize) -> Value {
    let (low, high) = (-87.3, 88.72);
    let low_value = constant(em, low, lanes);
    let high_value = constant(em, high, lanes);
    let below = em.b.ins().fcmp(FloatCC::LessThan, x, low_value);
    let above = em.b.ins().fcmp(FloatCC::GreaterThan, x, high_value);
    let clamped = choose(em, below, low_value, x, lanes);
    let clamped = choose(em, above, high_value, clamped, lanes);
    // n = round(x·log2 e), by adding and subtracting 1.5·2²³.
    let log2e = constant(em, std::f32::consts::LOG2_E, lanes);
    let magic = constant(em, MAGIC, lanes);
    let t = em.mul_add(clamped, log2e, magic);
    let n = em.b.ins().fsub(t, magic);
    let ln2_hi = constant(em, -0.693_145_75, lanes);
    let ln2_lo = constant(em, -1.428_606_8e-6, lanes);
    let r = em.mul_add(n, ln2_hi, clamped);
    let r = em.mul_add(n, ln2_lo, r);
    let p = horner(em, r, &[1.985_276_2e-4, 1.393_043_6e-3, 8.333_361e-3, 4.166_648_5e-2, 0.166_666_67, 0.5], lanes);
    let r2 = em.b.ins().fmul(r, r);
    let e = em.mul_add(p, r2, r);
    let one = constant(em, 1.0, lanes);
    let e = em.b.ins().fadd(e, one);
    // 2ⁿ: n sits in the low bits of t; add it to the exponent of e.
    let t_bits = to_bits(em, t, lanes);
    let magic_bits = int_constant(em, MAGIC.to_bits() as i32, lanes);
    let n_int = em.b.ins().isub(t_bits, magic_bits);
    let shift = em.b.ins().ishl_imm_s(n_int, 23);
    let e_bits = to_bits(em, e, lanes);
    let scaled = em.b.ins().iadd(e_bits, shift);
    let result = from_bits(em, scaled, lanes);
    let zero = constant(em, 0.0, lanes);
    let infinity = constant(em, f32::INFINITY, lanes);
    let result = choose(em, below, zero, result, lanes);
    let result = choose(em, above, infinity, result, lanes);
    // NaN stays NaN. (`x != x` is Cranelift's unordered-or-not-equal, true only for NaN;
    // its `Unordered` has no vector lowering on aarch64.)
    let nan = em.b.ins().fcmp(FloatCC::NotEqual, x, x);
    choose(em, nan, x, result, lanes)
}

pub(crate) fn log(em: &mut Emitter, x: Value, lanes: usize) -> Value {
    // Subnormals: scale by 2²³ and subtract 23·ln 2 at the end.
    let smallest_normal = constant(em, f32::MIN_POSITIVE, lanes);
    let subnormal = em.b.ins().fcmp(FloatCC::LessThan, x, smallest_normal);
    let two23 = constant(em, 8_388_608.0, lanes);
    let scaled = em.b.ins().fmul(x, two23);
    let d = choose(em, subnormal, scaled, x, lanes);
    // e = exponent of d/0.75, so m = d·2⁻ᵉ lies in [0.75, 1.5).
    let inv = constant(em, 1.0 / 0.75, lanes);
    let d_over = em.b.ins().fmul(d, inv);
    let bits = to_bits(em, d_over, lanes);
    let biased = em.b.ins().ushr_imm_s(bits, 23);
    let mask = int_constant(em, 0xff, lanes);
    let biased = em.b.ins().band(biased, mask);
    let bias = int_constant(em, 127, lanes);
    let e = em.b.ins().isub(biased, bias);
    let e_shift = em.b.ins().ishl_imm_s(e, 23);
    let d_bits = to_bits(em, d, lanes);
    let m_bits = em.b.ins().isub(d_bits, e_shift);
    let m = from_bits(em, m_bits, lanes);
    let one = constant(em, 1.0, lanes);
    let numerator = em.b.ins().fsub(m, one);
    let denominator = em.b.ins().fadd(m, one);
    let t = em.b.ins().fdiv(numerator, denominator);
    let t2 = em.b.ins().fmul(t, t);
    let q = horner(em, t2, &[0.239_282_85, 0.285_182_12, 0.400_005_88, 0.666_666_7], lanes);
    let two = constant(em, 2.0, lanes);
    let poly = em.mul_add(t2, q, two);
    let log_m = em.b.ins().fmul(t, poly);
    let e_float = em.b.ins().fcvt_from_sint(float_type(lanes), e);
    let ln2 = constant(em, std::f32::consts::LN_2, lanes);
    let result = em.mul_add(e_float, ln2, log_m);
    let correction = constant(em, 23.0 * std::f32::consts::LN_2, lanes);
    let corrected = em.b.ins().fsub(result, correction);
    let result = choose(em, subnormal, corrected, result, lanes);
    // log 0 = -inf, log inf = inf, negatives and NaN give NaN.
    let zero = constant(em, 0.0, lanes);
    let infinity = constant(em, f32::INFINITY, lanes);
    let is_zero = em.b.ins().fcmp(FloatCC::Equal, x, zero);
    let minus_infinity = constant(em, f32::NEG_INFINITY, lanes);
    let result = choose(em, is_zero, minus_infinity, result, lanes);
    let is_infinite = em.b.ins().fcmp(FloatCC::Equal, x, infinity);
    let result = choose(em, is_infinite, infinity, result, lanes);
    // Anything not ≥ 0 (negatives, NaN) gives NaN; `UnorderedOrLessThan` would say it
    // directly but has no vector lowering on aarch64.
    let valid = em.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, zero);
    let nan = constant(em, f32::NAN, lanes);
    choose(em, valid, result, nan, lanes)
}

/// `log(1 + x)`: with `u = 1 + x` rounded, `log(u) − ((u − 1) − x)/u` takes off the first
/// order effect of that rounding (`(u − 1) − x` is computed exactly); where `u` rounds to 1
/// this is `x`. `log1p(−1) = −inf` and `log1p(inf) = inf` are set apart.
pub(crate) fn log1p(em: &mut Emitter, x: Value, lanes: usize) -> Value {
    let one = constant(em, 1.0, lanes);
    let u = em.b.ins().fadd(one, x);
    let log_u = log(em, u, lanes);
    let u_minus_one = em.b.ins().fsub(u, one);
    let rounding = em.b.ins().fsub(u_minus_one, x);
    let correction = em.b.ins().fdiv(rounding, u);
    let result = em.b.ins().fsub(log_u, correction);
    let infinity = constant(em, f32::INFINITY, lanes);
    let is_infinite = em.b.ins().fcmp(FloatCC::Equal, x, infinity);
    let result = choose(em, is_infinite, infinity, result, lanes);
    let zero = constant(em, 0.0, lanes);
    let is_zero = em.b.ins().fcmp(FloatCC::Equal, u, zero);
    let minus_infinity = constant(em, f32::NEG_INFINITY, lanes);
    choose(em, is_zero, minus_infinity, result, lanes)
}

pub(crate) fn tanh(em: &mut Emitter, x: Value, lanes: usize) -> Value {
    let magnitude = em.b.ins().fabs(x);
    // Small |x|: tanh x = x - x³·Q(x²), Q the Taylor series 1/3 - 2x²/15 + 17x⁴/315 - ...
    // through the x¹⁷ term of tanh.
    let x2 = em.b.ins().fmul(x, x);
    let q = horner(
        em,
        x2,
        &[
            -5.900_274e-4,  // 6404582/10854718875
            1.455_834_4e-3, // 929569/638512875
            -3.592_128e-3,  // 21844/6081075
            8.863_236e-3,   // 1382/155925
            -0.021_869_49,  // 62/2835
            0.053_968_254,  // 17/315
            -0.133_333_33,  // 2/15
            0.333_333_34,   // 1/3
        ],
        lanes,
    );
    let x3 = em.b.ins().fmul(x2, x);
    let cubic = em.b.ins().fmul(x3, q);
    let small = em.b.ins().fsub(x, cubic);
    // Large |x|: 1 - 2/(e^{2|x|} + 1), with the sign of x.
    let twice = em.b.ins().fadd(magnitude, magnitude);
    let e = exp(em, twice, lanes);
    let one = constant(em, 1.0, lanes);
    let two = constant(em, 2.0, lanes);
    let denominator = em.b.ins().fadd(e, one);
    let fraction = em.b.ins().fdiv(two, denominator);
    let large = em.b.ins().fsub(one, fraction);
    let sign_mask = int_constant(em, i32::MIN, lanes);
    let x_bits = to_bits(em, x, lanes);
    let sign = em.b.ins().band(x_bits, sign_mask);
    let large_bits = to_bits(em, large, lanes);
    let signed = em.b.ins().bor(large_bits, sign);
    let large = from_bits(em, signed, lanes);
    let threshold = constant(em, 0.55, lanes);
    let is_small = em.b.ins().fcmp(FloatCC::LessThan, magnitude, threshold);
    let result = choose(em, is_small, small, large, lanes);
    let nan = em.b.ins().fcmp(FloatCC::NotEqual, x, x);
    choose(em, nan, x, result, lanes)
}

/// `nnc_ir::random_uniform(seed, index, salt)` for the seed carried in f32 `seed` (its 23
/// mantissa bits) and the i64 element `index`: the same 32-bit hash, bit for bit, so that
/// compiled code and the interpreter draw the same numbers.
pub(crate) fn random(em: &mut Emitter, seed: Value, index: Value, salt: u32) -> Value {
    let seed = to_bits(em, seed, 1);
    let seed = em.b.ins().band_imm_u(seed, 0x007F_FFFF);
    let seed = em.b.ins().imul_imm_u(seed, 0x85EB_CA77);
    let index = em.b.ins().ireduce(types::I32, index);
    let index = em.b.ins().imul_imm_u(index, 0x9E37_79B1);
    let mut h = em.b.ins().bxor(index, seed);
    h = em.b.ins().bxor_imm_u(h, i64::from(salt.wrapping_mul(0xC2B2_AE3D)));
    for (shift, multiplier) in [(16, Some(0x7FEB_352D_u32)), (15, Some(0x846C_A68B)), (16, None)] {
        let high = em.b.ins().ushr_imm_u(h, shift);
        h = em.b.ins().bxor(h, high);
        if let Some(multiplier) = multiplier {
            h = em.b.ins().imul_imm_u(h, i64::from(multiplier));
        }
    }
    // The top 24 bits, exactly representable, scaled to [0, 1).
    let top = em.b.ins().ushr_imm_u(h, 8);
    let x = em.b.ins().fcvt_from_sint(types::F32, top);
    let scale = constant(em, 1.0 / 16_777_216.0, 1);
    em.b.ins().fmul(x, scale)
}
