//! Settling a model's shapes: each layer's input and output from the model's input, in
//! order, with an error at the layer whose input does not fit it (code E0310): a kernel
//! larger than its input, a pool that leaves nothing, an `add` of two shapes that differ.
//! Literal weights are checked against the settled shapes here too.
//!
//! This runs when the model is checked, or, when the input is `auto` or an embedding
//! needs its column's categories, once the data is loaded (`nnc-driver`'s `agree.rs`).

use crate::job::*;
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_syntax::ast::{self, ValueKind};

/// An input column of the loaded data: where its numbers sit among the model's inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct InputColumn {
    pub name: String,
    pub slot: ColumnSlot,
    /// One-hot encoded categories (what an embedding can replace).
    pub categorical: bool,
}

/// Settles every layer's shapes; `columns` are the data's input columns once loaded.
/// Returns the errors found (the model is settled only when there are none).
pub fn settle(model: &mut Model, columns: Option<&[InputColumn]>) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for index in 0..model.layers.len() {
        let input = model.features(model.layers[index].from);
        let layer = &model.layers[index];
        let output = match &layer.kind {
            LayerKind::Embedding { .. } => embedding(model, index, input, columns, &mut errors),
            LayerKind::Join { concat, other, other_span } => {
                let sides = [model.source_name(layer.from), model.source_name(*other)];
                join(layer, input, *concat, model.features(*other), sides, *other_span, &mut errors)
            }
            kind => output_of(layer, kind, input, &mut errors),
        };
        let Some(output) = output else { return errors };
        if model.layers[index].activation == Activation::Softmax && output.dims().len() > 1 {
            errors.push(softmax_on_image(&model.layers[index], output));
            return errors;
        }
        let layer = &mut model.layers[index];
        // A series layer reads a vector as a series of one channel (`input 7; conv1d 8`).
        let series_layer =
            matches!(layer.kind, LayerKind::Conv { series: true, .. } | LayerKind::Pool { series: true, .. });
        layer.input = match input {
            Features::Flat(len) if series_layer => Features::Series { len, channels: 1 },
            other => other,
        };
        layer.output = output;
        if let LayerKind::Pool { series, .. } | LayerKind::Conv { series, .. } = &mut layer.kind {
            *series = matches!(output, Features::Series { .. });
        }
        check_literals(layer, &mut errors);
        if !errors.is_empty() {
            return errors;
        }
    }
    model.settled = true;
    errors
}

/// Softmax turns one vector into probabilities; an image or series has no one vector.
fn softmax_on_image(layer: &Layer, output: Features) -> Diagnostic {
    Diagnostic::error(
        codes::LAYER_FORM,
        format!("`softmax` needs a vector, but `{}` gives {}", layer.name, describe(output)),
        layer.span,
        "softmax of an image",
    )
    .with_help("give the probabilities from a dense layer after the image layers (`dense 10 softmax`, or `dense 10` with `loss softmax_ce`)")
}

/// The output of a layer that depends on its input alone.
fn output_of(layer: &Layer, kind: &LayerKind, input: Features, errors: &mut Vec<Diagnostic>) -> Option<Features> {
    match *kind {
        LayerKind::Dense { units } => {
            // Sizes are counted in 64-bit integers; a layer beyond 2^40 weights (4 TiB)
            // fits no machine. Whether a run fits this one is checked with its memory.
            let weights = (input.size() as u64).saturating_mul(units as u64);
            if weights > 1 << 40 {
                errors.push(
                    Diagnostic::error(
                        codes::TOO_LARGE,
                        format!("layer `{}` would have {} x {units} weights", layer.name, input.size()),
                        layer.span,
                        "too large",
                    )
                    .with_note(format!("that is {weights} numbers, more than 2^40 (4 TiB of memory)"))
                    .with_help("use fewer units"),
                );
                return None;
            }
            Some(Features::Flat(units))
        }
        LayerKind::Conv { filters, kernel, stride, padding, series } => {
            let [height, width, _] = spatial(layer, input, series, errors)?;
            let (before, after) = conv_padding(kernel, stride, padding, [height, width]);
            let out = window_output([height, width], kernel, stride, before, after);
            let Some([oh, ow]) = out else {
                errors.push(too_small(
                    layer,
                    input,
                    &format!("a {} kernel", size_text(kernel, series)),
                    kernel,
                    series,
                ));
                return None;
            };
            Some(if series {
                Features::Series { len: ow, channels: filters }
            } else {
                Features::Image { height: oh, width: ow, channels: filters }
            })
        }
        LayerKind::Pool { size, stride, .. } => {
            let series = matches!(input, Features::Series { .. });
            let (size, stride) = if series { ([1, size[1]], [1, stride[1]]) } else { (size, stride) };
            let [height, width, channels] = spatial(layer, input, series, errors)?;
            let Some([oh, ow]) = window_output([height, width], size, stride, [0, 0], [0, 0]) else {
                errors.push(too_small(layer, input, &format!("a {} window", size_text(size, series)), size, series));
                return None;
            };
            Some(if series {
                Features::Series { len: ow, channels }
            } else {
                Features::Image { height: oh, width: ow, channels }
            })
        }
        LayerKind::Flatten => Some(Features::Flat(input.size())),
        LayerKind::Dropout { .. } | LayerKind::BatchNorm { .. } => Some(input),
        LayerKind::Embedding { .. } | LayerKind::Join { .. } => unreachable!("settled with the model"),
    }
}

