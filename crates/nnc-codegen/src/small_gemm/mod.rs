//! Small matrix products without packing, by a kernel for each class of CPU: AVX-512
//! (`avx512.rs`), AVX2 + FMA (`avx2.rs`), baseline x86-64 (`sse2.rs`) and plain Rust for
//! other architectures (`portable.rs`), chosen by `crate::cpu::class()` (so `NNC_CPU`
//! forces any of them).
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

use std::cell::RefCell;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx2_dot;
#[cfg(target_arch = "x86_64")]
mod avx2_narrow;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;
#[cfg(target_arch = "x86_64")]
mod sse2;

#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::store_first;

/// Blocks of products (the share of one thread) with at most this many multiply-adds (and
/// whose transposed right operand fits [`SCRATCH_MAX`]) run here on AVX-512. Measured
/// against `gemm` (medians of interleaved runs) on a Zen 5: W2 13.8 → 11.4 µs per step,
/// the width-16 sweep network 42 → 31 µs, equal at W3's size. On a Xeon (Sapphire Rapids
/// class), `gemm` is 5–10 % faster from 2²¹ up (`cargo bench -p nnc-bench --bench products
/// -- crossover`), and the limit was 2²⁴, exactly W3's 128×256×512 block: lowered to 2²²,
/// W3 trained in 371 instead of 418 ms, the width-512 sweep network 118 instead of 128
/// and W5 at 28×28 460 instead of 493 (7 interleaved runs, medians); W2, whose blocks are
/// at most 2¹⁸, and W5 unchanged. Between 2²² and 2²⁴ the Zen 5 measured both kernels
/// equal, so the lower limit costs it nothing.
pub(crate) const SMALL_MAX_MACS: usize = 1 << 22;

/// A kernel for one class of CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain Rust, any architecture (off x86-64 the only one, until a NEON kernel).
    Portable,
    /// Baseline x86-64.
    Sse2,
    Avx2,
    Avx512,
}

impl Kernel {
    /// The kernel of the class code is generated for.
    fn chosen() -> Kernel {
        match crate::cpu::class() {
            crate::cpu::CpuClass::Generic if cfg!(target_arch = "x86_64") => Kernel::Sse2,
            crate::cpu::CpuClass::Generic => Kernel::Portable,
            crate::cpu::CpuClass::Avx2 => Kernel::Avx2,
            crate::cpu::CpuClass::Avx512 => Kernel::Avx512,
        }
    }

    /// Whether this CPU has the kernel's instructions.
    fn runs_here(self) -> bool {
        let needs = match self {
            Kernel::Portable | Kernel::Sse2 => crate::cpu::CpuClass::Generic,
            Kernel::Avx2 => crate::cpu::CpuClass::Avx2,
            Kernel::Avx512 => crate::cpu::CpuClass::Avx512,
        };
        crate::cpu::host_class() >= needs
    }

    /// The largest block (multiply-adds) this kernel takes; larger ones go to a library.
    fn max_macs(self) -> usize {
        match self {
            Kernel::Avx512 => SMALL_MAX_MACS,
            Kernel::Avx2 => AVX2_MAX_MACS,
            Kernel::Portable | Kernel::Sse2 => PORTABLE_MAX_MACS,
        }
    }
}

/// The AVX2 kernel's largest block. Against `gemm` limited to AVX2 (as on a CPU without
/// AVX-512; `cargo bench -p nnc-bench --no-default-features --bench products -- crossover`,
/// one thread, medians): 158.6 against 159.1 µs at 2²³ (128×256×256), 320.7 against 304.3
/// at 2²⁴ and 1,620 against 1,309 at 2²⁶: from 2²⁴ the library's packing pays.
const AVX2_MAX_MACS: usize = 1 << 23;

/// The SSE2 and portable kernels' largest block. They run at about a third of the vector
/// kernels' rate (17–19 G multiply-adds a second from 2¹⁸ to 2²⁶ in the `crossover`
/// group, against 50–57), so beyond small blocks the library, with whatever kernels the
/// CPU has, is the better bet; a library limited to SSE2 cannot be forced on this machine,
/// so this limit is not measured against one.
const PORTABLE_MAX_MACS: usize = 1 << 18;

/// Elements of a transposed right operand copied to the per-thread buffer, at most.
const SCRATCH_MAX: usize = 1 << 16;

/// `C = alpha·C + beta·A·B` (C not read unless `read`), then, when given, `bias[j]` added
/// to every row, `x > 0 ? x : 0` (a ReLU) applied and each element multiplied by
/// `mask[i, j] > 0`, before C is stored; then, when given, each column of C added to
/// `sums[j]` in row order. Strides in elements; C and the mask row-major with row stride
/// `ldc`.
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
    /// `n` values, or null for none.
    pub bias: *const f32,
    pub relu: bool,
    /// `m` rows of `n`, or null for none.
    pub mask: *const f32,
    /// `n` values, or null for none.
    pub sums: *mut f32,
}

