//! What a verb hands back, and how it reaches the terminal: text or JSON on standard
//! output, diagnostics rendered (coloured on a terminal) on standard error, or as JSON.

use crate::verbs::Context;
use nnc_diagnostics::{Diagnostic, LineIndex};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::process::ExitCode;

/// A verb's result: its text, the same as JSON, and its exit code (a failed gradient check
/// is a result, exit 1, not an error; an interrupted run is reported, exit 130).
pub struct Output {
    pub text: String,
    pub json: Value,
    pub exit: u8,
}

impl Output {
    pub fn new(text: String, json: Value) -> Output {
        Output { text, json, exit: 0 }
    }

    /// The result of a check: exit 1 when it failed.
    pub fn check(text: String, json: Value, passed: bool) -> Output {
        Output { text, json, exit: u8::from(!passed) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

/// Prints the verb's result or its diagnostics; the process's exit code.
pub fn finish(context: &Context, result: Result<Output, Vec<Diagnostic>>, color: ColorMode) -> ExitCode {
    match result {
        Ok(output) => {
            let written = if context.json { stdout_json(&output.json) } else { stdout(&output.text) };
            if let Err(err) = written {
                eprintln!("error: cannot write the output: {err}");
                return ExitCode::from(1);
            }
            ExitCode::from(output.exit)
        }
        Err(diagnostics) => {
            let name = context.file.display().to_string();
            if context.json {
                // Nothing more can be reported when standard output is gone.
                let _ = stdout(&format!("{}\n", diagnostics_json(&name, context.source, &diagnostics)));
            } else {
                let style = nnc_diagnostics::Style { color: use_color(color), ascii: !unicode_terminal() };
                stderr(&nnc_diagnostics::render_with(&name, context.source, &diagnostics, style));
            }
            ExitCode::from(1)
        }
    }
}

/// Writes `text` to standard output. A reader that stopped reading (`nnc predict … | head`)
/// is not an error: like other command-line tools, nnc then stops quietly.
pub fn stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// Writes `value` and a newline to standard output as it is serialised (a run's report
/// of a million predictions is tens of megabytes of text), as [`stdout`] does.
pub fn stdout_json(value: &Value) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// Writes `text` to standard error; if that fails there is nowhere left to say so.
pub fn stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `{"diagnostics": [{"code", "message", "file", "line", "column", "help", "notes"}]}`.
pub fn diagnostics_json(file: &str, source: &str, diagnostics: &[Diagnostic]) -> Value {
    let lines = LineIndex::new(source);
    let entries: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = lines.line_column(source, d.primary.span);
            json!({
                "code": d.code.id,
                "message": d.message,
                "file": file,
                "line": line,
                "column": column,
                "label": d.primary.message,
                "help": d.help,
                "notes": d.notes,
            })
        })
        .collect();
    json!({ "diagnostics": entries })
}

fn use_color(mode: ColorMode) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal(),
    }
}

/// Whether the locale says the terminal shows UTF-8 (else box drawing is ASCII).
fn unicode_terminal() -> bool {
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    match locale {
        Some(value) => {
            let value = value.to_ascii_lowercase();
            value.contains("utf-8") || value.contains("utf8")
        }
        // No locale at all (a bare container): most terminals still show UTF-8.
        None => true,
    }
}

/// `NNC_MEMORY_LIMIT` (a size, as `--max-memory` takes it) caps what a run may allocate;
/// unset or blank, the machine's limits do. An error when it is not a size.
pub fn memory_limit() -> Result<Option<u64>, String> {
    let Some(text) = nnc_driver::env_variable("NNC_MEMORY_LIMIT") else { return Ok(None) };
    parse_size(&text).map(Some).map_err(|why| format!("NNC_MEMORY_LIMIT=`{text}`: {why}"))
}

/// `2G`, `512M`, `1.5GiB`, `100k` or a number of bytes (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("`{text}` is not a size such as 2G, 512M or 1000000"))?;
    let shift = match unit.trim().to_ascii_lowercase().trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        other => return Err(format!("unknown unit `{other}`: use K, M, G or T")),
    };
    let bytes = number * (1u64 << shift) as f64;
    if bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64 {
        Ok(bytes as u64)
    } else {
        Err(format!("`{text}` is not a size nnc can use"))
    }
}
