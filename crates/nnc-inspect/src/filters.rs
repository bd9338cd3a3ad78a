//! Convolutions as pictures, for `nnc plot`: the first convolution's learned filters, and
//! its feature maps on one training example, each a small image in a mosaic.

use nnc_check::{Features, LayerKind, Model};
use nnc_driver::JobPlan;
use nnc_plot::{Axis, Layer, Plot, Shade};

/// Panels per mosaic row.
const ACROSS: usize = 8;
/// At most this many panels.
const MOST: usize = 32;

/// The first 2-D convolution's filters (input channel 0) in grey levels on one scale:
/// black the most negative weight, mid-grey 0, white the most positive. `params`: the
/// forward parameters in order, trained or (`nnc serve`) as they are now.
pub fn filter_mosaic(plan: &JobPlan, params: &[Vec<f32>]) -> Option<Plot> {
    let (index, [kh, kw], channels, filters) = first_conv(&plan.job.model)?;
    let name = &plan.job.model.layers[index].name;
    let slot = plan.graphs.forward.params.iter().position(|decl| decl.name == format!("{name}.w"))?;
    let weights = params.get(slot)?;
    if weights.len() != kh * kw * channels * filters {
        return None;
    }
    let largest = weights.iter().fold(0.0f32, |m, w| m.max(w.abs())).max(f32::MIN_POSITIVE);
    let panels: Vec<Vec<Vec<f64>>> = (0..filters.min(MOST))
        .map(|f| {
            (0..kh)
                .map(|i| {
                    (0..kw)
                        .map(|j| 0.5 + 0.5 * f64::from(weights[((i * kw + j) * channels) * filters + f] / largest))
                        .collect()
                })
                .collect()
        })
        .collect();
    let title = format!(
        "{name}: {} of {filters} filters ({kh}x{kw}, channel 0; black -{largest:.2}, grey 0, white {largest:.2})",
        panels.len()
    );
    Some(mosaic(title, &panels))
}

/// The first 2-D convolution's output channels on the first training row, each scaled to
/// its own range, at `params` (one row through the reference interpreter: cheap enough to
/// redraw while the model trains).
pub fn feature_maps(plan: &JobPlan, params: &[Vec<f32>]) -> Option<Plot> {
    let model = &plan.job.model;
    let (index, _, _, _) = first_conv(model)?;
    let Features::Image { height, width, channels } = model.layers[index].output else { return None };
    let train = &plan.data.train;
    let row = train.inputs.get(..train.n_inputs()).filter(|_| train.rows > 0)?;
    let outputs = crate::plots::forward(model, plan.job.train.loss, row, 1, params);
    let name = &model.layers[index].name;
    let maps = &outputs.iter().find(|(n, _)| n == name)?.1;
    let panels: Vec<Vec<Vec<f64>>> = (0..channels.min(MOST))
        .map(|c| {
            let value = |i: usize, j: usize| f64::from(maps[(i * width + j) * channels + c]);
            let (low, high) = (0..height * width)
                .map(|k| value(k / width, k % width))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let span = if high > low { high - low } else { 1.0 };
            (0..height).map(|i| (0..width).map(|j| (value(i, j) - low) / span).collect()).collect()
        })
        .collect();
    let title =
        format!("{name} on the first training row: {} of {channels} feature maps ({height}x{width})", panels.len());
    Some(mosaic(title, &panels))
}

/// The first `conv2d` layer: its index, kernel, input channels and filters.
fn first_conv(model: &Model) -> Option<(usize, [usize; 2], usize, usize)> {
    model.layers.iter().enumerate().find_map(|(index, layer)| match layer.kind {
        LayerKind::Conv { filters, kernel, series: false, .. } => {
            Some((index, kernel, layer.input.channels(), filters))
        }
        _ => None,
    })
}

/// Panels of values in [0, 1] (row 0 at the top) side by side, `ACROSS` to a row, with a
/// neutral cell between them.
fn mosaic(title: String, panels: &[Vec<Vec<f64>>]) -> Plot {
    let (h, w) = (panels[0].len(), panels[0].first().map_or(0, Vec::len));
    let across = panels.len().min(ACROSS);
    let down = panels.len().div_ceil(ACROSS);
    let (rows, columns) = (down * (h + 1) - 1, across * (w + 1) - 1);
    // A field's row 0 is at the bottom: image row i of panel row p is field row
    // `rows - 1 - (p·(h+1) + i)`.
    let mut grid = vec![vec![Shade::Blank; columns]; rows];
    for (n, panel) in panels.iter().enumerate() {
        let (top, left) = ((n / ACROSS) * (h + 1), (n % ACROSS) * (w + 1));
        for (i, line) in panel.iter().enumerate() {
            for (j, &v) in line.iter().enumerate() {
                grid[rows - 1 - (top + i)][left + j] = Shade::Grey(v.clamp(0.0, 1.0));
            }
        }
    }
    let axis = |label: &str, n: usize| Axis { label: label.to_string(), min: 0.0, max: n as f64, log: false };
    Plot { title, x: axis("", columns), y: axis("", rows), layers: vec![Layer::Field { grid }] }
}
