//! A `model` block: its input, its layers, their options, initialisers and literal
//! weights (codes E02xx for names, E03xx for shapes and sizes). Shapes that follow from
//! the input are settled in `shapes.rs`.

use crate::job::*;
use crate::settings::{expect_number, lookup, unknown_key};
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_syntax::ast::{self, ModelStmt, ValueKind};

pub(crate) fn check_model(block: &ast::ModelBlock, errors: &mut Vec<Diagnostic>) -> Option<Model> {
    let before = errors.len();
    let mut input: Option<(Option<Features>, Span)> = None;
    let mut layers: Vec<Layer> = Vec::new();
    // Layers are named by their place in the program, so that one layer with an error
    // does not rename (and break references to) the layers after it.
    let mut position = 0;
    for stmt in &block.stmts {
        match stmt {
            ModelStmt::Input { dims, span } => {
                check_input_place(input.map(|(_, s)| s), !layers.is_empty(), *span, errors);
                input = Some((dims.as_ref().and_then(|d| input_features(d, errors)), *span));
            }
            ModelStmt::Layer(layer) => {
                position += 1;
                let name = format!("{}{}", layer.kind.name, position);
                if let Some(layer) = check_layer(layer, name, &layers, errors) {
                    layers.push(layer);
                }
            }
        }
    }
    let Some((input, input_span)) = input else {
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
    if layers.is_empty() && errors.len() == before {
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
    let input_auto = block.stmts.iter().any(|s| matches!(s, ModelStmt::Input { dims: None, .. }));
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
    if errors.len() != before {
        return None;
    }
    let mut model = Model {
        name: block.name.name.clone(),
        input: input.unwrap_or(Features::Flat(0)),
        input_auto,
        layers,
        input_span,
        settled: false,
    };
    // Without the data, shapes are known unless the input is `auto` or an embedding needs
    // its column's categories.
    let needs_data = input_auto || model.layers.iter().any(|l| matches!(l.kind, LayerKind::Embedding { .. }));
    if !needs_data {
        errors.extend(crate::shapes::settle(&mut model, None));
    }
    (errors.len() == before).then_some(model)
}

fn check_input_place(first: Option<Span>, after_layers: bool, span: Span, errors: &mut Vec<Diagnostic>) {
    if let Some(first) = first {
        errors.push(
            Diagnostic::error(codes::MODEL_STRUCTURE, "the model declares its input twice", span, "second `input`")
                .with_secondary(first, "first `input`")
                .with_help("a model has exactly one `input N`, before its layers"),
        );
    } else if after_layers {
        errors.push(
            Diagnostic::error(codes::MODEL_STRUCTURE, "`input` must come before the layers", span, "too late")
                .with_help("move `input N` to the top of the model"),
        );
    }
}

/// `64`, `8x8` (one channel) or `28x28x3`.
fn input_features(dims: &[ast::Integer], errors: &mut Vec<Diagnostic>) -> Option<Features> {
    if let Some(zero) = dims.iter().find(|d| d.value == 0) {
        errors.push(
            Diagnostic::error(codes::ZERO_WIDTH, "input width must be at least 1", zero.span, "zero width")
                .with_help("the input width is the number of input columns"),
        );
        return None;
    }
    // Sizes are counted in 64-bit integers; an input beyond 2^40 numbers fits no machine.
    let total = dims.iter().try_fold(1u64, |n, d| n.checked_mul(d.value)).filter(|&n| n <= 1 << 40);
    if total.is_none() {
        let span = dims[0].span.to(dims[dims.len() - 1].span);
        errors.push(
            Diagnostic::error(codes::TOO_LARGE, "the input is too large", span, "more than 2^40 numbers")
                .with_help("an input is at most 2^40 numbers"),
        );
        return None;
    }
    let d = |i: usize| dims[i].value as usize;
    match dims.len() {
        1 => Some(Features::Flat(d(0))),
        2 => Some(Features::Image { height: d(0), width: d(1), channels: 1 }),
        3 => Some(Features::Image { height: d(0), width: d(1), channels: d(2) }),
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    format!("an input has 1 to 3 sizes, got {}", dims.len()),
                    dims[0].span.to(dims[dims.len() - 1].span),
                    "too many sizes",
                )
                .with_help("write `input N` for N columns, or `input HxW` / `input HxWxC` for images"),
            );
            None
        }
    }
}

