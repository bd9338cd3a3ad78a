//! Name resolution and checking: the AST to [`Job`]s, or every independent error found.

use crate::data::check_data;
use crate::job::*;
use crate::settings::{Settings, expect_number, lookup};
use nnc_autodiff::Optimizer;
use nnc_data::{DataSpec, Source};
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_syntax::ast::{self, ModelStmt, ValueKind};

/// Everything a checked program asks to run.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub jobs: Vec<Job>,
    pub minimizations: Vec<crate::Minimization>,
}

/// Checks the whole program: each `train` block into a [`Job`], each `minimize` block
/// into a [`crate::Minimization`], or every independent error found.
pub fn check(program: &ast::Program) -> Result<Checked, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    check_unique_names(program, &mut errors);
    let data: Vec<(ast::DataBlock, Option<DataSpec>)> =
        program.data_blocks().map(|block| (block.clone(), check_data(block, &mut errors))).collect();
    let models: Vec<(ast::ModelBlock, Option<Model>)> =
        program.model_blocks().map(|block| (block.clone(), check_model(block, &mut errors))).collect();
    let mut jobs = Vec::new();
    for train in program.train_blocks() {
        if let Some(job) = check_train(&data, &models, train, &mut errors) {
            jobs.push(job);
        }
    }
    let minimizations: Vec<crate::Minimization> =
        program.minimize_blocks().filter_map(|block| crate::objective::check_minimize(block, &mut errors)).collect();
    if errors.is_empty() { Ok(Checked { jobs, minimizations }) } else { Err(errors) }
}

fn check_unique_names(program: &ast::Program, errors: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&str, &ast::Ident)> = Vec::new();
    let named = program
        .data_blocks()
        .map(|b| ("data", &b.name))
        .chain(program.model_blocks().map(|b| ("model", &b.name)))
        .chain(program.minimize_blocks().map(|b| ("minimize", &b.name)));
    for (kind, name) in named {
        match seen.iter().find(|(k, n)| *k == kind && n.name == name.name) {
            Some((_, first)) => errors.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!("{kind} `{}` is defined twice", name.name),
                    name.span,
                    "defined again here",
                )
                .with_secondary(first.span, "first defined here")
                .with_help(format!("rename one of the {kind} blocks")),
            ),
            None => seen.push((kind, name)),
        }
    }
}

/// The input width recorded for `input auto` until the data says it.
const AUTO_WIDTH: usize = usize::MAX;

