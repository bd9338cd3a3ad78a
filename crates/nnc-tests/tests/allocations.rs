//! What a training step allocates, counted on every thread (the GEMM helper's too): this
//! test is alone in its process, so nothing else allocates while it counts.
//!
//! - Generated code, the training loop around it, and products nnc computes itself (register
//!   tiles, and its own product kernel) allocate nothing per step: a run of ten times the
//!   epochs makes exactly the allocations of setting the run up.
//! - Products handed to the GEMM library (`gemm`) allocate its packing buffers on every
//!   call, by its design: a few allocations per call, never more, and never growing with
//!   the product's size. (The panel a transposed right operand is copied into is kept.)

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::{Functions, Overrides, compile_job};
use nnc_kernels::{KernelKind, Strategy};
use nnc_runtime::{DataView, Role, TrainLoop};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts every allocation of the process.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as the caller promised for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by training `source` for `epochs` epochs (compiled beforehand), and
/// how many library products one epoch calls.
fn allocations_of_training(source: &str, epochs: u64) -> (usize, usize) {
    let checked = nnc_driver::check(source, std::path::Path::new("."), Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    let compiled = compile_job(plan, Functions::Run, nnc_codegen::Options::default()).unwrap();
    let library = |role: &Role| {
        plan.program(role).map_or(0, |p| {
            p.kernels
                .iter()
                .filter(
                    |k| matches!(&k.kind, KernelKind::Matmul(mm) if matches!(mm.strategy, Strategy::Library { .. })),
                )
                .count()
        })
    };
    let per_epoch = library(&Role::Step) * plan.shape.full_steps() + library(&Role::TailStep);
    let data =
        DataView { inputs: &plan.data.train.inputs, targets: &plan.data.train.targets, rows: plan.data.train.rows };
    let initial = nnc_driver::initial_params(&plan.job.model, 1);
    let rate = |_: u64, _: u64| 0.01;
    let settings = TrainLoop {
        epochs,
        batch: plan.batch,
        patience: None,
        shuffle: true,
        shuffle_seed: 1,
        classes: None,
        rate: &rate,
        interrupt: None,
        record: false,
        progress: None,
        first_report: 1,
    };
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let training = nnc_runtime::train(&compiled, data, None, initial, &settings).unwrap();
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(training.epoch_losses.len() as u64, epochs);
    (after - before, per_epoch)
}

fn program(rows: usize, inputs: usize, model: &str, optimizer: &str, batch: usize) -> String {
    let columns: Vec<String> = (0..inputs).map(|i| format!("x{i}")).collect();
    let table: String = (0..rows)
        .map(|r| {
            let values: Vec<String> =
                (0..inputs).map(|i| format!("{}", ((r * 7 + i * 3) % 11) as f32 / 10.0)).collect();
            format!("; {} -> {}", values.join(" "), r % 3)
        })
        .collect();
    format!(
        "data d {{ {} -> y{table} }}\nmodel m {{ input {inputs}; {model} }}\ntrain m on d {{ loss mse; optimizer {optimizer}; batch {batch} }}\n",
        columns.join(" ")
    )
}

#[test]
fn a_training_step_allocates_only_in_library_products() {
    let small = [("dense 8 relu; dense 1", 2, 4), ("dense 16 tanh; dense 4 sigmoid; dense 1", 2, 5)];
    let large = [("dense 256 relu; dense 256 relu; dense 1", 256, 64)];
    // A convolution, pooling, batch norm and dropout (its masks drawn in the step).
    let layers = [("conv2d 4 relu (kernel = 3, padding = same); maxpool; batchnorm; dropout 0.25; dense 1", 16, 8)];
    for (model, inputs, batch) in small.into_iter().chain(large).chain(layers) {
        for optimizer in ["sgd(lr = 0.01)", "sgd(lr = 0.01, momentum = 0.9)", "adam(lr = 0.01)"] {
            let source = program(3 * batch + 1, inputs, model, optimizer, batch);
            let source = if model.starts_with("conv2d") { source.replace("input 16;", "input 4x4;") } else { source };
            // Product kernels keep per-thread buffers made on first use, on whichever thread
            // first runs a block (the helper takes blocks only when it is quick enough):
            // warm both threads up.
            allocations_of_training(&source, 50);
            let (few, calls) = allocations_of_training(&source, 10);
            let (many, _) = allocations_of_training(&source, 100);
            let per_call = many.saturating_sub(few) as f64 / (90 * calls.max(1)) as f64;
            println!("{model}, {optimizer}: {} library products an epoch, {per_call:.2} allocations each", calls);
            if calls == 0 {
                assert_eq!(few, many, "{model}, {optimizer}: 10 epochs allocate {few} times, 100 epochs {many}");
            } else {
                assert!(per_call <= 4.0, "{model}, {optimizer}: {per_call} allocations per library product");
            }
        }
    }
}