impl Operands {
    /// Whether anything follows `alpha·C + beta·A·B`.
    fn finishes(&self) -> bool {
        !self.bias.is_null() || self.relu || !self.mask.is_null() || !self.sums.is_null()
    }
}

/// The finish of one element in plain Rust: `out + bias`, then `x > 0 ? x : 0` for a ReLU
/// (as the interpreter's max: a NaN gives 0), then `x · (mask > 0)` (as the interpreter's
/// `mul` of a `cmp_gt`: 0 or x, and NaN for an infinite or NaN x).
fn finish(out: f32, bias: Option<f32>, relu: bool, mask: Option<f32>) -> f32 {
    let out = bias.map_or(out, |b| out + b);
    let out = match relu {
        true if out > 0.0 => out,
        true => 0.0,
        false => out,
    };
    mask.map_or(out, |m| out * if m > 0.0 { 1.0 } else { 0.0 })
}

/// Applies the finish (bias, ReLU, mask, column sums) to C as stored, row by row: for a
/// block computed by a library, and by the portable kernel.
///
/// # Safety
/// The operands' C, bias, mask and sums pointers must cover what their shapes describe.
pub(crate) unsafe fn finish_stored(o: &Operands) {
    if !o.finishes() {
        return;
    }
    // SAFETY: rows of C and the mask are `n` long at stride `ldc`; bias and sums are `n`.
    unsafe {
        let bias = (!o.bias.is_null()).then(|| std::slice::from_raw_parts(o.bias, o.n));
        let mut sums = (!o.sums.is_null()).then(|| std::slice::from_raw_parts_mut(o.sums, o.n));
        for row in 0..o.m {
            let c = std::slice::from_raw_parts_mut(o.c.add(row * o.ldc), o.n);
            let mask = (!o.mask.is_null()).then(|| std::slice::from_raw_parts(o.mask.add(row * o.ldc), o.n));
            for (column, c) in c.iter_mut().enumerate() {
                *c = finish(*c, bias.map(|b| b[column]), o.relu, mask.map(|m| m[column]));
            }
            if let Some(sums) = sums.as_deref_mut() {
                for (sum, c) in sums.iter_mut().zip(c.iter()) {
                    *sum += *c;
                }
            }
        }
    }
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
    // SAFETY: forwarded; the chosen kernel's instructions are the host's (`cpu::class`).
    unsafe { try_product_with(Kernel::chosen(), o) }
}

/// [`try_product`] with a given kernel.
///
/// # Safety
/// As [`try_product`], and the CPU must have the kernel's instructions.
unsafe fn try_product_with(kernel: Kernel, o: &Operands) -> bool {
    if o.m * o.n * o.k > kernel.max_macs() || o.m == 0 || o.n == 0 {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    if matches!(kernel, Kernel::Avx2 | Kernel::Avx512) && avx2_narrow::takes(o) {
        // SAFETY: the caller guarantees the matrices and the instructions; A's row stride is 1.
        unsafe { narrow(o) };
        return true;
    }
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx2 && dot_rest(o) > 0 {
        // SAFETY: as above; A's and B's column strides are 1.
        return unsafe { with_dot_rest(kernel, o) };
    }
    if o.b_columns == 1 {
        // SAFETY: the caller guarantees the matrices and the instructions.
        unsafe { product(kernel, o, o.b, o.b_rows) };
        return true;
    }
    if o.b_rows != 1 || o.k * o.n > SCRATCH_MAX {
        return false;
    }
    SCRATCH.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else { return false };
        scratch.resize(o.k * o.n, 0.0);
        // SAFETY: B given transposed is the n × k matrix at b with row stride b_columns.
        unsafe { copy_transposed(kernel, o.b, o.b_columns, (o.n, o.k), &mut scratch) };
        // SAFETY: as above; B is now the row-major copy.
        unsafe { product(kernel, o, scratch.as_ptr(), o.n as isize) };
        true
    })
}

/// The longest reduction [`try_on_panels`] takes: its panel, 64 columns of it, is then at
/// most 1 MB, half the L2 of the cores it was measured on.
const PANEL_REDUCTION_MAX: usize = 4096;

/// The widest panel: the AVX-512 kernel's column blocks (AVX2's are at most 24).
const PANEL_COLUMNS: usize = 64;