fn check_model(block: &ast::ModelBlock, errors: &mut Vec<Diagnostic>) -> Option<Model> {
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

fn check_train(
    data: &[(ast::DataBlock, Option<DataSpec>)],
    models: &[(ast::ModelBlock, Option<Model>)],
    train: &ast::TrainBlock,
    errors: &mut Vec<Diagnostic>,
) -> Option<Job> {
    let model_entry =
        resolve(models.iter().map(|(b, m)| (&b.name, (b, m))), &train.model, "model", codes::UNKNOWN_MODEL, errors);
    let data_entry = resolve(data.iter().map(|(b, d)| (&b.name, d)), &train.data, "data", codes::UNKNOWN_DATA, errors);
    let config = check_train_settings(train, errors);
    let (_, model) = model_entry?;
    let (model, data, config) = (model.clone()?, data_entry?.clone()?, config?);
    check_loss_fits_model(&model, &config, train, errors)?;
    check_early_stopping(&data, &config, errors)?;
    Some(Job { model, data, train: config, span: train.span })
}

fn check_loss_fits_model(
    model: &Model,
    config: &TrainConfig,
    train: &ast::TrainBlock,
    errors: &mut Vec<Diagnostic>,
) -> Option<()> {
    let before = errors.len();
    let last = model.layers.last()?;
    if let Some(fused) = config.loss.fused_activation()
        && !matches!(last.activation, Activation::Identity)
        && last.activation != fused
    {
        errors.push(
            Diagnostic::error(
                codes::LOSS_OUTPUT,
                format!(
                    "loss `{}` needs a {} or linear output, but the last layer uses {}",
                    config.loss.name(),
                    fused.name(),
                    last.activation.name()
                ),
                last.span,
                "last layer",
            )
            .with_secondary(train.span, "trained with this loss")
            .with_help(format!(
                "end the model with `dense {} {}` (or no activation: the outputs are then logits)",
                last.units,
                fused.name()
            )),
        );
    }
    if config.loss == Loss::Bce && last.units != 1 {
        let diagnostic = Diagnostic::error(
            codes::LOSS_OUTPUT,
            format!("loss `bce` gives one probability per row, but the last layer has {} units", last.units),
            last.span,
            format!("{} units", last.units),
        )
        .with_secondary(config.loss_span, "binary cross-entropy")
        .with_help("for two classes end the model with `dense 1`; for more classes use `loss softmax_ce`");
        errors.push(if matches!(last.activation, Activation::Identity | Activation::Softmax) {
            diagnostic.with_fix(config.loss_span, "softmax_ce")
        } else {
            diagnostic
        });
    }
    if config.loss == Loss::SoftmaxCe && last.units < 2 {
        errors.push(
            Diagnostic::error(
                codes::LOSS_OUTPUT,
                "softmax cross-entropy needs at least 2 output units",
                last.span,
                "one unit",
            )
            .with_help("use one unit per class, or `loss bce` with one unit for two classes"),
        );
    }
    if let Some((layer, _)) = &config.save_layer
        && !model.layers.iter().any(|l| &l.name == layer)
    {
        let names: Vec<&str> = model.layers.iter().map(|l| l.name.as_str()).collect();
        let d = Diagnostic::error(
            codes::UNKNOWN_LAYER,
            format!("model `{}` has no layer `{layer}`", model.name),
            train.span,
            "in `save_layer`",
        );
        errors.push(match did_you_mean(layer, names.iter().copied()) {
            Some(close) => d.with_help(format!("did you mean `{close}`?")),
            None => d.with_help(format!("the layers are: {}", names.join(", "))),
        });
    }
    (errors.len() == before).then_some(())
}

/// Early stopping watches the validation loss, so the data must have a validation part.
fn check_early_stopping(data: &DataSpec, config: &TrainConfig, errors: &mut Vec<Diagnostic>) -> Option<()> {
    let Some((_, span)) = config.patience else { return Some(()) };
    let has_validation = match &data.source {
        Source::Table(_) => false,
        Source::Csv(csv) => csv.split.validation > 0.0,
    };
    if has_validation {
        return Some(());
    }
    errors.push(
        Diagnostic::error(
            codes::NEEDS_VALIDATION,
            "early stopping needs a validation split",
            span,
            "uses `early_stopping`",
        )
        .with_secondary(data.name.span, "this data has no validation part")
        .with_help("give the data three fractions (train, validation, test), e.g. `split 0.7 0.15 0.15`"),
    );
    None
}

fn resolve<'a, T>(
    candidates: impl Iterator<Item = (&'a ast::Ident, T)>,
    wanted: &ast::Ident,
    kind: &str,
    code: nnc_diagnostics::Code,
    errors: &mut Vec<Diagnostic>,
) -> Option<T> {
    let candidates: Vec<(&ast::Ident, T)> = candidates.collect();
    let names: Vec<&str> = candidates.iter().map(|(n, _)| n.name.as_str()).collect();
    let mut diagnostic = Diagnostic::error(
        code,
        format!("unknown {kind} `{}`", wanted.name),
        wanted.span,
        format!("no {kind} with this name"),
    );
    diagnostic = match did_you_mean(&wanted.name, names.iter().copied()) {
        Some(close) => {
            let first = candidates.iter().find(|(n, _)| n.name == close).map(|(n, _)| n.span);
            let d = diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(wanted.span, close);
            match first {
                Some(span) => d.with_secondary(span, format!("`{close}` is defined here")),
                None => d,
            }
        }
        None if names.is_empty() => {
            diagnostic.with_help(format!("define it with a `{kind} {} {{ ... }}` block", wanted.name))
        }
        None => diagnostic.with_help(format!("defined {kind} blocks: {}", names.join(", "))),
    };
    match candidates.into_iter().find(|(n, _)| n.name == wanted.name) {
        Some((_, found)) => Some(found),
        None => {
            errors.push(diagnostic);
            None
        }
    }
}

fn check_train_settings(train: &ast::TrainBlock, errors: &mut Vec<Diagnostic>) -> Option<TrainConfig> {
    let before = errors.len();
    let mut settings = Settings::new(
        &train.settings,
        &["loss", "optimizer", "epochs", "batch", "seed", "shuffle", "schedule", "early_stopping", "save_layer"],
        errors,
    );
    let loss_setting = settings.take("loss");
    let loss_span = loss_setting.and_then(|s| s.values.first()).map_or(train.span, |v| v.span);
    let loss = match loss_setting {
        Some(setting) => settings.ident_choice(setting, "loss", Loss::ALL),
        None => {
            settings.errors.push(
                Diagnostic::error(
                    codes::MISSING_LOSS,
                    "the train block does not say which loss to minimise",
                    train.model.span.to(train.data.span),
                    "no `loss`",
                )
                .with_help("add `loss mse`"),
            );
            None
        }
    };
    let (optimizer, learning_rate) = match settings.take("optimizer") {
        Some(setting) => check_optimizer(setting, settings.errors).unzip(),
        None => (Some(Optimizer::sgd()), Some(0.01)),
    };
    let epochs = settings.take("epochs").and_then(|s| settings.count(s, 0)).unwrap_or(100);
    let batch = settings.take("batch").and_then(|s| settings.count(s, 1)).map(|b| b as usize);
    let seed = settings.take("seed").and_then(|s| settings.count(s, 0)).unwrap_or(0);
    let shuffle = match settings.take("shuffle") {
        Some(setting) => settings.ident_choice(setting, "shuffle choice", &[("true", true), ("false", false)]),
        None => Some(true),
    };
    let schedule = match settings.take("schedule") {
        Some(setting) => check_schedule(setting, settings.errors),
        None => Some(Schedule::Constant),
    };
    let patience =
        settings.take("early_stopping").and_then(|s| check_patience(s, settings.errors).map(|p| (p, s.span)));
    let save_layer = settings.take("save_layer").and_then(|s| check_save_layer(s, settings.errors));
    let (schedule, shuffle) = (schedule?, shuffle?);
    let (loss, optimizer, learning_rate) = (loss?, optimizer?, learning_rate?);
    (errors.len() == before).then_some(TrainConfig {
        loss,
        loss_span,
        optimizer,
        learning_rate,
        epochs,
        batch,
        seed,
        shuffle,
        schedule,
        patience,
        save_layer,
        span: train.span,
    })
}

fn check_optimizer(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<(Optimizer, f32)> {
    let value = crate::settings::single_value(setting, errors)?;
    let (name, args) = match &value.kind {
        ValueKind::Call(name, args) => (name.clone(), args.as_slice()),
        ValueKind::Ident(name) => (ast::Ident { name: name.clone(), span: value.span }, &[][..]),
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected an optimizer", value.span, "not an optimizer")
                    .with_help("write `optimizer sgd(lr = 0.1)` or `optimizer adam(lr = 0.001)`"),
            );
            return None;
        }
    };
    #[derive(Clone, Copy)]
    enum Kind {
        Sgd,
        Adam,
    }
    let kind = lookup("optimizer", &name, &[("sgd", Kind::Sgd), ("adam", Kind::Adam)], errors)?;
    let known: &[&str] = match kind {
        Kind::Sgd => &["lr", "momentum", "nesterov", "weight_decay"],
        Kind::Adam => &["lr", "beta1", "beta2", "epsilon", "weight_decay"],
    };
    let mut given: Vec<(&str, f64, Span)> = Vec::new();
    let before = errors.len();
    for arg in args {
        let ast::Arg::Named(kv) = arg else {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "optimizer arguments are named", value.span, "unnamed argument")
                    .with_help(format!("write `{}(lr = 0.1)`", name.name)),
            );
            return None;
        };
        let key = kv.key.name.as_str();
        if !known.contains(&key) {
            errors.push(unknown_key(&format!("argument of {}", name.name), key, kv.key.span, known));
            continue;
        }
        let number = match &kv.value.kind {
            ValueKind::Ident(flag) if key == "nesterov" && (flag == "true" || flag == "false") => {
                f64::from(u8::from(flag == "true"))
            }
            _ => match expect_number(&kv.value, errors) {
                Some(n) => n,
                None => continue,
            },
        };
        given.push((key, number, kv.value.span));
    }
    let get = |key: &str, default: f64| given.iter().find(|(k, _, _)| *k == key).map_or(default, |(_, v, _)| *v);
    for (key, number, span) in &given {
        // Checked as the f32 it becomes: 1e-50 is 0 and 0.999999999 is 1 in f32.
        let value = *number as f32;
        let valid = match *key {
            "lr" | "epsilon" => value > 0.0 && value.is_finite(),
            "momentum" | "beta1" | "beta2" => (0.0..1.0).contains(&value),
            "weight_decay" => value >= 0.0 && value.is_finite(),
            _ => true,
        };
        if !valid {
            let rule = match *key {
                "lr" | "epsilon" => "must be positive",
                "weight_decay" => "must be zero or positive",
                _ => "must be at least 0 and below 1",
            };
            errors.push(
                Diagnostic::error(codes::VALUE_RANGE, format!("`{key}` {rule}, got {number}"), *span, "invalid value")
                    .with_help(if *key == "lr" {
                        "typical learning rates are between 0.001 and 1"
                    } else {
                        "see docs/language.md for each optimizer's arguments"
                    }),
            );
        }
    }
    if errors.len() != before {
        return None;
    }
    let weight_decay = get("weight_decay", 0.0) as f32;
    Some(match kind {
        Kind::Sgd => (
            Optimizer::Sgd {
                momentum: get("momentum", 0.0) as f32,
                nesterov: get("nesterov", 0.0) != 0.0,
                weight_decay,
            },
            get("lr", 0.01) as f32,
        ),
        Kind::Adam => (
            Optimizer::Adam {
                beta1: get("beta1", 0.9) as f32,
                beta2: get("beta2", 0.999) as f32,
                epsilon: get("epsilon", 1e-8) as f32,
                weight_decay,
            },
            get("lr", 0.001) as f32,
        ),
    })
}

