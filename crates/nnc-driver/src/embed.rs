//! A layer's activations for new rows: a trained forward pass that stops at a layer,
//! compiled as one function. What `nnc embed` writes, and what `nnc similar` and `nnc
//! cluster` compare.

use crate::predict::Forward;
use crate::similar::Embeddings;
use nnc_check::Job;
use nnc_diagnostics::{Diagnostic, codes, did_you_mean};

/// The layer whose activations are the embedding: `name`, or by default the model's
/// output when it was trained with a metric loss (the embedding it learnt), else its last
/// hidden layer. Returns the layer's name, the forward pass's output that gives it and
/// its width.
pub fn embedding_layer(job: &Job, name: Option<&str>) -> Result<(String, String, usize), Diagnostic> {
    let layers = &job.model.layers;
    let last = layers.len().saturating_sub(1);
    let index = match name {
        Some(name) => layers.iter().position(|l| l.name == name).ok_or_else(|| unknown_layer(job, name))?,
        None if job.train.loss.metric().is_some() || layers.len() < 2 => last,
        None => last - 1,
    };
    let layer = &layers[index];
    let output = if index == last { "prediction".to_string() } else { layer.name.clone() };
    Ok((layer.name.clone(), output, layer.output.size()))
}

fn unknown_layer(job: &Job, name: &str) -> Diagnostic {
    let names: Vec<&str> = job.model.layers.iter().map(|l| l.name.as_str()).collect();
    let diagnostic = Diagnostic::error(
        codes::UNKNOWN_LAYER,
        format!("model `{}` has no layer `{name}`", job.model.name),
        job.model.input_span,
        format!("model `{}`", job.model.name),
    );
    match did_you_mean(name, names.iter().copied()) {
        Some(close) => diagnostic.with_help(format!("did you mean `{close}`? (--layer {close})")),
        None => diagnostic.with_help(format!("the layers are: {}", names.join(", "))),
    }
}

/// The activations of `layer` (see [`embedding_layer`]) for `rows` encoded rows.
pub fn embed(
    job: &Job,
    params: &[Vec<f32>],
    inputs: &[f32],
    rows: usize,
    layer: Option<&str>,
) -> Result<(String, Embeddings), Diagnostic> {
    let mut embedder = Embedder::new(job, params, layer)?;
    let values = if rows > 0 { embedder.embed(inputs)? } else { Vec::new() };
    Ok((embedder.layer, Embeddings { values, width: embedder.width }))
}

/// A layer's activations (see [`embedding_layer`]) a part of a file at a time, by one
/// forward pass compiled at the first part.
pub struct Embedder<'p> {
    /// The layer's name, and its width.
    pub layer: String,
    pub width: usize,
    forward: Forward<'p>,
}

impl<'p> Embedder<'p> {
    pub fn new(job: &'p Job, params: &'p [Vec<f32>], layer: Option<&str>) -> Result<Embedder<'p>, Diagnostic> {
        let (layer, output, width) = embedding_layer(job, layer)?;
        Ok(Embedder { layer, width, forward: Forward::new(job, params, &output, width) })
    }

    /// The activations of the rows of `inputs`, `width` a row.
    pub fn embed(&mut self, inputs: &[f32]) -> Result<Vec<f32>, Diagnostic> {
        let mut values = Vec::new();
        self.forward.run(inputs, &mut values)?;
        Ok(values)
    }
}