thread_local! {
    /// [`try_on_panels`]'s copy of a few columns of B (kept, and only ever grown: one
    /// allocation per thread, and no refill when a step's products differ in reduction).
    static PANEL: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// A block of any size whose right operand is given transposed (`δ·Wᵀ`), by the vector
/// kernel of the chosen class on row-major copies of a few of B's columns at a time
/// (`avx512::on_panels`, 64 columns; `avx2::on_panels`, 16 or 24), and true; false
/// (computing nothing) on the other classes or when the reduction is longer than
/// [`PANEL_REDUCTION_MAX`]. The library runs such blocks at half speed on the transposed
/// view with AVX-512, and applies the finish in a second pass over C, bound by its loads
/// of C; before this, on AVX-512 it also packed a row-major copy nnc had just made of the
/// operand. W3's 128×512×512 `δ·W2ᵀ` took 244 µs a step against 273 (AVX-512) and 364
/// against 422 (AVX2), and the 784-w-w-10 networks trained 3–11 % faster from width 512
/// to 4096 on AVX-512 (docs/performance.md, *the twelfth measurement*). A row-major B
/// run the same way lost to the library (W3 4–5 % slower on AVX-512).
///
/// # Safety
/// As [`try_product`].
pub(crate) unsafe fn try_on_panels(o: &Operands) -> bool {
    // SAFETY: forwarded; the chosen kernel runs on this CPU (`cpu::class`).
    unsafe { try_on_panels_with(Kernel::chosen(), o) }
}

/// [`try_on_panels`] when `kernel` is the chosen one.
///
/// # Safety
/// As [`try_on_panels`], and the CPU must have the kernel's instructions.
unsafe fn try_on_panels_with(kernel: Kernel, o: &Operands) -> bool {
    let transposed = o.b_rows == 1 && o.b_columns != 1;
    let vector = matches!(kernel, Kernel::Avx2 | Kernel::Avx512);
    if !vector || !transposed || o.k > PANEL_REDUCTION_MAX || o.m == 0 || o.n == 0 {
        return false;
    }
    PANEL.with(|panel| {
        let Ok(mut panel) = panel.try_borrow_mut() else { return false };
        if panel.len() < o.k * PANEL_COLUMNS {
            panel.resize(o.k * PANEL_COLUMNS, 0.0);
        }
        let layer = !o.bias.is_null() || o.relu;
        let gradient = !o.mask.is_null() || !o.sums.is_null();
        // SAFETY: forwarded from the caller, who guarantees the kernel's instructions.
        unsafe {
            match (layer, gradient) {
                (false, false) => on_panels::<false, false>(kernel, o, &mut panel[..]),
                (true, false) => on_panels::<true, false>(kernel, o, &mut panel[..]),
                (false, true) => on_panels::<false, true>(kernel, o, &mut panel[..]),
                (true, true) => on_panels::<true, true>(kernel, o, &mut panel[..]),
            }
        }
    })
}

/// The vector kernel's `on_panels` with the finish `F`, `G` (as in [`finishing`]); true.
///
/// # Safety
/// As [`try_on_panels_with`], whose conditions hold; `panel` holds at least
/// k · [`PANEL_COLUMNS`] elements.
#[cfg(target_arch = "x86_64")]
unsafe fn on_panels<const F: bool, const G: bool>(kernel: Kernel, o: &Operands, panel: &mut [f32]) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe {
        if kernel == Kernel::Avx512 {
            avx512::on_panels::<F, G>(o, panel);
        } else {
            avx2::on_panels::<F, G>(o, panel);
        }
    }
    true
}

/// No vector kernel off x86-64 ([`try_on_panels`] never gets here).
#[cfg(not(target_arch = "x86_64"))]
unsafe fn on_panels<const F: bool, const G: bool>(_: Kernel, _: &Operands, _: &mut [f32]) -> bool {
    false
}

/// Copies B (k × n), given transposed at `b` (unit row stride, column stride
/// `b_columns`), to `out` row-major (k rows of n).
///
/// # Safety
/// B must lie in the caller's matrix; `out` holds `k · n` elements; the CPU must have
/// the kernel's instructions.
unsafe fn copy_transposed(kernel: Kernel, b: *const f32, b_columns: isize, (n, k): (usize, usize), out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if matches!(kernel, Kernel::Avx2 | Kernel::Avx512) {
        // SAFETY: forwarded from the caller; these kernels' CPUs have AVX2.
        unsafe { avx2::copy_transposed(b, b_columns, (n, k), out) };
        return;
    }
    // Off x86-64 this copy is the only one.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = kernel;
    // Row p of the copy gathers element p of each row of the matrix given transposed.
    // Written in order through an iterator, so the loop has no bounds checks (with them,
    // and written column by column, the copy was 4 % of W2's step on AVX2).
    for (p, row) in out[..k * n].chunks_exact_mut(n).enumerate() {
        // SAFETY: B's element (p, 0) lies in the caller's matrix.
        let first = unsafe { b.add(p) };
        for (j, x) in row.iter_mut().enumerate() {
            // SAFETY: B's element (p, j) lies in the caller's matrix.
            *x = unsafe { *first.offset(j as isize * b_columns) };
        }
    }
}

