//! One file per verb. Each takes the [`Context`] (the program, its folder, the command
//! line's settings) and returns an [`Output`](crate::output::Output) or diagnostics.

pub mod check;
pub mod cluster;
pub mod embed;
pub mod eval;
pub mod explain;
pub mod export;
pub mod fmt;
pub mod gradcheck;
pub mod ir;
pub mod number;
pub mod parts;
pub mod plot;
pub mod predict;
pub mod run;
pub mod serve;
pub mod similar;
pub mod sweep;
pub mod trace;

use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_driver::{Checked, Overrides};
use std::path::{Path, PathBuf};

/// What every verb knows about its invocation.
pub struct Context<'a> {
    pub file: &'a Path,
    pub source: &'a str,
    /// The program's folder: data files and outputs named in it are relative to it.
    pub base_dir: PathBuf,
    pub json: bool,
    pub quiet: bool,
    pub log_every: Option<u64>,
    pub overrides: Overrides,
}

impl<'a> Context<'a> {
    pub fn new(file: &'a Path, source: &'a str, json: bool, quiet: bool, overrides: Overrides) -> Context<'a> {
        let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Context { file, source, base_dir, json, quiet, log_every: None, overrides }
    }

    /// The program checked with its data, settings resolved.
    pub fn check(&self) -> Result<Checked, Vec<Diagnostic>> {
        nnc_driver::check(self.source, &self.base_dir, self.overrides)
    }
}

/// A diagnostic about the command line's files (it points at the program's start).
pub fn file_error(code: nnc_diagnostics::Code, message: String, help: &str) -> Vec<Diagnostic> {
    vec![Diagnostic::error(code, message, Span::new(0, 0), "for this program").with_help(help)]
}

pub use nnc_driver::predict::SavedModel;

/// Reads `weights_path` and finds the program's job it was saved from.
pub fn saved_model(context: &Context, weights_path: &Path) -> Result<SavedModel, Vec<Diagnostic>> {
    let jobs = nnc_driver::predict::jobs_of(context.source, context.overrides.memory_limit)?;
    let weights = read_weights(weights_path)?;
    let (job, params) =
        nnc_driver::predict::job_for(&jobs, &weights, &weights_path.display().to_string()).map_err(|d| vec![d])?;
    Ok(SavedModel { job, params, weights })
}

/// The rows of a CSV file (or, for a model trained on images, a folder of class folders)
/// through the saved preprocessing; rows left out or encoded with a caveat are told on
/// standard error. Rows' identities are read when `identities` asks.
pub fn encode_rows(
    context: &Context,
    model: &SavedModel,
    path: &Path,
    identities: bool,
) -> Result<nnc_data::Encoded, Vec<Diagnostic>> {
    let room = nnc_driver::limits::budget(context.overrides.memory_limit).room();
    let encoded = new_rows(model, path, &room).encode(identities).map_err(|d| vec![d])?;
    tell_left_out(context, path, &encoded);
    Ok(encoded)
}

/// [`encode_rows`] a part at a time (see `nnc_data::NewRows::encode_in_parts`), each
/// handed to `each` (`false` from it stops) after what was left out of it is told: for a
/// file of any length.
pub fn encode_rows_in_parts(
    context: &Context,
    model: &SavedModel,
    (path, identities): (&Path, bool),
    each: &mut dyn FnMut(nnc_data::Encoded) -> Result<bool, Diagnostic>,
) -> Result<(), Vec<Diagnostic>> {
    let room = nnc_driver::limits::budget(context.overrides.memory_limit).room();
    let mut tell_and_take = |encoded: nnc_data::Encoded| {
        tell_left_out(context, path, &encoded);
        each(encoded)
    };
    let size = nnc_driver::predict::part_size(&model.job);
    new_rows(model, path, &room).encode_in_parts(size, identities, &mut tell_and_take).map_err(|d| vec![d])
}

/// The rows of `path` as the saved model's training data was read.
fn new_rows<'a>(model: &'a SavedModel, path: &'a Path, room: &'a nnc_data::Room) -> nnc_data::NewRows<'a> {
    use nnc_driver::predict::{images_of, missing_of};
    nnc_data::NewRows {
        path,
        preprocessing: &model.weights.metadata.preprocessing,
        missing: missing_of(&model.job),
        images: images_of(&model.job),
        span: model.job.data.span,
        room,
    }
}

