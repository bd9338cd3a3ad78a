//! What the fuzz targets share: each feeds its input through a part of nnc the way a user's
//! input reaches it, and lets nnc report a diagnostic or succeed. A panic, an abort, a hang
//! (libFuzzer's `-timeout`) or running out of memory (`-rss_limit_mb`) is a finding.

use nnc_driver::{Checked, Overrides};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A private copy of `examples/` (programs may read its data files, and `save_layer`
/// writes next to them), made once per process.
pub fn workdir() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        copy_folder(&examples, dir.path());
        let path = dir.path().to_path_buf();
        (dir, path)
    });
    path
}

fn copy_folder(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("examples/ exists").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("a folder");
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copy");
        }
    }
}

/// Settings that keep one execution short and small: two epochs, 256 MiB.
pub fn overrides() -> Overrides {
    Overrides { epochs: Some(2), memory_limit: Some(256 << 20), ..Overrides::default() }
}

/// Whether running `checked` stays within one execution's time: a descent of a billion
/// steps is correct behaviour, and only slow.
pub fn quick(checked: &Checked) -> bool {
    let rows: usize = checked.jobs.iter().map(|plan| plan.data.train.rows).sum();
    checked.minimizations.iter().all(|m| m.minimization.steps <= 2000) && rows <= 100_000
}

/// Source text through every stage: parse, check, lower, autodiff, passes, kernels,
/// codegen, two epochs of training and evaluation; and `nnc fmt`, whose output must
/// parse to the same program.
pub fn compile_and_run(source: &str) {
    // Absolute paths would let a program write outside the private folder.
    if source.contains("save_layer") {
        return;
    }
    if let Ok(formatted) = nnc_driver::format(source) {
        let again = nnc_driver::format(&formatted).expect("formatted text parses");
        assert_eq!(again, formatted, "fmt is idempotent");
    }
    let dir = workdir();
    let Ok(checked) = nnc_driver::check(source, dir, overrides()) else { return };
    for stage in [nnc_driver::Stage::Ast, nnc_driver::Stage::Kernels] {
        let _ = nnc_driver::stage_text(source, dir, stage);
    }
    if quick(&checked) {
        let _ = nnc_driver::run_checked(&checked, dir, overrides(), 0.0);
    }
}

/// Programs that read `f.csv` as each kind of data block does.
const CSV_PROGRAMS: &[&str] = &[
    "data d { file \"f.csv\"; target y }\nmodel m { input auto; dense 1 }\ntrain m on d { loss mse }",
    "data d { file \"f.csv\"; features all but y; target y; categorical y; missing drop; split 0.5 0.25 0.25 }\n\
     model m { input auto; dense 3 }\ntrain m on d { loss softmax_ce }",
    "data d { file \"f.csv\"; target y; normalize standard; missing mean; missing_values \"\" \"?\" y(\"\") }\n\
     model m { input auto; dense 1 }\ntrain m on d { loss mse }",
    "data d { file \"f.csv\"; window y 3; split 0.6 0.2 0.2 }\nmodel m { input 3; dense 1 }\ntrain m on d { loss mse }",
];

/// Writes `bytes` as `f.csv` in a fresh folder and checks each program that reads it;
/// where one loads, trains it briefly and encodes the file as new rows with its
/// preprocessing.
pub fn load_csv(bytes: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("f.csv");
    std::fs::write(&file, bytes).expect("written");
    for source in CSV_PROGRAMS {
        let Ok(checked) = nnc_driver::check(source, dir.path(), overrides()) else { continue };
        let plan = &checked.jobs[0];
        let room = nnc_data::Room::unlimited();
        let missing = nnc_driver::predict::missing_of(&plan.job);
        let _ = nnc_data::encode_file(&file, &plan.data.preprocessing, missing, plan.job.data.span, &room);
        if quick(&checked) {
            let _ = nnc_driver::run_checked(&checked, dir.path(), overrides(), 0.0);
        }
    }
}

/// A trained example's plan, source and saved weights, made once.
struct Trained {
    source: String,
    checked: Checked,
    bytes: Vec<u8>,
}

fn trained(example: &'static str) -> &'static Trained {
    static CACHE: OnceLock<std::sync::Mutex<Vec<(&'static str, &'static Trained)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, trained)) = cache.iter().find(|(name, _)| *name == example) {
        return trained;
    }
    let source = std::fs::read_to_string(workdir().join(example)).expect("the example exists");
    let checked = nnc_driver::check(&source, workdir(), overrides()).expect("the example checks");
    let run = nnc_driver::run_checked(&checked, workdir(), overrides(), 0.0).expect("the example trains");
    let bytes = nnc_driver::weights::encode(&checked.jobs[0], &source, &run.jobs[0].parameters).expect("encoded");
    let trained: &'static Trained = Box::leak(Box::new(Trained { source, checked, bytes }));
    cache.push((example, trained));
    trained
}

const EXAMPLES: &[&str] = &["iris.nn", "xor.nn", "linreg.nn", "house_price.nn", "and.nn"];

