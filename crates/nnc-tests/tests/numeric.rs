//! Numeric checks against independent references: gradients against central finite
//! differences, and the closed forms the examples promise. (`jit.rs` checks compiled code
//! against the interpreter.)

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_autodiff::differentiate;
use nnc_driver::Overrides;
use nnc_ir::{Graph, Op, Origin, Shape, ValueId, evaluate};
use nnc_tests::{fill, repo_root, run_compiled};
use std::path::Path;

/// Builds `loss = sum(body(p) * r)` for one parameter `p` of `shape`, `r` a fixed random
/// weighting so that every element's gradient differs.
fn scalar_loss(shape: &[usize], body: impl Fn(&mut Graph, ValueId) -> ValueId) -> (Graph, ValueId) {
    let mut graph = Graph::new("gradcheck");
    let p = graph.add_param("p", Shape(shape.to_vec()), Origin::default());
    let out = body(&mut graph, p);
    let r = graph.add_input("r", graph.shape(out).clone(), Origin::default());
    let weighted = graph.push(Op::Mul, vec![out, r], Origin::default());
    let loss = graph.sum_all(weighted, Origin::default());
    (graph, loss)
}

/// Compares the JIT-compiled gradient of `loss` with central differences of the
/// interpreter's loss, at the point `p`.
fn gradcheck(name: &str, (mut graph, loss): (Graph, ValueId), p: Vec<f32>) {
    let r = fill(graph.inputs[0].shape.numel(), 99);
    let loss_at = |params: &[f32]| -> f64 {
        let values = evaluate(&graph, &[&r], &[params]);
        f64::from(values[loss.index()][0])
    };
    let numeric: Vec<f64> = (0..p.len())
        .map(|i| {
            let h = 1e-2f32;
            let (mut plus, mut minus) = (p.clone(), p.clone());
            plus[i] += h;
            minus[i] -= h;
            (loss_at(&plus) - loss_at(&minus)) / (2.0 * f64::from(h))
        })
        .collect();
    let grads = differentiate(&mut graph, loss);
    graph.outputs = vec![("grad".to_string(), grads[0].expect("loss depends on p"))];
    let outputs = run_compiled(&graph, &[&r], &mut [p.clone()]);
    for (i, (analytic, numeric)) in outputs[0].iter().zip(&numeric).enumerate() {
        let (a, n) = (f64::from(*analytic), *numeric);
        assert!((a - n).abs() <= 2e-2 * (1.0 + n.abs()), "{name}: d/dp[{i}] compiled {a} vs finite difference {n}");
    }
}

fn unary(op: Op) -> impl Fn(&mut Graph, ValueId) -> ValueId {
    move |g, p| g.push(op.clone(), vec![p], Origin::default())
}

/// Points away from kinks (relu at 0) and inside domains (log, sqrt of positives).
fn points(len: usize, positive: bool) -> Vec<f32> {
    fill(len, 7).into_iter().map(|v| if positive { 0.5 + v.abs() } else { v + v.signum() * 0.1 }).collect()
}

#[test]
fn elementwise_gradients_match_finite_differences() {
    for op in [Op::Neg, Op::Exp, Op::Tanh] {
        gradcheck(op.name(), scalar_loss(&[2, 3], unary(op.clone())), points(6, false));
    }
    for op in [Op::Log, Op::Sqrt] {
        gradcheck(op.name(), scalar_loss(&[2, 3], unary(op.clone())), points(6, true));
    }
    let with_self = |op: Op| {
        move |g: &mut Graph, p: ValueId| {
            let shifted = g.push(Op::Exp, vec![p], Origin::default());
            g.push(op.clone(), vec![p, shifted], Origin::default())
        }
    };
    for op in [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Max] {
        gradcheck(op.name(), scalar_loss(&[3, 2], with_self(op.clone())), points(6, false));
    }
}

