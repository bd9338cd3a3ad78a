//! The views of `nnc-inspect` on every example and on small programs made to trigger
//! them: `explain` and `trace` pinned as goldens (`tests/golden/views/`), the course's
//! matrices in the trace of `xor_by_hand.nn`, `gradcheck` passing on every example and
//! failing on a wrong gradient, and each diagnosis triggered by its program in
//! `tests/views/diagnosis/` (a `//@ diagnosis: KIND ...` line lists what it must report).

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
    for (stem, view) in
        [("linreg", "latex"), ("xor", "latex"), ("xor_by_hand", "trace"), ("xor", "trace"), ("iris", "trace")]
    {
        let input = root.join("examples").join(format!("{stem}.nn"));
        let expected = views.join(format!("{stem}.{view}"));
        let render: fn(&Checked) -> String = if view == "latex" { latex_text } else { trace_text };
        trials.push(Trial::test(format!("{view}::{stem}"), move || golden(&input, &expected, render)));
    }
    trials.push(Trial::test("trace::xor_by_hand_is_the_course", trace_reproduces_the_course));
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
