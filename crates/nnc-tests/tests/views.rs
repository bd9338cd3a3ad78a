//! The views of `nnc-inspect` on every example and on small programs made to trigger
//! them: `explain` and `trace` pinned as goldens (`tests/golden/views/`), the course's
//! matrices in the trace of `xor_by_hand.nn`, `gradcheck` passing on every example and
//! failing on a wrong gradient, each diagnosis triggered by its program in
//! `tests/views/diagnosis/` (a `//@ diagnosis: KIND ...` line lists what it must report),
//! and what `nnc serve` draws while each example trains.

use libtest_mimic::{Arguments, Failed, Trial};
use nnc_driver::{Checked, Overrides};
use nnc_inspect::{Style, explain, gradcheck, trace};
use nnc_tests::{compare_golden, nn_files, repo_root};
use std::path::{Path, PathBuf};

fn main() {
    let root = repo_root();
    let views = root.join("tests/golden/views");
    let mut trials = Vec::new();
    for example in nn_files(&root.join("examples")) {
        let stem = stem(&example);
        let (input, expected) = (example.clone(), views.join(format!("{stem}.explain")));
        trials.push(Trial::test(format!("explain::{stem}"), move || golden(&input, &expected, explain_text)));
        let input = example.clone();
        trials.push(Trial::test(format!("gradcheck::{stem}"), move || gradients_agree(&input)));
    }
    // Feature maps and filters as small matrices.
    let input = root.join("tests/golden/ok/layers-conv-pool.nn");
    let expected = views.join("layers-conv-pool.trace");
    trials.push(Trial::test("trace::layers-conv-pool", move || golden(&input, &expected, trace_text)));
    // Every layer kind and op, in the golden and oracle programs, has its gradient checked.
    for program in nn_files(&root.join("tests/golden/ok")).into_iter().chain(nn_files(&root.join("tests/oracle"))) {
        let name = format!("gradcheck::{}", program.strip_prefix(&root).unwrap_or(&program).display());
        trials.push(Trial::test(name, move || gradients_agree(&program)));
    }
    for (stem, view) in
        [("linreg", "latex"), ("xor", "latex"), ("xor_by_hand", "trace"), ("xor", "trace"), ("iris", "trace")]
    {
        let input = root.join("examples").join(format!("{stem}.nn"));
        let expected = views.join(format!("{stem}.{view}"));
        let render: fn(&Checked) -> String = if view == "latex" { latex_text } else { trace_text };
        trials.push(Trial::test(format!("{view}::{stem}"), move || golden(&input, &expected, render)));
    }
    trials.push(Trial::test("trace::xor_by_hand_is_the_course", trace_reproduces_the_course));
    for example in nn_files(&root.join("examples")) {
        let stem = stem(&example);
        let input = example.clone();
        trials.push(Trial::test(format!("plot::{stem}"), move || figures_are_drawn(&input)));
        trials.push(Trial::test(format!("live::{stem}"), move || live_views_are_drawn(&example)));
    }
    // Figures whose numbers involve no trained floating point (literal weights, formulas),
    // pinned as SVG: one per kind of plot that can be.
    for (stem, figure) in [
        ("xor_by_hand", "by_hand-decision"),
        ("xor_by_hand", "by_hand-hidden"),
        ("gd_parabola", "converges-descent"),
        ("gd_bowl", "bowl-descent"),
    ] {
        let input = root.join("examples").join(format!("{stem}.nn"));
        let expected = views.join(format!("{figure}.svg"));
        trials.push(Trial::test(format!("plot::{figure}.svg"), move || figure_golden(&input, figure, &expected)));
    }
    trials.push(Trial::test("plot::kinds_of_xor_and_linreg", expected_figures));
    trials.push(Trial::test("plot::filters_and_feature_maps", filters_and_feature_maps));
    trials.push(Trial::test("sweep::xor_learning_rates", sweep_shows_the_learning_rate));
    trials.push(Trial::test("gradcheck::catches_a_wrong_gradient", gradcheck_catches_a_wrong_gradient));
    for program in nn_files(&root.join("tests/views/diagnosis")) {
        trials.push(Trial::test(format!("diagnosis::{}", stem(&program)), move || diagnosis_reports(&program)));
    }
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn checked(input: &Path) -> Result<Checked, Failed> {
    let source = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let dir: PathBuf = input.parent().map(Path::to_path_buf).unwrap_or_default();
    nnc_driver::check(&source, &dir, Overrides::default()).map_err(|d| {
        Failed::from(format!(
            "{} does not check:\n{}",
            input.display(),
            nnc_diagnostics::render("input.nn", &source, &d)
        ))
    })
}

fn golden(input: &Path, expected: &Path, render: fn(&Checked) -> String) -> Result<(), Failed> {
    compare_golden(render(&checked(input)?), expected).map_err(Failed::from)
}

fn explain_text(checked: &Checked) -> String {
    explain::render(&explain::explain_program(checked), Style::Text)
}

fn latex_text(checked: &Checked) -> String {
    explain::render(&explain::explain_program(checked), Style::Latex)
}

/// Step 1 only: later steps run compiled code, whose last bits may differ between CPUs.
fn trace_text(checked: &Checked) -> String {
    let options = trace::TraceOptions { step: Some(1), rows: Some(vec![0, 1, 2, 3]) };
    checked
        .jobs
        .iter()
        .map(|plan| trace::trace_job(plan, &options).map(|t| trace::render(&t)).unwrap_or_else(|e| e))
        .collect()
}

fn gradients_agree(input: &Path) -> Result<(), Failed> {
    let checked = checked(input)?;
    let mut checks: Vec<gradcheck::GradCheck> =
        checked.minimizations.iter().map(|plan| gradcheck::gradcheck_minimization(plan, None)).collect();
    for plan in &checked.jobs {
        checks.push(gradcheck::gradcheck_job(plan, None)?);
    }
    if checks.iter().all(|c| c.passed) { Ok(()) } else { Err(gradcheck::render(&checks).into()) }
}

/// The matrices of the course's hand-solved XOR network, step by step.
fn trace_reproduces_the_course() -> Result<(), Failed> {
    let checked = checked(&repo_root().join("examples/xor_by_hand.nn"))?;
    let trace = trace::trace_job(&checked.jobs[0], &trace::TraceOptions::default())?;
    let find = |expr: &str| {
        trace
            .entries
            .iter()
            .find(|e| e.expr == expr)
            .map(|e| e.values.clone())
            .ok_or(format!("no `{expr}` in the trace"))
    };
    let expect = [
        ("X·W1", vec![0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]),
        ("z1 = X·W1 + b1", vec![0.0, -1.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0]),
        ("h1 = ReLU(z1)", vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0]),
        ("ŷ = h1·W2 + b2", vec![0.0, 1.0, 1.0, 0.0]),
        ("L = mean((ŷ − y)²)", vec![0.0]),
    ];
    for (expr, want) in expect {
        let got = find(expr)?;
        if got != want {
            return Err(format!("{expr}: {got:?}, the course has {want:?}").into());
        }
    }
    Ok(())
}