/// The layer kinds, by name.
pub const LAYER_KINDS: &[&str] = &[
    "dense",
    "conv2d",
    "conv1d",
    "maxpool",
    "avgpool",
    "flatten",
    "dropout",
    "batchnorm",
    "embedding",
    "add",
    "concat",
];

/// What a kind needs written after its name.
struct Form {
    /// `Some(what)` when the kind needs a size (units, filters...).
    size: Option<&'static str>,
    /// Whether it may rather take the size as an option (`dropout (rate = 0.5)`).
    size_option: Option<&'static str>,
    activation: bool,
    joins: bool,
    options: &'static [&'static str],
}

fn form(kind: &str) -> Form {
    const WEIGHTS: &[&str] = &["weights", "bias", "init", "bias_init", "normalize", "from"];
    const CONV: &[&str] = &["kernel", "stride", "padding", "weights", "bias", "init", "bias_init", "from"];
    let plain = |options| Form { size: None, size_option: None, activation: false, joins: false, options };
    match kind {
        "dense" => Form { size: Some("units"), size_option: None, activation: true, joins: false, options: WEIGHTS },
        "conv2d" | "conv1d" => {
            Form { size: Some("filters"), size_option: None, activation: true, joins: false, options: CONV }
        }
        "maxpool" | "avgpool" => plain(&["size", "stride", "from"]),
        "flatten" => plain(&["from"]),
        "dropout" => Form { size: Some("rate"), size_option: Some("rate"), ..plain(&["rate", "from"]) },
        "batchnorm" => Form { activation: true, ..plain(&["momentum", "epsilon", "from"]) },
        "embedding" => Form { size: Some("size"), ..plain(&["column", "weights", "init"]) },
        _ => Form { activation: true, joins: true, ..plain(&["from"]) },
    }
}

fn check_layer(layer: &ast::Layer, name: String, earlier: &[Layer], errors: &mut Vec<Diagnostic>) -> Option<Layer> {
    let kind_name = layer.kind.name.as_str();
    if !LAYER_KINDS.contains(&kind_name) {
        let diagnostic = Diagnostic::error(
            codes::UNKNOWN_CHOICE,
            format!("unknown layer `{kind_name}`"),
            layer.kind.span,
            "not a layer nnc knows",
        );
        errors.push(match did_you_mean(kind_name, LAYER_KINDS.iter().copied()) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(layer.kind.span, close),
            None => diagnostic.with_help(format!("layers: {}", LAYER_KINDS.join(", "))),
        });
        return None;
    }
    let before = errors.len();
    let form = form(kind_name);
    let options = Options::new(layer, form.options, errors);
    let size = layer_size(layer, &form, &options, errors);
    let mut words = layer.words.iter();
    let join = if form.joins { words.next() } else { None };
    if form.joins && join.is_none() {
        errors.push(
            Diagnostic::error(
                codes::LAYER_FORM,
                format!("`{kind_name}` needs the layer it joins"),
                layer.span,
                "which layer?",
            )
            .with_help(format!("write `{kind_name} NAME`, NAME an earlier layer such as `{}`", last_name(earlier))),
        );
    }
    let activation = match words.next() {
        Some(ident) if form.activation => lookup("activation", ident, Activation::ALL, errors)?,
        Some(ident) => {
            errors.push(
                Diagnostic::error(
                    codes::LAYER_FORM,
                    format!("`{kind_name}` takes no activation"),
                    ident.span,
                    "not taken here",
                )
                .with_help(format!("put the activation on the layer before the {kind_name}")),
            );
            Activation::Identity
        }
        None => Activation::Identity,
    };
    if let Some(extra) = words.next() {
        errors.push(
            Diagnostic::error(codes::LAYER_FORM, "a layer takes one activation", extra.span, "unexpected name")
                .with_help("write `KIND SIZE ACTIVATION (OPTIONS)`"),
        );
    }
    let from = match options.get("from") {
        Some(value) => source(value, earlier, errors)?,
        None => earlier.len().checked_sub(1).map_or(Source::Input, Source::Layer),
    };
    let kind = match kind_name {
        "dense" => LayerKind::Dense { units: size? as usize },
        "conv2d" | "conv1d" => conv(kind_name == "conv1d", size? as usize, &options, errors)?,
        "maxpool" | "avgpool" => pool(kind_name == "maxpool", &options, errors)?,
        "flatten" => LayerKind::Flatten,
        "dropout" => LayerKind::Dropout { rate: size? as f32 },
        "batchnorm" => batchnorm(&options, errors)?,
        "embedding" => embedding(layer, size? as usize, &options, errors)?,
        _ => {
            let other = join?;
            let joined =
                source(&ast::Value { kind: ValueKind::Ident(other.name.clone()), span: other.span }, earlier, errors)?;
            LayerKind::Join { concat: kind_name == "concat", other: joined, other_span: other.span }
        }
    };
    let normalize = options.get("normalize").is_some_and(|v| check_normalize(v, errors));
    let init = options.get("init").and_then(|v| check_init(v, errors));
    let bias_init = options.get("bias_init").and_then(|v| check_init(v, errors));
    (errors.len() == before).then(|| Layer {
        name,
        kind,
        activation,
        from,
        input: Features::Flat(0),
        output: Features::Flat(0),
        weights: None,
        bias: None,
        literals: [options.get("weights").cloned(), options.get("bias").cloned()],
        init,
        bias_init,
        normalize,
        span: layer.span,
        size_span: layer.size.as_ref().map_or(layer.kind.span, |n| n.span),
    })
}

