//! Matrix products too large for register tiles: generated code calls [`nnc_gemm`], which
//! runs blocks of the product, one per thread of a persistent pool, each in
//! [`crate::small_gemm`] (the kernel for the CPU class, no packing) when it is small
//! enough, else in the `gemm` crate (rustc-compiled, packing). A product whose right
//! operand is a transposed view (`δ·Wᵀ`, the gradient of a layer's input) runs at half
//! speed in `gemm`'s AVX-512 kernels once it is large, and its AVX2 kernels apply the
//! finish in a second pass over C, so nnc's vector kernels take it at any size, on
//! row-major copies of a few of its columns at a time
//! ([`crate::small_gemm::try_on_panels`]). A
//! product is split along its larger side (rows, or columns), so
//! each thread packs only its share of the operand it splits, or, when the compiler asks
//! for it, into halves of its reduction summed apart and then added ([`run_in_halves`]:
//! each thread reads only the rows of a batch it copied itself). Each thread computes its
//! block in the same order every time, so results are the same from run to run for a
//! fixed thread count, and the same whether or not the helper is free: when another
//! caller holds it, this thread computes the same blocks in turn.
//!
//! The same helper runs the second half of a large loop kernel ([`nnc_parallel_loop`],
//! `crate::parallel`).
//!
//! Helper threads spin for a while before sleeping after a job, because the next product
//! of a training step usually follows within microseconds; waking a sleeping thread costs
//! more than that. A caller that finishes its block before a helper has started the one
//! posted to it takes that block back and computes it itself: on a busy machine, where the
//! helper may not get a core for milliseconds, a product then costs at most what it costs
//! on one thread.

use crate::small_gemm::{Operands, try_on_panels, try_product};
use std::cell::{RefCell, UnsafeCell};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::{self, Thread};

/// At most this many threads work on one product.
pub const MAX_THREADS: usize = 2;

/// Spin iterations (about 100 µs) before a waiting thread sleeps.
const SPIN: u32 = 1 << 16;

/// One product: `C = alpha·C + beta·A·B` (C not read when `read` is false), then the
/// optional bias row, ReLU, mask and column sums (see [`Operands`]); strides in elements,
/// `C` and the mask row-major with row stride `n`.
#[derive(Clone, Copy)]
struct Product {
    read: bool,
    alpha: f32,
    beta: f32,
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    a_rows: isize,
    a_columns: isize,
    b: *const f32,
    b_rows: isize,
    b_columns: isize,
    c: *mut f32,
    bias: *const f32,
    relu: bool,
    mask: *const f32,
    sums: *mut f32,
    /// Each finished row's softmax, or none.
    softmax: Option<SoftmaxInto>,
}

/// Where each row's softmax goes (`nnc_kernels::Softmax`): its maximum and sum (one per
/// row) and its exponentials (laid out as C).
#[derive(Clone, Copy)]
struct SoftmaxInto {
    max: *mut f32,
    exps: *mut f32,
    total: *mut f32,
}

/// The part of a product one thread computes.
#[derive(Clone, Copy)]
struct Block {
    product: Product,
    rows: (usize, usize),
    columns: (usize, usize),
}

// SAFETY: a block is handed to a worker only while the caller waits for it to finish,
// and the blocks of one product write disjoint parts of C.
unsafe impl Send for Block {}

/// A compiled loop kernel over points `start..end` of its first axis, with the addresses
/// of its buffers in `env` (see `crate::parallel`).
#[derive(Clone, Copy)]
struct LoopPart {
    kernel: LoopKernel,
    env: i64,
    start: i64,
    end: i64,
}

/// A loop kernel compiled as a function of its environment and a range of its first axis.
pub(crate) type LoopKernel = unsafe extern "C" fn(i64, i64, i64);

/// What a helper thread is given to run.
#[derive(Clone, Copy)]
enum Job {
    Product(Block),
    Loop(LoopPart),
}

impl Job {
    /// # Safety
    /// As [`Block::run`] for a product; for a loop, `env` must hold its kernel's
    /// addresses, and the kernel's parts must write disjoint elements.
    unsafe fn run(&self) {
        match self {
            // SAFETY: forwarded from the caller.
            Job::Product(block) => unsafe { block.run() },
            // SAFETY: the kernel is generated code for this environment, and the parts
            // of its first axis write disjoint elements (`crate::parallel::split`).
            Job::Loop(part) => unsafe { (part.kernel)(part.env, part.start, part.end) },
        }
    }
}