#[test]
fn movement_reduction_and_matmul_gradients_match_finite_differences() {
    gradcheck("transpose", scalar_loss(&[2, 3], unary(Op::Transpose)), points(6, false));
    gradcheck(
        "reduce_sum",
        scalar_loss(&[2, 3], |g, p| g.push(Op::ReduceSum { axes: vec![1] }, vec![p], Origin::default())),
        points(6, false),
    );
    gradcheck(
        "reduce_max",
        scalar_loss(&[2, 3], |g, p| g.push(Op::ReduceMax { axes: vec![0] }, vec![p], Origin::default())),
        points(6, false),
    );
    gradcheck(
        "broadcast",
        scalar_loss(&[3], |g, p| g.broadcast(p, &Shape(vec![4, 3]), Origin::default())),
        points(3, false),
    );
    gradcheck(
        "reshape",
        scalar_loss(&[2, 3], |g, p| g.reshape(p, &Shape(vec![3, 2]), Origin::default())),
        points(6, false),
    );
    gradcheck(
        "matmul",
        scalar_loss(&[3, 2], |g, p| {
            let t = g.push(Op::Transpose, vec![p], Origin::default());
            g.push(Op::MatMul, vec![p, t], Origin::default())
        }),
        points(6, false),
    );
}

/// Each activation and each loss, as lowered from a real program, differentiated
/// through whole dense layers.
#[test]
fn layer_gradients_match_finite_differences_for_each_activation_and_loss() {
    let regression = "data d { a b -> y; 0.3 -0.7 -> 0.5; -0.2 0.9 -> -0.4; 0.8 0.1 -> 0.2 }";
    let two_classes = "data d { a b -> p q; 0.3 -0.7 -> 1 0; -0.2 0.9 -> 0 1; 0.8 0.1 -> 0 1 }";
    let binary = "data d { a b -> y; 0.3 -0.7 -> 1; -0.2 0.9 -> 0; 0.8 0.1 -> 1 }";
    let mut cases: Vec<(String, String)> = Vec::new();
    for activation in ["relu", "leaky_relu", "sigmoid", "tanh", "identity", "softmax"] {
        let model = format!("model m {{ input 2; dense 3 {activation}; dense 1 }}");
        cases.push((format!("{activation} + mse"), format!("{regression}\n{model}\ntrain m on d {{ loss mse }}\n")));
    }
    let cases_by_loss = [
        ("mae", regression, "dense 1"),
        ("bce", binary, "dense 1"),
        ("bce", binary, "dense 1 sigmoid"),
        ("softmax_ce", two_classes, "dense 2"),
        ("softmax_ce", two_classes, "dense 2 softmax"),
    ];
    for (loss, data, last) in cases_by_loss {
        let model = format!("model m {{ input 2; dense 3 tanh; {last} }}");
        cases.push((format!("{loss} after {last}"), format!("{data}\n{model}\ntrain m on d {{ loss {loss} }}\n")));
    }
    for (label, source) in cases {
        let jobs = nnc_driver::check(&source, Path::new("."), Overrides::default()).unwrap().jobs;
        let forward = nnc_lower::lower_forward(&jobs[0].job.model, jobs[0].job.train.loss, None, 3);
        let data = &jobs[0].data.train;
        for slot in 0..forward.graph.params.len() {
            check_param_gradient(&label, &forward, data, slot);
        }
    }
}

fn check_param_gradient(label: &str, forward: &nnc_lower::Forward, data: &nnc_data::Dataset, slot: usize) {
    let params: Vec<Vec<f32>> =
        forward.graph.params.iter().enumerate().map(|(i, d)| fill(d.shape.numel(), 20 + i as u32)).collect();
    let inputs: [&[f32]; 2] = [&data.inputs, &data.targets];
    let loss_with = |p: &[Vec<f32>]| {
        let refs: Vec<&[f32]> = p.iter().map(Vec::as_slice).collect();
        f64::from(evaluate(&forward.graph, &inputs, &refs)[forward.loss.index()][0])
    };
    let mut graph = forward.graph.clone();
    let grads = differentiate(&mut graph, forward.loss);
    graph.outputs = vec![("grad".to_string(), grads[slot].unwrap())];
    let outputs = run_compiled(&graph, &inputs, &mut params.clone());
    for i in 0..params[slot].len() {
        let h = 1e-2f32;
        let (mut plus, mut minus) = (params.clone(), params.clone());
        plus[slot][i] += h;
        minus[slot][i] -= h;
        let numeric = (loss_with(&plus) - loss_with(&minus)) / (2.0 * f64::from(h));
        let analytic = f64::from(outputs[0][i]);
        assert!(
            (analytic - numeric).abs() <= 2e-2 * (1.0 + numeric.abs()),
            "{label}: d loss / d {}[{i}] compiled {analytic} vs finite difference {numeric}",
            forward.graph.params[slot].name
        );
    }
}

