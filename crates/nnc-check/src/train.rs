//! A `train` block's settings (loss, optimizer, epochs, batch, seed, shuffle, schedule,
//! early stopping, `save_layer`) and whether they fit its model and data (codes E04xx).

use crate::job::*;
use crate::settings::{Settings, expect_number, lookup, unknown_key};
use nnc_autodiff::Optimizer;
use nnc_data::{DataSpec, Source};
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_syntax::ast::{self, ValueKind};

pub(crate) fn check_loss_fits_model(
    model: &Model,
    config: &TrainConfig,
    train: &ast::TrainBlock,
    errors: &mut Vec<Diagnostic>,
) -> Option<()> {
    let before = errors.len();
    let last = model.layers.last()?;
    // Unknown until the data is loaded when the model's shapes need it; then the data's
    // targets are checked against it (`nnc-driver`'s `agree.rs`).
    let units = model.output_width();
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
                units.map_or("N".to_string(), |u| u.to_string()),
                fused.name()
            )),
        );
    }
    if config.loss == Loss::Bce
        && let Some(units) = units.filter(|&u| u != 1)
    {
        let diagnostic = Diagnostic::error(
            codes::LOSS_OUTPUT,
            format!("loss `bce` gives one probability per row, but the last layer has {units} units"),
            last.span,
            format!("{units} units"),
        )
        .with_secondary(config.loss_span, "binary cross-entropy")
        .with_help("for two classes end the model with `dense 1`; for more classes use `loss softmax_ce`");
        errors.push(if matches!(last.activation, Activation::Identity | Activation::Softmax) {
            diagnostic.with_fix(config.loss_span, "softmax_ce")
        } else {
            diagnostic
        });
    }
    if config.loss == Loss::SoftmaxCe && units.is_some_and(|u| u < 2) {
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
pub(crate) fn check_early_stopping(data: &DataSpec, config: &TrainConfig, errors: &mut Vec<Diagnostic>) -> Option<()> {
    let Some((_, span)) = config.patience else { return Some(()) };
    let has_validation = match &data.source {
        Source::Table(_) => false,
        Source::Csv(csv) => csv.split.validation > 0.0,
        Source::Images(images) => images.split.validation > 0.0,
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

pub(crate) fn check_train_settings(train: &ast::TrainBlock, errors: &mut Vec<Diagnostic>) -> Option<TrainConfig> {
    let before = errors.len();
    let mut settings = Settings::new(
        &train.settings,
        &[
            "loss",
            "optimizer",
            "epochs",
            "batch",
            "seed",
            "shuffle",
            "sampler",
            "schedule",
            "early_stopping",
            "save_layer",
        ],
        errors,
    );
    let loss_setting = settings.take("loss");
    let loss_span = loss_setting.and_then(|s| s.values.first()).map_or(train.span, |v| v.span);
    let loss = match loss_setting {
        Some(setting) => check_loss(setting, &mut settings),
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
    let sampler = match settings.take("sampler") {
        Some(setting) => check_sampler(setting, settings.errors),
        None => Some(Sampler::Rows),
    };
    let schedule = match settings.take("schedule") {
        Some(setting) => check_schedule(setting, settings.errors),
        None => Some(Schedule::Constant),
    };
    let patience =
        settings.take("early_stopping").and_then(|s| check_patience(s, settings.errors).map(|p| (p, s.span)));
    let save_layer = settings.take("save_layer").and_then(|s| check_save_layer(s, settings.errors));
    let (schedule, shuffle, sampler) = (schedule?, shuffle?, sampler?);
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
        sampler,
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

/// `loss mse`, or a metric loss with its margin: `loss triplet(margin = 0.2)`.
fn check_loss(setting: &ast::Setting, settings: &mut Settings<'_, '_>) -> Option<Loss> {
    let value = crate::settings::single_value(setting, settings.errors)?;
    let ValueKind::Call(name, args) = &value.kind else {
        return settings.ident_choice(setting, "loss", Loss::ALL);
    };
    let kind = match name.name.as_str() {
        "triplet" => MetricKind::Triplet,
        "contrastive" => MetricKind::Contrastive,
        _ => {
            settings.errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    format!("loss `{}` takes no arguments", name.name),
                    value.span,
                    "",
                )
                .with_help("only `triplet(margin = M)` and `contrastive(margin = M)` take one"),
            );
            return None;
        }
    };
    let mut margin = kind.default_margin();
    for arg in args {
        let ast::Arg::Named(kv) = arg else {
            settings.errors.push(
                Diagnostic::error(codes::VALUE_FORM, "the margin is named", value.span, "unnamed argument")
                    .with_help(format!("write `{}(margin = {margin})`", kind.name())),
            );
            return None;
        };
        if kv.key.name != "margin" {
            settings.errors.push(unknown_key(
                &format!("argument of {}", kind.name()),
                &kv.key.name,
                kv.key.span,
                &["margin"],
            ));
            return None;
        }
        let number = expect_number(&kv.value, settings.errors)? as f32;
        if !(number > 0.0 && number.is_finite()) {
            settings.errors.push(
                Diagnostic::error(codes::VALUE_RANGE, "the margin must be positive", kv.value.span, "not positive")
                    .with_help(format!("write `{}(margin = {})`", kind.name(), kind.default_margin())),
            );
            return None;
        }
        margin = number;
    }
    Some(Loss::Metric(Metric { kind, margin, classes: 0 }))
}

/// `sampler rows` or `sampler classes(per_class = 4)`.
fn check_sampler(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<Sampler> {
    let help = "write `sampler classes(per_class = 4)` (batches of 4 rows per class) or `sampler rows`";
    let value = crate::settings::single_value(setting, errors)?;
    let per_class = match &value.kind {
        ValueKind::Ident(name) if name == "rows" => return Some(Sampler::Rows),
        ValueKind::Call(name, args) if name.name == "classes" => match args.as_slice() {
            [ast::Arg::Named(kv)] if kv.key.name == "per_class" => expect_number(&kv.value, errors),
            _ => None,
        },
        _ => None,
    };
    match per_class {
        Some(k) if (2.0..=65536.0).contains(&k) && k.fract() == 0.0 => Some(Sampler::Classes { per_class: k as usize }),
        Some(_) => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_RANGE,
                    "rows per class must be a whole number from 2",
                    value.span,
                    "invalid sampler",
                )
                .with_help("a metric loss needs at least two rows of a class in a batch: `per_class = 4`"),
            );
            None
        }
        None => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected a sampler", value.span, "not a sampler").with_help(help),
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
