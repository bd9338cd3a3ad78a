//! Generated networks, compiled, against the reference interpreter. proptest draws
//! well-typed programs: up to two hidden layers of 1 to 6 units with every activation;
//! regression (mse, mae), binary (bce) and class (softmax_ce, 2 to 7 classes) outputs; SGD with and
//! without momentum and Nesterov, Adam with and without weight decay; constant and step
//! schedules; 1 to 9 rows in batches that leave ragged last batches. For each:
//!
//! - every compiled function (full step, last smaller step, each evaluation) against the
//!   interpreter on the unoptimised graph and on the optimised one, over several steps;
//! - the whole compiled training run (the native loop: shuffles, batches, rates) against
//!   the interpreter stepping through the same schedule.
//!
//! `PROPTEST_CASES` sets the number of programs (64 by default).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::{Functions, Overrides, compile_job};
use nnc_runtime::Role;
use nnc_tests::differential::{compare_eval, compare_step, interpret_training};
use nnc_tests::generate::{Net, net};
use proptest::prelude::*;
use std::path::Path;

fn check_net(net: &Net) {
    check_source(&net.source());
}

fn check_source(source: &str) {
    let checked = nnc_driver::check(source, Path::new("."), Overrides::default())
        .unwrap_or_else(|e| panic!("a generated program is refused: {e:?}\n{source}"));
    let plan = &checked.jobs[0];
    let compiled = compile_job(plan, Functions::All, nnc_codegen::Options::default()).unwrap();
    let name = format!("generated program\n{source}\n");
    for (role, unoptimized) in &plan.graphs.unoptimized {
        let optimized = plan.graphs.get(role).unwrap();
        for graph in [unoptimized, optimized] {
            match role {
                Role::Step | Role::TailStep => compare_step(&name, plan, &compiled, role, graph),
                Role::Eval(_) | Role::EvalRest(_) => compare_eval(&name, plan, &compiled, role, graph),
                Role::TrainLoop | Role::Descend => unreachable!(),
            }
        }
    }
    let trained = nnc_driver::train(plan, &compiled, &nnc_driver::Watch::default()).unwrap();
    interpret_training(plan).assert_matches(&name, &trained.params);
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

/// Found by the generator in CI: Adam on an MAE loss whose ReLU unit is dead for
/// every row but one, whose bias's gradient is then a single tiny term.
#[test]
fn a_found_case_trains_as_the_interpreter_says() {
    check_source(include_str!("differential/adam_mae_dead_relu.nn"));
}

/// Found by the generator: Adam on an MAE loss whose bias's six sign gradients cancel in
/// the first batch (rounding noise, moved by Adam up to the learning rate) and whose last
/// batch of one row then gives it a real gradient.
#[test]
fn a_cancelled_first_batch_trains_as_the_interpreter_says() {
    check_source(include_str!("differential/adam_mae_linear_tail.nn"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_networks_train_as_the_interpreter_says(net in net()) {
        check_net(&net);
    }
}