/// `schedule step(every = 100, factor = 0.5)`.
fn check_schedule(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Schedule> {
    let help = "write `schedule step(every = 100, factor = 0.5)` or `schedule constant`";
    let value = crate::settings::single_value(setting, errors)?;
    let (name, args) = match &value.kind {
        ValueKind::Ident(name) => (ast::Ident { name: name.clone(), span: value.span }, Vec::new()),
        ValueKind::Call(name, args) => (name.clone(), args.clone()),
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected a schedule", value.span, "not a schedule")
                    .with_help(help),
            );
            return None;
        }
    };
    #[derive(Clone, Copy)]
    enum Kind {
        Constant,
        Step,
    }
    match lookup("schedule", &name, &[("constant", Kind::Constant), ("step", Kind::Step)], errors)? {
        Kind::Constant => Some(Schedule::Constant),
        Kind::Step => {
            let (mut every, mut factor) = (None, None);
            for arg in &args {
                let ast::Arg::Named(kv) = arg else {
                    errors.push(
                        Diagnostic::error(
                            codes::VALUE_FORM,
                            "schedule arguments are named",
                            value.span,
                            "unnamed argument",
                        )
                        .with_help(help),
                    );
                    return None;
                };
                match kv.key.name.as_str() {
                    "every" => every = expect_number(&kv.value, errors),
                    "factor" => factor = expect_number(&kv.value, errors),
                    other => errors.push(unknown_key("argument of step", other, kv.key.span, &["every", "factor"])),
                }
            }
            match (every, factor) {
                (Some(e), Some(f)) if e >= 1.0 && e.fract() == 0.0 && f > 0.0 && f <= 1.0 => {
                    Some(Schedule::Step { every: e as u64, factor: f as f32 })
                }
                _ => {
                    errors.push(
                        Diagnostic::error(
                            codes::VALUE_RANGE,
                            "step needs `every` (whole number >= 1) and `factor` (in (0, 1])",
                            value.span,
                            "invalid schedule",
                        )
                        .with_help(help),
                    );
                    None
                }
            }
        }
    }
}

