//! `nnc predict`: saved weights on new rows, as CSV. The file is read, encoded, predicted
//! and written a part at a time, so a file of any length takes the memory of a few parts.

use super::{Context, encode_rows_in_parts, file_error, saved_model};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_driver::AtomicFile;
use nnc_driver::predict::Predictor;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

pub fn predict(
    context: &Context,
    weights_path: &Path,
    input: &Path,
    out: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    // Ctrl-C stops at the next part; a second press ends nnc, removing the file. Set
    // before the file is created, so that no press finds it unguarded.
    let interrupt = crate::interrupt::flag();
    let model = saved_model(context, weights_path)?;
    let mut writer = PredictionWriter {
        predictor: Predictor::new(&model.job, &model.params, &model.weights),
        csv: csv::Writer::from_writer(Destination::open(context, out)?),
        json: context.json,
        out,
        // What the JSON of the rows may take: what could be allocated before the first part.
        budget: nnc_driver::limits::budget(context.overrides.memory_limit),
        span: model.job.span,
        interrupt,
        written: Written::default(),
    };
    encode_rows_in_parts(context, &model, input, &mut |encoded| writer.take(&encoded))
        .map_err(|diagnostics| writer.said_what_was_written(diagnostics))?;
    let columns = writer.predictor.columns.clone();
    let written = writer.finish()?;
    let text = match out {
        Some(path) if !written.interrupted => format!("wrote {} predictions to {}\n", written.count, path.display()),
        // Written as they were made, or not at all.
        _ => String::new(),
    };
    if written.interrupted && !context.json {
        let unwritten = out.map_or(String::new(), |path| format!(": `{}` was not written", path.display()));
        let told = format!("interrupted (Ctrl-C) after {} predictions{unwritten}\n", written.count);
        crate::output::stderr(&told);
    }
    let json = json!({
        "model": model.job.model.name,
        "columns": columns,
        "rows": written.rows,
        "skipped": written.skipped,
        "notes": written.notes,
        "interrupted": written.interrupted,
    });
    let mut output = Output::new(text, json);
    if written.interrupted {
        output.exit = crate::interrupt::EXIT_CODE;
    }
    Ok(output)
}

/// Predicts each part of the file and writes its rows.
struct PredictionWriter<'m> {
    predictor: Predictor<'m>,
    csv: csv::Writer<Destination>,
    json: bool,
    out: Option<&'m Path>,
    budget: nnc_driver::limits::Budget,
    span: nnc_diagnostics::Span,
    interrupt: &'static std::sync::atomic::AtomicU32,
    written: Written,
}

impl PredictionWriter<'_> {
    /// Predicts and writes one part; `false` when writing cannot go on.
    fn take(&mut self, encoded: &nnc_data::Encoded) -> Result<bool, Diagnostic> {
        if self.interrupt.load(std::sync::atomic::Ordering::SeqCst) != 0 {
            self.written.interrupted = true;
            return Ok(false);
        }
        // After the first part is encoded: a file that cannot be predicted at all (a
        // column missing, a bad cell in its first rows) prints no header.
        if self.written.parts == 0
            && let Err(e) = self.csv.write_record(&self.predictor.columns)
        {
            return self.written.stopped(io_error(e), self.out);
        }
        self.written.parts += 1;
        if self.json {
            let (rows, width) = (self.written.count + encoded.rows, self.predictor.columns.len());
            nnc_driver::memory::check_json_predictions(rows, width, self.budget, self.span)?;
        }
        let predictions = self.predictor.predict(encoded)?;
        for row in predictions.rows() {
            if let Err(e) = self.csv.write_record(&row) {
                return self.written.stopped(io_error(e), self.out);
            }
            if self.json {
                self.written.rows.push(json!(row));
            }
        }
        self.written.count += predictions.len();
        if self.json {
            let skipped = encoded.skipped.iter().map(|(line, why)| json!({ "line": line, "reason": why }));
            self.written.skipped.extend(skipped);
            let notes = encoded.notes.iter().map(|(line, what)| json!({ "line": line, "note": what }));
            self.written.notes.extend(notes);
        }
        Ok(true)
    }

    /// Adds to an error part way through which predictions standard output already has.
    fn said_what_was_written(&self, mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        if let (Some(first), 1.., None, false) = (diagnostics.first_mut(), self.written.count, self.out, self.json) {
            let note = format!("the {} predictions before it were written to standard output", self.written.count);
            *first = first.clone().with_note(note);
        }
        diagnostics
    }

    /// Flushes the predictions and puts a file in place (not after an interrupt: a file
    /// of some rows would look like the predictions of all); what was written.
    fn finish(mut self) -> Result<Written, Vec<Diagnostic>> {
        if let Some(e) = self.written.error.take() {
            return Err(vec![e]);
        }
        let interrupted = self.written.interrupted;
        let finished = match self.csv.into_inner() {
            Ok(Destination::File(_)) if interrupted => Ok(()),
            Ok(destination) => destination.finish(),
            Err(e) => Err(e.into_error()),
        };
        match finished {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && self.out.is_none() => {}
            finished => finished.map_err(|e| self.written.failed(e, self.out))?,
        }
        Ok(self.written)
    }
}

