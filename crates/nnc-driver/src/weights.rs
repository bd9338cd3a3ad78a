//! Weight files: a trained model's parameters in safetensors, with everything needed to
//! use them again in the header's metadata (string values; structured ones as JSON).
//!
//! | key | value |
//! |---|---|
//! | `format` | `nnc-weights/2` (2 records each column's missing-value markers; files of format 1 are read with the default markers) |
//! | `model`, `loss`, `task` | the model's name, its loss, `regression` / `binary` / `classes` |
//! | `layers` | `[{"name", "units", "activation"}]` |
//! | `input_names`, `target_names`, `classes` | the model's columns, and the class names |
//! | `preprocessing` | the encodings fitted on the training split (normalisation, categories) |
//! | `program` | the program text the model was trained with |
//!
//! Tensors are named as the program's parameters (`dense1.w` `[inputs, units]`, `dense1.b`
//! `[units]`), float32, row-major.

use crate::pipeline::JobPlan;
use nnc_data::{Preprocessing, Task};
use nnc_diagnostics::{Diagnostic, codes};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::Path;

pub const FORMAT: &str = "nnc-weights/2";

/// Formats this nnc reads: its own, and 1 (without missing-value markers).
const READS: &[&str] = &[FORMAT, "nnc-weights/1"];

/// One layer as the metadata records it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerMeta {
    pub name: String,
    /// `dense`, `conv2d`, ... (files before layer kinds hold dense layers only).
    #[serde(default = "dense")]
    pub kind: String,
    /// Numbers out per row.
    pub units: usize,
    pub activation: String,
}

fn dense() -> String {
    "dense".to_string()
}

/// What a weight file says about its model.
#[derive(Clone, Debug, PartialEq)]
pub struct Metadata {
    pub model: String,
    pub loss: String,
    pub task: String,
    pub layers: Vec<LayerMeta>,
    pub input_names: Vec<String>,
    pub target_names: Vec<String>,
    pub classes: Vec<String>,
    pub preprocessing: Preprocessing,
    pub program: String,
}

/// A weight file read back: its metadata and tensors `(name, shape, values)`.
#[derive(Clone, Debug)]
pub struct Weights {
    pub metadata: Metadata,
    pub tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
}

/// The class names of a task (empty for regression).
pub fn class_names(task: &Task) -> Vec<String> {
    match task {
        Task::Regression | Task::Binary(None) => Vec::new(),
        Task::Binary(Some(names)) => names.to_vec(),
        Task::Classes(names) => names.clone(),
    }
}

fn task_name(task: &Task) -> &'static str {
    match task {
        Task::Regression => "regression",
        Task::Binary(_) => "binary",
        Task::Classes(_) => "classes",
    }
}

