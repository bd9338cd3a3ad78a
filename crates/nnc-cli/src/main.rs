//! The `nnc` command: `run`, `check` and `ir`.

use clap::{Parser, Subcommand};
use nnc_cli::report;
use nnc_driver::{Overrides, Stage};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A compiler for small neural networks: parse, check, compile to native code, train.
#[derive(Parser)]
#[command(name = "nnc", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, check, compile, train and evaluate a program.
    Run {
        file: PathBuf,
        /// Print one JSON object instead of the text report.
        #[arg(long)]
        json: bool,
        /// Override the number of epochs of every train block.
        #[arg(long)]
        epochs: Option<u64>,
        /// Override the random seed of every train block.
        #[arg(long)]
        seed: Option<u64>,
        /// Time every compiled kernel and print where training spent its time.
        #[arg(long)]
        profile: bool,
    },
    /// Check a program and its data without training: everything `run` checks first.
    Check { file: PathBuf },
    /// The forward and backward equations the compiler derived, in the course's notation.
    Explain {
        file: PathBuf,
        /// Print LaTeX (an align* environment) instead of text.
        #[arg(long)]
        latex: bool,
    },
    /// One training step with real numbers: every matrix of the forward pass, the
    /// gradients and the updates.
    Trace {
        file: PathBuf,
        /// The step to show (1-based; earlier steps run as training runs them).
        #[arg(long, default_value_t = 1)]
        step: u64,
        /// Rows of the step's batch to print, by position: `0,2` or `0..4` (default: the
        /// first eight).
        #[arg(long)]
        rows: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Compare the compiled gradient of every parameter with f64 finite differences; exits
    /// 1 when one disagrees.
    Gradcheck {
        file: PathBuf,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Train, then draw what training did: loss curves, the decision boundary and hidden
    /// units of 2-input networks, hidden states, the loss surface of one-feature linear
    /// regression, predictions against targets, gradient descent on a formula.
    Plot {
        file: PathBuf,
        /// Where to write the figures.
        #[arg(short, long, default_value = "plots")]
        out: PathBuf,
        /// Write PNG instead of SVG.
        #[arg(long)]
        png: bool,
    },
    /// Train the program at several learning rates (and seeds): a table of final loss,
    /// metric, divergences and solved runs, and one plot of the loss curves.
    Sweep {
        file: PathBuf,
        /// Learning rates, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        lr: Vec<f32>,
        /// Seeds: `0..9` (inclusive) or `0,3,7`; the program's seed by default.
        #[arg(long)]
        seeds: Option<String>,
        /// Where to write the plot.
        #[arg(short, long, default_value = "plots")]
        out: PathBuf,
        /// Write PNG instead of SVG.
        #[arg(long)]
        png: bool,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Print a compiler stage.
    Ir {
        file: PathBuf,
        #[arg(long, default_value = "ir", value_parser = clap::builder::PossibleValuesParser::new(Stage::ALL.map(Stage::name)))]
        stage: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = match &cli.command {
        Command::Run { file, .. }
        | Command::Check { file }
        | Command::Explain { file, .. }
        | Command::Trace { file, .. }
        | Command::Gradcheck { file, .. }
        | Command::Plot { file, .. }
        | Command::Sweep { file, .. }
        | Command::Ir { file, .. } => file.clone(),
    };
    let source = match std::fs::read_to_string(&file) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("error: cannot read `{}`: {err}", file.display());
            return ExitCode::from(2);
        }
    };
    let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let result = match cli.command {
        Command::Run { json, epochs, seed, profile, .. } => {
            run(&source, &base_dir, Overrides { epochs, seed, memory_limit: memory_limit(), profile }, json)
        }
        Command::Check { .. } => {
            nnc_driver::check(&source, &base_dir, Overrides { memory_limit: memory_limit(), ..Overrides::default() })
                .map(|checked| {
                    let mut text = format!(
                        "ok: {} train and {} minimize block(s) checked\n",
                        checked.jobs.len(),
                        checked.minimizations.len()
                    );
                    for plan in &checked.jobs {
                        text.push_str(&report::check_summary(plan));
                    }
                    text
                })
        }
        Command::Explain { latex, .. } => {
            nnc_driver::check(&source, &base_dir, Overrides { memory_limit: memory_limit(), ..Overrides::default() })
                .map(|checked| {
                    let style = if latex { nnc_inspect::Style::Latex } else { nnc_inspect::Style::Text };
                    nnc_inspect::explain::render(&nnc_inspect::explain::explain_program(&checked), style)
                })
        }
        Command::Trace { step, rows, json, .. } => trace(&source, &base_dir, step, rows.as_deref(), json),
        Command::Plot { out, png, .. } => {
            let format = if png { nnc_plot::Format::Png } else { nnc_plot::Format::Svg };
            plot(&source, &base_dir, &out, format)
        }
        Command::Sweep { lr, seeds, out, png, json, .. } => {
            let format = if png { nnc_plot::Format::Png } else { nnc_plot::Format::Svg };
            sweep(&source, &base_dir, &lr, seeds.as_deref(), &out, format, json)
        }
        Command::Gradcheck { json, .. } => return gradcheck(&file, &source, &base_dir, json),
        Command::Ir { stage, .. } => {
            let stage = Stage::from_name(&stage).unwrap_or(Stage::Ir);
            nnc_driver::stage_text(&source, &base_dir, stage)
        }
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            eprint!("{}", nnc_diagnostics::render(&file.display().to_string(), &source, &diagnostics));
            ExitCode::from(1)
        }
    }
}

