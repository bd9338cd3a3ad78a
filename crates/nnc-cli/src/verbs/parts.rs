//! Writing a CSV made a part of the input at a time (`nnc predict`, `nnc embed`): to a
//! file that appears only whole, or to standard output as the rows are made; stopped by
//! Ctrl-C, a failed write or a reader of standard output that went away; with `--json`,
//! counted against the memory left, since JSON holds every row until the end.

use super::{Context, file_error};
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_driver::AtomicFile;
use nnc_driver::limits::Budget;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// Writes the rows of each part; see the module's documentation.
pub struct PartWriter<'a> {
    csv: csv::Writer<Destination>,
    json: bool,
    out: Option<&'a Path>,
    /// What the JSON of the rows may take: what could be allocated before the first part.
    budget: Budget,
    span: Span,
    interrupt: &'static AtomicU32,
    /// What a row is, in messages: "predictions".
    noun: &'static str,
    /// The text of one number, reused.
    number: String,
    digits: ryu::Buffer,
    written: Written,
}

/// What was written, and what JSON lists of the rows left out or noted.
#[derive(Default)]
pub struct Written {
    /// Parts taken, and rows written.
    parts: usize,
    pub rows: usize,
    pub skipped: Vec<Value>,
    pub notes: Vec<Value>,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Why writing stopped, other than a reader that stopped reading.
    error: Option<Diagnostic>,
}

impl<'a> PartWriter<'a> {
    /// Opens `out` (standard output without it, nowhere with `--json`); diagnostics of
    /// the JSON's size point at `span`, and messages call the rows `noun`. Ctrl-C is
    /// caught before the file is created, so that no press finds it unguarded: the first
    /// stops at the next part, a second ends nnc and removes the file.
    pub fn open(
        context: &Context,
        out: Option<&'a Path>,
        span: Span,
        noun: &'static str,
    ) -> Result<PartWriter<'a>, Vec<Diagnostic>> {
        let interrupt = crate::interrupt::flag();
        Ok(PartWriter {
            csv: csv::Writer::from_writer(Destination::open(context, out)?),
            json: context.json,
            out,
            budget: nnc_driver::limits::budget(context.overrides.memory_limit),
            span,
            interrupt,
            noun,
            number: String::new(),
            digits: ryu::Buffer::new(),
            written: Written::default(),
        })
    }

    /// Starts a part of `rows` rows of `numbers` numbers each as JSON: `false` when
    /// writing cannot go on (Ctrl-C, a failed write). The header goes before the first
    /// part, once it is encoded: a file that cannot be read at all prints nothing.
    pub fn start_part(&mut self, header: &[String], rows: usize, numbers: usize) -> Result<bool, Diagnostic> {
        if self.interrupt.load(Ordering::SeqCst) != 0 {
            self.written.interrupted = true;
            return Ok(false);
        }
        if self.written.parts == 0
            && let Err(e) = self.csv.write_record(header)
        {
            return self.written.stopped(io_error(e), self.out);
        }
        self.written.parts += 1;
        if self.json {
            nnc_driver::memory::check_json_predictions(self.written.rows + rows, numbers, self.budget, self.span)?;
        }
        Ok(true)
    }

    /// Writes one row, `texts` then `numbers` (as `{}` shows them: the shortest text
    /// that reads back as the same number): `false` when writing cannot go on. Each
    /// number is formatted into one kept buffer (a `String` per number was a third of
    /// embedding a million rows, in `malloc` and `free`).
    pub fn write_row(&mut self, texts: &[&str], numbers: &[f32]) -> Result<bool, Diagnostic> {
        let mut written = texts.iter().try_for_each(|text| self.csv.write_field(text));
        for &number in numbers {
            self.number.clear();
            super::number::push_shortest(&mut self.number, number, &mut self.digits);
            written = written.and_then(|()| self.csv.write_field(&self.number));
        }
        if let Err(e) = written.and_then(|()| self.csv.write_record(None::<&[u8]>)) {
            return self.written.stopped(io_error(e), self.out);
        }
        self.written.rows += 1;
        Ok(true)
    }

    /// Keeps what JSON lists of a part's rows left out or noted.
    pub fn note_left_out(&mut self, encoded: &nnc_data::Encoded) {
        if self.json {
            let skipped = encoded.skipped.iter().map(|(line, why)| json!({ "line": line, "reason": why }));
            self.written.skipped.extend(skipped);
            let notes = encoded.notes.iter().map(|(line, what)| json!({ "line": line, "note": what }));
            self.written.notes.extend(notes);
        }
    }

    /// Adds to an error part way through which rows standard output already has.
    pub fn said_what_was_written(&self, mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        if let (Some(first), 1.., None, false) = (diagnostics.first_mut(), self.written.rows, self.out, self.json) {
            let (rows, noun) = (self.written.rows, self.noun);
            let note = format!(
                "the first {rows} {noun}, of the parts of the file before this one, were written to standard output"
            );
            *first = first.clone().with_note(note);
        }
        diagnostics
    }

    /// Flushes the rows and puts a file in place (not after Ctrl-C: a file of some of the
    /// rows would pass for all of them); what was written. An interrupt is told on
    /// standard error.
    pub fn finish(mut self) -> Result<Written, Vec<Diagnostic>> {
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
        if interrupted && !self.json {
            let unwritten = self.out.map_or(String::new(), |path| format!(": `{}` was not written", path.display()));
            let count = self.written.rows;
            let noun = self.noun;
            crate::output::stderr(&format!("interrupted (Ctrl-C) after {count} {noun}{unwritten}\n"));
        }
        Ok(self.written)
    }
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
        let (place, help) = match out {
            Some(path) => (format!("`{}`", path.display()), "check the folder can be written"),
            None => ("standard output".to_string(), "check where standard output goes (a full disk, a closed file)"),
        };
        file_error(codes::WRITE_FAILED, format!("cannot write {place}: {error}"), help)
    }

    /// The exit code: 130 after Ctrl-C.
    pub fn exit(&self) -> u8 {
        if self.interrupted { crate::interrupt::EXIT_CODE } else { 0 }
    }
}

/// The error under a CSV writer's: what a failed write of its output was.
fn io_error(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Where the rows go: a file that appears only whole, standard output as they are made,
/// or nowhere (JSON on standard output lists them).
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