/// `normalize = l2`: each row's output divided by its length.
fn check_normalize(value: &ast::Value, errors: &mut Vec<Diagnostic>) -> bool {
    match &value.kind {
        ValueKind::Ident(name) if name == "l2" => true,
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected `l2`", value.span, "not a normalisation")
                    .with_help("write `normalize = l2` to scale each row's output to length 1"),
            );
            false
        }
    }
}

fn last_name(earlier: &[Layer]) -> &str {
    earlier.last().map_or("input", |l| l.name.as_str())
}

/// A layer's options, each key once and known to its kind.
struct Options<'a> {
    values: Vec<(&'a str, &'a ast::Value)>,
}

impl<'a> Options<'a> {
    fn new(layer: &'a ast::Layer, known: &[&str], errors: &mut Vec<Diagnostic>) -> Options<'a> {
        let mut values: Vec<(&str, &ast::Value)> = Vec::new();
        for option in &layer.options {
            let key = option.key.name.as_str();
            if !known.contains(&key) {
                errors.push(unknown_key(&format!("`{}` option", layer.kind.name), key, option.key.span, known));
            } else if values.iter().any(|(k, _)| *k == key) {
                errors.push(
                    Diagnostic::error(
                        codes::DUPLICATE_SETTING,
                        format!("`{key}` is given twice"),
                        option.key.span,
                        "again",
                    )
                    .with_help("remove one of them"),
                );
            } else {
                values.push((key, &option.value));
            }
        }
        Options { values }
    }

    fn get(&self, key: &str) -> Option<&'a ast::Value> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// The number after the kind (`dense 4`, `dropout 0.5`), or the option standing for it.
fn layer_size(layer: &ast::Layer, form: &Form, options: &Options, errors: &mut Vec<Diagnostic>) -> Option<f64> {
    let kind = layer.kind.name.as_str();
    let option = form.size_option.and_then(|key| options.get(key).map(|v| (key, v)));
    let (value, span) = match (&layer.size, option, form.size) {
        (Some(size), None, Some(_)) => (size.value, size.span),
        (None, Some((_, value)), Some(_)) => (expect_number(value, errors)?, value.span),
        (Some(size), Some((key, _)), Some(_)) => {
            errors.push(
                Diagnostic::error(codes::DUPLICATE_SETTING, format!("the {key} is given twice"), size.span, "here")
                    .with_help(format!("write `{kind} {}` or `{kind} ({key} = {})`, not both", size.value, size.value)),
            );
            return None;
        }
        (None, None, Some(what)) => {
            let example = if kind == "dropout" { "0.5" } else { "16" };
            errors.push(
                Diagnostic::error(codes::LAYER_FORM, format!("`{kind}` needs its {what}"), layer.span, "missing")
                    .with_help(format!("write `{kind} {example}`")),
            );
            return None;
        }
        (Some(size), _, None) => {
            errors.push(
                Diagnostic::error(codes::LAYER_FORM, format!("`{kind}` takes no size"), size.span, "not taken here")
                    .with_help(match kind {
                        "maxpool" | "avgpool" => format!("give the window as an option: `{kind} (size = 2)`"),
                        _ => format!("write `{kind}` alone"),
                    }),
            );
            return None;
        }
        (None, _, None) => return Some(0.0),
    };
    let whole = kind != "dropout";
    let fits = if whole {
        value.fract() == 0.0 && value >= 1.0 && value <= (1u64 << 32) as f64
    } else {
        (0.0..1.0).contains(&value)
    };
    if !fits {
        let (code, what) = if whole && value == 0.0 {
            (codes::ZERO_WIDTH, "at least 1".to_string())
        } else if whole {
            (codes::VALUE_RANGE, "a whole number from 1 to 2^32".to_string())
        } else {
            (codes::VALUE_RANGE, "a probability from 0 up to (not including) 1".to_string())
        };
        errors.push(
            Diagnostic::error(
                code,
                format!("the {} of `{kind}` must be {what}, got {value}", form.size.unwrap_or("size")),
                span,
                "invalid",
            )
            .with_help(if whole {
                format!("write `{kind} N` with N >= 1")
            } else {
                "dropout 0.5 zeroes half the numbers in training".to_string()
            }),
        );
        return None;
    }
    Some(value)
}

/// `input` or an earlier layer's name.
fn source(value: &ast::Value, earlier: &[Layer], errors: &mut Vec<Diagnostic>) -> Option<Source> {
    let ValueKind::Ident(name) = &value.kind else {
        errors.push(
            Diagnostic::error(codes::VALUE_FORM, "expected a layer name", value.span, "not a name")
                .with_help("name `input` or an earlier layer, such as `dense1`"),
        );
        return None;
    };
    if name == "input" {
        return Some(Source::Input);
    }
    if let Some(index) = earlier.iter().position(|l| &l.name == name) {
        return Some(Source::Layer(index));
    }
    let names: Vec<&str> = std::iter::once("input").chain(earlier.iter().map(|l| l.name.as_str())).collect();
    let diagnostic = Diagnostic::error(
        codes::UNKNOWN_LAYER,
        format!("no earlier layer is called `{name}`"),
        value.span,
        "not an earlier layer",
    )
    .with_note("layers are named by kind and position: `dense1`, `conv2`, ...; a layer can take only earlier layers");
    errors.push(match did_you_mean(name, names.iter().copied()) {
        Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(value.span, close),
        None => diagnostic.with_help(format!("earlier layers: {}", names.join(", "))),
    });
    None
}

/// A whole number (or, for 2-D, `[h, w]`) at least 1.
fn pair_option(value: &ast::Value, key: &str, series: bool, errors: &mut Vec<Diagnostic>) -> Option<[usize; 2]> {
    let number = |v: &ast::Value, errors: &mut Vec<Diagnostic>| -> Option<usize> {
        let n = expect_number(v, errors)?;
        if n.fract() == 0.0 && (1.0..=65536.0).contains(&n) {
            return Some(n as usize);
        }
        errors.push(
            Diagnostic::error(
                codes::VALUE_RANGE,
                format!("`{key}` must be a whole number from 1 to 65536, got {n}"),
                v.span,
                "invalid",
            )
            .with_help(format!(
                "write `{key} = {}`",
                if key == "kernel" {
                    3
                } else if key == "stride" {
                    1
                } else {
                    2
                }
            )),
        );
        None
    };
    match &value.kind {
        ValueKind::List(items) if items.len() == 2 && !series => {
            Some([number(&items[0], errors)?, number(&items[1], errors)?])
        }
        ValueKind::List(_) => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    format!("`{key}` takes one number{}", if series { "" } else { " or [height, width]" }),
                    value.span,
                    "wrong form",
                )
                .with_help(format!("write `{key} = 3`")),
            );
            None
        }
        _ => {
            let n = number(value, errors)?;
            Some(if series { [1, n] } else { [n, n] })
        }
    }
}

