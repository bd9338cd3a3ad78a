//! Numbers as `{}` shows them (the shortest text that reads back as the same `f32`, in
//! plain decimal), from the digits `ryu` finds: `nnc predict` and `nnc embed` write
//! millions of numbers, and the standard library's formatting of them was a fifth of
//! their time on a million rows (0.43 → 0.35 s and 2.03 → 1.36 s, the same bytes).

/// Appends `x` to `out` exactly as `write!(out, "{x}")` would.
pub fn push_shortest(out: &mut String, x: f32, buffer: &mut ryu::Buffer) {
    if !x.is_finite() || may_be_a_tie(x) {
        use std::fmt::Write as _;
        // Writing into a `String` cannot fail.
        let _ = write!(out, "{x}");
        return;
    }
    let text = buffer.format_finite(x);
    match text.split_once('e') {
        // For most values (about 10⁻⁶ to 10¹⁵) `ryu` writes plain decimal, as `{}` does,
        // but for the `.0` of a whole number (`-0.0` too).
        None => out.push_str(text.strip_suffix(".0").unwrap_or(text)),
        Some((mantissa, exponent)) => push_plain(out, mantissa, exponent.parse().unwrap_or(0)),
    }
}

/// Appends `mantissa · 10^exponent` (as `ryu` writes them: `-1.5` and `-7` for `-1.5e-7`)
/// in plain decimal, without trailing zeros after a point.
fn push_plain(out: &mut String, mantissa: &str, exponent: i64) {
    let (negative, mantissa) = mantissa.strip_prefix('-').map_or((false, mantissa), |rest| (true, rest));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // The digits without leading or trailing zeros, and where the point falls among them
    // (an `f32` has at most 9 significant digits; `ryu` writes at most 17 characters).
    let mut all = [0u8; 32];
    let mut count = 0;
    for (slot, digit) in all.iter_mut().zip(whole.bytes().chain(fraction.bytes())) {
        *slot = digit;
        count += 1;
    }
    let all = &all[..count];
    let leading = all.iter().take_while(|&&d| d == b'0').count();
    let trailing = all[leading..].iter().rev().take_while(|&&d| d == b'0').count();
    let significant = &all[leading..count - trailing];
    let point = whole.len() as i64 - leading as i64 + exponent;
    if negative {
        out.push('-');
    }
    if significant.is_empty() {
        out.push('0');
        return;
    }
    let zeros = |count: i64, out: &mut String| out.extend(std::iter::repeat_n('0', count.max(0) as usize));
    let digits = |range: &[u8], out: &mut String| out.extend(range.iter().map(|&d| char::from(d)));
    if point <= 0 {
        out.push_str("0.");
        zeros(-point, out);
        digits(significant, out);
    } else if point as usize >= significant.len() {
        digits(significant, out);
        zeros(point - significant.len() as i64, out);
    } else {
        let (before, after) = significant.split_at(point as usize);
        digits(before, out);
        out.push('.');
        digits(after, out);
    }
}

/// Whether two shortest texts of `x` could be equally near it, which `ryu` (to the even
/// digit) and `{}` (upwards) settle differently: then `x` is exactly halfway between
/// them, so its exact decimal value has at most 10 significant digits, the last a 5
/// (an `f32` needs at most 9). With `x = m·2^e`, `m` odd: for `e < 0` it is
/// `m·5^-e·10^e`, whose digits `m·5^-e` are odd (no trailing zero) and end in 5, and fewer
/// than 10¹⁰ only if `-e ≤ 14`; for `e ≥ 0` it is an integer whose last significant
/// digit is 5 only if `e` is below the power of 5 in `m` (at most 10). `false` when no
/// tie is possible (most numbers: an ordinary value has 24 to 30 exact digits).
fn may_be_a_tie(x: f32) -> bool {
    let bits = x.to_bits() & 0x7fff_ffff;
    let (biased, fraction) = (bits >> 23, u64::from(bits & 0x7f_ffff));
    let (m, e) = if biased == 0 { (fraction, -149) } else { (fraction | 0x80_0000, biased as i32 - 150) };
    if m == 0 {
        return false;
    }
    let (m, e) = (m >> m.trailing_zeros(), e + m.trailing_zeros() as i32);
    let digits = match e {
        ..=-15 => return false,
        -14..=-1 => m * 5u64.pow(e.unsigned_abs()),
        0..=10 => {
            let mut value = m << e;
            while value % 10 == 0 {
                value /= 10;
            }
            value
        }
        _ => return false,
    };
    digits < 10_000_000_000 && digits % 10 == 5
}

#[cfg(test)]
mod tests {
    use super::push_shortest;

    fn both(x: f32, buffer: &mut ryu::Buffer) {
        let mut ours = String::new();
        push_shortest(&mut ours, x, buffer);
        assert_eq!(ours, format!("{x}"), "bits {:#010x}", x.to_bits());
    }

    /// The same text as `{}` for the edges (zeros, subnormals, the extremes, powers of
    /// ten, integers, NaN and infinities, a tie) and for a million random bit patterns.
    /// (Run once over all 2³² bit patterns, in four minutes on two threads in release: the
    /// same text for every one. Without the test for ties, real embeddings differed.)
    #[test]
    fn numbers_read_as_the_standard_library_writes_them() {
        let mut buffer = ryu::Buffer::new();
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.5,
            10.0,
            100.0,
            1e7,
            1e8,
            1e15,
            1e16,
            1e20,
            1e-5,
            1e-6,
            1e-7,
            1e-30,
            123_456_790.0,
            16_777_216.0,
            0.000_123,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            f32::EPSILON,
            f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            // Exactly halfway between two shortest texts: 1765629.25, which `ryu` writes
            // as 1765629.2 and `{}` as 1765629.3.
            f32::from_bits(0x49d7_87ea),
        ];
        for x in edges {
            both(x, &mut buffer);
        }
        for power in -45..39 {
            both(10f32.powi(power), &mut buffer);
        }
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            both(f32::from_bits((state >> 32) as u32), &mut buffer);
        }
    }
}
