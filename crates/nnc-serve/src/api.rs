//! The routes: the page, the program (read, check, save), and runs (start, stop, events).
//! Nothing else is served: no path reaches the file system but the program's own file.
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /` | the page |
//! | `GET /api/program` | `{"path", "source"}`: the program file as it is on disk |
//! | `GET /api/grammar` | the TextMate grammar of `editors/` (the page colours the program with it) |
//! | `POST /api/check` | the body is a program: `{"diagnostics": [{"code", "message", "line", "column", "label", "help"}]}` (none when it is valid) |
//! | `PUT /api/program` | writes the body to the program file, atomically: `{"saved": bytes}` |
//! | `POST /api/run?lr=X&seed=N&eps=R` | runs the body (a program) in the server, with the learning rate, seed and epochs a second given (each optional): `{"run": n}`, 400 for a bad setting, or 409 while a run goes on |
//! | `POST /api/stop` | asks the run to stop after its current step |
//! | `POST /api/pause`, `POST /api/resume` | holds the run at its next progress report (within 1/20 s), or lets it go on |
//! | `POST /api/trace?step=N&lr=X&seed=N` | the body's training step N (1-based) with real numbers, as `nnc trace --step N` prints it: `{"step", "text"}`, or `{"diagnostics"}` |
//! | `GET /api/events?from=N` | Server-Sent Events of the current run from its N-th on: `epoch`, then `done` or `error` |

use crate::session::{Log, RunSettings};
use nnc_diagnostics::Diagnostic;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, StatusCode};

/// What the routes share.
pub(crate) struct App {
    pub file: PathBuf,
    pub base_dir: PathBuf,
    pub log: Arc<Log>,
}

/// The grammar the editors colour `.nn` files with (`editors/nn.tmLanguage.json`), so
/// that the page colours programs the same way.
const GRAMMAR: &str = include_str!("../../../editors/nn.tmLanguage.json");

/// Bodies larger than this are refused: a program is a few kilobytes.
const MAX_BODY: u64 = 1 << 20;

impl App {
    /// Answers one request that passed the guard.
    pub fn handle(&self, mut request: Request, path: &str, query: &str) {
        let method = request.method().clone();
        let reply = match (&method, path) {
            (Method::Get, "/") => html(crate::page::PAGE),
            (Method::Get, "/api/program") => match std::fs::read_to_string(&self.file) {
                Ok(source) => ok_json(&json!({ "path": self.file.display().to_string(), "source": source })),
                Err(e) => error(500, &format!("cannot read {}: {e}", self.file.display())),
            },
            (Method::Get, "/api/grammar") => json_text(GRAMMAR),
            (Method::Post, "/api/check") => match body(&mut request) {
                Ok(source) => ok_json(&json!({ "diagnostics": check(&source, &self.base_dir) })),
                Err(reply) => reply,
            },
            (Method::Put, "/api/program") => match body(&mut request) {
                Ok(source) => self.save(&source),
                Err(reply) => reply,
            },
            (Method::Post, "/api/run") => match (body(&mut request), run_settings(query)) {
                (Ok(source), Ok(settings)) => match self.log.start(source, self.base_dir.clone(), settings) {
                    Some(run) => ok_json(&json!({ "run": run })),
                    None => error(409, "a run is going on: stop it first"),
                },
                (Err(reply), _) => reply,
                (_, Err(message)) => error(400, &message),
            },
            (Method::Post, "/api/trace") => match (body(&mut request), run_settings(query), step_of(query)) {
                (Ok(source), Ok(settings), Ok(step)) => ok_json(&trace(&source, &self.base_dir, settings, step)),
                (Err(reply), _, _) => reply,
                (_, Err(message), _) | (_, _, Err(message)) => error(400, &message),
            },
            (Method::Post, "/api/pause" | "/api/resume") => {
                let paused = path == "/api/pause";
                self.log.pause(paused);
                ok_json(&json!({ "paused": paused }))
            }
            (Method::Post, "/api/stop") => {
                self.log.stop();
                ok_json(&json!({ "stopping": true }))
            }
            (Method::Get, "/api/events") => {
                let from = crate::guard::query_value(query, "from").and_then(|v| v.parse().ok()).unwrap_or(0);
                return self.events(request, from);
            }
            _ => error(404, "no such page"),
        };
        let _ = request.respond(reply);
    }

    /// Writes the program file, and only it, atomically (a crash leaves the old file).
    fn save(&self, source: &str) -> Response<std::io::Cursor<Vec<u8>>> {
        match nnc_driver::write_atomically(&self.file, source.as_bytes()) {
            Ok(()) => ok_json(&json!({ "saved": source.len() })),
            Err(e) => error(500, &format!("cannot write {}: {e}", self.file.display())),
        }
    }

    /// Streams the run's events as Server-Sent Events until the run ends (and its last
    /// event is sent) or the page goes away.
    fn events(&self, request: Request, mut from: usize) {
        let mut writer = request.into_writer();
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
        if writer.write_all(head.as_bytes()).and_then(|()| writer.flush()).is_err() {
            return;
        }
        loop {
            let (run, events, running) = self.log.read(from, Duration::from_secs(10));
            let mut text = String::new();
            for event in &events {
                text.push_str(&format!("data: {}\n\n", json!({ "run": run, "index": from, "data": event })));
                from += 1;
            }
            if events.is_empty() {
                text.push_str(": still here\n\n");
            }
            if writer.write_all(text.as_bytes()).and_then(|()| writer.flush()).is_err() || !running {
                return;
            }
        }
    }
}

/// The run's settings from the query: `lr` (a positive learning rate), `seed` and `eps`
/// (epochs a second, positive), each optional.
fn run_settings(query: &str) -> Result<RunSettings, String> {
    let value = |name: &str| crate::guard::query_value(query, name).filter(|text| !text.is_empty());
    let positive = |name: &str| -> Result<Option<f64>, String> {
        let Some(text) = value(name) else { return Ok(None) };
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (x as f32) > 0.0 && x <= f64::from(f32::MAX) => Ok(Some(x)),
            _ => Err(format!("`{name}` must be a positive number, not `{text}`")),
        }
    };
    let seed = match value("seed") {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| format!("`seed` must be a whole number, not `{text}`"))?),
    };
    let learning_rate = positive("lr")?.map(|lr| lr as f32);
    let overrides = nnc_driver::Overrides { learning_rate, seed, ..nnc_driver::Overrides::default() };
    Ok(RunSettings { overrides, epochs_per_second: positive("eps")? })
}

/// `step` from the query: a whole number from 1 (1 when absent).
fn step_of(query: &str) -> Result<u64, String> {
    match crate::guard::query_value(query, "step").filter(|text| !text.is_empty()) {
        None => Ok(1),
        Some(text) => match text.parse::<u64>() {
            Ok(step) if step >= 1 => Ok(step),
            _ => Err(format!("`step` must be a whole number from 1, not `{text}`")),
        },
    }
}

/// Step `step` of every block of `source`, as `nnc trace` renders it.
fn trace(source: &str, base_dir: &Path, settings: RunSettings, step: u64) -> Value {
    use nnc_inspect::trace::{TraceOptions, render, trace_job, trace_minimization};
    let checked = match nnc_driver::check(source, base_dir, settings.overrides) {
        Ok(checked) => checked,
        Err(diagnostics) => return json!({ "diagnostics": diagnostics_json(source, &diagnostics) }),
    };
    let options = TraceOptions { step: Some(step), rows: None };
    let mut text = String::new();
    for plan in &checked.minimizations {
        match trace_minimization(plan, &options) {
            Ok(trace) => text.push_str(&render(&trace)),
            Err(message) => text.push_str(&format!("cannot trace `{}`: {message}\n", plan.minimization.name)),
        }
    }
    for plan in &checked.jobs {
        match trace_job(plan, &options) {
            Ok(trace) => text.push_str(&render(&trace)),
            Err(message) => text.push_str(&format!("cannot trace `{}`: {message}\n", plan.job.model.name)),
        }
    }
    json!({ "step": step, "text": text })
}

/// The program's diagnostics as the page shows them (none when it checks).
pub(crate) fn check(source: &str, base_dir: &Path) -> Value {
    match nnc_driver::check(source, base_dir, nnc_driver::Overrides::default()) {
        Ok(_) => json!([]),
        Err(diagnostics) => diagnostics_json(source, &diagnostics),
    }
}

/// Diagnostics with 1-based line and column of their primary span, as `nnc --json` gives.
pub(crate) fn diagnostics_json(source: &str, diagnostics: &[Diagnostic]) -> Value {
    let entries: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let start = (d.primary.span.start as usize).min(source.len());
            let before = source.get(..start).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            json!({
                "code": d.code.id,
                "message": d.message,
                "line": line,
                "column": column,
                "start": d.primary.span.start,
                "end": d.primary.span.end,
                "label": d.primary.message,
                "help": d.help,
                "notes": d.notes,
            })
        })
        .collect();
    Value::Array(entries)
}

fn body(request: &mut Request) -> Result<String, Response<std::io::Cursor<Vec<u8>>>> {
    if request.body_length().is_some_and(|n| n as u64 > MAX_BODY) {
        return Err(error(413, "the body is larger than a program can be"));
    }
    let mut text = String::new();
    match request.as_reader().take(MAX_BODY + 1).read_to_string(&mut text) {
        Ok(n) if n as u64 <= MAX_BODY => Ok(text),
        Ok(_) => Err(error(413, "the body is larger than a program can be")),
        Err(_) => Err(error(400, "the body is not UTF-8 text")),
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap_or_else(|()| unreachable!("a valid header"))
}

fn with_safety_headers(response: Response<std::io::Cursor<Vec<u8>>>) -> Response<std::io::Cursor<Vec<u8>>> {
    response
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Referrer-Policy", "no-referrer"))
}

fn html(text: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    with_safety_headers(
        Response::from_string(text).with_header(header("Content-Type", "text/html; charset=utf-8")).with_header(
            header(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
            ),
        ),
    )
}

fn json_text(text: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    with_safety_headers(Response::from_string(text).with_header(header("Content-Type", "application/json")))
}

fn ok_json(value: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    with_safety_headers(
        Response::from_string(value.to_string()).with_header(header("Content-Type", "application/json")),
    )
}

pub(crate) fn error(status: u16, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    ok_json(&json!({ "error": message })).with_status_code(StatusCode(status))
}
