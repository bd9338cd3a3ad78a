//! The portable kernel, for CPUs without AVX2 (`NNC_CPU=generic`) and for every other
//! architecture: plain Rust over blocks of 4 rows × 8 columns whose accumulators the
//! compiler keeps in registers and vectorises with the target's baseline vectors (two
//! SSE2 `xmm` per row on x86-64; on aarch64 NEON, which is baseline there, the same). A
//! NEON kernel written with intrinsics, like `avx2.rs`, would slot in beside this one.

use super::Operands;

/// Columns per block: two 4-lane vectors.
const LANES: usize = 8;

/// Column blocks of 8, each over every row, 4 rows at a time.
///
/// # Safety
/// `b` is B with unit column stride and row stride `b_rows`; the operands' pointers cover
/// their matrices.
pub(super) unsafe fn product(o: &Operands, b: *const f32, b_rows: isize) {
    let mut j = 0;
    while j < o.n {
        let width = (o.n - j).min(LANES);
        let mut i = 0;
        while i + 4 <= o.m {
            // SAFETY: rows i..i + 4 and columns j..j + width lie in the matrices.
            unsafe { tile::<4>(o, b, b_rows, i, j, width) };
            i += 4;
        }
        // SAFETY: as above, for the last rows.
        unsafe {
            match o.m - i {
                0 => {}
                1 => tile::<1>(o, b, b_rows, i, j, width),
                2 => tile::<2>(o, b, b_rows, i, j, width),
                _ => tile::<3>(o, b, b_rows, i, j, width),
            }
        }
        j += width;
    }
}

/// Rows `i..i + R`, columns `j..j + width` of C.
///
/// # Safety
/// As [`product`].
unsafe fn tile<const R: usize>(o: &Operands, b: *const f32, b_rows: isize, i: usize, j: usize, width: usize) {
    let mut acc = [[0.0f32; LANES]; R];
    // SAFETY: every address below is an element of A, B or C inside the caller's block;
    // B and C are read and written only in the block's `width` columns.
    unsafe {
        let a = o.a.offset(i as isize * o.a_rows);
        for p in 0..o.k {
            let row = b.offset(p as isize * b_rows).add(j);
            let mut bv = [0.0f32; LANES];
            if width == LANES {
                bv.copy_from_slice(std::slice::from_raw_parts(row, LANES));
            } else {
                bv[..width].copy_from_slice(std::slice::from_raw_parts(row, width));
            }
            let column = a.offset(p as isize * o.a_columns);
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = *column.offset(r as isize * o.a_rows);
                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                    *acc += x * bv;
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let c = std::slice::from_raw_parts_mut(o.c.add((i + r) * o.ldc + j), width);
            for (c, &acc) in c.iter_mut().zip(acc) {
                *c = if o.read { o.alpha * *c + o.beta * acc } else { o.beta * acc };
            }
        }
        // The finish over the block as stored, while it is still in cache.
        let at = |p: *const f32, offset: usize| if p.is_null() { p } else { p.add(offset) };
        #[rustfmt::skip]
        let block = Operands {
            m: R, n: width, c: o.c.add(i * o.ldc + j), bias: at(o.bias, j), mask: at(o.mask, i * o.ldc + j),
            sums: at(o.sums, j).cast_mut(), ..*o
        };
        super::finish_stored(&block);
    }
}