/// The padding (before, after) along height and width: none for `valid`; for `same`,
/// enough for ⌈size / stride⌉ outputs, split evenly with any odd one after (TensorFlow's
/// rule, which PyTorch's `padding='same'` follows at stride 1).
pub fn conv_padding(
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: Padding,
    size: [usize; 2],
) -> ([usize; 2], [usize; 2]) {
    let mut before = [0; 2];
    let mut after = [0; 2];
    if padding == Padding::Same {
        for axis in 0..2 {
            let out = size[axis].div_ceil(stride[axis]);
            let total = ((out.max(1) - 1) * stride[axis] + kernel[axis]).saturating_sub(size[axis]);
            before[axis] = total / 2;
            after[axis] = total - total / 2;
        }
    }
    (before, after)
}

/// Output height and width of windows over a padded image; `None` when none fits.
fn window_output(
    size: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    before: [usize; 2],
    after: [usize; 2],
) -> Option<[usize; 2]> {
    let one = |a: usize| (size[a] + before[a] + after[a]).checked_sub(kernel[a]).map(|room| room / stride[a] + 1);
    Some([one(0)?, one(1)?])
}

/// Height, width and channels of an image, or of a series as a one-row image (a vector
/// is a series of one channel).
fn spatial(layer: &Layer, input: Features, series: bool, errors: &mut Vec<Diagnostic>) -> Option<[usize; 3]> {
    let kind = layer.kind.name();
    match (input, series) {
        (Features::Image { height, width, channels }, false) => Some([height, width, channels]),
        (Features::Series { len, channels }, true) => Some([1, len, channels]),
        (Features::Flat(len), true) => Some([1, len, 1]),
        (Features::Flat(n), false) => {
            let side = (n as f64).sqrt().round() as usize;
            let hint = if side * side == n && matches!(layer.from, Source::Input) {
                format!("declare the input as an image: `input {side}x{side}`")
            } else if matches!(layer.kind, LayerKind::Pool { .. }) {
                "pool the output of a convolution, or declare the input as an image: `input HxW`".to_string()
            } else {
                "declare the input as an image, `input HxW` or `input HxWxC`".to_string()
            };
            errors.push(
                Diagnostic::error(
                    codes::LAYER_SHAPE,
                    format!("`{kind}` needs an image, but `{}` gets {n} numbers", layer.name),
                    layer.span,
                    format!("gets a vector of {n}"),
                )
                .with_help(hint),
            );
            None
        }
        (other, _) => {
            let (wanted, help) = if series {
                ("a series", "conv1d reads a vector or a conv1d's output; use conv2d for images")
            } else {
                ("an image", "conv2d reads images; use conv1d for a series")
            };
            errors.push(
                Diagnostic::error(
                    codes::LAYER_SHAPE,
                    format!("`{kind}` needs {wanted}, but `{}` gets {}", layer.name, describe(other)),
                    layer.span,
                    format!("gets {}", other.describe()),
                )
                .with_help(help),
            );
            None
        }
    }
}

fn describe(features: Features) -> String {
    match features {
        Features::Flat(n) => format!("a vector of {n}"),
        Features::Series { len, channels } => format!("a series of {len} steps x {channels}"),
        Features::Image { height, width, channels } => format!("a {height}x{width}x{channels} image"),
    }
}

fn size_text(size: [usize; 2], series: bool) -> String {
    if series { size[1].to_string() } else { format!("{}x{}", size[0], size[1]) }
}

