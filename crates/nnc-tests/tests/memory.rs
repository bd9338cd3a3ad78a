//! Memory: a 6000-wide Adam layer trains; a run that cannot fit is refused before anything
//! is allocated. (What a step allocates is `allocations.rs`, alone in its process.)

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::Overrides;
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
    let errors = nnc_driver::check(source, std::path::Path::new("."), Overrides::default()).err().unwrap();
    assert_eq!(errors[0].code, nnc_diagnostics::codes::TOO_LARGE);
    assert!(errors[0].message.contains("GiB"), "{}", errors[0].message);
}
