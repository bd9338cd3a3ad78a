//! The benchmark workloads of `bench/workloads/` with their data, ready to compile
//! and train: what the criterion benches (`cargo bench -p nnc-bench`) measure. The
//! programs are the same files `bench/compare.py` runs against the Python frameworks; the
//! data is generated here with the same recipe (Gaussian clusters, a noisy line), so the
//! benches need neither Python nor a network.

use nnc_driver::{Functions, JobPlan, Overrides};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The workloads, by file name.
pub const WORKLOADS: [&str; 6] = ["w1_xor8", "w2_digits", "w3_wide", "w4_linreg", "w5_cnn", "w5_cnn28"];

/// A workload checked against its data, ready to compile.
pub struct Workload {
    pub name: &'static str,
    pub plan: JobPlan,
    /// Training steps of one run (every epoch, the smaller last batch included).
    pub steps: u64,
    /// Keeps the data files alive as long as the workload.
    _data: tempfile::TempDir,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads workload `name` with freshly written data, overriding its epochs when given.
pub fn workload(name: &'static str, epochs: Option<u64>) -> Workload {
    let dir = tempfile::tempdir().expect("a temporary directory for the benchmark data");
    write_data(&dir.path().join("data"));
    let source = std::fs::read_to_string(repo_root().join("bench/workloads").join(format!("{name}.nn")))
        .expect("the workload program");
    let overrides = Overrides { epochs, ..Overrides::default() };
    let checked = nnc_driver::check(&source, dir.path(), overrides).unwrap_or_else(|errors| {
        panic!("{name} does not check: {:?}", errors.iter().map(|e| &e.message).collect::<Vec<_>>())
    });
    let plan = checked.jobs.into_iter().next().expect("a train block");
    let steps = plan.job.train.epochs * plan.shape.steps() as u64;
    Workload { name, plan, steps, _data: dir }
}

impl Workload {
    /// Source (already checked) to callable code.
    pub fn compile(&self) -> nnc_codegen::Compiled {
        nnc_driver::compile_job(&self.plan, Functions::Run, nnc_codegen::Options::default())
            .unwrap_or_else(|e| panic!("{} does not compile: {}", self.name, e.message))
    }

    /// One whole training run; returns the final epoch's loss.
    pub fn train(&self, compiled: &nnc_codegen::Compiled) -> f32 {
        let training = nnc_driver::train(&self.plan, compiled, &nnc_driver::Watch::default())
            .unwrap_or_else(|_| panic!("{} diverged", self.name));
        training.epoch_losses.last().copied().unwrap_or(f32::NAN)
    }
}

fn write_data(dir: &Path) {
    std::fs::create_dir_all(dir).expect("the data directory");
    std::fs::copy(repo_root().join("examples/data/digits.csv"), dir.join("digits.csv")).expect("digits.csv");
    std::fs::write(dir.join("wide.csv"), gaussian_clusters(2560, 784, 10, 3)).expect("wide.csv");
    std::fs::write(dir.join("linreg.csv"), noisy_line(1000, 2)).expect("linreg.csv");
    std::fs::write(dir.join("images28.csv"), images(2048, 784, 10, 5)).expect("images28.csv");
}

/// Clusters as pixels: each value through the logistic function into (0, 1), with
/// columns `p0`, `p1`, ... (W5 at 28×28).
fn images(rows: usize, pixels: usize, classes: usize, seed: u64) -> String {
    let clusters = gaussian_clusters(rows, pixels, classes, seed);
    let mut lines = clusters.lines();
    let header: Vec<String> = (0..pixels).map(|i| format!("p{i}")).chain(["label".to_string()]).collect();
    let mut csv = header.join(",") + "\n";
    lines.next();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        for cell in &cells[..pixels] {
            let x: f32 = cell.parse().unwrap_or(0.0);
            let _ = write!(csv, "{:.3},", 1.0 / (1.0 + (-x).exp()));
        }
        let _ = writeln!(csv, "{}", cells[pixels]);
    }
    csv
}

/// `rows` rows around `classes` random centres (x = 0.3 centre + N(0, 1)) and a label.
fn gaussian_clusters(rows: usize, features: usize, classes: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> =
        (0..classes).map(|_| (0..features).map(|_| rng.sample(StandardNormal)).collect()).collect();
    let mut csv: String = (0..features).map(|i| format!("f{i},")).collect();
    csv.push_str("label\n");
    for _ in 0..rows {
        let label = rng.random_range(0..classes);
        for centre in &centres[label] {
            let noise: f32 = rng.sample(StandardNormal);
            let _ = write!(csv, "{:.4},", 0.3 * centre + noise);
        }
        let _ = writeln!(csv, "{label}");
    }
    csv
}

/// y = 3x + 2 + N(0, 0.01²) for x ~ U[0, 1].
fn noisy_line(rows: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = String::from("x,y\n");
    for _ in 0..rows {
        let x: f32 = rng.random();
        let noise: f32 = rng.sample(StandardNormal);
        let _ = writeln!(csv, "{x:.6},{:.6}", 3.0 * x + 2.0 + 0.01 * noise);
    }
    csv
}