/// A gradient made 1% wrong (as a bug in a derivative rule would) fails the check.
fn gradcheck_catches_a_wrong_gradient() -> Result<(), Failed> {
    let checked = checked(&repo_root().join("examples/xor.nn"))?;
    let plan = &checked.jobs[0];
    assert!(gradcheck::gradcheck_job(plan, None)?.passed, "the honest gradient passes");
    let skew = |graph: &mut nnc_ir::Graph| {
        let (name, grad) = graph.outputs[0].clone();
        let shape = graph.shape(grad).clone();
        let factor = graph.constant(1.01, &shape, nnc_ir::Origin::default());
        let wrong = graph.push(nnc_ir::Op::Mul, vec![grad, factor], nnc_ir::Origin::default());
        graph.outputs[0] = (name, wrong);
    };
    let check = gradcheck::gradcheck_job(plan, Some(&skew))?;
    if check.passed || check.tensors[0].passed || !check.tensors[1..].iter().all(|t| t.passed) {
        return Err(format!("expected exactly W1 to fail:\n{}", gradcheck::render(&[check])).into());
    }
    Ok(())
}

/// Every figure of a program, as data and drawn: SVG with one circle per data point, and
/// PNG that decodes to the plot size.
fn figures(input: &Path) -> Result<Vec<nnc_inspect::plots::Figure>, Failed> {
    let checked = checked(input)?;
    let dir = input.parent().map(Path::to_path_buf).unwrap_or_default();
    let run = nnc_driver::run_checked(&checked, &dir, Overrides::default(), 0.0).map_err(|d| format!("{d:?}"))?;
    let mut figures = Vec::new();
    for (plan, report) in checked.minimizations.iter().zip(&run.minimizations) {
        figures.extend(nnc_inspect::plots::minimization_figures(plan, &report.trajectory));
    }
    for (plan, report) in checked.jobs.iter().zip(&run.jobs) {
        let compiled = nnc_driver::compile_job(plan, nnc_driver::Functions::Run, nnc_driver::CodegenOptions::default())
            .map_err(|d| d.message)?;
        let history = nnc_driver::train_recorded(plan, &compiled).map_err(|d| format!("{d:?}"))?.history;
        figures.extend(nnc_inspect::plots::job_figures(plan, report, &history));
    }
    Ok(figures)
}

