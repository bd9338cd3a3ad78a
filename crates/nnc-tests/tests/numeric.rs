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

/// Central differences in f64 of `loss_at` around `point` in coordinate `i`: step 1e-6
/// (relative), so truncation (~h²) and rounding (~1e-16/h) both stay below 1e-9.
fn central_difference(loss_at: &dyn Fn(&[f64]) -> f64, point: &[f64], i: usize) -> f64 {
    let h = 1e-6 * point[i].abs().max(1.0);
    let (mut plus, mut minus) = (point.to_vec(), point.to_vec());
    plus[i] += h;
    minus[i] -= h;
    (loss_at(&plus) - loss_at(&minus)) / (plus[i] - minus[i])
}

/// Whether compiled (f32) gradients agree with f64 finite differences: each element within
/// 0.2 % of its reference, plus 1e-5 of the largest reference (f32 rounding where terms
/// cancel). A 1 % error in any element that is not tiny fails
/// (`a_one_percent_gradient_error_fails`).
fn agree(label: &str, analytic: &[f32], numeric: &[f64]) -> Result<(), String> {
    let largest = numeric.iter().fold(0.0f64, |m, n| m.max(n.abs()));
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        let a = f64::from(*a);
        if (a - n).abs() > 2e-3 * n.abs() + 1e-5 * largest + 1e-7 {
            return Err(format!("{label}: element {i}: compiled {a} vs finite difference {n}"));
        }
    }
    Ok(())
}

