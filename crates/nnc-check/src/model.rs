//! A `model` block: its input, its layers, their options, initialisers and literal
//! weights (codes E02xx for names, E03xx for shapes and sizes).

use crate::job::*;
use crate::settings::{expect_number, lookup, unknown_key};
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_syntax::ast::{self, ModelStmt, ValueKind};

/// The input width recorded for `input auto` until the data says it.
const AUTO_WIDTH: usize = usize::MAX;

pub(crate) fn check_model(block: &ast::ModelBlock, errors: &mut Vec<Diagnostic>) -> Option<Model> {
    let before = errors.len();
    let mut input: Option<(usize, Span)> = None;
    let mut layers = Vec::new();
    for stmt in &block.stmts {
        match stmt {
            ModelStmt::Input { width, span } => {
                if let Some((_, first)) = input {
                    errors.push(
                        Diagnostic::error(
                            codes::MODEL_STRUCTURE,
                            "the model declares its input twice",
                            *span,
                            "second `input`",
                        )
                        .with_secondary(first, "first `input`")
                        .with_help("a model has exactly one `input N`, before its layers"),
                    );
                } else if !layers.is_empty() {
                    errors.push(
                        Diagnostic::error(
                            codes::MODEL_STRUCTURE,
                            "`input` must come before the layers",
                            *span,
                            "too late",
                        )
                        .with_help("move `input N` to the top of the model"),
                    );
                }
                if let Some(width) = width
                    && width.value == 0
                {
                    errors.push(
                        Diagnostic::error(
                            codes::ZERO_WIDTH,
                            "input width must be at least 1",
                            width.span,
                            "zero width",
                        )
                        .with_help("the input width is the number of input columns"),
                    );
                }
                // `input auto` is settled when the data is loaded (`Model::input_auto`).
                input = Some((width.as_ref().map_or(AUTO_WIDTH, |w| w.value as usize), *span));
            }
            ModelStmt::Layer(layer) => {
                let fan_in = layers.last().map_or(input.map_or(0, |(w, _)| w), |l: &Layer| l.units);
                // Under `input auto` the first layer's size is checked once the data is in.
                let fan_in = if fan_in == AUTO_WIDTH { 1 } else { fan_in };
                let name = format!("{}{}", layer.kind.name, layers.len() + 1);
                layers.push(check_layer(layer, name, fan_in, errors));
            }
        }
    }
    let Some((input_width, input_span)) = input else {
        errors.push(
            Diagnostic::error(
                codes::MODEL_STRUCTURE,
                format!("model `{}` has no input", block.name.name),
                block.name.span,
                "no `input N`",
            )
            .with_help("start the model with `input N`, N being the number of input columns"),
        );
        return None;
    };
    if layers.is_empty() {
        errors.push(
            Diagnostic::error(
                codes::MODEL_STRUCTURE,
                format!("model `{}` has no layers", block.name.name),
                block.name.span,
                "no layers",
            )
            .with_help("add a layer such as `dense 1`"),
        );
    }
    let input_auto = input_width == AUTO_WIDTH;
    if input_auto && let Some(first) = layers.first().filter(|l| l.weights.is_some()) {
        errors.push(
            Diagnostic::error(
                codes::MODEL_STRUCTURE,
                "weights written in the program need a known input width",
                first.span,
                "literal weights",
            )
            .with_secondary(input_span, "`input auto`")
            .with_help("write the input width: `input N`"),
        );
    }
    (errors.len() == before).then(|| Model {
        name: block.name.name.clone(),
        input_width: if input_auto { 0 } else { input_width },
        layers,
        input_span,
        input_auto,
    })
}

fn check_layer(layer: &ast::Layer, name: String, fan_in: usize, errors: &mut Vec<Diagnostic>) -> Layer {
    let units = layer.units.value as usize;
    if units == 0 {
        errors.push(
            Diagnostic::error(codes::ZERO_WIDTH, "a layer needs at least 1 unit", layer.units.span, "zero units")
                .with_help("write `dense N` with N >= 1"),
        );
    }
    // Shapes are counted in 64-bit integers; a layer beyond 2^40 weights (4 TiB) could
    // overflow them and fits no machine anyway. Whether a run fits this machine is
    // checked once its buffers are planned, against the whole run's memory.
    const MAX_WEIGHTS: u64 = 1 << 40;
    let weights = (fan_in as u64).saturating_mul(layer.units.value);
    if weights > MAX_WEIGHTS || layer.units.value > 1 << 32 {
        errors.push(
            Diagnostic::error(
                codes::TOO_LARGE,
                format!("layer `{name}` would have {fan_in} x {} weights", layer.units.value),
                layer.span,
                "too large",
            )
            .with_note(format!("that is {weights} numbers, more than 2^40 (4 TiB of memory)"))
            .with_help("use fewer units"),
        );
    }
    let activation = match &layer.activation {
        None => Activation::Identity,
        Some(ident) => lookup("activation", ident, Activation::ALL, errors).unwrap_or(Activation::Identity),
    };
    let (mut weights, mut bias, mut init, mut bias_init) = (None, None, None, None);
    for option in &layer.options {
        match option.key.name.as_str() {
            "weights" => weights = literal_matrix(&option.value, fan_in, units, &name, errors),
            "bias" => bias = literal_vector(&option.value, units, &name, errors),
            "init" => init = check_init(&option.value, errors),
            "bias_init" => bias_init = check_init(&option.value, errors),
            other => errors.push(unknown_key(
                "layer option",
                other,
                option.key.span,
                &["weights", "bias", "init", "bias_init"],
            )),
        }
    }
    Layer { name, units, activation, weights, bias, init, bias_init, span: layer.span, units_span: layer.units.span }
}