/// `early_stopping(patience = 10)`.
fn check_patience(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<u64> {
    let help = "write `early_stopping(patience = 10)`";
    let value = crate::settings::single_value(setting, errors)?;
    let patience = match &value.kind {
        ValueKind::Call(name, args) if name.name == "early_stopping" || name.name == "patience" => {
            match args.as_slice() {
                [ast::Arg::Named(kv)] if kv.key.name == "patience" => expect_number(&kv.value, errors),
                _ => None,
            }
        }
        ValueKind::Number(n) => Some(*n),
        _ => None,
    };
    match patience {
        Some(p) if p >= 1.0 && p.fract() == 0.0 => Some(p as u64),
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_RANGE,
                    "patience must be a whole number >= 1",
                    value.span,
                    "invalid early stopping",
                )
                .with_help(help),
            );
            None
        }
    }
}

/// `save_layer dense2 "out/codes.csv"`.
fn check_save_layer(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<(String, String)> {
    match setting.values.as_slice() {
        [ast::Value { kind: ValueKind::Ident(layer), .. }, ast::Value { kind: ValueKind::Str(path), .. }] => {
            Some((layer.clone(), path.clone()))
        }
        _ => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    "`save_layer` takes a layer name and a quoted file path",
                    setting.span,
                    "expected LAYER \"PATH\"",
                )
                .with_help("write `save_layer dense2 \"out/codes.csv\"`"),
            );
            None
        }
    }
}

pub(crate) fn unknown_key(kind: &str, key: &str, span: Span, known: &[&str]) -> Diagnostic {
    let diagnostic = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown {kind} `{key}`"), span, "unknown name");
    match did_you_mean(key, known.iter().copied()) {
        Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(span, close),
        None => diagnostic.with_help(format!("known: {}", known.join(", "))),
    }
}