impl Product {
    /// Whether the product is only `C = alpha·C + beta·A·B`: no bias, ReLU, mask, sums or
    /// softmax, each of which needs the whole reduction first.
    fn has_no_finish(&self) -> bool {
        self.bias.is_null() && !self.relu && self.mask.is_null() && self.sums.is_null() && self.softmax.is_none()
    }
}

impl Block {
    /// # Safety
    /// The product's pointers must cover the matrices their strides describe.
    unsafe fn run(&self) {
        #[cfg(test)]
        if tests::PANIC_IN_BLOCKS.load(Ordering::SeqCst) == self.product.a as usize {
            panic!("a block panicked (injected)");
        }
        let p = &self.product;
        let ((r0, r1), (c0, c1)) = (self.rows, self.columns);
        if r0 >= r1 || c0 >= c1 {
            return;
        }
        // SAFETY: rows r0..r1 of A, columns c0..c1 of B and that block of C lie inside the
        // caller's buffers.
        unsafe {
            let a = p.a.offset(r0 as isize * p.a_rows);
            let b = p.b.offset(c0 as isize * p.b_columns);
            let c = p.c.add(r0 * p.n + c0);
            let (m, n) = (r1 - r0, c1 - c0);
            // The bias row and the sums start at the block's first column, the mask at its
            // corner (laid out as C).
            let bias = if p.bias.is_null() { p.bias } else { p.bias.add(c0) };
            let mask = if p.mask.is_null() { p.mask } else { p.mask.add(r0 * p.n + c0) };
            let sums = if p.sums.is_null() { p.sums } else { p.sums.add(c0) };
            #[rustfmt::skip]
            let small = Operands {
                m, n, k: p.k, a, a_rows: p.a_rows, a_columns: p.a_columns, b, b_rows: p.b_rows,
                b_columns: p.b_columns, c, ldc: p.n, read: p.read, alpha: p.alpha, beta: p.beta, bias, relu: p.relu,
                mask, sums,
            };
            if !try_product(&small) && !try_on_panels(&small) {
                self.library(a, b, c, (m, n));
                crate::small_gemm::finish_stored(&small);
            }
            if let Some(into) = p.softmax {
                // A product with a softmax is split along rows (`split`): the block's rows are whole.
                debug_assert!(c0 == 0 && c1 == p.n);
                #[rustfmt::skip]
                let rows = crate::softmax::Rows {
                    c, ldc: p.n, m, n, max: into.max.add(r0), exps: into.exps.add(r0 * p.n), total: into.total.add(r0),
                };
                crate::softmax::softmax_rows(&rows);
            }
        }
    }

    /// The block by the GEMM library (no bias or ReLU).
    ///
    /// # Safety
    /// As [`Block::run`]; `a`, `b` and `c` point at the block's corner.
    unsafe fn library(&self, a: *const f32, b: *const f32, c: *mut f32, (m, n): (usize, usize)) {
        let p = &self.product;
        // SAFETY: forwarded from the caller.
        unsafe {
            #[rustfmt::skip]
            gemm::gemm(
                m, n, p.k, c, 1, p.n as isize, p.read, a, p.a_columns, p.a_rows, b, p.b_columns, p.b_rows,
                p.alpha, p.beta, false, false, false, gemm::Parallelism::None,
            );
        }
    }
}

/// Called by generated code: `C = A·B`, or `C = alpha·C + beta·A·B` when `read` is 1,
/// with the given strides on up to `threads` threads (each summing half of the reduction
/// when `halves` is 1 and nothing below follows); then `bias` (a row of `n`, or
/// null) added to every row, a ReLU applied when `relu` is 1, each element multiplied by
/// `mask[i, j] > 0` (a matrix laid out as C, or null), and the columns summed into `sums`
/// (`n` values, or null); then, when `max` is not null, each row's softmax (maximum into
/// `max`, exponentials into `exps`, laid out as C, and their sum into `total`).
///
/// # Safety
/// The pointers must point to matrices of the given shapes and strides; the kernel
/// verifier proves that for every product the compiler emits.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn nnc_gemm(
    m: i64,
    n: i64,
    k: i64,
    a: *const f32,
    a_rows: i64,
    a_columns: i64,
    b: *const f32,
    b_rows: i64,
    b_columns: i64,
    c: *mut f32,
    threads: i64,
    halves: i64,
    read: i64,
    alpha: f32,
    beta: f32,
    bias: *const f32,
    relu: i64,
    mask: *const f32,
    sums: *mut f32,
    max: *mut f32,
    exps: *mut f32,
    total: *mut f32,
) {
    let product = Product {
        read: read != 0,
        alpha,
        beta,
        m: m as usize,
        n: n as usize,
        k: k as usize,
        a,
        a_rows: a_rows as isize,
        a_columns: a_columns as isize,
        b,
        b_rows: b_rows as isize,
        b_columns: b_columns as isize,
        c,
        bias,
        relu: relu != 0,
        mask,
        sums,
        softmax: (!max.is_null()).then_some(SoftmaxInto { max, exps, total }),
    };
    if !sums.is_null() {
        // SAFETY: the caller guarantees `n` sums.
        unsafe { std::slice::from_raw_parts_mut(sums, product.n) }.fill(0.0);
    }
    let whole = Block { product, rows: (0, product.m), columns: (0, product.n) };
    let threads = threads.max(1) as usize;
    // SAFETY: the caller guarantees the matrices.
    let outcome = if threads > 1 && halves != 0 && product.k >= 2 && product.has_no_finish() {
        unsafe { run_in_halves(whole) }
    } else {
        unsafe { run_product(whole, threads) }
    };
    if let Err(message) = outcome {
        // Generated code cannot unwind, and a product left half done must not be used.
        eprintln!("nnc: internal error: a matrix product failed: {message}; please report this bug");
        std::process::abort();
    }
}