fn figures_are_drawn(input: &Path) -> Result<(), Failed> {
    for figure in figures(input)? {
        let svg =
            String::from_utf8(nnc_plot::render(&figure.plot, nnc_plot::Format::Svg)?).map_err(|e| e.to_string())?;
        if !svg.starts_with("<svg") || !svg.trim_end().ends_with("</svg>") {
            return Err(format!("{}: not an SVG document", figure.name).into());
        }
        let points: usize = figure
            .plot
            .layers
            .iter()
            .map(|l| match l {
                nnc_plot::Layer::Points { points, .. } => points.len(),
                _ => 0,
            })
            .sum();
        // The legend draws one more circle per labelled point series.
        let circles = svg.matches("<circle").count();
        if circles < points {
            return Err(format!("{}: {points} points but {circles} circles", figure.name).into());
        }
        let png = nnc_plot::render(&figure.plot, nnc_plot::Format::Png)?;
        let image = image::load_from_memory(&png).map_err(|e| format!("{}: {e}", figure.name))?;
        if (image.width(), image.height()) != nnc_plot::SIZE {
            return Err(format!("{}: PNG of {}×{}", figure.name, image.width(), image.height()).into());
        }
    }
    Ok(())
}

/// What `nnc serve` draws while a block trains, at its initial parameters: every live
/// figure that applies renders, the diagnosis of a made-up curve runs, and the hidden
/// states of any model of two layers or more are drawn (the interpreter's work budgeted).
fn live_views_are_drawn(input: &Path) -> Result<(), Failed> {
    use nnc_inspect::{diagnosis, filters, network, plots};
    let checked = checked(input)?;
    for plan in &checked.jobs {
        let params = plan.start_params(plan.job.train.seed);
        let hidden = plots::live_hidden(plan, &params);
        if plan.job.model.layers.len() >= 2 && hidden.is_none() {
            return Err(format!("{}: no live hidden states", plan.job.model.name).into());
        }
        let validation_rows = plan.data.validation.as_ref().map_or(0, |v| v.rows * v.n_targets());
        let figures = [
            plots::live_decision_boundary(plan, &params),
            network::network(plan, &params),
            hidden.as_ref().and_then(|(layers, rows)| plots::live_hidden_space(plan, layers, *rows)),
            plots::live_predictions(plan, &vec![0.5; validation_rows]),
            filters::filter_mosaic(plan, &params),
            filters::feature_maps(plan, &params),
        ];
        for plot in figures.iter().flatten() {
            let svg = String::from_utf8(nnc_plot::render(plot, nnc_plot::Format::Svg)?).map_err(|e| e.to_string())?;
            if !svg.starts_with("<svg") {
                return Err(format!("{}: {} is not an SVG document", plan.job.model.name, plot.title).into());
            }
        }
        // A loss that fell to 0.1 at epoch 5, then grew to 15: diverging, whatever the model.
        let turned: Vec<(u64, f32)> = (1..=20).map(|epoch| (epoch, (epoch as f32 - 5.0).abs() + 0.1)).collect();
        let train_rows = plan.data.train.rows;
        let findings =
            diagnosis::diagnose_live(plan, &turned, hidden.as_ref().map(|(layers, _)| (layers.as_slice(), train_rows)));
        if !findings.iter().any(|f| f.kind == "diverging") {
            return Err(format!("{}: a loss that grew is not diverging: {findings:?}", plan.job.model.name).into());
        }
    }
    Ok(())
}