/// `C = A·B` for row-major `a` (m×k), `b` (k×n) and `c` (m×n) with `kernel`, for
/// benchmarks and tests outside this crate (`cargo bench -p nnc-bench --bench products`).
/// False, computing nothing, when the sizes do not match, the kernel does not take the
/// product, or the CPU lacks the kernel's instructions.
pub fn multiply(kernel: Kernel, dims: (usize, usize, usize), a: &[f32], b: &[f32], c: &mut [f32]) -> bool {
    // SAFETY: `row_major` checked the slices' sizes and the kernel's instructions.
    row_major(kernel, dims, a, b, c).is_some_and(|operands| unsafe { try_product_with(kernel, &operands) })
}

/// `C = Aᵀ·B` for row-major `a` (k×m, so A is m×k), `b` (k×n) and `c` (m×n) with
/// `kernel`, as in a layer's weight gradient: for benchmarks and tests outside this crate.
/// False, computing nothing, as for [`multiply`].
pub fn multiply_left_transposed(
    kernel: Kernel,
    dims: (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) -> bool {
    let m = dims.0;
    let transposed = |o: Operands| Operands { a_rows: 1, a_columns: m as isize, ..o };
    // SAFETY: `row_major` checked the slices' sizes (a has k·m elements either way) and the
    // kernel's instructions; A's element (i, p) is a[p·m + i].
    row_major(kernel, dims, a, b, c).map(transposed).is_some_and(|o| unsafe { try_product_with(kernel, &o) })
}

/// A ReLU layer's input gradient `C = (δ·Wᵀ) · (mask > 0)`, with C's column sums added to
/// `sums` (its bias gradient), for row-major `delta` (m×k), `w` (n×k: B given transposed),
/// `mask` and `c` (m×n) with `kernel`: for benchmarks and tests outside this crate. False,
/// computing nothing, when the sizes do not match or the CPU lacks the kernel's
/// instructions.
#[allow(clippy::too_many_arguments)]
pub fn multiply_input_gradient(
    kernel: Kernel,
    (m, n, k): (usize, usize, usize),
    delta: &[f32],
    w: &[f32],
    mask: &[f32],
    c: &mut [f32],
    sums: &mut [f32],
) -> bool {
    if mask.len() != m * n || sums.len() != n {
        return false;
    }
    // `w` has the k·n elements of B either way.
    let Some(plain) = row_major(kernel, (m, n, k), delta, w, c) else { return false };
    #[rustfmt::skip]
    let o = Operands {
        b_rows: 1, b_columns: k as isize, mask: mask.as_ptr(), sums: sums.as_mut_ptr(), ..plain
    };
    // SAFETY: the sizes were checked: B's element (p, j) is w[j·k + p], and the mask and
    // sums are laid out as C and its row; `row_major` checked the kernel's instructions.
    unsafe { try_product_with(kernel, &o) || try_on_panels_with(kernel, &o) }
}

/// [`multiply`] at any size: for measuring where [`Kernel::max_macs`] belongs against the
/// library (`cargo bench -p nnc-bench --bench products`, the `crossover` group).
pub fn multiply_any_size(kernel: Kernel, dims: (usize, usize, usize), a: &[f32], b: &[f32], c: &mut [f32]) -> bool {
    match row_major(kernel, dims, a, b, c) {
        Some(operands) if operands.m > 0 && operands.n > 0 => {
            // SAFETY: as in `multiply`.
            unsafe { product(kernel, &operands, operands.b, operands.n as isize) };
            true
        }
        _ => false,
    }
}

/// The operands of `C = A·B` over row-major slices, when their sizes are m×k, k×n and m×n
/// and this CPU runs `kernel`.
fn row_major(
    kernel: Kernel,
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) -> Option<Operands> {
    if a.len() != m * k || b.len() != k * n || c.len() != m * n || !kernel.runs_here() {
        return None;
    }
    #[rustfmt::skip]
    let operands = Operands {
        m, n, k, a: a.as_ptr(), a_rows: k as isize, a_columns: 1, b: b.as_ptr(), b_rows: n as isize,
        b_columns: 1, c: c.as_mut_ptr(), ldc: n, read: false, alpha: 0.0, beta: 1.0, bias: std::ptr::null(),
        relu: false, mask: std::ptr::null(), sums: std::ptr::null_mut(),
    };
    Some(operands)
}

/// Runs `kernel` on the product, B read from `b` with unit column stride.
///
/// # Safety
/// As [`try_product_with`].
unsafe fn product(kernel: Kernel, o: &Operands, b: *const f32, b_rows: isize) {
    // The vector kernels compile each finish in only when it is asked for: its checks in
    // the store loop cost the plain products registers (16% more instructions under
    // callgrind), and the mask and sums cost the bias and ReLU twice their time.
    let layer = !o.bias.is_null() || o.relu;
    let gradient = !o.mask.is_null() || !o.sums.is_null();
    // SAFETY: forwarded from the caller.
    unsafe {
        match (layer, gradient) {
            (false, false) => finishing::<false, false>(kernel, o, b, b_rows),
            (true, false) => finishing::<true, false>(kernel, o, b, b_rows),
            (false, true) => finishing::<false, true>(kernel, o, b, b_rows),
            (true, true) => finishing::<true, true>(kernel, o, b, b_rows),
        }
    }
}

/// Runs the AVX2 kernel for a narrow product with a transposed left operand, with each
/// finish compiled in only when it is asked for (as in [`product`]).
///
/// # Safety
/// As [`try_product_with`] for the AVX2 kernel, and [`avx2_narrow::takes`] the product.
#[cfg(target_arch = "x86_64")]
unsafe fn narrow(o: &Operands) {
    let layer = !o.bias.is_null() || o.relu;
    let gradient = !o.mask.is_null() || !o.sums.is_null();
    // SAFETY: forwarded from the caller.
    unsafe {
        match (layer, gradient) {
            (false, false) => avx2_narrow::product::<false, false>(o),
            (true, false) => avx2_narrow::product::<true, false>(o),
            (false, true) => avx2_narrow::product::<false, true>(o),
            (true, true) => avx2_narrow::product::<true, true>(o),
        }
    }
}

/// The columns past C's last whole 8-lane vector that the AVX2 dot kernel takes
/// (`avx2_dot.rs`), or 0: 1 to 3 of them after at least one whole vector, A and B
/// row-major, and a reduction of at least 64, long enough to pay for adding each
/// element's 8 partial sums. On W2's output layer (32×10×128) this is 5,120 FMAs instead
/// of 8,192 on the row kernel alone.
#[cfg(target_arch = "x86_64")]
fn dot_rest(o: &Operands) -> usize {
    let rest = o.n % 8;
    let takes = o.n > 8 && rest <= avx2_dot::WIDTH && o.k >= 64 && o.a_columns == 1 && o.b_columns == 1;
    if takes && rest * o.k <= SCRATCH_MAX { rest } else { 0 }
}

/// A product whose columns up to the last whole vector run on the AVX2 row kernel and
/// whose [`dot_rest`] runs on the dot kernel, from a copy of those columns of B as rows.
/// False, computing nothing, when the per-thread buffer is in use.
///
/// # Safety
/// As [`try_product_with`] for the AVX2 kernel, and [`dot_rest`] is not 0.
#[cfg(target_arch = "x86_64")]
unsafe fn with_dot_rest(kernel: Kernel, o: &Operands) -> bool {
    let rest = dot_rest(o);
    let whole = o.n - rest;
    SCRATCH.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else { return false };
        scratch.resize(rest * o.k, 0.0);
        for (c, row) in scratch.chunks_exact_mut(o.k).enumerate() {
            // SAFETY: B's element (p, whole + c) lies in the caller's matrix.
            let column = unsafe { o.b.add(whole + c) };
            for (p, x) in row.iter_mut().enumerate() {
                // SAFETY: as above.
                *x = unsafe { *column.offset(p as isize * o.b_rows) };
            }
        }
        // Offsets into the finish's rows, which are laid out along C's columns.
        let shifted = |at: *const f32| if at.is_null() { at } else { at.wrapping_add(whole) };
        let left = Operands { n: whole, ..*o };
        #[rustfmt::skip]
        let right = Operands {
            n: rest, b: shifted(o.b), c: o.c.wrapping_add(whole), bias: shifted(o.bias), mask: shifted(o.mask),
            sums: shifted(o.sums) as *mut f32, ..*o
        };
        // SAFETY: the caller guarantees the matrices; the two parts are C's columns
        // 0..whole and whole..n, and the copy holds B's last `rest` columns as rows of k.
        unsafe {
            product(kernel, &left, o.b, o.b_rows);
            finishing_dot(&right, scratch.as_ptr(), o.k as isize);
        }
        true
    })
}

