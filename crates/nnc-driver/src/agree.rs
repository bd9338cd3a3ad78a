//! Does the model fit its data? Checks that need the loaded data: the loss against the
//! task the target gives, the model's shapes where they depend on the data (`input auto`,
//! an embedding's column), then the model's input and output widths against the encoded
//! columns. The one place these checks live: `nnc check` and `nnc run` both come here.

use nnc_check::{ColumnSlot, Features, InputColumn, Job, Loss, Model};
use nnc_data::{Prepared, Preprocessing, TargetEncoding, Task};
use nnc_diagnostics::{Diagnostic, codes};

/// Settles the task the loss asks for (a 0/1 column under `bce` is binary
/// classification; one-hot table rows under `softmax_ce` are classes), the model's shapes
/// where they wait for the data, then checks widths.
pub(crate) fn check_model_fits_data(job: &mut Job, data: &mut Prepared) -> Result<(), Vec<Diagnostic>> {
    settle_task(job, data).map_err(|d| vec![d])?;
    if let Some(error) = input_width(job, data) {
        return Err(vec![error]);
    }
    settle_model(&mut job.model, &data.preprocessing, data.train.n_inputs())?;
    let mut errors = Vec::new();
    errors.extend(output_width(job, data));
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Settles the shapes of a model whose input is `auto` or that embeds a column, from the
/// data's encoded columns (`width` of them).
pub fn settle_model(model: &mut Model, preprocessing: &Preprocessing, width: usize) -> Result<(), Vec<Diagnostic>> {
    if model.settled {
        return Ok(());
    }
    if model.input_auto {
        model.input = Features::Flat(width);
    }
    let errors = nnc_check::settle(model, Some(&input_columns(preprocessing)));
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Where each source column's numbers sit among the model's inputs.
pub fn input_columns(preprocessing: &Preprocessing) -> Vec<InputColumn> {
    let mut start = 0;
    preprocessing
        .features
        .iter()
        .map(|column| {
            let width = column.encoding.width();
            let slot = ColumnSlot { start, width };
            start += width;
            let categorical = matches!(column.encoding, nnc_data::Encoding::OneHot { .. });
            InputColumn { name: column.column.clone(), slot, categorical }
        })
        .collect()
}

fn settle_task(job: &mut Job, data: &mut Prepared) -> Result<(), Diagnostic> {
    let targets = &data.train.targets;
    let loss = job.train.loss;
    if let nnc_check::Sampler::Classes { .. } = job.train.sampler
        && !matches!(data.task, Task::Classes(_))
    {
        return Err(Diagnostic::error(
            codes::LOSS_TASK,
            "`sampler classes` groups rows by class, but the target is not a class column",
            job.train.span,
            "uses `sampler classes`",
        )
        .with_secondary(data.target_span, "not classes")
        .with_help("mark the target `categorical`, or remove the sampler"));
    }
    match (&data.task, loss) {
        (Task::Classes(classes), Loss::Metric(mut metric)) if classes.len() >= 2 => {
            metric.classes = classes.len();
            job.train.loss = Loss::Metric(metric);
        }
        (_, Loss::Metric(metric)) => {
            return Err(Diagnostic::error(
                codes::LOSS_TASK,
                format!("loss `{}` learns from class labels, but the target holds no classes", metric.kind.name()),
                job.train.loss_span,
                "a metric loss",
            )
            .with_secondary(data.target_span, "not a class column of two or more classes")
            .with_help("the target must be a `categorical` column: rows of one class are pulled together"));
        }
        (Task::Regression, Loss::Bce) if targets.iter().all(|&t| t == 0.0 || t == 1.0) => {
            data.task = Task::Binary(None);
        }
        (Task::Regression, Loss::SoftmaxCe) if data.train.n_targets() > 1 && is_one_hot(data) => {
            data.task = Task::Classes(data.train.target_names.clone());
        }
        (Task::Regression, Loss::Bce | Loss::SoftmaxCe) => return Err(numeric_target(job, data)),
        (Task::Classes(classes), Loss::Bce) if classes.len() != 2 => {
            return Err(Diagnostic::error(
                codes::LOSS_TASK,
                format!("loss `bce` is for two classes, but the target has {}", classes.len()),
                job.train.loss_span,
                "binary cross-entropy",
            )
            .with_secondary(data.target_span, format!("{} classes", classes.len()))
            .with_help(format!("use `loss softmax_ce` with `dense {}` as the last layer", classes.len())));
        }
        _ => {}
    }
    Ok(())
}

fn is_one_hot(data: &Prepared) -> bool {
    let width = data.train.n_targets();
    data.train
        .targets
        .chunks(width)
        .all(|row| row.iter().all(|&t| t == 0.0 || t == 1.0) && row.iter().filter(|&&t| t == 1.0).count() == 1)
}

/// A classification loss on a numeric target: most often a label column written as
/// numbers (0-9) that needs `categorical`.
fn numeric_target(job: &Job, data: &Prepared) -> Diagnostic {
    let loss = job.train.loss.name();
    let column = match &data.preprocessing.target {
        TargetEncoding::Columns(columns) if columns.len() == 1 => Some(columns[0].column.clone()),
        _ => None,
    };
    let diagnostic = Diagnostic::error(
        codes::LOSS_TASK,
        format!("loss `{loss}` needs class labels, but the target holds numbers"),
        job.train.loss_span,
        "a classification loss",
    )
    .with_secondary(data.target_span, "a numeric target: regression");
    match (column, &job.data.source) {
        (Some(column), nnc_data::Source::Csv(csv)) => diagnostic
            .with_help(format!(
                "if `{column}` holds class labels, add `categorical {column}`; to predict the number, use `loss mse`"
            ))
            .with_fix(csv.insert_at, format!("\n  categorical {column}")),
        _ => diagnostic.with_help(format!(
            "`{loss}` needs {}; to predict numbers, use `loss mse`",
            if loss == "bce" { "0/1 targets" } else { "one-hot target rows (one 1 per row)" }
        )),
    }
}

/// The names of the first columns, and how many more there are.
fn listed(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    match names.len().saturating_sub(8) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

fn input_width(job: &Job, data: &Prepared) -> Option<Diagnostic> {
    let (model, found) = (&job.model, data.train.n_inputs());
    if model.input_auto || found == model.input_width() {
        return None;
    }
    let wanted = match model.input {
        Features::Flat(n) => format!("{n} inputs"),
        image => format!("{} = {} inputs", image.describe(), image.size()),
    };
    let diagnostic = Diagnostic::error(
        codes::INPUT_WIDTH,
        format!("model `{}` takes {wanted} but data `{}` gives {found} input columns", model.name, job.data.name.name),
        model.input_span,
        format!("the model takes {wanted}"),
    )
    .with_secondary(data.input_span, format!("{found} input columns"))
    .with_note(format!("input columns: {}", listed(&data.train.input_names)));
    Some(match model.input {
        Features::Flat(_) => {
            diagnostic.with_help(format!("write `input {found}`")).with_fix(model.input_span, format!("input {found}"))
        }
        _ => diagnostic.with_help("an image's height x width x channels must be the number of input columns"),
    })
}

fn output_width(job: &Job, data: &Prepared) -> Option<Diagnostic> {
    let model = &job.model;
    if job.train.loss.metric().is_some() {
        // The outputs are the embedding: any width.
        return None;
    }
    let (found, wanted) = (data.train.n_targets(), model.output_width()?);
    let last = model.layers.last()?;
    (found != wanted).then(|| {
        let per_class = matches!(data.task, Task::Classes(_));
        let diagnostic = Diagnostic::error(
            codes::OUTPUT_WIDTH,
            format!(
                "model `{}` outputs {wanted} values but data `{}` has {found} {}",
                model.name,
                job.data.name.name,
                match (per_class, found) {
                    (true, _) => "classes",
                    (false, 1) => "target",
                    (false, _) => "targets",
                }
            ),
            last.span,
            format!("the last layer has {wanted} units"),
        )
        .with_secondary(data.target_span, if found == 1 { "1 target".to_string() } else { format!("{found} targets") })
        .with_note(format!("targets: {}", listed(&data.train.target_names)))
        .with_help(if per_class {
            format!("one output unit per class: make the last layer `dense {found}`")
        } else {
            format!("make the last layer `dense {found}`")
        });
        let diagnostic = match last.kind {
            nnc_check::LayerKind::Dense { .. } => diagnostic.with_fix(last.size_span, found.to_string()),
            _ => diagnostic,
        };
        match (&data.task, &data.preprocessing.target) {
            (Task::Regression, TargetEncoding::Columns(columns)) if columns.len() == 1 && wanted > 1 => diagnostic
                .with_note(format!(
                    "if `{}` holds class labels, add `categorical {}` and use `loss softmax_ce`",
                    columns[0].column, columns[0].column
                )),
            _ => diagnostic,
        }
    })
}