fn conv(series: bool, filters: usize, options: &Options, errors: &mut Vec<Diagnostic>) -> Option<LayerKind> {
    let kernel = match options.get("kernel") {
        Some(v) => pair_option(v, "kernel", series, errors)?,
        None if series => [1, 3],
        None => [3, 3],
    };
    let stride = match options.get("stride") {
        Some(v) => pair_option(v, "stride", series, errors)?,
        None => [1, 1],
    };
    let padding = match options.get("padding") {
        None => Padding::Valid,
        Some(value) => {
            let ValueKind::Ident(name) = &value.kind else {
                errors.push(
                    Diagnostic::error(codes::VALUE_FORM, "expected `same` or `valid`", value.span, "not a padding")
                        .with_help("`padding = same` keeps the size (at stride 1); `valid` takes whole windows only"),
                );
                return None;
            };
            let ident = ast::Ident { name: name.clone(), span: value.span };
            lookup("padding", &ident, &[("same", Padding::Same), ("valid", Padding::Valid)], errors)?
        }
    };
    Some(LayerKind::Conv { filters, kernel, stride, padding, series })
}

fn pool(max: bool, options: &Options, errors: &mut Vec<Diagnostic>) -> Option<LayerKind> {
    // The window is square over an image, a run of steps over a series: which, the input
    // says when shapes are settled (`shapes.rs`).
    let size = match options.get("size") {
        Some(v) => pair_option(v, "size", false, errors)?,
        None => [2, 2],
    };
    let stride = match options.get("stride") {
        Some(v) => pair_option(v, "stride", false, errors)?,
        None => size,
    };
    Some(LayerKind::Pool { max, size, stride, series: false })
}