/// Runs a product in up to `threads` blocks; a panic in any block (on this thread or a
/// helper) is caught and returned, never left for the other thread to wait on.
///
/// # Safety
/// As [`nnc_gemm`].
unsafe fn run_product(whole: Block, threads: usize) -> Result<(), String> {
    let (blocks, count) = split(whole, threads);
    let jobs = blocks.map(Job::Product);
    // SAFETY: the caller guarantees the matrices; the blocks write disjoint parts of C.
    unsafe { run_parts(&jobs[..count]) }
}

/// Runs a product on two threads that each sum half of its reduction, the first into C
/// (with C's `alpha` and the product's `beta`) and the second into a scratch matrix this
/// thread keeps, then adds `beta` times the scratch to C. Each thread then reads only its
/// own half of a batch whose rows the two threads wrote half each (`nnc_kernels`'
/// `threads.rs` asks for this only when C is under half that operand).
///
/// # Safety
/// As [`nnc_gemm`]; the product has no finish (`Product::has_no_finish`).
unsafe fn run_in_halves(whole: Block) -> Result<(), String> {
    thread_local! {
        /// Grown once to the largest C, then kept: a training step allocates nothing.
        static SECOND_HALF: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    }
    let p = whole.product;
    let half = p.k / 2;
    SECOND_HALF.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < p.m * p.n {
            scratch.resize(p.m * p.n, 0.0);
        }
        // SAFETY: the first `half` columns of A and rows of B, and the rest, lie inside
        // the caller's operands; the scratch holds an m × n matrix.
        let (a, b) = unsafe { (p.a.offset(half as isize * p.a_columns), p.b.offset(half as isize * p.b_rows)) };
        let first = Block { product: Product { k: half, ..p }, ..whole };
        #[rustfmt::skip]
        let second = Block {
            product: Product { k: p.k - half, a, b, c: scratch.as_mut_ptr(), read: false, alpha: 0.0, beta: 1.0, ..p },
            ..whole
        };
        // SAFETY: the two blocks write C and the scratch, which do not overlap.
        unsafe { run_parts(&[Job::Product(first), Job::Product(second)]) }?;
        // SAFETY: the caller guarantees C, m × n with row stride n.
        let c = unsafe { std::slice::from_raw_parts_mut(p.c, p.m * p.n) };
        for (c, second) in c.iter_mut().zip(scratch.iter()) {
            *c += p.beta * second;
        }
        Ok(())
    })
}

/// Runs a compiled loop kernel over `0..count` of its first axis in two halves, the
/// second on the helper thread when there is one and it is free. Generated code calls it
/// for the large loop kernels of a training step (`crate::parallel`).
///
/// # Safety
/// `kernel` must be a loop kernel compiled for `env`, which stays valid until this returns
/// (the caller's stack frame), and its parts along the first axis must write disjoint
/// elements.
pub(crate) unsafe extern "C" fn nnc_parallel_loop(kernel: LoopKernel, env: i64, count: i64) {
    let half = count / 2;
    let parts = [(0, half), (half, count)].map(|(start, end)| Job::Loop(LoopPart { kernel, env, start, end }));
    // SAFETY: as the caller guarantees; the two halves write disjoint elements.
    if let Err(message) = unsafe { run_parts(&parts) } {
        // Generated code does not unwind; this is here for the pool's contract.
        eprintln!("nnc: internal error: a loop kernel failed: {message}; please report this bug");
        std::process::abort();
    }
}