/// The course's hand-solved network gives exactly 0, 1, 1, 0 and the lecture's hidden states.
#[test]
fn xor_by_hand_is_exact() {
    let source = std::fs::read_to_string(repo_root().join("examples/xor_by_hand.nn")).unwrap();
    let reports = nnc_driver::run(&source, &repo_root().join("examples"), Overrides::default()).unwrap().jobs;
    let report = reports[0].primary();
    assert_eq!(report.predictions, vec![vec![0.0], vec![1.0], vec![1.0], vec![0.0]]);
    let hidden = &report.hidden[0].1;
    assert_eq!(hidden, &vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![1.0, 0.0], vec![2.0, 1.0]]);
    assert_eq!(reports[0].final_loss, 0.0);
    assert_eq!(report.scores.accuracy, Some(1.0));
}

/// The XOR example learns XOR for every seed from 0 to 19 with its stated settings.
#[test]
fn xor_learns_for_every_seed() {
    let source = std::fs::read_to_string(repo_root().join("examples/xor.nn")).unwrap();
    for seed in 0..20 {
        let overrides = Overrides { seed: Some(seed), ..Overrides::default() };
        let reports = nnc_driver::run(&source, &repo_root().join("examples"), overrides).unwrap().jobs;
        let report = reports[0].primary();
        assert_eq!(report.scores.accuracy, Some(1.0), "seed {seed}: predictions {:?}", report.predictions);
        assert!(reports[0].final_loss < 0.01, "seed {seed}: final loss {}", reports[0].final_loss);
    }
}

fn trajectories(example: &str) -> Vec<nnc_driver::MinimizeReport> {
    let source = std::fs::read_to_string(repo_root().join("examples").join(example)).unwrap();
    nnc_driver::run(&source, &repo_root().join("examples"), Overrides::default()).unwrap().minimizations
}

/// ½x² from x0 = 5: x_t = (1 - η)^t x0 for η = 0.1 (converges), 1.9 (oscillates) and
/// 2.1 (diverges), and the gradient at each point is x_t.
#[test]
fn parabola_descent_follows_the_closed_form() {
    let reports = trajectories("gd_parabola.nn");
    assert_eq!(reports.len(), 3);
    for report in &reports {
        let eta = f64::from(report.learning_rate);
        assert_eq!(report.trajectory.len() as u64, report.steps + 1);
        for point in &report.trajectory {
            let expected = (1.0 - eta).powi(point.step as i32) * 5.0;
            let x = f64::from(point.params[0]);
            assert!(
                (x - expected).abs() <= 1e-4 * (1.0 + expected.abs()),
                "{}: x_{} = {x}, expected {expected}",
                report.name,
                point.step
            );
            assert!((f64::from(point.gradient[0]) - x).abs() <= 1e-5 * (1.0 + x.abs()));
            assert!((f64::from(point.value) - 0.5 * x * x).abs() <= 1e-4 * (1.0 + x * x));
        }
    }
    let last = |name: &str| reports.iter().find(|r| r.name == name).unwrap().trajectory.last().unwrap().params[0].abs();
    assert!(last("converges") < 1.0 && last("oscillates") < 1.0 && last("diverges") > 5.0);
}

/// x² + y²: each coordinate scales by (1 - 2η) per step; the gradient is [2x, 2y].
#[test]
fn bowl_descent_follows_the_closed_form() {
    let reports = trajectories("gd_bowl.nn");
    let report = &reports[0];
    let factor = 1.0 - 2.0 * f64::from(report.learning_rate);
    for point in &report.trajectory {
        for (i, start) in [3.0, -4.0].into_iter().enumerate() {
            let expected = factor.powi(point.step as i32) * start;
            let actual = f64::from(point.params[i]);
            assert!(
                (actual - expected).abs() <= 1e-4 * (1.0 + expected.abs()),
                "step {}: {actual} vs {expected}",
                point.step
            );
            assert!((f64::from(point.gradient[i]) - 2.0 * actual).abs() <= 1e-4 * (1.0 + actual.abs()));
        }
    }
}