/// Checks, trains and reports every block, each training with its diagnosis.
fn run(
    source: &str,
    base_dir: &Path,
    overrides: Overrides,
    json: bool,
) -> Result<String, Vec<nnc_diagnostics::Diagnostic>> {
    let started = std::time::Instant::now();
    let checked = nnc_driver::check(source, base_dir, overrides)?;
    let check_ms = started.elapsed().as_secs_f64() * 1000.0;
    let run = nnc_driver::run_checked(&checked, base_dir, overrides, check_ms)?;
    let findings: Vec<Vec<nnc_inspect::diagnosis::Finding>> =
        checked.jobs.iter().zip(&run.jobs).map(|(plan, job)| nnc_inspect::diagnosis::diagnose(plan, job)).collect();
    Ok(if json { format!("{}\n", report::json(&run, &findings)) } else { report::human_all(&run, &findings) })
}

/// Trains every block and writes its figures into `out`; returns the list of files.
fn plot(
    source: &str,
    base_dir: &Path,
    out: &Path,
    format: nnc_plot::Format,
) -> Result<String, Vec<nnc_diagnostics::Diagnostic>> {
    let overrides = Overrides { memory_limit: memory_limit(), ..Overrides::default() };
    let checked = nnc_driver::check(source, base_dir, overrides)?;
    let run = nnc_driver::run_checked(&checked, base_dir, overrides, 0.0)?;
    let mut figures = Vec::new();
    for (plan, report) in checked.minimizations.iter().zip(&run.minimizations) {
        figures.extend(nnc_inspect::plots::minimization_figures(plan, report));
    }
    for (plan, report) in checked.jobs.iter().zip(&run.jobs) {
        // The path on the loss surface needs the parameters after every epoch: train again,
        // recording them, for the models that have such a plot (one weight and one bias).
        let history = if nnc_inspect::names::is_scalar_model(&plan.job.model) {
            let compiled = nnc_driver::compile_job(plan, nnc_driver::Functions::Run, nnc_codegen_options())
                .map_err(|d| vec![d])?;
            nnc_driver::train_recorded(plan, &compiled)?.history
        } else {
            Vec::new()
        };
        figures.extend(nnc_inspect::plots::job_figures(plan, report, &history));
    }
    let mut text = String::new();
    for figure in figures {
        let path = out.join(format!("{}.{}", figure.name, format.extension()));
        let written = nnc_plot::render(&figure.plot, format)
            .and_then(|bytes| nnc_driver::write_atomically(&path, &bytes).map_err(|e| e.to_string()));
        match written {
            Ok(()) => text.push_str(&format!("wrote {}: {}\n", path.display(), figure.plot.title)),
            Err(error) => {
                return Err(vec![nnc_diagnostics::Diagnostic::error(
                    nnc_diagnostics::codes::WRITE_FAILED,
                    format!("cannot write `{}`: {error}", path.display()),
                    nnc_diagnostics::Span::new(0, 0),
                    "while plotting this program",
                )]);
            }
        }
    }
    Ok(text)
}

fn nnc_codegen_options() -> nnc_driver::CodegenOptions {
    nnc_driver::CodegenOptions::default()
}