/// Runs `jobs` (at most [`MAX_THREADS`]): all but the first on the helpers when they are
/// free, else every one on this thread in turn. The parts are the same either way, so
/// a result does not depend on whether another caller (a second training run in this
/// process) holds the helpers. A panic in any part is caught and returned.
///
/// # Safety
/// Each job's memory must stay valid until this returns, and the jobs must write
/// disjoint elements.
unsafe fn run_parts(jobs: &[Job]) -> Result<(), String> {
    // SAFETY (of each `run` below): forwarded from the caller.
    let caught = |job: &Job| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { job.run() }))
            .map_err(|panic| crate::jit::panic_message(&*panic))
    };
    let Some((first, posted)) = jobs.split_first() else { return Ok(()) };
    let helped = !posted.is_empty()
        && pool().len() >= posted.len()
        && BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok();
    if !helped {
        return jobs.iter().map(caught).fold(Ok(()), Result::and);
    }
    for (worker, job) in pool().iter().zip(posted) {
        worker.post(*job);
    }
    let mut outcome = caught(first);
    for (worker, job) in pool().iter().zip(posted) {
        let part = if worker.take_back() { caught(job) } else { worker.wait() };
        outcome = outcome.and(part);
    }
    BUSY.store(false, Ordering::Release);
    outcome
}

/// Whether some caller is using the helpers.
static BUSY: AtomicBool = AtomicBool::new(false);

/// `parts` (at most [`MAX_THREADS`]) blocks along the product's larger side (its columns
/// when it sums them, so that each sum has one writer adding rows in order; its rows when
/// it has a softmax, which needs whole rows), and how many there are: an array, so that a
/// product allocates nothing here. `nnc_kernels`' `threads.rs` predicts which products
/// this splits by rows: the two rules change together.
fn split(whole: Block, parts: usize) -> ([Block; MAX_THREADS], usize) {
    let parts = parts.clamp(1, MAX_THREADS);
    let (m, n) = (whole.product.m, whole.product.n);
    let along_rows = (m >= n || whole.product.softmax.is_some()) && whole.product.sums.is_null();
    let length = if along_rows { m } else { n };
    let per = length.div_ceil(parts);
    let blocks = std::array::from_fn(|index| {
        let range = ((index * per).min(length), ((index + 1) * per).min(length));
        if along_rows { Block { rows: range, ..whole } } else { Block { columns: range, ..whole } }
    });
    (blocks, parts)
}

const IDLE: u32 = 0;
const POSTED: u32 = 1;
const RUNNING: u32 = 2;
const DONE: u32 = 3;
/// The block panicked; `failure` holds the message.
const FAILED: u32 = 4;

/// A persistent helper thread that runs one block at a time.
struct Worker {
    job: UnsafeCell<Option<Job>>,
    state: AtomicU32,
    thread: OnceLock<Thread>,
    caller: UnsafeCell<Option<Thread>>,
    failure: UnsafeCell<Option<String>>,
}

// SAFETY: `job` and `caller` are written by the posting thread only while the state is
// IDLE (the worker does not read them), and read by the worker only after it moved the
// state from POSTED to RUNNING; a caller that takes a job back (POSTED to IDLE) runs its
// own copy. `failure` is written by the worker before it publishes FAILED (release)
// and read by the caller after it sees FAILED (acquire).
unsafe impl Sync for Worker {}

