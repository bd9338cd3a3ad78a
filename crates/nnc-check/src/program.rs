//! Name resolution: the AST's blocks to [`Job`]s and [`Minimize`]s, each `train` block
//! resolved to its model and data, or every independent error found.

use crate::data::check_data;
use crate::job::*;
use crate::model::check_model;
use crate::objective::{Minimize, check_minimize};
use crate::train::{check_early_stopping, check_loss_fits_model, check_train_settings};
use nnc_data::DataSpec;
use nnc_diagnostics::{Diagnostic, codes, did_you_mean};
use nnc_syntax::ast;

/// Everything a checked program asks to run.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub jobs: Vec<Job>,
    pub minimizations: Vec<Minimize>,
}

/// Checks the whole program: each `train` block into a [`Job`], each `minimize` block
/// into a [`Minimize`], or every independent error found.
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
    let minimizations: Vec<Minimize> =
        program.minimize_blocks().filter_map(|block| check_minimize(block, &mut errors)).collect();
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