/// A kernel or pool window larger than its (padded) input.
fn too_small(layer: &Layer, input: Features, what: &str, size: [usize; 2], series: bool) -> Diagnostic {
    let fits = match input {
        Features::Image { height, width, .. } => match (size[0].min(height), size[1].min(width)) {
            (h, w) if h == w => h.to_string(),
            (h, w) => format!("[{h}, {w}]"),
        },
        Features::Series { len, .. } | Features::Flat(len) => size[1].min(len).to_string(),
    };
    let padding = if matches!(layer.kind, LayerKind::Conv { .. }) { ", or `padding = same`" } else { "" };
    let key = if matches!(layer.kind, LayerKind::Conv { .. }) { "kernel" } else { "size" };
    Diagnostic::error(
        codes::LAYER_SHAPE,
        format!("{what} does not fit the {} input of `{}`", input.describe(), layer.name),
        layer.span,
        format!("{} leaves nothing", size_text(size, series)),
    )
    .with_note(format!("`{}` gets {}", layer.name, describe(input)))
    .with_help(format!("use a smaller window (`{key} = {fits}` fits){padding}, or fewer pooling layers before it"))
}

fn join(
    layer: &Layer,
    input: Features,
    concat: bool,
    other: Features,
    [from, other_name]: [&str; 2],
    other_span: Span,
    errors: &mut Vec<Diagnostic>,
) -> Option<Features> {
    let (a, b) = (input.dims(), other.dims());
    let meets = if concat { a.len() == b.len() && a[..a.len() - 1] == b[..b.len() - 1] } else { a == b };
    if meets {
        if !concat {
            return Some(input);
        }
        let channels = input.channels() + other.channels();
        return Some(match input {
            Features::Flat(_) => Features::Flat(channels),
            Features::Series { len, .. } => Features::Series { len, channels },
            Features::Image { height, width, .. } => Features::Image { height, width, channels },
        });
    }
    let (what, help) = if concat {
        (
            "be joined along the last axis",
            "concat joins shapes that differ only in their last axis (features or channels)",
        )
    } else {
        (
            "be added",
            "add needs the same shape on both sides: give one side a layer that makes it fit (a dense or 1x1 conv of the other's width)",
        )
    };
    errors.push(
        Diagnostic::error(
            codes::LAYER_SHAPE,
            format!("`{from}` ({}) and `{other_name}` ({}) cannot {what}", input.describe(), other.describe()),
            layer.span,
            format!("{} + {}", input.describe(), other.describe()),
        )
        .with_secondary(other_span, other.describe())
        .with_help(help),
    );
    None
}

/// An embedding replaces its column's one-hot block among the input columns.
fn embedding(
    model: &mut Model,
    index: usize,
    input: Features,
    columns: Option<&[InputColumn]>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Features> {
    let layer = &model.layers[index];
    let LayerKind::Embedding { dim, column, column_span, .. } = &layer.kind else { unreachable!("an embedding") };
    let (dim, column_span) = (*dim, *column_span);
    if layer.from != Source::Input || !matches!(input, Features::Flat(_)) {
        errors.push(
            Diagnostic::error(
                codes::LAYER_SHAPE,
                "an embedding reads the model's input columns",
                layer.span,
                "not reading the input",
            )
            .with_help("put `embedding` first, reading `input`"),
        );
        return None;
    }
    let columns = columns?;
    let Some(found) = columns.iter().find(|c| &c.name == column) else {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let diagnostic = Diagnostic::error(
            codes::EMBEDDING_COLUMN,
            format!("the data has no input column `{column}`"),
            column_span,
            "not an input column",
        );
        errors.push(match did_you_mean(column, names.iter().copied()) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(column_span, close),
            None => diagnostic.with_help(format!("input columns: {}", names.join(", "))),
        });
        return None;
    };
    if !found.categorical {
        errors.push(
            Diagnostic::error(
                codes::EMBEDDING_COLUMN,
                format!("`{column}` holds numbers: an embedding is for a categorical column"),
                column_span,
                "a numeric column",
            )
            .with_help(format!(
                "if `{column}` holds category codes, add `categorical {column}` to the data; a numeric column feeds the model directly"
            )),
        );
        return None;
    }
    let slot = found.slot;
    if let LayerKind::Embedding { slot: settled, .. } = &mut model.layers[index].kind {
        *settled = Some(slot);
    }
    Some(Features::Flat(input.size() - slot.width + dim))
}

