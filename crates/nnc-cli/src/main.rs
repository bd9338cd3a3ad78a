//! The `nnc` command line: arguments to driver calls, results to the terminal. Each verb
//! lives in `verbs/`; this file only declares the arguments and dispatches.

use clap::{Parser, Subcommand, ValueEnum};
use nnc_cli::output::{self, ColorMode};
use nnc_cli::verbs::{self, Context};
use nnc_driver::{Overrides, Stage};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "Exit codes:
    0  success
    1  a diagnostic: the program, its data or a weight file has an error, training
       diverged, or a check failed (gradcheck, fmt --check); with --json the diagnostics
       are printed as {\"diagnostics\": [...]}
    2  bad command-line usage, an NNC_* variable nnc cannot use (docs/cli.md),
       or the program file cannot be read
  130  run interrupted with Ctrl-C (the report and --save cover the epochs done)

The schema of every --json output is in docs/cli.md.";

/// A compiler for small neural networks: parse, check, compile to native code, train.
#[derive(Parser)]
#[command(name = "nnc", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print one JSON object instead of text (errors too, as {"diagnostics": [...]}).
    #[arg(long, global = true)]
    json: bool,
    /// Colour diagnostics: on a terminal unless NO_COLOR is set (auto), always, or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// No progress bar or progress lines while training.
    #[arg(long, global = true)]
    quiet: bool,
    /// The most memory nnc may allocate, like `2G`, `512M` or bytes (default: what the
    /// machine, `ulimit` and the container allow; also NNC_MEMORY_LIMIT).
    #[arg(long, global = true, value_name = "SIZE", value_parser = output::parse_size)]
    max_memory: Option<u64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Settings a command line can change for one run.
#[derive(clap::Args, Clone, Copy, Default)]
struct Training {
    /// Train this many epochs instead of the program's.
    #[arg(long)]
    epochs: Option<u64>,
    /// Use this random seed instead of the program's.
    #[arg(long)]
    seed: Option<u64>,
    /// Use this learning rate instead of the program's.
    #[arg(long)]
    lr: Option<f32>,
    /// Train on batches of this many rows instead of the program's.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    batch: Option<u64>,
}

/// How `nnc similar` compares embeddings.
#[derive(Clone, Copy, ValueEnum)]
enum MetricArg {
    Cosine,
    Euclidean,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, check, compile, train and evaluate a program, with a diagnosis of training.
    Run {
        /// The program (a .nn file); data files are found relative to it.
        file: PathBuf,
        #[command(flatten)]
        training: Training,
        /// Time every compiled kernel and print where training spent its time.
        #[arg(long)]
        profile: bool,
        /// Write the trained weights (safetensors, with the preprocessing) to this file.
        #[arg(long, value_name = "PATH")]
        save: Option<PathBuf>,
        /// Start training from these saved weights instead of the initialisers.
        #[arg(long, value_name = "PATH")]
        load: Option<PathBuf>,
        /// Off a terminal, print a progress line every N epochs (default: the first and last epoch and at most two lines a second).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        log_every: Option<u64>,
    },
    /// Check a program and its data without training: everything `run` checks first.
    Check {
        /// The program (a .nn file).
        file: PathBuf,
    },
    /// The forward and backward equations the compiler derived, in the course's notation.
    Explain {
        /// The program (a .nn file).
        file: PathBuf,
        /// Print LaTeX (an align* environment) instead of text.
        #[arg(long)]
        latex: bool,
    },
    /// One training step with real numbers: every matrix of the forward pass, the
    /// gradients and the updates.
    Trace {
        /// The program (a .nn file).
        file: PathBuf,
        /// The step to show (1-based; earlier steps run as training runs them).
        #[arg(long, default_value_t = 1)]
        step: u64,
        /// Rows of the step's batch to print, by position: `0,2` or `0..4` (default: the
        /// first eight).
        #[arg(long)]
        rows: Option<String>,
    },
    /// Compare the compiled gradient of every parameter with f64 finite differences; exits
    /// 1 when one disagrees.
    Gradcheck {
        /// The program (a .nn file).
        file: PathBuf,
    },
    /// Train, then draw what training did: loss curves, the decision boundary and hidden
    /// units of 2-input networks, hidden states, the loss surface of one-feature linear
    /// regression, predictions against targets, gradient descent on a formula.
    Plot {
        /// The program (a .nn file).
        file: PathBuf,
        #[command(flatten)]
        training: Training,
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
        /// The program (a .nn file).
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
    },
    /// Predict new rows with saved weights: a CSV of predictions (class names and
    /// probabilities, or values in the targets' units).
    Predict {
        /// The program the weights were trained with (a .nn file).
        file: PathBuf,
        /// The weight file (`nnc run --save`).
        #[arg(long, value_name = "PATH")]
        weights: PathBuf,
        /// A CSV file with the program's feature columns (other columns are ignored);
        /// `-` reads standard input.
        #[arg(long, value_name = "CSV")]
        input: PathBuf,
        /// Write the predictions here instead of to standard output.
        #[arg(short, long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// A local page that shows the program training live: edit, check, save and run it
    /// there. Prints the page's URL (with its access token) on a line of its own.
    Serve {
        /// The program (a .nn file); the page edits and saves this file only.
        file: PathBuf,
        /// The port (default: a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Listen on this address instead of 127.0.0.1 (the page is then reachable from
        /// other machines, to anyone with the token).
        #[arg(long, value_name = "ADDRESS")]
        host: Option<std::net::IpAddr>,
        /// Open the page in the browser.
        #[arg(long)]
        open: bool,
    },
    /// A layer's activations (an embedding) for new rows, with saved weights: a CSV of
    /// the line, the identity when the rows have one, and the layer's numbers.
    Embed {
        /// The program the weights were trained with (a .nn file).
        file: PathBuf,
        /// The weight file (`nnc run --save`).
        #[arg(long, value_name = "PATH")]
        weights: PathBuf,
        /// The layer (`dense2`, `nnc explain` names them); by default the output of a
        /// model trained with a metric loss, else the last hidden layer.
        #[arg(long, value_name = "NAME")]
        layer: Option<String>,
        /// The rows: a CSV file with the program's feature columns (`-`: standard input),
        /// or a folder of class folders for a model trained on images.
        #[arg(long, value_name = "CSV|DIR")]
        input: PathBuf,
        /// Write the embeddings here instead of to standard output.
        #[arg(short, long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Match queries against a database of known rows by their embeddings: each query's
    /// best matches and a verdict, and with identities ROC AUC, equal error rate, false
    /// accept and reject rates and top-1 accuracy, beside the raw features'.
    Similar {
        /// The program the weights were trained with (a .nn file).
        file: PathBuf,
        /// The weight file (`nnc run --save`).
        #[arg(long, value_name = "PATH")]
        weights: PathBuf,
        /// The known rows with their identities (the target column, or class folders), or
        /// a database saved with --save-database (.safetensors).
        #[arg(long, value_name = "CSV|DIR|FILE")]
        database: PathBuf,
        /// The rows to match, in the same form (identities optional; `-`: standard input).
        #[arg(long, value_name = "CSV|DIR")]
        query: PathBuf,
        /// The layer whose activations are compared (default as for `embed`).
        #[arg(long, value_name = "NAME")]
        layer: Option<String>,
        /// Best matches shown per query.
        #[arg(long, default_value_t = 5, value_name = "K")]
        top: usize,
        /// A match needs this similarity (cosine, at least) or distance (euclidean, at
        /// most); by default the equal-error threshold of the database's own pairs.
        #[arg(long, value_name = "T", allow_negative_numbers = true)]
        threshold: Option<f32>,
        #[arg(long, value_enum, default_value_t = MetricArg::Cosine)]
        metric: MetricArg,
        /// Write the database's embeddings here (.safetensors), to pass as --database later.
        #[arg(long, value_name = "PATH")]
        save_database: Option<PathBuf>,
        /// Draw the genuine and impostor histograms into this folder.
        #[arg(long, value_name = "DIR")]
        plot: Option<PathBuf>,
        /// Write PNG instead of SVG.
        #[arg(long)]
        png: bool,
    },
    /// k-means clustering of the program's preprocessed features (no training), or of a
    /// layer's embeddings with saved weights: inertia, silhouette, the adjusted Rand
    /// index and a contingency table against the classes, each row's cluster and a plot.
    Cluster {
        /// The program (a .nn file).
        file: PathBuf,
        /// Clusters: `K`, or `A..B` for a table and elbow and silhouette plots over k.
        #[arg(long, value_name = "K|A..B")]
        k: String,
        /// Cluster a layer's embeddings from these weights instead of the features.
        #[arg(long, value_name = "PATH")]
        weights: Option<PathBuf>,
        /// The layer (with --weights; default as for `embed`).
        #[arg(long, value_name = "NAME", requires = "weights")]
        layer: Option<String>,
        /// Rows to cluster (with --weights; default: the program's data file; `-`:
        /// standard input).
        #[arg(long, value_name = "CSV|DIR", requires = "weights")]
        input: Option<PathBuf>,
        /// Seeds k-means++ (each restart its own seed from it).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Runs from different seeds; the lowest inertia is kept.
        #[arg(long, default_value_t = 10, value_name = "N")]
        restarts: usize,
        /// Where to write assignments.csv and the plots.
        #[arg(short, long, default_value = "clusters")]
        out: PathBuf,
        /// Write PNG instead of SVG.
        #[arg(long)]
        png: bool,
    },
    /// Score saved weights on the program's data without training.
    Eval {
        /// The program the weights were trained with (a .nn file).
        file: PathBuf,
        /// The weight file (`nnc run --save`).
        #[arg(long, value_name = "PATH")]
        weights: PathBuf,
    },
    /// Export a trained model: ONNX for inference, or a PyTorch project that trains the
    /// same network the same way (data-parallel with torchrun).
    Export {
        /// The program the model is trained with (a .nn file).
        file: PathBuf,
        /// The weight file (`nnc run --save`); required for ONNX, the initial weights of the
        /// PyTorch project when given.
        #[arg(long, value_name = "PATH")]
        weights: Option<PathBuf>,
        /// Write the inference graph (with the numeric preprocessing) as ONNX.
        #[arg(long, value_name = "PATH")]
        onnx: Option<PathBuf>,
        /// Write a PyTorch project (model.py, data.py, train.py) into this folder.
        #[arg(long, value_name = "DIR")]
        pytorch: Option<PathBuf>,
    },
    /// Print the program in its canonical layout (comments kept).
    Fmt {
        /// The program (a .nn file).
        file: PathBuf,
        /// Rewrite the file instead of printing.
        #[arg(long)]
        write: bool,
        /// Print nothing; exit 1 when the file is not in the canonical layout.
        #[arg(long, conflicts_with = "write")]
        check: bool,
    },
    /// Print a compiler stage.
    Ir {
        /// The program (a .nn file).
        file: PathBuf,
        #[arg(long, default_value = "ir", value_parser = clap::builder::PossibleValuesParser::new(Stage::ALL.map(Stage::name)))]
        stage: String,
    },
}

impl Command {
    fn file(&self) -> &PathBuf {
        match self {
            Command::Run { file, .. }
            | Command::Check { file }
            | Command::Explain { file, .. }
            | Command::Trace { file, .. }
            | Command::Gradcheck { file }
            | Command::Plot { file, .. }
            | Command::Sweep { file, .. }
            | Command::Predict { file, .. }
            | Command::Embed { file, .. }
            | Command::Serve { file, .. }
            | Command::Similar { file, .. }
            | Command::Cluster { file, .. }
            | Command::Eval { file, .. }
            | Command::Export { file, .. }
            | Command::Fmt { file, .. }
            | Command::Ir { file, .. } => file,
        }
    }
}

fn overrides(training: Training, profile: bool, max_memory: Option<u64>, json_report: bool) -> Overrides {
    Overrides {
        json_report,
        epochs: training.epochs,
        seed: training.seed,
        learning_rate: training.lr,
        batch: training.batch.map(|b| usize::try_from(b).unwrap_or(usize::MAX)),
        // `main` has refused a limit that is not a size.
        memory_limit: max_memory.or_else(|| output::memory_limit().ok().flatten()),
        profile,
    }
}

/// Exit code 2 with `message`, as text on standard error or as a JSON diagnostic.
/// The first line of a program refused as too large to read (at most 200 bytes of it), for
/// the diagnostic's snippet: the rest is never read.
fn first_line(file: &std::path::Path) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(opened) = std::fs::File::open(file) {
        let _ = opened.take(200).read_to_end(&mut head);
    }
    let text = String::from_utf8_lossy(&head);
    text.lines().next().unwrap_or_default().to_string()
}

fn usage_error(message: &str, file: &std::path::Path, json: bool) -> ExitCode {
    if json {
        let json = serde_json::json!({ "diagnostics": [{ "code": null, "message": message, "file": file.display().to_string() }] });
        let _ = output::stdout(&format!("{json}\n"));
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorArg::Auto => ColorMode::Auto,
        ColorArg::Always => ColorMode::Always,
        ColorArg::Never => ColorMode::Never,
    };
    let file = cli.command.file().clone();
    if let Some(message) = nnc_cli::environment::error() {
        return usage_error(&message, &file, cli.json);
    }
    if let Some(note) = nnc_cli::environment::note() {
        eprintln!("note: {note}");
    }
    let plain = overrides(Training::default(), false, cli.max_memory, false);
    // A program too large to read and check is refused before it is read.
    if let Ok(metadata) = std::fs::metadata(&file)
        && let Err(diagnostic) = nnc_driver::check_source(metadata.len() as usize, plain.memory_limit)
    {
        let first_line = first_line(&file);
        let context = Context::new(&file, &first_line, cli.json, cli.quiet, plain);
        return output::finish(&context, Err(vec![diagnostic]), color);
    }
    let source = match std::fs::read_to_string(&file) {
        Ok(source) => source,
        Err(err) => return usage_error(&format!("cannot read `{}`: {err}", file.display()), &file, cli.json),
    };
    let mut context = Context::new(&file, &source, cli.json, cli.quiet, plain);
    let result = match cli.command {
        Command::Run { training, profile, save, load, log_every, .. } => {
            context.overrides = overrides(training, profile, cli.max_memory, cli.json);
            context.log_every = log_every;
            verbs::run::run(&context, save.as_deref(), load.as_deref())
        }
        Command::Check { .. } => verbs::check::check(&context),
        Command::Explain { latex, .. } => verbs::explain::explain(&context, latex),
        Command::Trace { step, rows, .. } => verbs::trace::trace(&context, step, rows.as_deref()),
        Command::Gradcheck { .. } => verbs::gradcheck::gradcheck(&context),
        Command::Plot { training, out, png, .. } => {
            context.overrides = overrides(training, false, cli.max_memory, false);
            verbs::plot::plot(&context, &out, png)
        }
        Command::Sweep { lr, seeds, out, png, .. } => verbs::sweep::sweep(&context, &lr, seeds.as_deref(), &out, png),
        Command::Predict { weights, input, out, .. } => {
            verbs::predict::predict(&context, &weights, &input, out.as_deref())
        }
        Command::Embed { weights, layer, input, out, .. } => {
            verbs::embed::embed(&context, &weights, layer.as_deref(), &input, out.as_deref())
        }
        Command::Serve { port, host, open, .. } => verbs::serve::serve(&context, host, port, open),
        Command::Similar {
            weights, database, query, layer, top, threshold, metric, save_database, plot, png, ..
        } => verbs::similar::similar(
            &context,
            &verbs::similar::Request {
                weights: &weights,
                database: &database,
                query: &query,
                layer: layer.as_deref(),
                top,
                threshold,
                measure: match metric {
                    MetricArg::Cosine => nnc_driver::similar::Measure::Cosine,
                    MetricArg::Euclidean => nnc_driver::similar::Measure::Euclidean,
                },
                save_database: save_database.as_deref(),
                plot: plot.as_deref(),
                png,
            },
        ),
        Command::Cluster { k, weights, layer, input, seed, restarts, out, png, .. } => verbs::cluster::cluster(
            &context,
            &verbs::cluster::Request {
                k: &k,
                weights: weights.as_deref(),
                layer: layer.as_deref(),
                input: input.as_deref(),
                seed,
                restarts,
                out: &out,
                png,
            },
        ),
        Command::Eval { weights, .. } => verbs::eval::eval(&context, &weights),
        Command::Export { weights, onnx, pytorch, .. } => {
            verbs::export::export(&context, weights.as_deref(), onnx.as_deref(), pytorch.as_deref())
        }
        Command::Fmt { write, check, .. } => verbs::fmt::fmt(&context, check, write),
        Command::Ir { stage, .. } => verbs::ir::ir(&context, &stage),
    };
    output::finish(&context, result, color)
}
