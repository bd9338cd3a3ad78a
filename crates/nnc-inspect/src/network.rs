//! The network as a graph, as TensorFlow Playground draws it: a column of units per layer
//! (the inputs first), every weight an edge whose colour is its sign (blue positive,
//! orange negative) and whose width is its magnitude against the largest of its layer.
//! For plain stacks of dense layers small enough to read: at most [`MAX_UNITS`] units in
//! any column.

use nnc_check::Model;
use nnc_driver::JobPlan;
use nnc_plot::{Axis, Edge, Layer, Plot};

/// The most units a column may have for the graph to be drawn.
pub const MAX_UNITS: usize = 32;

/// The graph of `plan`'s model at `params` (its forward parameters in order), or `None`
/// when the model is not a small stack of dense layers.
pub fn network(plan: &JobPlan, params: &[Vec<f32>]) -> Option<Plot> {
    let model = &plan.job.model;
    if !model.is_dense_stack() || model.layers.is_empty() {
        return None;
    }
    let inputs = model.input_width();
    let mut widths = vec![inputs];
    widths.extend(model.layers.iter().map(|l| l.units().unwrap_or(0)));
    if widths.iter().any(|&w| w == 0 || w > MAX_UNITS) {
        return None;
    }
    let tallest = widths.iter().copied().max().unwrap_or(1);
    let unit = |column: usize, index: usize| {
        let count = widths[column];
        let top = (tallest - count) as f64 / 2.0;
        (column as f64, top + index as f64)
    };
    let mut layers = Vec::new();
    for l in 0..model.layers.len() {
        let weights = &params[weight_slot(model, l)?];
        let (fan_in, units) = (widths[l], widths[l + 1]);
        if weights.len() != fan_in * units {
            return None;
        }
        let edges = (0..fan_in)
            .flat_map(|i| (0..units).map(move |j| (i, j)))
            .map(|(i, j)| Edge { from: unit(l, i), to: unit(l + 1, j), weight: f64::from(weights[i * units + j]) })
            .collect();
        layers.push(Layer::Edges { edges });
    }
    // No legend: it would cover units. The axis says which column is which.
    let last = widths.len() - 1;
    for (column, &count) in widths.iter().enumerate() {
        let color = match column {
            0 => 7,
            c if c == last => 3,
            _ => 2,
        };
        let points = (0..count).map(|i| unit(column, i)).collect();
        layers.push(Layer::Points { label: None, points, color });
    }
    let columns = Axis {
        label: format!("layer: 0 the inputs (grey), {last} the outputs (red)"),
        min: -0.3,
        max: last as f64 + 0.3,
        log: false,
    };
    let rows = Axis { label: "unit".into(), min: -0.6, max: tallest as f64 - 0.4, log: false };
    Some(Plot {
        title: format!("{}: each weight, blue positive, orange negative, wider when larger", model.name),
        x: columns,
        y: rows,
        layers,
    })
}

/// The position of layer `l`'s weight matrix among the model's forward parameters.
fn weight_slot(model: &Model, l: usize) -> Option<usize> {
    let before: usize = model.layers[..l].iter().map(|layer| layer.params().len()).sum();
    let own = model.layers[l].params().iter().position(|p| p.suffix == "w")?;
    Some(before + own)
}