/// [`avx2_dot::product`] with each finish compiled in only when it is asked for.
///
/// # Safety
/// As [`avx2_dot::product`].
#[cfg(target_arch = "x86_64")]
unsafe fn finishing_dot(o: &Operands, bt: *const f32, bt_rows: isize) {
    let layer = !o.bias.is_null() || o.relu;
    let gradient = !o.mask.is_null() || !o.sums.is_null();
    // SAFETY: forwarded from the caller.
    unsafe {
        match (layer, gradient) {
            (false, false) => avx2_dot::product::<false, false>(o, bt, bt_rows),
            (true, false) => avx2_dot::product::<true, false>(o, bt, bt_rows),
            (false, true) => avx2_dot::product::<false, true>(o, bt, bt_rows),
            (true, true) => avx2_dot::product::<true, true>(o, bt, bt_rows),
        }
    }
}

/// Runs `kernel` with the bias and ReLU compiled in when `F`, the mask and sums when `G`.
///
/// # Safety
/// As [`try_product_with`].
unsafe fn finishing<const F: bool, const G: bool>(kernel: Kernel, o: &Operands, b: *const f32, b_rows: isize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::product::<F, G>(o, b, b_rows),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::product::<F, G>(o, b, b_rows),
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => sse2::product::<F, G>(o, b, b_rows),
            _ => portable::product(o, b, b_rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Kernel, Operands, SMALL_MAX_MACS, multiply_input_gradient, try_product, try_product_with};
    use crate::cpu::{CpuClass, host_class};

    /// The kernels this CPU can run; an x86-64 one it cannot is reported as skipped (off
    /// x86-64 those kernels are not built, so nothing is skipped).
    fn runnable() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Portable];
        if !cfg!(target_arch = "x86_64") {
            return kernels;
        }
        kernels.push(Kernel::Sse2);
        for (kernel, class) in [(Kernel::Avx2, CpuClass::Avx2), (Kernel::Avx512, CpuClass::Avx512)] {
            if host_class() >= class {
                kernels.push(kernel);
            } else {
                nnc_testkit::skip(&format!("small_gemm {kernel:?} kernel"), "this CPU lacks its instructions");
            }
        }
        kernels
    }

    /// Every ragged edge of the tiles (rows not a multiple of 6 or 8, 1 to 130 columns,
    /// a reduction of 1), every layout (transposed left, transposed right), both writes
    /// (C = A·B, C = alpha·C + beta·A·B) and every finish (bias, ReLU, mask, column sums),
    /// against an f64 reference.
    #[test]
    fn ragged_products_match_a_reference() {
        for kernel in runnable() {
            ragged_products_match(kernel);
        }
    }

    fn ragged_products_match(kernel: Kernel) {
        const SHAPES: &[(usize, usize, usize)] = &[
            (1, 1, 1),
            (7, 15, 3),
            (9, 16, 1),
            (13, 17, 5),
            (32, 10, 128),
            (5, 63, 9),
            (6, 64, 2),
            (11, 65, 4),
            (3, 130, 7),
            (4, 24, 3),
            (5, 23, 6),
            (9, 25, 2),
            (8, 8, 8),
            // A ragged rest shared with the last full block (AVX2: 6·4 + 4 + 4, 8 + 6 + 6 rows).
            (32, 16, 7),
            (20, 8, 3),
            // Narrow with a transposed left operand (AVX2: column groups 5 + 5, 6 + 6, 6 + 5,
            // 1 and 3; ragged blocks of 5, 8, 9 and 1 rows).
            (21, 10, 5),
            (40, 12, 9),
            (25, 11, 4),
            (16, 1, 3),
            (17, 3, 2),
            // Whole vectors on the row kernel and 1 to 3 columns on the dot kernel (AVX2:
            // whole and ragged vectors of the reduction, ragged blocks of rows; and 32×10×128).
            (7, 9, 70),
            (13, 19, 64),
            (5, 11, 67),
            // The last full block and the rest as one taller tile, or as two (AVX-512, of one
            // vector: 15 rows as one tile, 16 + 9 and 8 + 9; of two: 8 + 12; of three: 6 + 8
            // and 12 + 6 + 5; of four: 6 + 4 + 3).
            (15, 16, 5),
            (25, 16, 3),
            (17, 12, 4),
            (20, 32, 3),
            (14, 48, 2),
            (13, 64, 2),
            (23, 40, 3),
        ];
        // SAFETY (of the call): `products_match` gives operands inside its buffers.
        products_match(SHAPES, false, &format!("{kernel:?}"), &|o| unsafe { try_product_with(kernel, o) });
    }

    /// The vector kernels on panels of a transposed right operand (`try_on_panels`):
    /// ragged rows (not a multiple of 4, 6 or 8), columns around the panels (16 and 24
    /// for AVX2, 64 for AVX-512) and their vectors, short and long reductions, both
    /// layouts of A, every write and finish.
    #[test]
    fn products_on_panels_match_a_reference() {
        const SHAPES: &[(usize, usize, usize)] = &[
            (1, 1, 2),
            (7, 15, 3),
            (6, 16, 70),
            (13, 17, 5),
            (9, 24, 8),
            (10, 25, 6),
            (5, 40, 9),
            (11, 64, 2),
            (8, 65, 33),
            (19, 130, 7),
            (3, 200, 300),
        ];
        for kernel in runnable().into_iter().filter(|k| matches!(k, Kernel::Avx2 | Kernel::Avx512)) {
            // SAFETY (of the call): `products_match` gives operands inside its buffers; the
            // kernel runs here (`runnable`).
            let run = |o: &Operands| unsafe { super::try_on_panels_with(kernel, o) };
            products_match(SHAPES, true, &format!("{kernel:?} on panels"), &run);
        }
    }

    /// Refused: a reduction whose panel would pass 1 MB, a right operand not given
    /// transposed, a kernel without vectors; C is left as it was.
    #[test]
    fn panels_refuse_long_reductions_and_plain_operands() {
        let (m, n, k) = (2, 3, super::PANEL_REDUCTION_MAX + 1);
        let (a, b, mut c) = (vec![1.0f32; m * k], vec![1.0f32; k * n], vec![7.0f32; m * n]);
        #[rustfmt::skip]
        let transposed = Operands {
            m, n, k, a: a.as_ptr(), a_rows: k as isize, a_columns: 1, b: b.as_ptr(), b_rows: 1,
            b_columns: k as isize, c: c.as_mut_ptr(), ldc: n, read: false, alpha: 0.0, beta: 1.0,
            bias: std::ptr::null(), relu: false, mask: std::ptr::null(), sums: std::ptr::null_mut(),
        };
        let plain = Operands { k: 4, b_rows: n as isize, b_columns: 1, ..transposed };
        let short = Operands { k: 4, b_columns: 4, ..transposed };
        for kernel in [Kernel::Avx2, Kernel::Avx512] {
            // SAFETY: the strides describe matrices inside `a`, `b` and `c`; the kernel is
            // refused before its instructions would run.
            assert!(!unsafe { super::try_on_panels_with(kernel, &transposed) });
            // SAFETY: as above.
            assert!(!unsafe { super::try_on_panels_with(kernel, &plain) });
        }
        for kernel in [Kernel::Sse2, Kernel::Portable] {
            // SAFETY: as above; these kernels take no panels.
            assert!(!unsafe { super::try_on_panels_with(kernel, &short) });
        }
        assert!(c.iter().all(|&x| x == 7.0));
    }

    /// Each shape in every layout (only B given transposed when `transposed_b`), both
    /// writes and every finish, by `run`, against an f64 reference; `name` says which.
    fn products_match(
        shapes: &[(usize, usize, usize)],
        transposed_b: bool,
        name: &str,
        run: &dyn Fn(&Operands) -> bool,
    ) {
        for &(m, n, k) in shapes {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
            let layouts = [((k, 1), (n, 1)), ((1, m), (n, 1)), ((k, 1), (1, k)), ((1, m), (1, k))];
            for ((a_rows, a_columns), (b_rows, b_columns)) in layouts {
                if transposed_b && (b_rows, b_columns) != (1, k) {
                    continue;
                }
                // The bias row and the sums have a marker past their n values, which must be
                // neither read nor written.
                let bias: Vec<f32> = (0..n).map(|j| ((j * 3 % 7) as f32 - 3.0) / 4.0).chain([f32::NAN]).collect();
                // The mask, laid out as C, keeps positive elements only (a NaN, 0 and -0 do not).
                let marks = [1.0, -1.0, 0.0, f32::NAN, 0.5, -0.0, 2.0];
                let mask: Vec<f32> = (0..m * (n + 3)).map(|e| marks[e * 5 % 7]).collect();
                #[rustfmt::skip]
                let variants = [
                    (false, 0.0, 1.0, false, false, false, false), (true, 1.0, -0.1, false, false, false, false),
                    (false, 0.0, 1.0, true, false, false, false), (false, 0.0, 1.0, true, true, false, false),
                    (false, 0.0, 1.0, false, true, false, false), (false, 0.0, 1.0, false, false, true, true),
                    (false, 0.0, 1.0, false, false, true, false), (false, 0.0, 1.0, false, false, false, true),
                    (true, 0.5, 2.0, true, true, true, true),
                ];
                for (read, alpha, beta, biased, relu, masked, summed) in variants {
                    // C's rows are 3 longer than the product's: those cells must stay 9.
                    let ldc = n + 3;
                    let mut c: Vec<f32> =
                        (0..m * ldc).map(|e| if e % ldc < n { (e % 3) as f32 } else { 9.0 }).collect();
                    let want: Vec<f64> = (0..m * ldc)
                        .map(|e| {
                            let (i, j) = (e / ldc, e % ldc);
                            if j >= n {
                                return 9.0;
                            }
                            let dot: f64 = (0..k)
                                .map(|p| {
                                    f64::from(a[i * a_rows + p * a_columns]) * f64::from(b[p * b_rows + j * b_columns])
                                })
                                .sum();
                            let old = if read { f64::from(alpha) * f64::from(c[e]) } else { 0.0 };
                            let out = old + f64::from(beta) * dot + if biased { f64::from(bias[j]) } else { 0.0 };
                            let out = if relu && out <= 0.0 { 0.0 } else { out };
                            if masked && mask[e].partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                                0.0
                            } else {
                                out
                            }
                        })
                        .collect();
                    // The sums start at 0.5: the kernel adds to them.
                    let mut sums: Vec<f32> = vec![0.5; n].into_iter().chain([9.0]).collect();
                    let want_sums: Vec<f64> =
                        (0..n).map(|j| 0.5 + (0..m).map(|i| want[i * ldc + j]).sum::<f64>()).chain([9.0]).collect();
                    #[rustfmt::skip]
                    let operands = Operands {
                        m, n, k, a: a.as_ptr(), a_rows: a_rows as isize, a_columns: a_columns as isize,
                        b: b.as_ptr(), b_rows: b_rows as isize, b_columns: b_columns as isize,
                        c: c.as_mut_ptr(), ldc, read, alpha, beta,
                        bias: if biased { bias.as_ptr() } else { std::ptr::null() }, relu,
                        mask: if masked { mask.as_ptr() } else { std::ptr::null() },
                        sums: if summed { sums.as_mut_ptr() } else { std::ptr::null_mut() },
                    };
                    // SAFETY: the strides describe matrices inside `a`, `b`, `c` and `mask`.
                    assert!(run(&operands), "{name} {m}x{n}x{k} was not taken");
                    let case = format!("{name} {m}x{n}x{k} bias {biased} relu {relu} mask {masked}");
                    for (e, (got, want)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (f64::from(*got) - want).abs() <= 1e-5 * (1.0 + want.abs()),
                            "{case} element {e}: {got} vs {want}"
                        );
                    }
                    if summed {
                        for (j, (got, want)) in sums.iter().zip(&want_sums).enumerate() {
                            let close = (f64::from(*got) - want).abs() <= 1e-4 * (1.0 + want.abs());
                            assert!(close, "{case} sum {j}: {got} vs {want}");
                        }
                    } else {
                        assert!(sums.iter().take(n).all(|&s| s == 0.5), "{case}: sums written when not asked");
                    }
                }
            }
        }
    }

    /// The benchmarks' entry for an input gradient computes `(δ·Wᵀ) · (mask > 0)` and adds
    /// its column sums, on W2's shape and a ragged one, against an f64 reference.
    #[test]
    fn the_input_gradient_entry_matches_a_reference() {
        for kernel in runnable().into_iter().filter(|k| matches!(k, Kernel::Avx2 | Kernel::Avx512)) {
            for (m, n, k) in [(32, 128, 10), (7, 21, 3)] {
                let delta: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
                let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
                let mask: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32 - 1.0).collect();
                let (mut c, mut sums) = (vec![0.0; m * n], vec![0.25; n]);
                assert!(multiply_input_gradient(kernel, (m, n, k), &delta, &w, &mask, &mut c, &mut sums));
                let want = |i: usize, j: usize| {
                    let dot: f64 = (0..k).map(|p| f64::from(delta[i * k + p]) * f64::from(w[j * k + p])).sum();
                    if mask[i * n + j] > 0.0 { dot } else { 0.0 }
                };
                for (e, got) in c.iter().enumerate() {
                    assert!((f64::from(*got) - want(e / n, e % n)).abs() < 1e-5, "{kernel:?} {m}x{n}x{k} element {e}");
                }
                for (j, got) in sums.iter().enumerate() {
                    let column: f64 = 0.25 + (0..m).map(|i| want(i, j)).sum::<f64>();
                    assert!((f64::from(*got) - column).abs() < 1e-4, "{kernel:?} {m}x{n}x{k} sum {j}");
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
            b_columns: 1, c: c.as_mut_ptr(), ldc: n, read: false, alpha: 0.0, beta: 1.0, bias: std::ptr::null(),
            relu: false, mask: std::ptr::null(), sums: std::ptr::null_mut(),
        };
        // SAFETY: the strides describe matrices inside `a`, `b` and `c`.
        assert!(!unsafe { try_product(&operands) });
        let strided = Operands { m: 2, n: 2, k: 2, b_rows: 2, b_columns: 3, ..operands };
        // SAFETY: as above.
        assert!(!unsafe { try_product(&strided) });
        assert!(c.iter().all(|&x| x == 7.0));
    }
}
