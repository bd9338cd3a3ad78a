//! `cargo bench -p nnc-bench`: training throughput (steps per second) of each workload,
//! and its compile time (checked program to callable code). One iteration trains a whole
//! run; W3 and W5 run two of their epochs, W5 at 28×28 one, to keep an iteration short.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nnc_bench::{WORKLOADS, workload};
use std::hint::black_box;

fn training(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    for name in WORKLOADS {
        let epochs = match name {
            "w3_wide" | "w5_cnn" => Some(2),
            "w5_cnn28" => Some(1),
            _ => None,
        };
        let w = workload(name, epochs);
        let compiled = w.compile();
        group.throughput(Throughput::Elements(w.steps));
        group.bench_function(name, |b| b.iter(|| black_box(w.train(&compiled))));
    }
    group.finish();
}

fn compiling(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    for name in WORKLOADS {
        let w = workload(name, None);
        group.bench_function(name, |b| b.iter(|| black_box(w.compile())));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500));
    targets = training, compiling
}
criterion_main!(benches);
