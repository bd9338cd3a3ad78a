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
    for plan in &checked.jobs {
        let trace = nnc_inspect::trace::trace_job(plan, &options).map_err(|message| {
            vec![nnc_diagnostics::Diagnostic::error(
                nnc_diagnostics::codes::NOTHING_TO_RUN,
                format!("cannot trace `{}`: {message}", plan.job.model.name),
                plan.job.span,
                "this training",
            )]
        })?;
        if json {
            out.push_str(&format!("{}\n", serde_json::to_string(&trace).unwrap_or_default()));
        } else {
            out.push_str(&nnc_inspect::trace::render(&trace));
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
