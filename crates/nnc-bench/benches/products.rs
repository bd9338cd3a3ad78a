//! `cargo bench -p nnc-bench --bench products`: nnc's small-product kernels (AVX-512,
//! AVX2 + FMA, SSE2, portable) against each other on the products of W2 (digits 64-128-10,
//! batch 32) and of the width sweep, one product per iteration. Kernels this CPU lacks
//! are left out (and named on standard error).
//!
//! The `gradient` group times the products with a transposed left operand (a layer's
//! weight gradient) on each kernel, beside the same kernel with A row-major.
//!
//! The `crossover` group times each kernel against the GEMM library (`gemm`, one thread)
//! on blocks around the size above which blocks go to the library: the measurement behind
//! each kernel's limit in `small_gemm/mod.rs`. With `--no-default-features` the library
//! stops at AVX2, as on a CPU without AVX-512, which is what the AVX2 kernel competes with.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nnc_codegen::{ProductKernel, multiply, multiply_any_size, multiply_input_gradient, multiply_left_transposed};
use std::hint::black_box;

/// (m, n, k): W2's forward products and the weight gradient's, a 16-wide sweep layer's.
const SHAPES: [(usize, usize, usize); 5] = [(32, 128, 64), (32, 10, 128), (64, 128, 32), (32, 16, 16), (32, 512, 512)];

fn products(c: &mut Criterion) {
    let mut group = c.benchmark_group("product");
    for (m, n, k) in SHAPES {
        let (a, b, mut out) = operands(m, n, k);
        group.throughput(Throughput::Elements((m * n * k) as u64));
        for kernel in [ProductKernel::Avx512, ProductKernel::Avx2, ProductKernel::Sse2, ProductKernel::Portable] {
            if !multiply(kernel, (m, n, k), &a, &b, &mut out) {
                eprintln!("skipped: {kernel:?} on {m}x{n}x{k} (not on this CPU, or too large for it)");
                continue;
            }
            group.bench_function(format!("{m}x{n}x{k}/{kernel:?}"), |bench| {
                bench.iter(|| multiply(kernel, (m, n, k), black_box(&a), black_box(&b), &mut out))
            });
        }
    }
    group.finish();
}

/// (m, n, k): weight gradients of narrow layers, `Xᵀ·δ`: W2's output layer, W3's, a
/// one-output regression's, and W5's first convolution (3 × 3 windows of one channel into
/// 16 filters over 2,048 window positions: 9 rows, the last full tile's and the rest's).
const GRADIENTS: [(usize, usize, usize); 4] = [(128, 10, 32), (512, 10, 128), (64, 1, 32), (9, 16, 2048)];

/// Each kernel on the products with A given transposed (AVX-512 and AVX2 take them in
/// `avx2_narrow.rs`, with vectors down C's columns), beside the same kernel with A
/// row-major (vectors along C's rows, as these products ran before that kernel).
fn gradients(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient");
    for (m, n, k) in GRADIENTS {
        let (a, b, mut out) = operands(m, n, k);
        group.throughput(Throughput::Elements((m * n * k) as u64));
        for kernel in [ProductKernel::Avx512, ProductKernel::Avx2, ProductKernel::Sse2] {
            if !multiply_left_transposed(kernel, (m, n, k), &a, &b, &mut out) {
                eprintln!("skipped: {kernel:?} on {m}x{n}x{k} (not on this CPU)");
                continue;
            }
            group.bench_function(format!("{m}x{n}x{k}/{kernel:?}/transposed"), |bench| {
                bench.iter(|| multiply_left_transposed(kernel, (m, n, k), black_box(&a), black_box(&b), &mut out))
            });
            group.bench_function(format!("{m}x{n}x{k}/{kernel:?}/rows"), |bench| {
                bench.iter(|| multiply(kernel, (m, n, k), black_box(&a), black_box(&b), &mut out))
            });
        }
    }
    group.finish();
}

/// (m, n, k): input gradients `δ·Wᵀ · (h > 0)` with their column sums, through a narrow
/// layer into a ReLU layer: W2's (10 classes into 128 units) and W3's (into 512).
const INPUT_GRADIENTS: [(usize, usize, usize); 2] = [(32, 128, 10), (128, 512, 10)];

/// Each vector kernel on the input gradients, B given transposed (`Wᵀ`), the mask and the
/// sums in the kernel's finish.
fn input_gradients(c: &mut Criterion) {
    let mut group = c.benchmark_group("input_gradient");
    for (m, n, k) in INPUT_GRADIENTS {
        let (delta, w, mut out) = operands(m, n, k);
        let mask: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32 - 1.0).collect();
        let mut sums = vec![0.0; n];
        group.throughput(Throughput::Elements((m * n * k) as u64));
        for kernel in [ProductKernel::Avx512, ProductKernel::Avx2] {
            if !multiply_input_gradient(kernel, (m, n, k), &delta, &w, &mask, &mut out, &mut sums) {
                eprintln!("skipped: {kernel:?} on {m}x{n}x{k} (not on this CPU)");
                continue;
            }
            group.bench_function(format!("{m}x{n}x{k}/{kernel:?}"), |bench| {
                bench.iter(|| {
                    multiply_input_gradient(
                        kernel,
                        (m, n, k),
                        black_box(&delta),
                        black_box(&w),
                        &mask,
                        &mut out,
                        &mut sums,
                    )
                })
            });
        }
    }
    group.finish();
}

/// A (m×k) and B (k×n) with small repeating values, and a zeroed C (m×n).
fn operands(m: usize, n: usize, k: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let a = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    (a, b, vec![0.0; m * n])
}

/// Blocks of 2¹⁸ to 2²⁶ multiply-adds, as one thread's share of a library-sized product.
const CROSSOVER: [(usize, usize, usize); 5] =
    [(64, 64, 64), (64, 128, 256), (128, 256, 256), (256, 256, 256), (256, 512, 512)];

fn crossover(c: &mut Criterion) {
    let mut group = c.benchmark_group("crossover");
    for (m, n, k) in CROSSOVER {
        let (a, b, mut out) = operands(m, n, k);
        group.throughput(Throughput::Elements((m * n * k) as u64));
        for kernel in [ProductKernel::Avx512, ProductKernel::Avx2, ProductKernel::Sse2] {
            if multiply_any_size(kernel, (m, n, k), &a, &b, &mut out) {
                group.bench_function(format!("{m}x{n}x{k}/{kernel:?}"), |bench| {
                    bench.iter(|| multiply_any_size(kernel, (m, n, k), black_box(&a), black_box(&b), &mut out))
                });
            }
        }
        group.bench_function(format!("{m}x{n}x{k}/library"), |bench| {
            bench.iter(|| library(m, n, k, black_box(&a), black_box(&b), &mut out))
        });
    }
    group.finish();
}

/// `out = a·b` by `gemm` on this thread, row-major.
fn library(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
    assert!(a.len() == m * k && b.len() == k * n && out.len() == m * n);
    // SAFETY: the slices hold row-major m×k, k×n and m×n matrices (checked above).
    unsafe {
        #[rustfmt::skip]
        gemm::gemm(
            m, n, k, out.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), 1, k as isize, b.as_ptr(), 1, n as isize,
            0.0, 1.0, false, false, false, gemm::Parallelism::None,
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = products, gradients, input_gradients, crossover
}
criterion_main!(benches);