/// What has been written, and what JSON will list.
#[derive(Default)]
struct Written {
    /// Parts of the file taken, and predictions written.
    parts: usize,
    count: usize,
    /// The rows, with `--json` only: as JSON values they take several times their text.
    rows: Vec<Value>,
    skipped: Vec<Value>,
    notes: Vec<Value>,
    /// Why writing stopped, other than a reader that stopped reading.
    error: Option<Diagnostic>,
    /// Stopped by Ctrl-C.
    interrupted: bool,
}

impl Written {
    /// Stops the reading after a failed write: quietly when standard output's reader has
    /// stopped reading (`nnc predict … | head`), as other command-line tools do.
    fn stopped(&mut self, error: std::io::Error, out: Option<&Path>) -> Result<bool, Diagnostic> {
        if error.kind() != std::io::ErrorKind::BrokenPipe || out.is_some() {
            self.error = self.failed(error, out).pop();
        }
        Ok(false)
    }

    fn failed(&self, error: impl std::fmt::Display, out: Option<&Path>) -> Vec<Diagnostic> {
        let place = out.map_or_else(|| "standard output".to_string(), |path| format!("`{}`", path.display()));
        file_error(codes::WRITE_FAILED, format!("cannot write {place}: {error}"), "check the folder can be written")
    }
}

/// The error under a CSV writer's: what a failed write of its output was.
fn io_error(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Where the predictions go: a file that appears only whole, standard output as they are
/// made, or nowhere (JSON on standard output lists them).
enum Destination {
    File(AtomicFile),
    Stdout(std::io::Stdout),
    Nowhere,
}

impl Destination {
    fn open(context: &Context, out: Option<&Path>) -> Result<Destination, Vec<Diagnostic>> {
        match out {
            Some(path) => AtomicFile::create(path).map(Destination::File).map_err(|e| {
                file_error(
                    codes::WRITE_FAILED,
                    format!("cannot write `{}`: {e}", path.display()),
                    "check the folder can be written",
                )
            }),
            None if context.json => Ok(Destination::Nowhere),
            None => Ok(Destination::Stdout(std::io::stdout())),
        }
    }

    /// Puts a file in place, or flushes standard output.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Destination::File(file) => file.commit(),
            Destination::Stdout(mut stdout) => stdout.flush(),
            Destination::Nowhere => Ok(()),
        }
    }
}

impl Write for Destination {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Destination::File(file) => file.write(bytes),
            Destination::Stdout(stdout) => stdout.write(bytes),
            Destination::Nowhere => Ok(bytes.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Destination::File(file) => file.flush(),
            Destination::Stdout(stdout) => stdout.flush(),
            Destination::Nowhere => Ok(()),
        }
    }
}
