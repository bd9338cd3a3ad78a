//! Memory: what a run allocates. A training step allocates nothing; a 6000-wide Adam layer
//! trains; a run that cannot fit is refused before anything is allocated.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::{Functions, Overrides, compile_job};
use nnc_runtime::{DataView, TrainLoop};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations of each thread (tests run side by side).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
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

/// Allocations made by training `source` for `epochs` epochs (compiled beforehand).
fn allocations_of_training(source: &str, epochs: u64) -> usize {
    let checked = nnc_driver::check(source, std::path::Path::new("."), Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    let compiled = compile_job(plan, Functions::Run, nnc_codegen::Options::default()).unwrap();
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
        rate: &rate,
        interrupt: None,
        record: false,
        progress: None,
    };
    let before = allocations();
    let training = nnc_runtime::train(&compiled, data, None, initial, &settings).unwrap();
    let after = allocations();
    assert_eq!(training.epoch_losses.len() as u64, epochs);
    after - before
}

/// The training loop and its epochs allocate nothing: ten times the steps, the same
/// allocations (those of setting the run up). Products small enough for register tiles;
/// the GEMM library allocates its packing buffers per call.
#[test]
fn training_steps_allocate_nothing() {
    let rows: String = (0..24).map(|i| format!("; {} {} -> {}", i % 5, i % 3, (i % 5) * 2 + i % 3)).collect();
    for (model, batch) in
        [("input 2; dense 8 relu; dense 1", 4), ("input 2; dense 16 tanh; dense 4 sigmoid; dense 1", 5)]
    {
        for optimizer in ["sgd(lr = 0.01)", "sgd(lr = 0.01, momentum = 0.9)", "adam(lr = 0.01)"] {
            let source = format!(
                "data d {{ a b -> y{rows} }}\nmodel m {{ {model} }}\ntrain m on d {{ loss mse; optimizer {optimizer}; batch {batch} }}\n"
            );
            let (few, many) = (allocations_of_training(&source, 10), allocations_of_training(&source, 100));
            assert_eq!(few, many, "{model}, {optimizer}: 10 epochs allocate {few} times, 100 epochs {many}");
        }
    }
}

/// A 6000-wide layer trained with Adam (36 M weights, two moments each): it crashed the
/// process before buffers were planned by liveness and addressed in 64 bits.
#[test]
fn a_six_thousand_wide_adam_layer_trains() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let width = 6000;
    let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    let mut text = header.join(",") + "\n";
    for row in 0..4 {
        let values: Vec<String> = (0..width).map(|i| format!("{}", ((i * 7 + row * 3) % 11) as f32 / 10.0)).collect();
        text += &(values.join(",") + "\n");
    }
    std::fs::write(dir.join("wide.csv"), text).unwrap();
    let source = format!(
        "data wide {{ file \"wide.csv\"; target features }}\nmodel m {{ input {width}; dense {width} }}\n\
         train m on wide {{ loss mse; optimizer adam(lr = 0.001); epochs 1; batch 4 }}\n"
    );
    let report = nnc_driver::run(&source, dir, Overrides::default()).unwrap();
    assert!(report.jobs[0].final_loss.is_finite());
}

/// 10^10 weights with Adam need about 150 GiB: refused when checked, naming the size.
#[test]
fn a_run_that_cannot_fit_is_refused_before_allocating() {
    let source = "data xor { x1 x2 -> y; 0 0 -> 0; 0 1 -> 1; 1 0 -> 1; 1 1 -> 0 }\n\
                  model m { input 2; dense 100000 relu; dense 100000 relu; dense 1 }\n\
                  train m on xor { loss mse; optimizer adam(lr = 0.001) }\n";
    let before = allocations();
    let errors = nnc_driver::check(source, std::path::Path::new("."), Overrides::default()).err().unwrap();
    assert!(allocations() - before < 100_000, "checking allocated like training");
    assert_eq!(errors[0].code, nnc_diagnostics::codes::TOO_LARGE);
    assert!(errors[0].message.contains("GiB"), "{}", errors[0].message);
}