fn figure_golden(input: &Path, name: &str, expected: &Path) -> Result<(), Failed> {
    let figure = figures(input)?.into_iter().find(|f| f.name == name).ok_or(format!("no figure {name}"))?;
    let svg = String::from_utf8(nnc_plot::render(&figure.plot, nnc_plot::Format::Svg)?).map_err(|e| e.to_string())?;
    compare_golden(svg, expected).map_err(Failed::from)
}

/// A convolution's two 3x3 filters as a mosaic of grey levels (the largest |w| black or
/// white, a blank column between the two), and its two 4x4 feature maps on a row.
fn filters_and_feature_maps() -> Result<(), Failed> {
    let figures = figures(&repo_root().join("tests/oracle/conv_same_maxpool.nn"))?;
    let grid = |name: &str| -> Result<Vec<Vec<nnc_plot::Shade>>, Failed> {
        let figure = figures.iter().find(|f| f.name == name).ok_or(format!("no figure {name}"))?;
        match &figure.plot.layers[..] {
            [nnc_plot::Layer::Field { grid }] => Ok(grid.clone()),
            _ => Err(format!("{name}: not one field").into()),
        }
    };
    let grey = |shade: &nnc_plot::Shade| match shade {
        nnc_plot::Shade::Grey(v) => Some(*v),
        _ => None,
    };
    let filters = grid("m-filters")?;
    assert_eq!((filters.len(), filters[0].len()), (3, 7), "two 3x3 panels and a blank column");
    assert!(filters.iter().all(|row| row[3] == nnc_plot::Shade::Blank));
    let levels: Vec<f64> = filters.iter().flatten().filter_map(grey).collect();
    assert_eq!(levels.len(), 18);
    assert!(levels.iter().any(|&v| v <= 1e-9 || v >= 1.0 - 1e-9), "the largest |w| is black or white");
    let maps = grid("m-feature-maps")?;
    assert_eq!((maps.len(), maps[0].len()), (4, 9), "two 4x4 maps of `same` padding");
    Ok(())
}