/// The safetensors bytes of `params` (the trained forward parameters by name) for `plan`.
pub fn encode(plan: &JobPlan, source: &str, params: &[(String, Vec<usize>, Vec<f32>)]) -> Result<Vec<u8>, String> {
    let job = &plan.job;
    let layers: Vec<LayerMeta> = job
        .model
        .layers
        .iter()
        .map(|l| LayerMeta {
            name: l.name.clone(),
            kind: l.kind.name().to_string(),
            units: l.output.size(),
            activation: l.activation.name().to_string(),
        })
        .collect();
    let json = |value: &dyn erased::Json| value.json();
    let metadata: HashMap<String, String> = [
        ("format", FORMAT.to_string()),
        ("model", job.model.name.clone()),
        ("loss", job.train.loss.name().to_string()),
        ("task", task_name(&plan.data.task).to_string()),
        ("layers", json(&layers)),
        ("input_names", json(&plan.data.train.input_names)),
        ("target_names", json(&plan.data.train.target_names)),
        ("classes", json(&class_names(&plan.data.task))),
        ("preprocessing", json(&plan.data.preprocessing)),
        ("program", source.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = params
        .iter()
        .map(|(name, shape, values)| {
            (name.clone(), shape.clone(), values.iter().flat_map(|v| v.to_le_bytes()).collect())
        })
        .collect();
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data).map(|view| (name.clone(), view)).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

/// Serialises to JSON without making every caller name serde_json's error type.
pub(crate) mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// Reads a weight file; `Err` says what is wrong with it.
pub fn read(path: &Path) -> Result<Weights, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    decode(&bytes)
}

pub fn decode(bytes: &[u8]) -> Result<Weights, String> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |key: &str| {
        meta.get(key).cloned().ok_or_else(|| format!("no `{key}` in the file's metadata: not written by nnc"))
    };
    if !READS.contains(&get("format")?.as_str()) {
        return Err(format!("written in format `{}`, this nnc reads `{}`", get("format")?, READS.join("` and `")));
    }
    let parse = |key: &str| -> Result<serde_json::Value, String> {
        serde_json::from_str(&get(key)?).map_err(|e| format!("metadata `{key}`: {e}"))
    };
    let from = |key: &str| -> Result<Vec<String>, String> {
        serde_json::from_value(parse(key)?).map_err(|e| format!("metadata `{key}`: {e}"))
    };
    let metadata = Metadata {
        model: get("model")?,
        loss: get("loss")?,
        task: get("task")?,
        layers: serde_json::from_value(parse("layers")?).map_err(|e| format!("metadata `layers`: {e}"))?,
        input_names: from("input_names")?,
        target_names: from("target_names")?,
        classes: from("classes")?,
        preprocessing: serde_json::from_value(parse("preprocessing")?)
            .map_err(|e| format!("metadata `preprocessing`: {e}"))?,
        program: get("program")?,
    };
    let mut names: Vec<String> = tensors.names().into_iter().map(str::to_string).collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let view = tensors.tensor(&name).map_err(|e| e.to_string())?;
        if view.dtype() != Dtype::F32 {
            return Err(format!("tensor `{name}` is {:?}, nnc reads F32", view.dtype()));
        }
        let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.push((name, view.shape().to_vec(), values));
    }
    Ok(Weights { metadata, tensors: out })
}

/// The parameters of `plan`'s model from `weights`, in declaration order, or a diagnostic
/// naming what differs (a missing tensor, a shape, a column) between the file and the
/// program.
pub fn params_for(plan: &JobPlan, weights: &Weights, file: &str) -> Result<Vec<Vec<f32>>, Diagnostic> {
    let forward = &plan.graphs.forward;
    let mut params = Vec::new();
    let mismatch = |message: String, note: String| {
        Diagnostic::error(codes::WEIGHTS_MISMATCH, message, plan.job.span, "the training these weights are for")
            .with_note(note)
            .with_help("load weights saved from this program (`nnc run --save`), or train again")
    };
    for decl in &forward.params {
        let Some((_, shape, values)) = weights.tensors.iter().find(|(name, _, _)| name == &decl.name) else {
            let found: Vec<&str> = weights.tensors.iter().map(|(n, _, _)| n.as_str()).collect();
            return Err(mismatch(
                format!("`{file}` has no tensor `{}`", decl.name),
                format!("its tensors: {}", found.join(", ")),
            ));
        };
        if shape.as_slice() != decl.shape.dims() {
            return Err(mismatch(
                format!("tensor `{}` of `{file}` is {shape:?}, the program's is {:?}", decl.name, decl.shape.dims()),
                format!("`{file}` was saved from model `{}`", weights.metadata.model),
            ));
        }
        params.push(values.clone());
    }
    let columns = &plan.data.train.input_names;
    if columns != &weights.metadata.input_names {
        return Err(mismatch(
            format!("`{file}` was trained on other input columns than this program's data"),
            format!("file: {}; program: {}", weights.metadata.input_names.join(", "), columns.join(", ")),
        ));
    }
    Ok(params)
}