/// `zeros`, `constant(0.1)`, `uniform(-0.1, 0.1)`, `normal(0, 0.01)`, `xavier`/`glorot`, `he`/`kaiming`.
fn check_init(value: &ast::Value, errors: &mut Vec<Diagnostic>) -> Option<Init> {
    let (name, args) = match &value.kind {
        ValueKind::Ident(name) => (ast::Ident { name: name.clone(), span: value.span }, Vec::new()),
        ValueKind::Call(name, args) => (name.clone(), args.clone()),
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected an initialiser", value.span, "not an initialiser")
                    .with_help(INIT_HELP),
            );
            return None;
        }
    };
    #[derive(Clone, Copy)]
    enum Kind {
        Zeros,
        Constant,
        Uniform,
        Normal,
        Xavier,
        He,
    }
    let kinds = [
        ("zeros", Kind::Zeros),
        ("constant", Kind::Constant),
        ("uniform", Kind::Uniform),
        ("normal", Kind::Normal),
        ("xavier", Kind::Xavier),
        ("glorot", Kind::Xavier),
        ("he", Kind::He),
        ("kaiming", Kind::He),
    ];
    let kind = lookup("initialiser", &name, &kinds, errors)?;
    let mut numbers = Vec::new();
    for arg in &args {
        match arg {
            ast::Arg::Positional(v) => numbers.push(expect_number(v, errors)? as f32),
            ast::Arg::Named(kv) => numbers.push(expect_number(&kv.value, errors)? as f32),
        }
    }
    let want = match kind {
        Kind::Zeros | Kind::Xavier | Kind::He => 0,
        Kind::Constant => 1,
        Kind::Uniform | Kind::Normal => 2,
    };
    if numbers.len() != want {
        errors.push(
            Diagnostic::error(
                codes::VALUE_FORM,
                format!("`{}` takes {want} numbers, got {}", name.name, numbers.len()),
                value.span,
                "wrong arguments",
            )
            .with_help(INIT_HELP),
        );
        return None;
    }
    // The sampler works in f32: the range's width and the deviation must be finite there.
    let init = match kind {
        Kind::Zeros => Init::Zeros,
        Kind::Constant => Init::Constant(numbers[0]),
        Kind::Uniform if numbers[0] < numbers[1] && (numbers[1] - numbers[0]).is_finite() => {
            Init::Uniform(numbers[0], numbers[1])
        }
        Kind::Normal if numbers[1] > 0.0 && (numbers[0].abs() + 6.0 * numbers[1]).is_finite() => {
            Init::Normal(numbers[0], numbers[1])
        }
        Kind::Uniform | Kind::Normal => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_RANGE,
                    "invalid initialiser range",
                    value.span,
                    "empty or too wide a range, or a deviation that is not positive",
                )
                .with_note("initial values are 32-bit floats: the range and 6 deviations around the mean must stay below 3.4e38")
                .with_help(INIT_HELP),
            );
            return None;
        }
        Kind::Xavier => Init::Xavier,
        Kind::He => Init::He,
    };
    Some(init)
}

const INIT_HELP: &str = "initialisers: zeros, constant(C), uniform(LOW, HIGH), normal(MEAN, STD), xavier, he";

/// A `[[..], ..]` literal of `rows x cols` numbers, row-major.
fn literal_matrix(
    value: &ast::Value,
    rows: usize,
    cols: usize,
    layer: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<f32>> {
    let mismatch = |found: String| {
        Diagnostic::error(
            codes::LITERAL_SHAPE,
            format!("literal weights of `{layer}` have the wrong shape"),
            value.span,
            format!("found {found}"),
        )
        .with_note(format!("expected {rows} rows (one per input) of {cols} numbers (one per unit): [{rows} x {cols}]"))
        .with_help("the weight matrix maps the previous layer's width to this layer's units")
    };
    let ValueKind::List(row_values) = &value.kind else {
        errors.push(mismatch("a single value".to_string()));
        return None;
    };
    let mut flat = Vec::with_capacity(rows * cols);
    for row in row_values {
        match &row.kind {
            ValueKind::List(items) if items.len() == cols => {
                for item in items {
                    flat.push(expect_number(item, errors)? as f32);
                }
            }
            ValueKind::List(items) => {
                errors.push(mismatch(format!("a row of {} numbers", items.len())));
                return None;
            }
            _ => {
                errors.push(mismatch("a number where a row `[...]` belongs".to_string()));
                return None;
            }
        }
    }
    if row_values.len() != rows {
        errors.push(mismatch(format!("{} rows", row_values.len())));
        return None;
    }
    Some(flat)
}

fn literal_vector(value: &ast::Value, len: usize, layer: &str, errors: &mut Vec<Diagnostic>) -> Option<Vec<f32>> {
    let found = match &value.kind {
        ValueKind::List(items) if items.len() == len => {
            return items.iter().map(|item| expect_number(item, errors).map(|n| n as f32)).collect();
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