/// The figures the course asks for: XOR's decision boundary with its four points and a
/// line per hidden unit, the network with an edge per weight, the hidden states, and linear regression's loss surface with the
/// path of training ending near the least-squares optimum.
fn expected_figures() -> Result<(), Failed> {
    let root = repo_root();
    let xor = figures(&root.join("examples/xor.nn"))?;
    let names: Vec<&str> = xor.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["mlp-loss", "mlp-decision", "mlp-network", "mlp-hidden"]);
    let decision = &xor[1].plot;
    // The network 2-8-1: 11 units, 16 + 8 weights, each an edge.
    let (mut units, mut edges) = (0, 0);
    for layer in &xor[2].plot.layers {
        match layer {
            nnc_plot::Layer::Points { points, .. } => units += points.len(),
            nnc_plot::Layer::Edges { edges: e } => edges += e.iter().filter(|e| e.weight.is_finite()).count(),
            _ => {}
        }
    }
    assert_eq!((units, edges), (11, 24), "the units and weights of xor's 2-8-1 network");
    let count = |plot: &nnc_plot::Plot, points: bool| {
        plot.layers
            .iter()
            .filter(|l| {
                matches!(l, nnc_plot::Layer::Points { .. }) == points
                    && matches!(l, nnc_plot::Layer::Points { .. } | nnc_plot::Layer::Line { .. })
            })
            .map(|l| match l {
                nnc_plot::Layer::Points { points, .. } => points.len(),
                _ => 1,
            })
            .sum::<usize>()
    };
    assert_eq!(count(decision, true), 4, "the four XOR rows");
    assert!((1..=8).contains(&count(decision, false)), "one line per hidden unit crossing the plot");
    let linreg = figures(&root.join("examples/linreg.nn"))?;
    let surface = linreg.iter().find(|f| f.name == "line-surface").ok_or("no loss surface")?;
    let (path, optimum) = surface.plot.layers.iter().fold((None, None), |(path, optimum), layer| match layer {
        nnc_plot::Layer::Line { points, .. } => (Some(points.clone()), optimum),
        nnc_plot::Layer::Points { label: Some(l), points, .. } if l == "least squares" => (path, Some(points[0])),
        _ => (path, optimum),
    });
    let (path, optimum) = (path.ok_or("no path")?, optimum.ok_or("no optimum")?);
    let end = path.last().copied().ok_or("empty path")?;
    let distance = ((end.0 - optimum.0).powi(2) + (end.1 - optimum.1).powi(2)).sqrt();
    let scale = (optimum.0.powi(2) + optimum.1.powi(2)).sqrt().max(1.0);
    if distance > 0.05 * scale {
        return Err(format!("training ended at {end:?}, least squares at {optimum:?}").into());
    }
    Ok(())
}

/// Too small learns slowly, a good rate solves XOR on every seed, too large diverges.
fn sweep_shows_the_learning_rate() -> Result<(), Failed> {
    let checked = checked(&repo_root().join("examples/xor.nn"))?;
    let sweep = nnc_inspect::sweep::sweep(&checked.jobs[0], &[0.001, 0.1, 10.0], &(0..5).collect::<Vec<u64>>())?;
    let [slow, good, wild] = [&sweep.rows[0], &sweep.rows[1], &sweep.rows[2]];
    let median = |r: &nnc_inspect::sweep::Row| {
        let mut losses = r.final_losses.clone();
        losses.sort_by(f32::total_cmp);
        losses[losses.len() / 2]
    };
    assert!(good.solved == 5 && good.diverged == 0, "lr 0.1 solves XOR for every seed: {good:?}");
    assert!(median(slow) > 100.0 * median(good), "lr 0.001 is still far from done");
    assert_eq!(wild.diverged, 5, "lr 10 diverges: {wild:?}");
    Ok(())
}

fn diagnosis_reports(program: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(program).map_err(|e| e.to_string())?;
    let wanted: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("//@ diagnosis:"))
        .ok_or("no `//@ diagnosis:` line")?
        .split_whitespace()
        .collect();
    let checked = checked(program)?;
    let dir = program.parent().map(Path::to_path_buf).unwrap_or_default();
    let run = nnc_driver::run_checked(&checked, &dir, Overrides::default(), 0.0).map_err(|d| {
        format!("{} did not run: {:?}", program.display(), d.iter().map(|d| &d.message).collect::<Vec<_>>())
    })?;
    let findings = nnc_inspect::diagnosis::diagnose(&checked.jobs[0], &run.jobs[0]);
    let kinds: Vec<&str> = findings.iter().map(|f| f.kind).collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    let mut expected = wanted.clone();
    expected.sort_unstable();
    if sorted != expected {
        return Err(
            format!("expected {wanted:?}, found {kinds:?}:\n{}", nnc_inspect::diagnosis::render(&findings)).into()
        );
    }
    Ok(())
}