impl Worker {
    fn post(&self, job: Job) {
        // SAFETY: the worker is idle (every post is followed by a wait before the next).
        unsafe {
            *self.job.get() = Some(job);
            *self.caller.get() = Some(thread::current());
        }
        self.state.store(POSTED, Ordering::Release);
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    /// Withdraws the posted block if the worker has not started it.
    fn take_back(&self) -> bool {
        self.state.compare_exchange(POSTED, IDLE, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// Waits until the posted block is done, or has failed (its panic's message).
    fn wait(&self) -> Result<(), String> {
        let mut spins = 0;
        let outcome = loop {
            match self.state.load(Ordering::Acquire) {
                DONE => break Ok(()),
                // SAFETY: the worker wrote `failure` before publishing FAILED.
                FAILED => break Err(unsafe { (*self.failure.get()).take() }.unwrap_or_default()),
                _ if spins < SPIN => {
                    spins += 1;
                    std::hint::spin_loop();
                }
                _ => thread::park(),
            }
        };
        self.state.store(IDLE, Ordering::Relaxed);
        outcome
    }

    fn serve(&self) {
        let mut spins = 0;
        loop {
            let claimed = self.state.compare_exchange(POSTED, RUNNING, Ordering::Acquire, Ordering::Relaxed);
            if claimed.is_err() {
                if spins < SPIN {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    thread::park();
                }
                continue;
            }
            spins = 0;
            // SAFETY: the worker claimed a POSTED block: the caller wrote `block` and
            // `caller`, and waits for DONE.
            let (job, caller) = unsafe { ((*self.job.get()).take(), (*self.caller.get()).take()) };
            // A panic is caught and handed to the caller: it must never wait for a block
            // that will not finish, and this thread stays to serve the next product.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Some(job) = job {
                    // As on the calling thread, which runs the other half.
                    let _flush = crate::denormals::FlushDenormals::on();
                    // SAFETY: the caller guarantees the job's memory and waits for DONE.
                    unsafe { job.run() };
                }
            }));
            let state = match outcome {
                Ok(()) => DONE,
                Err(panic) => {
                    // SAFETY: the caller reads `failure` only after it sees FAILED.
                    unsafe { *self.failure.get() = Some(crate::jit::panic_message(&*panic)) };
                    FAILED
                }
            };
            self.state.store(state, Ordering::Release);
            if let Some(caller) = caller {
                caller.unpark();
            }
        }
    }
}

/// One helper per extra core (up to [`MAX_THREADS`] in all), started on first use.
fn pool() -> &'static [&'static Worker] {
    static POOL: OnceLock<Vec<&'static Worker>> = OnceLock::new();
    POOL.get_or_init(|| (1..crate::cpu::threads()).filter_map(spawn).collect())
}