/// Sweeps every training block over `rates` (and `seeds`), writing one plot per block.
fn sweep(
    source: &str,
    base_dir: &Path,
    rates: &[f32],
    seeds: Option<&str>,
    out: &Path,
    format: nnc_plot::Format,
    json: bool,
) -> Result<String, Vec<nnc_diagnostics::Diagnostic>> {
    let checked =
        nnc_driver::check(source, base_dir, Overrides { memory_limit: memory_limit(), ..Overrides::default() })?;
    let mut text = String::new();
    let mut results = Vec::new();
    if rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(vec![nnc_diagnostics::Diagnostic::error(
            nnc_diagnostics::codes::VALUE_RANGE,
            "`--lr` takes positive learning rates",
            nnc_diagnostics::Span::new(0, 0),
            "for this program",
        )]);
    }
    let minimized = checked.minimizations.iter().map(|plan| nnc_inspect::sweep::sweep_minimization(plan, rates));
    let mut swept: Vec<nnc_inspect::sweep::Sweep> = minimized.collect();
    for plan in &checked.jobs {
        let seeds = seeds.map(parse_seeds).unwrap_or_else(|| vec![plan.job.train.seed]);
        let invalid = |message: String| {
            vec![nnc_diagnostics::Diagnostic::error(
                nnc_diagnostics::codes::VALUE_RANGE,
                message,
                plan.job.span,
                "this training",
            )]
        };
        if seeds.is_empty() || rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
            return Err(invalid("`--lr` takes positive learning rates and `--seeds` at least one seed".into()));
        }
        swept.push(nnc_inspect::sweep::sweep(plan, rates, &seeds).map_err(invalid)?);
    }
    for result in swept {
        let invalid = |message: String| {
            vec![nnc_diagnostics::Diagnostic::error(
                nnc_diagnostics::codes::WRITE_FAILED,
                message,
                nnc_diagnostics::Span::new(0, 0),
                "for this program",
            )]
        };
        let path = out.join(format!("{}-sweep.{}", result.model, format.extension()));
        nnc_plot::render(&nnc_inspect::sweep::plot(&result), format)
            .and_then(|bytes| nnc_driver::write_atomically(&path, &bytes).map_err(|e| e.to_string()))
            .map_err(|e| invalid(format!("cannot write `{}`: {e}", path.display())))?;
        text.push_str(&nnc_inspect::sweep::render(&result));
        text.push_str(&format!("wrote {}\n", path.display()));
        results.push(result);
    }
    Ok(if json { format!("{}\n", serde_json::json!({ "sweeps": results })) } else { text })
}

/// `0..9` (inclusive, as the course counts) or `0,3,7`.
fn parse_seeds(text: &str) -> Vec<u64> {
    match text.split_once("..") {
        Some((a, b)) => match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
            (Ok(a), Ok(b)) if b >= a && b - a < 10_000 => (a..=b).collect(),
            _ => Vec::new(),
        },
        None => text.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
    }
}

/// Runs `nnc gradcheck`: exit 0 when every gradient agrees, 1 otherwise.
fn gradcheck(file: &Path, source: &str, base_dir: &Path, json: bool) -> ExitCode {
    let checked =
        match nnc_driver::check(source, base_dir, Overrides { memory_limit: memory_limit(), ..Overrides::default() }) {
            Ok(checked) => checked,
            Err(diagnostics) => {
                eprint!("{}", nnc_diagnostics::render(&file.display().to_string(), source, &diagnostics));
                return ExitCode::from(1);
            }
        };
    let mut checks: Vec<nnc_inspect::gradcheck::GradCheck> =
        checked.minimizations.iter().map(|plan| nnc_inspect::gradcheck::gradcheck_minimization(plan, None)).collect();
    for plan in &checked.jobs {
        match nnc_inspect::gradcheck::gradcheck_job(plan, None) {
            Ok(check) => checks.push(check),
            Err(message) => {
                eprintln!("error: cannot check `{}`: {message}", plan.job.model.name);
                return ExitCode::from(1);
            }
        }
    }
    if json {
        println!("{}", serde_json::json!({ "gradchecks": checks }));
    } else {
        print!("{}", nnc_inspect::gradcheck::render(&checks));
    }
    if checks.iter().all(|c| c.passed) { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn trace(
    source: &str,
    base_dir: &Path,
    step: u64,
    rows: Option<&str>,
    json: bool,
) -> Result<String, Vec<nnc_diagnostics::Diagnostic>> {
    let checked =
        nnc_driver::check(source, base_dir, Overrides { memory_limit: memory_limit(), ..Overrides::default() })?;
    let rows = rows.map(parse_rows);
    let options = nnc_inspect::trace::TraceOptions { step: Some(step), rows };
    let mut out = String::new();
    let mut traces: Vec<nnc_inspect::trace::Trace> =
        checked.minimizations.iter().map(|plan| nnc_inspect::trace::trace_minimization(plan, &options)).collect();
    for plan in &checked.jobs {
        traces.push(nnc_inspect::trace::trace_job(plan, &options).map_err(|message| {
            vec![nnc_diagnostics::Diagnostic::error(
                nnc_diagnostics::codes::NOTHING_TO_RUN,
                format!("cannot trace `{}`: {message}", plan.job.model.name),
                plan.job.span,
                "this training",
            )]
        })?);
    }
    for trace in &traces {
        if json {
            out.push_str(&format!("{}\n", serde_json::to_string(trace).unwrap_or_default()));
        } else {
            out.push_str(&nnc_inspect::trace::render(trace));
        }
    }
    Ok(out)
}

/// `0,2,5` or `0..4` (end exclusive), positions in the batch; unreadable parts are
/// skipped.
fn parse_rows(text: &str) -> Vec<usize> {
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

/// `NNC_MEMORY_LIMIT` (bytes) caps what a run may allocate; unset, the machine's available
/// memory does.
fn memory_limit() -> Option<u64> {
    std::env::var("NNC_MEMORY_LIMIT").ok()?.trim().parse().ok()
}
