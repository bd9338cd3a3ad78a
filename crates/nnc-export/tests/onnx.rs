//! Exported ONNX models run by an independent runtime (tract, and ONNX Runtime where it
//! is installed) give what `nnc predict` gives, on examples of every kind: classes, binary,
//! regression with normalised and one-hot inputs and unscaled targets, and every layer
//! kind (convolutions, pools, batch norm, dropout, embeddings, add and concat).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_data::{Encoded, Encoding};
use nnc_driver::Overrides;
use std::path::Path;
use tract_onnx::prelude::*;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Trains `example`, saves and reads back its weights, exports ONNX, and compares tract's
/// outputs on the training rows with the compiled predictions.
fn agrees(example: &str) {
    agrees_at(&format!("examples/{example}"));
}

/// As [`agrees`], for any program in the repository, and returns the exported model.
fn agrees_at(example: &str) -> Vec<u8> {
    let path = root().join(example);
    let source = std::fs::read_to_string(&path).unwrap();
    let dir = path.parent().unwrap();
    let overrides = Overrides { epochs: Some(20), ..Overrides::default() };
    let checked = nnc_driver::check(&source, dir, overrides).unwrap();
    let run = nnc_driver::run_checked(&checked, dir, overrides, 0.0).unwrap();
    let (plan, report) = (&checked.jobs[0], &run.jobs[0]);
    let bytes = nnc_driver::weights::encode(plan, &source, &report.parameters).unwrap();
    let weights = nnc_driver::weights::decode(&bytes).unwrap();
    let jobs = nnc_driver::predict::jobs_of(&source, None).unwrap();
    let (job, params) = nnc_driver::predict::job_for(&jobs, &weights, "weights").unwrap();
    let data = &plan.data.train;
    let encoded = Encoded {
        inputs: data.inputs.clone(),
        rows: data.rows,
        lines: (0..data.rows as u64).collect(),
        ..Encoded::default()
    };
    let mut predictor = nnc_driver::predict::Predictor::new(&job, &params, &weights);
    let predicted = predictor.predict(&encoded).unwrap();
    let exported = nnc_export::onnx::export(&job, &weights, &params);
    // The file takes numeric columns as they are in the data: undo the normalisation.
    let mut affine = Vec::new();
    for column in &weights.metadata.preprocessing.features {
        match column.encoding {
            Encoding::Numeric { offset, scale, .. } => affine.push((offset, scale)),
            Encoding::OneHot { .. } => affine.extend(std::iter::repeat_n((0.0, 1.0), column.encoding.width())),
        }
    }
    let width = data.n_inputs();
    let raw: Vec<f32> =
        data.inputs.iter().enumerate().map(|(i, &x)| x * affine[i % width].1 + affine[i % width].0).collect();
    let model = tract_onnx::onnx()
        .model_for_read(&mut exported.bytes.as_slice())
        .unwrap()
        .with_input_fact(0, f32::fact([data.rows, width]).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let input = tract_ndarray::Array2::from_shape_vec((data.rows, width), raw.clone()).unwrap();
    let outputs = model.run(tvec!(Tensor::from(input).into())).unwrap();
    let onnx: Vec<f32> = outputs[0].to_array_view::<f32>().unwrap().iter().copied().collect();
    // The columns nnc predict reports as numbers: probabilities or values.
    let ours: Vec<f32> = predicted.values.clone();
    assert_eq!(onnx.len(), ours.len(), "{example}: {} outputs against {}", onnx.len(), ours.len());
    for (i, (a, b)) in onnx.iter().zip(&ours).enumerate() {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{example} output {i}: onnx {a}, nnc {b}");
    }
    assert_eq!(exported.input_columns, data.input_names);
    agrees_in_onnxruntime(example, &exported.bytes, &raw, width, &ours);
    exported.bytes
}

/// Whether the model has a node of ONNX operator `op` (its name as a protobuf string).
fn uses(model: &[u8], op: &str) -> bool {
    let mut field = vec![0x22, op.len() as u8]; // NodeProto.op_type, field 4, length-delimited
    field.extend_from_slice(op.as_bytes());
    model.windows(field.len()).any(|w| w == field.as_slice())
}

/// The Python the interoperability tests use: `NNC_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("NNC_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// The same model in ONNX Runtime (Microsoft's reference runtime, from Python) gives the
/// same outputs, where it is installed.
fn agrees_in_onnxruntime(example: &str, model: &[u8], raw: &[f32], width: usize, ours: &[f32]) {
    let python = python();
    let probe = std::process::Command::new(&python).args(["-c", "import onnxruntime, numpy"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        nnc_testkit::skip("onnx exports in onnxruntime", &format!("onnxruntime is not installed for {python}"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.onnx"), model).unwrap();
    let rows: Vec<String> =
        raw.chunks(width).map(|r| r.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(",")).collect();
    std::fs::write(dir.path().join("x.csv"), rows.join("\n")).unwrap();
    let script = "import numpy, onnxruntime\n\
                  x = numpy.loadtxt('x.csv', delimiter=',', dtype=numpy.float32, ndmin=2)\n\
                  s = onnxruntime.InferenceSession('model.onnx', providers=['CPUExecutionProvider'])\n\
                  y = s.run(None, {s.get_inputs()[0].name: x})[0]\n\
                  print(' '.join(repr(float(v)) for v in y.ravel()))\n";
    let output = std::process::Command::new(&python).args(["-c", script]).current_dir(dir.path()).output().unwrap();
    assert!(output.status.success(), "{example}: {}", String::from_utf8_lossy(&output.stderr));
    let theirs: Vec<f32> =
        String::from_utf8(output.stdout).unwrap().split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(theirs.len(), ours.len(), "{example}: onnxruntime's outputs");
    for (i, (a, b)) in theirs.iter().zip(ours).enumerate() {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{example} output {i}: onnxruntime {a}, nnc {b}");
    }
}

#[test]
fn a_cnn_exports_as_conv_max_pool_and_reshape_and_agrees() {
    let model = agrees_at("examples/digits_cnn.nn");
    for op in ["Conv", "MaxPool", "Reshape", "Transpose"] {
        assert!(uses(&model, op), "no {op} node");
    }
    assert!(!uses(&model, "Dropout"), "dropout is left out of the exported (evaluation) model");
}

#[test]
fn strided_valid_convolutions_average_pools_and_concatenated_images_agree() {
    let model = agrees_at("tests/golden/ok/layers-conv-pool.nn");
    for op in ["Conv", "AveragePool", "MaxPool", "Concat"] {
        assert!(uses(&model, op), "no {op} node");
    }
}

#[test]
fn same_padding_with_an_asymmetric_border_agrees() {
    agrees_at("tests/oracle/conv_same_stride2_adam.nn");
}

#[test]
fn batch_norm_exports_its_running_statistics_and_agrees() {
    for program in ["tests/golden/ok/layers-dropout-batchnorm.nn", "tests/oracle/batchnorm_conv.nn"] {
        assert!(uses(&agrees_at(program), "BatchNormalization"), "{program}: no BatchNormalization node");
    }
}

#[test]
fn embeddings_and_skip_connections_agree() {
    agrees("house_price_embedding.nn");
    agrees_at("tests/golden/ok/layers-residual.nn");
    agrees_at("tests/oracle/residual_add_concat.nn");
}

#[test]
fn iris_classes_agree() {
    agrees("iris.nn");
}

#[test]
fn house_prices_with_one_hot_columns_and_unscaled_targets_agree() {
    agrees("house_price.nn");
}

#[test]
fn xor_agrees() {
    agrees("xor.nn");
}

#[test]
fn and_binary_cross_entropy_agrees() {
    agrees("and.nn");
}

#[test]
fn linear_regression_agrees() {
    agrees("linreg.nn");
}

/// A model trained with a metric loss exports its embedding, L2-normalised as in training
/// (`normalize = l2`): unit rows, the same numbers as `nnc predict` gives.
#[test]
fn an_l2_normalised_embedding_exports_and_agrees() {
    agrees_at("tests/oracle/contrastive_batches.nn");
    let model = agrees_at("examples/digits_similarity.nn");
    assert!(uses(&model, "Sqrt") && uses(&model, "Div"), "no normalisation nodes");
}
