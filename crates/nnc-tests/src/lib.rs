//! Shared helpers for nnc's test suites: where the test data lives, how to find cases, and
//! how to run one graph through the code generator.

pub mod differential;
pub mod generate;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.nn` file directly inside `dir`, sorted.
pub fn nn_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "nn"));
    files.sort();
    files
}

/// Whether goldens should be rewritten instead of checked (`BLESS=1`, never in CI).
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v != "0") && std::env::var_os("CI").is_none()
}

/// Lowers `graph` to kernels, compiles it alone and runs it once: returns its outputs,
/// and updates `params` in place with the graph's parameter updates.
pub fn run_compiled(graph: &nnc_ir::Graph, inputs: &[&[f32]], params: &mut [Vec<f32>]) -> Vec<Vec<f32>> {
    let program = nnc_kernels::lower(graph, &[], &nnc_kernels::Options::default());
    let unit = nnc_codegen::Unit::Program { name: "graph", program: &program, hot: true };
    let compiled = nnc_codegen::compile(&[unit], nnc_codegen::Options::default()).expect("the graph compiles");
    let kernel = compiled.kernel("graph").expect("compiled under its name");
    let mut outputs: Vec<Vec<f32>> = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    let mut scratch = vec![0.0; kernel.arena_len()];
    let params = nnc_codegen::Params::Update(params);
    kernel.call(nnc_codegen::Frame { inputs, params, outputs: &mut outputs, scratch: &mut scratch });
    outputs
}

/// Compares `actual` with the golden file `expected`, or rewrites it when blessing; the
/// error shows a diff.
pub fn compare_golden(actual: String, expected: &Path) -> Result<(), String> {
    use snapbox::{Assert, Data, IntoData, assert::Action};
    let bless = blessing();
    if !bless && !expected.exists() {
        return Err(format!("missing golden {}; run with BLESS=1 to create it", expected.display()));
    }
    let action = if bless { Action::Overwrite } else { Action::Verify };
    let expected_data = Data::read_from(&PathBuf::from(expected), None).raw();
    Assert::new()
        .action(action)
        .try_eq(None, actual.into_data(), expected_data)
        .map_err(|e| format!("{e}\nrun with BLESS=1 to update {}", expected.display()))
}

/// A deterministic pseudo-random fill in [-1, 1), independent of the runtime's generator.
pub fn fill(len: usize, salt: u32) -> Vec<f32> {
    (0..len as u32)
        .map(|i| {
            let h = (i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)).wrapping_mul(2_246_822_519);
            (h >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}