/// Weight-file bytes (half the time a real file with bytes changed) through `--load` on
/// each example and through `predict` on its training rows.
pub fn use_weights(data: &[u8]) {
    let Some((&choice, rest)) = data.split_first() else { return };
    let example = trained(EXAMPLES[usize::from(choice) % EXAMPLES.len()]);
    let bytes = if choice & 0x80 != 0 {
        // A real file with the input laid over its tail: deep into the parser.
        let mut bytes = example.bytes.clone();
        let len = bytes.len();
        let start = len.saturating_sub(rest.len());
        bytes[start..].copy_from_slice(&rest[..len - start]);
        bytes
    } else {
        rest.to_vec()
    };
    let Ok(weights) = nnc_driver::weights::decode(&bytes) else { return };
    let jobs = nnc_driver::predict::jobs_of(&example.source, None).expect("the example checks");
    let Ok((job, params)) = nnc_driver::predict::job_for(&jobs, &weights, "fuzzed") else { return };
    let data = &example.checked.jobs[0].data.train;
    let encoded = nnc_data::Encoded {
        inputs: data.inputs.clone(),
        rows: data.rows,
        lines: (0..data.rows as u64).collect(),
        ..nnc_data::Encoded::default()
    };
    let _ = nnc_driver::predict::predict(&job, &params, &weights, &encoded);
    let checked = nnc_driver::check(&example.source, workdir(), overrides()).expect("the example checks");
    let mut plan = checked.jobs.into_iter().next().expect("one job");
    if plan.start_from(&weights, "fuzzed").is_ok() {
        let compiled = nnc_driver::compile_job(&plan, nnc_driver::Functions::Run, Default::default()).expect("compiles");
        let _ = nnc_driver::train(&plan, &compiled, &Default::default());
    }
}

/// An example's weights replaced by numbers from `data` (in [-8, 8], two bytes each),
/// exported to ONNX, run by tract on the training rows: tract's outputs agree with nnc's
/// predictions to 1 % (relative), or both are not numbers. (With weights this large the
/// two runtimes' rounding differs by up to about 0.2 % after cancellation; a wrong graph
/// is wrong by far more.)
pub fn onnx_round_trip(data: &[u8]) {
    use tract_onnx::prelude::*;
    let Some((&choice, rest)) = data.split_first() else { return };
    let example = trained(EXAMPLES[usize::from(choice) % EXAMPLES.len()]);
    let mut weights = nnc_driver::weights::decode(&example.bytes).expect("an nnc file");
    let floats: Vec<f32> =
        rest.chunks_exact(2).map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 4096.0).collect();
    if !floats.is_empty() {
        let mut next = floats.iter().cycle();
        for (_, _, values) in &mut weights.tensors {
            values.iter_mut().for_each(|v| *v = *next.next().expect("cycled"));
        }
    }
    let jobs = nnc_driver::predict::jobs_of(&example.source, None).expect("the example checks");
    let (job, params) = nnc_driver::predict::job_for(&jobs, &weights, "fuzzed").expect("the example's own shapes");
    let plan = &example.checked.jobs[0];
    let data = &plan.data.train;
    let encoded = nnc_data::Encoded {
        inputs: data.inputs.clone(),
        rows: data.rows,
        lines: (0..data.rows as u64).collect(),
        ..nnc_data::Encoded::default()
    };
    let predicted = nnc_driver::predict::predict(&job, &params, &weights, &encoded).expect("predicts");
    let exported = nnc_export::onnx::export(&job, &weights, &params);
    let mut affine = Vec::new();
    for column in &weights.metadata.preprocessing.features {
        match column.encoding {
            nnc_data::Encoding::Numeric { offset, scale, .. } => affine.push((offset, scale)),
            nnc_data::Encoding::OneHot { .. } => affine.extend(std::iter::repeat_n((0.0, 1.0), column.encoding.width())),
        }
    }
    let width = data.n_inputs();
    let raw: Vec<f32> =
        data.inputs.iter().enumerate().map(|(i, &x)| x * affine[i % width].1 + affine[i % width].0).collect();
    let model = tract_onnx::onnx()
        .model_for_read(&mut exported.bytes.as_slice())
        .expect("tract reads the export")
        .with_input_fact(0, f32::fact([data.rows, width]).into())
        .expect("an input shape")
        .into_optimized()
        .expect("optimises")
        .into_runnable()
        .expect("runs");
    let input = tract_ndarray::Array2::from_shape_vec((data.rows, width), raw).expect("a matrix");
    let outputs = model.run(tvec!(Tensor::from(input).into())).expect("tract runs");
    let got: Vec<f32> = outputs[0].as_slice::<f32>().expect("f32 outputs").to_vec();
    assert_eq!(got.len(), predicted.values.iter().map(Vec::len).sum::<usize>(), "one output per prediction");
    // Predictions are reported in the target's units, `z * scale + offset`: when the two
    // nearly cancel (a price near zero from a mean of 234,000) the result keeps only the
    // absolute rounding of the terms, so that is allowed for too.
    let targets = weights.metadata.preprocessing.target_scale(predicted.values.first().map_or(1, Vec::len));
    for (i, (tract, nnc)) in got.iter().zip(predicted.values.iter().flatten()).enumerate() {
        let neither_a_number = !tract.is_finite() && !nnc.is_finite();
        let offset = targets.get(i % targets.len().max(1)).map_or(0.0, |t| t.0.abs());
        let close = (tract - nnc).abs() <= 1e-2 * (1.0 + nnc.abs().max(tract.abs())) + 1e-5 * offset;
        assert!(neither_a_number || close, "tract {tract}, nnc {nnc}");
    }
}