fn batchnorm(options: &Options, errors: &mut Vec<Diagnostic>) -> Option<LayerKind> {
    let mut number = |key: &str, default: f64, valid: fn(f64) -> bool, help: &str| -> Option<f32> {
        let Some(value) = options.get(key) else { return Some(default as f32) };
        let n = expect_number(value, errors)?;
        if valid(n) {
            return Some(n as f32);
        }
        errors.push(
            Diagnostic::error(codes::VALUE_RANGE, format!("`{key}` is out of range: {n}"), value.span, "invalid")
                .with_help(help.to_string()),
        );
        None
    };
    let momentum = number(
        "momentum",
        0.1,
        |m| m > 0.0 && m <= 1.0,
        "momentum is the weight of each batch in the running statistics, in (0, 1] (PyTorch's convention; Keras' 0.99 is 0.01 here)",
    )?;
    let epsilon = number(
        "epsilon",
        1e-5,
        |e| e > 0.0 && e < 1.0,
        "epsilon is added to the variance before the square root: a small positive number such as 1e-5",
    )?;
    Some(LayerKind::BatchNorm { momentum, epsilon })
}

fn embedding(layer: &ast::Layer, dim: usize, options: &Options, errors: &mut Vec<Diagnostic>) -> Option<LayerKind> {
    let Some(value) = options.get("column") else {
        errors.push(
            Diagnostic::error(codes::LAYER_FORM, "`embedding` needs the column it embeds", layer.span, "which column?")
                .with_help(format!("write `embedding {dim} (column = NAME)`, NAME a categorical column of the data")),
        );
        return None;
    };
    let column = match &value.kind {
        ValueKind::Ident(name) => name.clone(),
        ValueKind::Str(name) => name.clone(),
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected a column name", value.span, "not a name")
                    .with_help("write `column = city`"),
            );
            return None;
        }
    };
    Some(LayerKind::Embedding { dim, column, column_span: value.span, slot: None })
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
