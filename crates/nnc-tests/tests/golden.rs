//! Golden-file tests: every stage of every case, byte for byte.
//!
//! - `tests/golden/ok/NAME.nn` and every `examples/NAME.nn` (goldens in
//!   `tests/golden/examples/`) must compile; each stage is pinned as `NAME.<stage>`:
//!   every stage but `clif` and `asm` for `ok/`, `ast ir grad` for examples, unless a
//!   line `//@ stages: ...` in the file names them (`asm` is pinned for AVX2 + FMA).
//! - `tests/golden/err/NAME.nn` must fail; its rendered diagnostics are `NAME.stderr`.
//!
//! `BLESS=1 cargo test -p nnc-tests --test golden` rewrites the expected files; a mismatch
//! prints a diff; a missing expected file fails.

use libtest_mimic::{Arguments, Failed, Trial};
use nnc_codegen::cpu::CpuClass;
use nnc_driver::{Stage, stage_text_for};
use nnc_tests::{blessing, nn_files, repo_root};
use std::path::{Path, PathBuf};

fn main() {
    let root = repo_root();
    let golden = root.join("tests/golden");
    let mut trials = Vec::new();
    let cases = [
        (golden.join("ok"), golden.join("ok"), &OK_STAGES[..]),
        (root.join("examples"), golden.join("examples"), &EXAMPLE_STAGES[..]),
    ];
    for (dir, expected_dir, default_stages) in cases {
        let inputs = nn_files(&dir);
        for input in &inputs {
            for stage in stages_of(input, default_stages) {
                let expected = expected_dir.join(format!("{}.{}", stem(input), stage.name()));
                let input = input.clone();
                let name = format!("{}::{}", rel(&root, &input), stage.name());
                trials.push(Trial::test(name, move || check_stage(&input, stage, &expected)));
            }
        }
        let wanted: Vec<String> = inputs
            .iter()
            .flat_map(|i| stages_of(i, default_stages).into_iter().map(move |s| format!("{}.{}", stem(i), s.name())))
            .collect();
        for stale in stale_goldens(&expected_dir, &wanted) {
            let name = format!("{}::stale", rel(&root, &stale));
            trials.push(Trial::test(name, move || remove_stale(&stale)));
        }
    }
    for case in nn_files(&golden.join("ok")).into_iter().chain(nn_files(&golden.join("err"))) {
        let name = format!("{}::intent", rel(&root, &case));
        trials.push(Trial::test(name, move || says_what_it_checks(&case)));
    }
    for input in nn_files(&golden.join("err")) {
        let expected = input.with_extension("stderr");
        let name = format!("{}::stderr", rel(&root, &input));
        trials.push(Trial::test(name, move || check_errors(&input, &expected)));
    }
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

/// A case opens (after any `//@` directives) with a `//!` line saying what it checks.
fn says_what_it_checks(case: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(case).map_err(|e| Failed::from(e.to_string()))?;
    let first = text.lines().find(|line| !line.starts_with("//@")).unwrap_or("");
    match first.strip_prefix("//!") {
        Some(intent) if !intent.trim().is_empty() => Ok(()),
        _ => Err(format!("{} does not open with a `//!` line saying what it checks", case.display()).into()),
    }
}

const EXAMPLE_STAGES: [Stage; 3] = [Stage::Ast, Stage::Ir, Stage::Grad];
/// Every stage but `clif` and `asm`, whose texts follow every change to code generation:
/// a case pins them with `//@ stages:`.
const OK_STAGES: [Stage; 5] = [Stage::Ast, Stage::Ir, Stage::Grad, Stage::Opt, Stage::Kernels];

/// The stages a `//@ stages: a b c` line names, or the defaults.
fn stages_of(input: &Path, defaults: &[Stage]) -> Vec<Stage> {
    let text = std::fs::read_to_string(input).unwrap_or_default();
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("//@ stages:")) else { return defaults.to_vec() };
    let names: Vec<&str> = line.split_whitespace().collect();
    Stage::ALL.into_iter().filter(|s| names.contains(&s.name())).collect()
}

/// Expected-output files in `dir` that no case asks for any more.
fn stale_goldens(dir: &Path, wanted: &[String]) -> Vec<PathBuf> {
    let mut stale: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    stale.retain(|path| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let is_stage = Stage::ALL.iter().any(|s| name.ends_with(&format!(".{}", s.name())));
        is_stage && !wanted.contains(&name)
    });
    stale.sort();
    stale
}

fn remove_stale(path: &Path) -> Result<(), Failed> {
    if blessing() {
        return std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()).into());
    }
    Err(format!("stale golden {} (no case asks for it); run with BLESS=1 to delete it", path.display()).into())
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn base_dir(input: &Path) -> PathBuf {
    input.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn read(path: &Path) -> Result<String, Failed> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// Machine code is pinned for AVX2 + FMA, which every x86-64 machine of the last decade
/// runs (and an AVX-512 one generates when told to); a machine below it says SKIPPED.
const ASM_CLASS: CpuClass = CpuClass::Avx2;

fn check_stage(input: &Path, stage: Stage, expected: &Path) -> Result<(), Failed> {
    let source = read(input)?;
    if stage == Stage::Asm && nnc_codegen::cpu::host_class() < ASM_CLASS {
        nnc_testkit::skip(&format!("{} asm golden", input.display()), "the CPU has no AVX2 and FMA");
        return Ok(());
    }
    let class = (stage == Stage::Asm).then_some(ASM_CLASS);
    let actual = stage_text_for(&source, &base_dir(input), stage, class).map_err(|d| {
        format!("{} should compile but failed:\n{}", input.display(), nnc_diagnostics::render("input.nn", &source, &d))
    })?;
    compare(actual, expected)
}

fn check_errors(input: &Path, expected: &Path) -> Result<(), Failed> {
    let source = read(input)?;
    let name = format!("{}.nn", stem(input));
    // A fixed memory limit, below what any machine running the tests has available, keeps
    // the text of memory diagnostics the same everywhere.
    let overrides = nnc_driver::Overrides { memory_limit: Some(1 << 30), ..Default::default() };
    let actual = match nnc_driver::run(&source, &base_dir(input), overrides) {
        Ok(_) => return Err(format!("{} should fail with a diagnostic but ran", input.display()).into()),
        Err(diagnostics) => nnc_diagnostics::render(&name, &source, &diagnostics),
    };
    compare(actual, expected)
}

fn compare(actual: String, expected: &Path) -> Result<(), Failed> {
    nnc_tests::compare_golden(actual, expected).map_err(Failed::from)
}
