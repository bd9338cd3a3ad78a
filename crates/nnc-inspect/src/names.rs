//! Course names for the values of a model's graphs: `X`, `y`, `W1`, `b1`, `z1`, `h1`, `ŷ`,
//! `L`, `δ1`, `∂L/∂W1`, `η`. Derived from the model's layers and the graph's labels, so
//! they fit any program.

use nnc_check::{Activation, Model};
use nnc_ir::{Graph, Op, ValueId};

/// Whether the model is one weight and one bias (linear regression on one feature): then
/// its values read element-wise, `w·xᵢ + b`.
pub fn is_scalar_model(model: &Model) -> bool {
    model.layers.len() == 1 && model.input_width() == 1 && model.layers[0].units() == Some(1)
}

/// The display name of a parameter (or of its optimizer state) declared as `decl`.
pub fn param_name(model: &Model, decl: &str) -> String {
    // `dense1.w.velocity`: the parameter `dense1.w`, then the optimizer state's name.
    let (base, state) = match decl.splitn(3, '.').collect::<Vec<_>>()[..] {
        [layer, param, state] => (&decl[..layer.len() + 1 + param.len()], Some(state)),
        _ => (decl, None),
    };
    let plain = layer_param(model, base).unwrap_or_else(|| base.to_string());
    match state {
        Some("velocity") => format!("v({plain})"),
        Some("m") => format!("m({plain})"),
        Some("v") => format!("s({plain})"),
        Some(other) => format!("{other}({plain})"),
        None => plain,
    }
}

fn layer_param(model: &Model, base: &str) -> Option<String> {
    let (layer, kind) = base.rsplit_once('.')?;
    let index = model.layers.iter().position(|l| l.name == layer)?;
    let letter = match kind {
        "w" if is_scalar_model(model) => "w",
        "w" => "W",
        "b" => "b",
        "gamma" => "γ",
        "beta" => "β",
        "mean" => "μ",
        "var" => "σ²",
        "table" => "E",
        _ => return None,
    };
    Some(if model.layers.len() == 1 { letter.to_string() } else { format!("{letter}{}", index + 1) })
}

/// The value a layer's instructions end with in `graph` (its last instruction labelled
/// `label`), if any.
pub fn last_labelled(graph: &Graph, label: &str) -> Option<ValueId> {
    graph.values().filter(|&v| *graph.inst(v).origin.label == *label).last()
}

/// The forward values of each layer: `(z, h)` with `z` its output before the activation
/// (a dense layer's `h·W + b`) and `h` the activation's output (`None` for the identity)
/// — in the numbering of `graph`, a lowered forward graph. `None` for a layer that
/// computes nothing (dropout at evaluation).
pub fn layer_values(graph: &Graph, model: &Model) -> Vec<Option<(ValueId, Option<ValueId>)>> {
    model
        .layers
        .iter()
        .map(|layer| {
            let labelled = graph.values().filter(|&v| *graph.inst(v).origin.label == *layer.name);
            // A dense layer's z is its bias added (a convolution reshapes it to images
            // after); any other layer's is its last instruction.
            let z = match layer.kind {
                nnc_check::LayerKind::Dense { .. } => labelled.filter(|&v| graph.inst(v).op == Op::Add).last(),
                _ => labelled.last(),
            };
            let z = z?;
            let h = (layer.activation != Activation::Identity)
                .then(|| last_labelled(graph, &format!("{}.{}", layer.name, layer.activation.name())))
                .flatten();
            Some((z, h))
        })
        .collect()
}