/// Tells on standard error (unless the output is JSON, which lists them) which rows of
/// `path` were left out, or encoded with a caveat.
fn tell_left_out(context: &Context, path: &Path, encoded: &nnc_data::Encoded) {
    if !context.json {
        for (line, reason) in &encoded.skipped {
            crate::output::stderr(&format!("note: line {line} of `{}` left out: {reason}\n", path.display()));
        }
        for (line, note) in &encoded.notes {
            crate::output::stderr(&format!("note: line {line} of `{}`: {note}\n", path.display()));
        }
    }
}

/// The name of rows' identity column: the training target's class column (`identity`
/// when the target is not one).
pub fn identity_column(preprocessing: &nnc_data::Preprocessing) -> String {
    match &preprocessing.target {
        nnc_data::TargetEncoding::Classes { column, .. } => column.clone(),
        _ => "identity".to_string(),
    }
}

/// Rows as CSV text (`csv` quotes what needs quoting).
pub fn csv_text<R: IntoIterator<Item = C>, C: AsRef<[u8]>>(rows: impl IntoIterator<Item = R>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written: Result<(), csv::Error> = rows.into_iter().try_for_each(|row| writer.write_record(row));
    written
        .ok()
        .and_then(|()| writer.into_inner().ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// Draws `plot` into `folder/name.svg` (or `.png`); the line that says so.
pub fn write_plot(folder: &Path, name: &str, plot: &nnc_plot::Plot, png: bool) -> Result<String, Vec<Diagnostic>> {
    let format = if png { nnc_plot::Format::Png } else { nnc_plot::Format::Svg };
    let path = folder.join(format!("{name}.{}", format.extension()));
    let bytes = nnc_plot::render(plot, format)
        .map_err(|e| file_error(codes::WRITE_FAILED, format!("cannot draw `{name}`: {e}"), "report this bug"))?;
    write(&path, &bytes)?;
    Ok(format!("wrote {}: {}\n", path.display(), plot.title))
}

/// Reads a weight file, or says why it cannot be used.
pub fn read_weights(path: &Path) -> Result<nnc_driver::weights::Weights, Vec<Diagnostic>> {
    nnc_driver::weights::read(path).map_err(|message| {
        file_error(
            codes::WEIGHTS_UNREADABLE,
            format!("`{}`: {message}", path.display()),
            "give a file written by `nnc run --save`",
        )
    })
}

/// Writes `bytes` to `path` (atomically), or a diagnostic naming the file.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Vec<Diagnostic>> {
    nnc_driver::write_atomically(path, bytes).map_err(|e| {
        file_error(
            codes::WRITE_FAILED,
            format!("cannot write `{}`: {e}", path.display()),
            "check the folder can be written",
        )
    })
}

/// Fails now, with the diagnostic writing would give later, when `path`'s folder cannot
/// take a new file: a long training must not end in an unwritable `--save`.
pub fn check_writable(path: &Path) -> Result<(), Vec<Diagnostic>> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // The writer creates missing folders, so the check does too: `--save out/m.safetensors`
    // in a fresh checkout must work, and a folder that cannot be created is refused here.
    let probe = folder.join(format!(".nnc-write-check-{}", std::process::id()));
    let created = std::fs::create_dir_all(folder)
        .and_then(|()| std::fs::OpenOptions::new().write(true).create_new(true).open(&probe));
    match created {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(file_error(
            codes::WRITE_FAILED,
            format!("cannot write `{}`: {e}", path.display()),
            "check the folder exists and can be written",
        )),
    }
}

/// `0,2,5` or `0..4` (end exclusive), positions in a batch; unreadable parts are skipped.
pub fn parse_rows(text: &str) -> Vec<usize> {
    text.split(',')
        .flat_map(|part| match part.trim().split_once("..") {
            Some((a, b)) => match (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
                (Ok(a), Ok(b)) => (a..b.min(a.saturating_add(100_000))).collect(),
                _ => Vec::new(),
            },
            None => part.trim().parse().ok().into_iter().collect(),
        })
        .collect()
}

/// `0..9` (inclusive, as the course counts) or `0,3,7`.
pub fn parse_seeds(text: &str) -> Vec<u64> {
    match text.split_once("..") {
        Some((a, b)) => match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
            (Ok(a), Ok(b)) if b >= a && b - a < 10_000 => (a..=b).collect(),
            _ => Vec::new(),
        },
        None => text.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
    }
}