/// Literal weights and bias against the layer's parameter shapes.
fn check_literals(layer: &mut Layer, errors: &mut Vec<Diagnostic>) {
    let params = layer.params();
    let [weights, bias] = layer.literals.clone();
    let kind = layer.kind.name();
    if let (LayerKind::Embedding { .. }, Some(table), Some(value)) = (&layer.kind, params.first(), &weights) {
        // An embedding's table, one row per category (and the unknown one) of `dim` numbers.
        layer.weights = literal_weights(value, &table.shape, layer, errors);
        return;
    }
    let (w, b) = match (params.first(), params.get(1)) {
        (Some(w), Some(b)) if matches!(layer.kind, LayerKind::Dense { .. } | LayerKind::Conv { .. }) => (w, b),
        _ => {
            for value in weights.iter().chain(&bias) {
                errors.push(
                    Diagnostic::error(
                        codes::LAYER_FORM,
                        format!("`{kind}` has no weights to write"),
                        value.span,
                        "not taken",
                    )
                    .with_help("literal weights are for dense and convolution layers"),
                );
            }
            return;
        }
    };
    if let Some(value) = weights {
        layer.weights = literal_weights(&value, &w.shape, layer, errors);
    }
    if let Some(value) = bias {
        layer.bias = literal_bias(&value, b.shape[0], &layer.name, errors);
    }
}

fn literal_weights(
    value: &ast::Value,
    shape: &[usize],
    layer: &Layer,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<f32>> {
    let mut flat = Vec::with_capacity(shape.iter().product());
    match nested(value, shape, &mut flat, errors, true) {
        Ok(()) => Some(flat),
        Err(None) => None,
        Err(Some(found)) => {
            let dims = shape.iter().map(usize::to_string).collect::<Vec<_>>().join(" x ");
            let expected = match layer.kind {
                LayerKind::Dense { units } => {
                    format!("expected {} rows (one per input) of {units} numbers (one per unit): [{dims}]", shape[0])
                }
                LayerKind::Embedding { dim, .. } => {
                    format!(
                        "expected {} rows (one per category, the last for unknown ones) of {dim} numbers: [{dims}]",
                        shape[0]
                    )
                }
                _ => format!("expected nested lists [kernel rows][kernel columns][input channels][filters]: [{dims}]"),
            };
            let help = match layer.kind {
                LayerKind::Dense { .. } => "the weight matrix maps the previous layer's width to this layer's units",
                LayerKind::Embedding { .. } => "an embedding's table has one row per category of its column",
                _ => {
                    "a convolution's weights: for each kernel row and column, one row per input channel of one number per filter"
                }
            };
            errors.push(
                Diagnostic::error(
                    codes::LITERAL_SHAPE,
                    format!("literal weights of `{}` have the wrong shape", layer.name),
                    value.span,
                    format!("found {found}"),
                )
                .with_note(expected)
                .with_help(help),
            );
            None
        }
    }
}

/// Reads `value` as nested lists of exactly `shape`; `Err(Some(found))` describes the
/// first level that does not fit, `Err(None)` an error already reported.
fn nested(
    value: &ast::Value,
    shape: &[usize],
    out: &mut Vec<f32>,
    errors: &mut Vec<Diagnostic>,
    top: bool,
) -> Result<(), Option<String>> {
    let Some((&len, inner)) = shape.split_first() else {
        return match value.kind {
            ValueKind::Number(n) => {
                out.push(n as f32);
                Ok(())
            }
            ValueKind::List(_) => Err(Some("a list where a number belongs".to_string())),
            _ => crate::settings::expect_number(value, errors).map(|_| ()).ok_or(None),
        };
    };
    let ValueKind::List(items) = &value.kind else {
        return Err(Some(if top {
            "a single value".to_string()
        } else {
            "a number where a row `[...]` belongs".to_string()
        }));
    };
    // Rows are read before their count is checked, so a ragged row is named first.
    for item in items {
        nested(item, inner, out, errors, false)?;
    }
    if items.len() != len {
        let noun = if inner.is_empty() { "numbers" } else { "rows" };
        return Err(Some(if inner.is_empty() {
            format!("a row of {} {noun}", items.len())
        } else {
            format!("{} {noun}", items.len())
        }));
    }
    Ok(())
}

fn literal_bias(value: &ast::Value, len: usize, layer: &str, errors: &mut Vec<Diagnostic>) -> Option<Vec<f32>> {
    let found = match &value.kind {
        ValueKind::List(items) if items.len() == len => {
            return items.iter().map(|item| crate::settings::expect_number(item, errors).map(|n| n as f32)).collect();
        }
        ValueKind::List(items) if items.len() == 1 => "1 number".to_string(),
        ValueKind::List(items) => format!("{} numbers", items.len()),
        _ => "a single value".to_string(),
    };
    errors.push(
        Diagnostic::error(
            codes::LITERAL_SHAPE,
            format!("literal bias of `{layer}` has the wrong shape"),
            value.span,
            format!("found {found}"),
        )
        .with_note(format!("expected a list of {len} numbers, one per unit"))
        .with_help("write the bias as `bias = [b1, b2, ...]`"),
    );
    None
}
