//! Large matrix products: generated code calls [`nnc_gemm`], which runs the `gemm` crate
//! (rustc-compiled, AVX-512 where the CPU has it) on row blocks of the product, one per
//! thread of a persistent pool. Each thread computes whole rows in the same order every
//! time, so results are the same from run to run for a fixed thread count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, Thread};

/// One product: `C[m, n] = A[m, k]·B[k, n]`, strides in elements, `C` row-major.
#[derive(Clone, Copy)]
struct Product {
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
}

// SAFETY: a product is handed to a worker only while the caller blocks on its completion,
// and each thread writes disjoint rows of C.
unsafe impl Send for Product {}

impl Product {
    /// Rows `[start, end)` of the product.
    ///
    /// # Safety
    /// The pointers must cover the matrices their strides describe.
    unsafe fn rows(&self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        // SAFETY: rows [start, end) of A and C lie inside the caller's buffers.
        unsafe {
            let a = self.a.offset(start as isize * self.a_rows);
            let c = self.c.add(start * self.n);
            gemm::gemm(
                end - start,
                self.n,
                self.k,
                c,
                1,
                self.n as isize,
                false,
                a,
                self.a_columns,
                self.a_rows,
                self.b,
                self.b_columns,
                self.b_rows,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// Called by generated code: `C = A·B` with the given strides on `threads` threads.
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
) {
    let product = Product {
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
    };
    let helpers = pool().len().min(threads.max(1) as usize - 1);
    if helpers == 0 || product.m < 2 {
        // SAFETY: the caller guarantees the matrices.
        unsafe { product.rows(0, product.m) };
        return;
    }
    let parts = helpers + 1;
    let per = product.m.div_ceil(parts);
    let done = Arc::new(AtomicUsize::new(0));
    for (index, worker) in pool().iter().take(helpers).enumerate() {
        let start = ((index + 1) * per).min(product.m);
        let end = ((index + 2) * per).min(product.m);
        worker.run(Job { product, start, end, done: done.clone(), caller: thread::current() });
    }
    // SAFETY: as above; this thread's rows are disjoint from the workers'.
    unsafe { product.rows(0, per.min(product.m)) };
    while done.load(Ordering::Acquire) < helpers {
        thread::park();
    }
}

struct Job {
    product: Product,
    start: usize,
    end: usize,
    done: Arc<AtomicUsize>,
    caller: Thread,
}

/// A persistent helper thread that runs one job at a time.
struct Worker {
    job: Arc<Mutex<Option<Job>>>,
    thread: Thread,
}

impl Worker {
    fn run(&self, job: Job) {
        if let Ok(mut slot) = self.job.lock() {
            *slot = Some(job);
        }
        self.thread.unpark();
    }
}

/// One helper per extra core, started on first use.
fn pool() -> &'static [Worker] {
    static POOL: OnceLock<Vec<Worker>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        (1..cores.min(MAX_THREADS)).filter_map(|index| spawn(index).ok()).collect()
    })
}

/// At most this many threads work on one product.
pub const MAX_THREADS: usize = 2;

fn spawn(index: usize) -> std::io::Result<Worker> {
    let job: Arc<Mutex<Option<Job>>> = Arc::new(Mutex::new(None));
    let shared = job.clone();
    let handle = thread::Builder::new().name(format!("nnc-gemm-{index}")).spawn(move || {
        loop {
            let next = shared.lock().ok().and_then(|mut slot| slot.take());
            match next {
                Some(job) => {
                    // SAFETY: the caller waits for `done` before its buffers go away.
                    unsafe { job.product.rows(job.start, job.end) };
                    job.done.fetch_add(1, Ordering::Release);
                    job.caller.unpark();
                }
                None => thread::park(),
            }
        }
    })?;
    Ok(Worker { job, thread: handle.thread().clone() })
}