fn spawn(index: usize) -> Option<&'static Worker> {
    // The pool lives as long as the process.
    let worker: &'static Worker = Box::leak(Box::new(Worker {
        job: UnsafeCell::new(None),
        state: AtomicU32::new(IDLE),
        thread: OnceLock::new(),
        caller: UnsafeCell::new(None),
        failure: UnsafeCell::new(None),
    }));
    let handle = thread::Builder::new().name(format!("nnc-gemm-{index}")).spawn(move || worker.serve()).ok()?;
    let _ = worker.thread.set(handle.thread().clone());
    Some(worker)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{BUSY, Block, Product, nnc_gemm, pool, run_in_halves, run_product};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Makes every block of the product whose A starts at this address panic (the pool
    /// test sets it to its own product's A, so that products of tests running beside it,
    /// whose panics would abort the process, are untouched).
    pub(crate) static PANIC_IN_BLOCKS: AtomicUsize = AtomicUsize::new(0);
    /// Tests that run products take turns: one of them makes products panic.
    static PRODUCTS: Mutex<()> = Mutex::new(());

    /// `C = alpha·C + beta·A·B` (C ignored when not `read`), in f64.
    #[allow(clippy::too_many_arguments)]
    fn reference(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        a_strides: (usize, usize),
        b: &[f32],
        b_strides: (usize, usize),
        c: &[f32],
        read: bool,
        alpha: f32,
        beta: f32,
        finish: (Option<&[f32]>, bool, Option<&[f32]>),
    ) -> Vec<f32> {
        let mut out = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let dot: f64 = (0..k)
                    .map(|p| {
                        f64::from(a[i * a_strides.0 + p * a_strides.1])
                            * f64::from(b[p * b_strides.0 + j * b_strides.1])
                    })
                    .sum();
                let old = if read { f64::from(alpha) * f64::from(c[i * n + j]) } else { 0.0 };
                let value = old + f64::from(beta) * dot + finish.0.map_or(0.0, |b| f64::from(b[j]));
                let value = if finish.1 && value <= 0.0 { 0.0 } else { value };
                let kept = finish.2.is_none_or(|mask| mask[i * n + j] > 0.0);
                out[i * n + j] = if kept { value as f32 } else { 0.0 };
            }
        }
        out
    }

    /// Every layout the compiler emits (plain, transposed left, transposed right) on both
    /// libraries (small and large transposed right operands, and past the small kernel's
    /// size), with and without reading C, with and without a bias row and ReLU or a mask
    /// and column sums, or a bias and the rows' softmax, on one thread and two (the sums
    /// split by columns even when the product has more rows, the softmax by rows even when
    /// it has more columns), and on two threads summing halves of the reduction.
    #[test]
    fn products_match_a_reference_in_every_layout() {
        let _turn = PRODUCTS.lock().unwrap_or_else(|p| p.into_inner());
        for (m, n, k) in [(5, 7, 3), (32, 128, 10), (96, 80, 72), (130, 70, 66), (260, 258, 256)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
            let bias: Vec<f32> = (0..n).map(|j| ((j * 3 % 7) as f32 - 3.0) / 4.0).collect();
            let mask: Vec<f32> = (0..m * n).map(|e| [1.0, 0.0, -2.0, f32::NAN, 0.25][e * 3 % 5]).collect();
            let (bias, mask) = (Some(bias.as_slice()), Some(mask.as_slice()));
            let layouts = [((k, 1), (n, 1)), ((1, m), (n, 1)), ((k, 1), (1, k))];
            for (a_strides, b_strides) in layouts {
                #[rustfmt::skip]
                let variants = [
                    (false, 0.0, 1.0, 1, None, false, None), (true, 0.5, -0.25, 2, None, false, None),
                    (false, 0.0, 1.0, 2, None, false, None), (false, 0.0, 1.0, 2, bias, true, None),
                    (false, 0.0, 1.0, 1, bias, false, None), (false, 0.0, 1.0, 1, None, true, None),
                    (false, 0.0, 1.0, 1, None, false, mask), (false, 0.0, 1.0, 2, None, false, mask),
                    (false, 0.0, 1.0, 2, bias, true, mask), (false, 0.0, 1.0, 2, bias, false, None),
                ];
                // Asking for halves of the reduction changes only the products without a finish.
                let with_halves = variants.iter().filter(|v| v.3 == 2).map(|&v| (v, 1));
                for ((read, alpha, beta, threads, bias, relu, mask), halves) in
                    variants.map(|v| (v, 0)).into_iter().chain(with_halves)
                {
                    let mut c: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
                    // The sums come with the mask (as a ReLU layer's gradient has them); they
                    // start as a marker the product must overwrite.
                    let mut sums = vec![f32::NAN; n];
                    // A bias alone comes with the rows' softmax (as a classifier's logits do).
                    let softmax = bias.is_some() && !relu && mask.is_none() && !read;
                    let (mut max, mut exps, mut total) = (vec![f32::NAN; m], vec![f32::NAN; m * n], vec![f32::NAN; m]);
                    let into = |v: &mut Vec<f32>| if softmax { v.as_mut_ptr() } else { std::ptr::null_mut() };
                    let finish = (bias, relu, mask);
                    let want = reference(m, n, k, &a, a_strides, &b, b_strides, &c, read, alpha, beta, finish);
                    // SAFETY: the strides describe matrices inside `a`, `b` and `c`.
                    unsafe {
                        nnc_gemm(
                            m as i64,
                            n as i64,
                            k as i64,
                            a.as_ptr(),
                            a_strides.0 as i64,
                            a_strides.1 as i64,
                            b.as_ptr(),
                            b_strides.0 as i64,
                            b_strides.1 as i64,
                            c.as_mut_ptr(),
                            threads,
                            halves,
                            i64::from(read),
                            alpha,
                            beta,
                            bias.map_or(std::ptr::null(), <[f32]>::as_ptr),
                            i64::from(relu),
                            mask.map_or(std::ptr::null(), <[f32]>::as_ptr),
                            if mask.is_some() { sums.as_mut_ptr() } else { std::ptr::null_mut() },
                            into(&mut max),
                            into(&mut exps),
                            into(&mut total),
                        );
                    }
                    for i in (0..m).filter(|_| softmax) {
                        let row = &want[i * n..(i + 1) * n];
                        let top = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                        let here = format!("{m}x{n}x{k} {a_strides:?} {b_strides:?} threads {threads} row {i}");
                        assert!((max[i] - top).abs() <= 1e-4 * (1.0 + top.abs()), "{here}: max {} vs {top}", max[i]);
                        let want_exps: Vec<f64> = row.iter().map(|&x| f64::from(x - top).exp()).collect();
                        for (got, want) in exps[i * n..(i + 1) * n].iter().zip(&want_exps) {
                            assert!((f64::from(*got) - want).abs() <= 1e-3 * want, "{here}: exp {got} vs {want}");
                        }
                        let want_total: f64 = want_exps.iter().sum();
                        let got = f64::from(total[i]);
                        assert!((got - want_total).abs() <= 1e-3 * want_total, "{here}: total {got} vs {want_total}");
                    }
                    for (got, want) in c.iter().zip(&want) {
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "{m}x{n}x{k} {a_strides:?} {b_strides:?} {finish:?}: {got} vs {want}"
                        );
                    }
                    for j in (0..n).filter(|_| mask.is_some()) {
                        let want: f64 = (0..m).map(|i| f64::from(want[i * n + j])).sum();
                        let got = f64::from(sums[j]);
                        let close = (got - want).abs() <= 1e-4 * (1.0 + want.abs());
                        assert!(
                            close,
                            "{m}x{n}x{k} {a_strides:?} {b_strides:?} threads {threads} sum {j}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// A block too large for the small kernels whose right operand is given transposed
    /// (on the vector classes it runs on panels, `small_gemm::try_on_panels`; otherwise in
    /// the library), starting at C's corner or past its first row and column, C read or
    /// not, with the mask and column sums or none, against f64.
    #[test]
    fn large_blocks_with_a_transposed_right_operand_match_a_reference() {
        let (m, n, k) = (260, 300, 130);
        assert!((m - 3) * (n - 7) * k > 1 << 23, "the blocks must be too large for every small kernel");
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
        let gate: Vec<f32> = (0..m * n).map(|i| if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let (a_strides, b_strides) = ((k, 1), (1, k));
        for ((rows, columns), read, masked) in
            [(((0, m), (0, n)), false, false), (((3, m), (7, n)), true, false), (((0, m), (0, n)), true, true)]
        {
            let c0: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
            let mut c = c0.clone();
            let mut sums = vec![0.0f32; n];
            let mask = masked.then_some(&gate[..]);
            let want = reference(m, n, k, &a, a_strides, &b, b_strides, &c0, read, 0.5, -0.25, (None, false, mask));
            #[rustfmt::skip]
            let product = Product {
                read, alpha: 0.5, beta: -0.25, m, n, k, a: a.as_ptr(), a_rows: k as isize, a_columns: 1,
                b: b.as_ptr(), b_rows: 1, b_columns: k as isize, c: c.as_mut_ptr(), bias: std::ptr::null(),
                relu: false, mask: if masked { gate.as_ptr() } else { std::ptr::null() },
                sums: if masked { sums.as_mut_ptr() } else { std::ptr::null_mut() }, softmax: None,
            };
            // SAFETY: the block's rows and columns lie inside `a`, `b`, `c` and the mask.
            unsafe { Block { product, rows, columns }.run() };
            for i in 0..m {
                for j in 0..n {
                    let inside = rows.0 <= i && columns.0 <= j;
                    let (got, want) = (c[i * n + j], if inside { want[i * n + j] } else { c0[i * n + j] });
                    assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "({i}, {j}): {got} vs {want}");
                }
            }
            for (j, got) in sums.iter().enumerate().filter(|_| masked) {
                let want: f32 = (0..m).map(|i| want[i * n + j]).sum();
                assert!((got - want).abs() <= 1e-3 * (1.0 + want.abs()), "sum {j}: {got} vs {want}");
            }
        }
    }

    /// A product split for two threads gives the same bits whether the helper is free or
    /// held by another caller (a second training run in the process): the same blocks are
    /// computed either way. 2²³ and 2²⁴ multiply-adds, where the whole product and its
    /// halves would go to different kernels (AVX-512's limit is 2²², AVX2's 2²³), in each
    /// layout the compiler emits.
    #[test]
    fn a_busy_helper_does_not_change_a_product() {
        let _turn = PRODUCTS.lock().unwrap_or_else(|p| p.into_inner());
        for (m, n, k) in [(512, 128, 256), (128, 64, 2048), (256, 128, 256), (128, 64, 1024)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32 - 506.0) / 97.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 997) as f32 - 498.0) / 89.0).collect();
            for ((a_rows, a_columns), (b_rows, b_columns)) in [((k, 1), (n, 1)), ((1, m), (n, 1)), ((k, 1), (1, k))] {
                let run = |c: &mut Vec<f32>| {
                    #[rustfmt::skip]
                let product = Product {
                    read: false, alpha: 0.0, beta: 1.0, m, n, k, a: a.as_ptr(), a_rows: a_rows as isize,
                    a_columns: a_columns as isize, b: b.as_ptr(), b_rows: b_rows as isize, b_columns: b_columns as isize,
                    c: c.as_mut_ptr(), bias: std::ptr::null(), relu: false, mask: std::ptr::null(), sums: std::ptr::null_mut(), softmax: None,
                };
                    // SAFETY: the pointers cover the matrices the strides describe.
                    unsafe { run_product(Block { product, rows: (0, m), columns: (0, n) }, 2) }
                };
                let mut free = vec![0.0f32; m * n];
                assert_eq!(run(&mut free), Ok(()));
                // Hold the helpers as another caller would (waiting for any test using them).
                while BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
                    std::thread::yield_now();
                }
                let mut held = vec![0.0f32; m * n];
                let outcome = run(&mut held);
                BUSY.store(false, Ordering::Release);
                assert_eq!(outcome, Ok(()));
                let differ = free.iter().zip(&held).filter(|(x, y)| x.to_bits() != y.to_bits()).count();
                assert_eq!(differ, 0, "{differ} elements differ with the helper busy ({b_rows}, {b_columns})");
            }
        }
    }

    /// A product of `m` rows into `c` (A all ones, B all twos), on two threads.
    /// A weight gradient's update `W = W - 0.5·Xᵀ·δ` in halves of its sum (small enough for
    /// Miri): the reference's numbers, and the same bits whether the helper sums the second
    /// half or, when another caller holds it, this thread does.
    #[test]
    fn halves_of_a_sum_match_a_reference_with_the_helper_free_or_busy() {
        let _turn = PRODUCTS.lock().unwrap_or_else(|p| p.into_inner());
        let (m, n, k) = (6, 5, 9);
        let x: Vec<f32> = (0..k * m).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
        let delta: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
        let w: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
        let want = reference(m, n, k, &x, (1, m), &delta, (n, 1), &w, true, 1.0, -0.5, (None, false, None));
        let run = |c: &mut Vec<f32>| {
            #[rustfmt::skip]
            let product = Product {
                read: true, alpha: 1.0, beta: -0.5, m, n, k, a: x.as_ptr(), a_rows: 1, a_columns: m as isize,
                b: delta.as_ptr(), b_rows: n as isize, b_columns: 1, c: c.as_mut_ptr(), bias: std::ptr::null(),
                relu: false, mask: std::ptr::null(), sums: std::ptr::null_mut(), softmax: None,
            };
            // SAFETY: the pointers cover the matrices the strides describe.
            unsafe { run_in_halves(Block { product, rows: (0, m), columns: (0, n) }) }
        };
        let mut free = w.clone();
        assert_eq!(run(&mut free), Ok(()));
        while BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            std::thread::yield_now();
        }
        let mut held = w.clone();
        let outcome = run(&mut held);
        BUSY.store(false, Ordering::Release);
        assert_eq!(outcome, Ok(()));
        for ((got, other), want) in free.iter().zip(&held).zip(&want) {
            assert!((got - want).abs() <= 1e-5 * (1.0 + want.abs()), "{got} vs {want}");
            assert_eq!(got.to_bits(), other.to_bits(), "the helper's being busy changed a result");
        }
    }

    fn product_of(c: &mut [f32], m: usize, panics: bool) -> Result<(), String> {
        let (k, n) = (8, 96);
        let (a, b) = (vec![1.0f32; m * k], vec![2.0f32; k * n]);
        PANIC_IN_BLOCKS.store(if panics { a.as_ptr() as usize } else { 0 }, Ordering::SeqCst);
        #[rustfmt::skip]
        let product = Product {
            read: false, alpha: 0.0, beta: 1.0, m, n, k, a: a.as_ptr(), a_rows: k as isize, a_columns: 1,
            b: b.as_ptr(), b_rows: n as isize, b_columns: 1, c: c.as_mut_ptr(), bias: std::ptr::null(), relu: false, mask: std::ptr::null(), sums: std::ptr::null_mut(), softmax: None,
        };
        // SAFETY: the pointers cover the matrices the strides describe.
        let outcome = unsafe { run_product(Block { product, rows: (0, m), columns: (0, n) }, 2) };
        PANIC_IN_BLOCKS.store(0, Ordering::SeqCst);
        outcome
    }

    /// A block that panics, on the helper or on the caller, becomes an error for the
    /// caller, never a wait for a block that will not finish; the pool works after it.
    /// With one thread (`NNC_THREADS=1`, or one core) the helper is not there to test.
    #[test]
    fn a_panicking_block_is_an_error_not_a_hang() {
        let _turn = PRODUCTS.lock().unwrap_or_else(|p| p.into_inner());
        let m = 96;
        let mut c = vec![0.0f32; m * 96];
        let failed = product_of(&mut c, m, true);
        assert!(failed.is_err_and(|message| message.contains("injected")));
        assert_eq!(product_of(&mut c, m, false), Ok(()));
        assert!(c.iter().all(|&v| v == 16.0), "the pool computes the next product whole");
        assert_eq!(pool().len(), crate::cpu::threads() - 1, "one helper per extra thread");
    }
}