fn to_f64(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

/// Compares the JIT-compiled gradient of `loss` with f64 central differences of the
/// interpreter's loss (evaluated in f64), at the point `p`.
fn gradcheck(name: &str, (mut graph, loss): (Graph, ValueId), p: Vec<f32>) {
    let r = to_f64(&fill(graph.inputs[0].shape.numel(), 99));
    let loss_at = |params: &[f64]| -> f64 { evaluate(&graph, &[&r], &[params])[loss.index()][0] };
    let point = to_f64(&p);
    let numeric: Vec<f64> = (0..p.len()).map(|i| central_difference(&loss_at, &point, i)).collect();
    let grads = differentiate(&mut graph, loss);
    graph.outputs = vec![("grad".to_string(), grads[0].expect("loss depends on p"))];
    let r32: Vec<f32> = r.iter().map(|&v| v as f32).collect();
    let outputs = run_compiled(&graph, &[&r32], &mut [p.clone()]);
    agree(name, &outputs[0], &numeric).unwrap();
}

#[test]
fn a_one_percent_gradient_error_fails() {
    let numeric = [0.5, -2.0, 1e-3, 3.0];
    let exact: Vec<f32> = numeric.iter().map(|&n| n as f32).collect();
    agree("exact", &exact, &numeric).unwrap();
    for i in 0..numeric.len() {
        let mut wrong = exact.clone();
        wrong[i] *= 1.01;
        let tiny = numeric[i].abs() < 1e-2;
        assert_eq!(agree("wrong", &wrong, &numeric).is_err(), !tiny, "1% off in element {i}");
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
    for op in [Op::Log, Op::Log1p, Op::Sqrt] {
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
    gradcheck("abs", scalar_loss(&[2, 3], |g, p| g.abs(p, Origin::default())), points(6, false));
}

/// |x| has the subgradient 0 at 0 (not −1 or 1), as in PyTorch: a model that fits exactly
/// under `loss mae` stays where it is.
#[test]
fn abs_has_gradient_zero_at_zero() {
    let (mut graph, loss) = scalar_loss(&[3], |g, p| g.abs(p, Origin::default()));
    let grads = differentiate(&mut graph, loss);
    graph.outputs = vec![("grad".to_string(), grads[0].unwrap())];
    let outputs = run_compiled(&graph, &[&[1.0, 1.0, 1.0]], &mut [vec![0.0, 2.0, -2.0]]);
    assert_eq!(outputs[0], vec![0.0, 1.0, -1.0]);
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

fn window(kernel: usize, stride: usize, before: usize, after: usize) -> nnc_ir::Window {
    nnc_ir::Window { kernel: [kernel, kernel], stride: [stride, stride], before: [before; 2], after: [after; 2] }
}

#[test]
fn window_concat_and_slice_gradients_match_finite_differences() {
    let o = Origin::default;
    // Images [2, 5, 5, 3]: 3x3 windows, stride 1 and 2, with and without padding, and
    // padding only after (the uneven `same` padding of a stride-2 layer).
    for w in [window(3, 1, 0, 0), window(3, 2, 1, 1), window(2, 2, 0, 1), window(3, 1, 2, 2)] {
        let label = format!("window {}", w.describe());
        gradcheck(&label, scalar_loss(&[2, 5, 5, 3], |g, p| g.push(Op::Window(w), vec![p], o())), points(150, false));
        let windows = w.windows_shape(&Shape(vec![2, 5, 5, 3])).unwrap();
        gradcheck(
            &format!("window_sum {}", w.describe()),
            scalar_loss(windows.dims(), |g, p| g.push_typed(Op::WindowSum(w), vec![p], Shape(vec![2, 5, 5, 3]), o())),
            points(windows.numel(), false),
        );
    }
    // A convolution as it is lowered: windows, a product with the filters, bias, ReLU,
    // then a 2x2 max pool: windows and a maximum over each.
    gradcheck(
        "conv + relu + maxpool",
        scalar_loss(&[2, 4, 4, 2], |g, p| {
            let windows = g.push(Op::Window(window(3, 1, 1, 1)), vec![p], o());
            let columns = g.reshape(windows, &Shape(vec![32, 18]), o());
            let filters = g.push(Op::Exp, vec![columns], o());
            let filters = g.push(Op::ReduceSum { axes: vec![0] }, vec![filters], o());
            let filters = g.reshape(filters, &Shape(vec![18, 1]), o());
            let filters = g.broadcast(filters, &Shape(vec![18, 3]), o());
            let z = g.push(Op::MatMul, vec![columns, filters], o());
            let z = g.reshape(z, &Shape(vec![2, 4, 4, 3]), o());
            let pooled = g.push(Op::Window(window(2, 2, 0, 0)), vec![z], o());
            g.push(Op::ReduceMax { axes: vec![3, 4] }, vec![pooled], o())
        }),
        points(64, false).into_iter().map(|x| x * 0.1).collect(),
    );
    gradcheck(
        "concat",
        scalar_loss(&[3, 2], |g, p| {
            let e = g.push(Op::Exp, vec![p], o());
            g.push(Op::Concat { axis: 1 }, vec![p, e], o())
        }),
        points(6, false),
    );
    gradcheck(
        "slice",
        scalar_loss(&[3, 5], |g, p| g.push_typed(Op::Slice { axis: 1, start: 1 }, vec![p], Shape(vec![3, 3]), o())),
        points(15, false),
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
        let forward =
            nnc_lower::lower_forward(&jobs[0].job.model, jobs[0].job.train.loss, None, 3, nnc_lower::Mode::Train);
        let data = &jobs[0].data.train;
        for slot in 0..forward.graph.params.len() {
            check_param_gradient(&label, &forward, data, slot);
        }
    }
}

fn check_param_gradient(label: &str, forward: &nnc_lower::Forward, data: &nnc_data::Dataset, slot: usize) {
    let params: Vec<Vec<f32>> =
        forward.graph.params.iter().enumerate().map(|(i, d)| fill(d.shape.numel(), 20 + i as u32)).collect();
    let (x, y) = (to_f64(&data.inputs), to_f64(&data.targets));
    let wide: Vec<Vec<f64>> = params.iter().map(|p| to_f64(p)).collect();
    let loss_at = |point: &[f64]| -> f64 {
        let mut all = wide.clone();
        all[slot] = point.to_vec();
        let refs: Vec<&[f64]> = all.iter().map(Vec::as_slice).collect();
        evaluate(&forward.graph, &[&x, &y], &refs)[forward.loss.index()][0]
    };
    let numeric: Vec<f64> = (0..params[slot].len()).map(|i| central_difference(&loss_at, &wide[slot], i)).collect();
    let mut graph = forward.graph.clone();
    let grads = differentiate(&mut graph, forward.loss);
    graph.outputs = vec![("grad".to_string(), grads[slot].unwrap())];
    let inputs: [&[f32]; 2] = [&data.inputs, &data.targets];
    let outputs = run_compiled(&graph, &inputs, &mut params.clone());
    agree(&format!("{label}: d loss / d {}", forward.graph.params[slot].name), &outputs[0], &numeric).unwrap();
}

/// The course's hand-solved network gives exactly 0, 1, 1, 0 and the lecture's hidden states.
#[test]
fn xor_by_hand_is_exact() {
    let source = std::fs::read_to_string(repo_root().join("examples/xor_by_hand.nn")).unwrap();
    let reports = nnc_driver::run(&source, &repo_root().join("examples"), Overrides::default()).unwrap().jobs;
    let report = reports[0].primary();
    assert_eq!(report.predictions.values, vec![0.0, 1.0, 1.0, 0.0]);
    let hidden = &report.hidden[0].1;
    assert_eq!((hidden.width, &hidden.values), (2, &vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0]));
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

/// Binary cross-entropy keeps the digits of tiny losses: a confident right answer (z = ±20)
/// costs log1p(e^-20) ≈ 2.06e-9, not 0 (as `softplus(z) - z·y` rounds it).
#[test]
fn bce_keeps_the_digits_of_confident_predictions() {
    let source = "data d { x -> y; 1 -> 1; -1 -> 0 }
        model m { input 1; dense 1 (weights = [[20]], bias = [0]) }
        train m on d { loss bce; epochs 0 }";
    let report = nnc_driver::run(source, Path::new("."), Overrides::default()).unwrap();
    let loss = f64::from(report.jobs[0].final_loss);
    let exact = (-20.0f64).exp().ln_1p();
    assert!((loss - exact).abs() <= 1e-6 * exact, "loss {loss:e}, expected {exact:e}");
}

/// The course's hand-solved XOR fits exactly; under `loss mae` a step must leave it there
/// (the subgradient of |d| at 0 is 0), and `minimize abs(x)` from 0 stays at 0.
#[test]
fn an_exact_fit_under_mae_stays_exact() {
    let source = std::fs::read_to_string(repo_root().join("examples/xor_by_hand.nn")).unwrap();
    let source = source.replace("loss mse", "loss mae\n  optimizer sgd(lr = 0.1)").replace("epochs 0", "epochs 5");
    let report = nnc_driver::run(&source, &repo_root().join("examples"), Overrides::default()).unwrap();
    let job = &report.jobs[0];
    assert_eq!(job.final_loss, 0.0);
    assert!(job.epoch_losses.iter().all(|&l| l == 0.0), "{:?}", job.epoch_losses);
    let descent = "minimize p { param x = 0; objective abs(x) + abs(x - 0); lr 0.1; steps 20 }";
    let report = nnc_driver::run(descent, Path::new("."), Overrides::default()).unwrap();
    assert!(report.minimizations[0].trajectory.iter().all(|p| p.params[0] == 0.0 && p.value == 0.0));
}
