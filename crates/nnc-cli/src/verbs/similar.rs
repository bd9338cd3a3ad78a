//! `nnc similar`: queries matched against a database of known rows by their embeddings,
//! with a verdict for each (match or no match) and, when the queries carry identities,
//! the verification and identification figures, beside the same figures on the raw
//! (preprocessed) features.

use super::{Context, SavedModel, encode_rows_in_parts, file_error, saved_model, write, write_plot};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_driver::embed::Embedder;
use nnc_driver::products::ProductsError;
use nnc_driver::similar::{
    Database, Embeddings, Match, Measure, Pairs, Searcher, identity_ids, most_pairs, scored_queries, search,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// The command line of `nnc similar`.
pub struct Request<'a> {
    pub weights: &'a Path,
    pub database: &'a Path,
    pub query: &'a Path,
    pub layer: Option<&'a str>,
    pub top: usize,
    pub threshold: Option<f32>,
    pub measure: Measure,
    pub save_database: Option<&'a Path>,
    pub plot: Option<&'a Path>,
    pub png: bool,
}

/// The database rows whose pairs calibrate the default threshold: the first 2,000 (2
/// million pairs) are plenty to place an equal error rate.
const CALIBRATION_ROWS: usize = 2000;

/// Queries shown in the text report (all are in `--json`).
const SHOWN: usize = 10;

pub fn similar(context: &Context, request: &Request<'_>) -> Result<Output, Vec<Diagnostic>> {
    let model = saved_model(context, request.weights)?;
    let (layer, _, _) = nnc_driver::embed::embedding_layer(&model.job, request.layer).map_err(|d| vec![d])?;
    check_threshold(request)?;
    if request.query == Path::new("-") && request.database == Path::new("-") {
        return Err(file_error(
            codes::UNREADABLE_FILE,
            "--query and --database both read standard input: it holds one file".to_string(),
            "give one of them as a file, e.g. --database gallery.csv --query -",
        ));
    }
    // One forward pass to the layer, compiled once, embeds the database and the queries.
    let mut embedder = Embedder::new(&model.job, &model.params, Some(&layer)).map_err(|d| vec![d])?;
    let (database, database_inputs, baseline_left_out) = database(context, &model, request, &mut embedder)?;
    let (threshold, source) = threshold(request, &database)?;
    let mut answers = answer(context, &model, request, &mut embedder, &database, database_inputs)?;
    let mut text = String::new();
    let mut report = json!({
        "model": model.job.model.name,
        "layer": layer,
        "metric": request.measure.name(),
        "threshold": threshold,
        "threshold_from": source,
        "database": { "rows": database.embeddings.rows(), "identities": distinct(&database.identities) },
        "queries": answers.queries,
    });
    let _ = writeln!(
        text,
        "model `{}`, layer `{layer}` ({} numbers), {}; threshold {threshold} ({source})",
        model.job.model.name,
        database.embeddings.width,
        match request.measure {
            Measure::Cosine => "cosine similarity",
            Measure::Euclidean => "Euclidean distance",
        }
    );
    let _ = writeln!(
        text,
        "database: {} rows of {} identities; queries: {} rows",
        database.embeddings.rows(),
        distinct(&database.identities),
        answers.queries
    );
    let matches = matches_json(&answers.kept, &database, request.measure, threshold);
    text.push_str(&matches_text(&matches, answers.queries, request.measure));
    report["matches"] = Value::Array(matches);
    if answers.ids.is_some() {
        text.push_str(&figures(&mut answers, request, threshold, baseline_left_out.as_deref(), &mut report)?);
    }
    if let Some(path) = request.save_database {
        let bytes = database.to_bytes().map_err(internal)?;
        write(path, &bytes)?;
        let _ = writeln!(text, "wrote the database's {} embeddings to {}", database.embeddings.rows(), path.display());
    }
    Ok(Output::new(text, report))
}

/// The verification and identification figures of queries with identities, of the
/// embeddings and of the raw features, into the report and as text; and their histograms
/// when `--plot` asks.
fn figures(
    answers: &mut Answers,
    request: &Request<'_>,
    threshold: f32,
    baseline_left_out: Option<&str>,
    report: &mut Value,
) -> Result<String, Vec<Diagnostic>> {
    let Some(ids) = &answers.ids else { return Ok(String::new()) };
    let scores = std::mem::take(&mut answers.embedded.scores);
    let mut raw_scores = answers.raw.as_mut().map(|raw| std::mem::take(&mut raw.scores));
    // The raw features' pairs are split and sorted on a second core meanwhile (here too
    // when no thread can be started, as under `ulimit -v`).
    let raw_figures = |scores: Vec<f32>| Pairs::split(scores, &ids.scored, &ids.database).verification(request.measure);
    let (pairs, mut baseline) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new().spawn_scoped(scope, || raw_scores.take().and_then(raw_figures));
        let pairs = Pairs::split(scores, &ids.scored, &ids.database);
        (pairs, helper.ok().and_then(|helper| helper.join().ok().flatten()))
    });
    if let Some(scores) = raw_scores.take() {
        baseline = raw_figures(scores);
    }
    let top1 = |tally: &Tally| tally.right as f64 / answers.queries.max(1) as f64;
    let baseline = baseline.zip(answers.raw.as_ref()).map(|(v, raw)| (v.roc_auc, top1(raw)));
    let counts = (ids.scored.len(), answers.queries, answers.most_pairs);
    let mut text = verification(report, &pairs, top1(&answers.embedded), baseline, request.measure, threshold, counts);
    if let Some(note) = baseline_left_out {
        let _ = writeln!(text, "note: {note}");
        report["baseline_left_out"] = json!(note);
    }
    if let Some(folder) = request.plot {
        let measure = match request.measure {
            Measure::Cosine => "cosine similarity",
            Measure::Euclidean => "Euclidean distance",
        };
        let (genuine, impostor): (Vec<f32>, Vec<f32>) = (
            pairs.genuine.iter().map(|&s| request.measure.value(s)).collect(),
            pairs.impostor.iter().map(|&s| request.measure.value(s)).collect(),
        );
        let plot = nnc_inspect::plots::similarity_histograms(&genuine, &impostor, threshold, measure);
        text.push_str(&write_plot(folder, "similar-histograms", &plot, request.png)?);
    }
    Ok(text)
}

fn internal(message: String) -> Vec<Diagnostic> {
    vec![internal_error(message)]
}

fn internal_error(message: String) -> Diagnostic {
    Diagnostic::error(codes::INTERNAL, message, Span::new(0, 0), "for this program").with_help("report this bug")
}

/// One query's answer: its file line, identity and best matches.
struct Answer {
    line: u64,
    identity: Option<String>,
    best: Vec<Match>,
}

/// What the parts of the query file add up to.
struct Answers {
    queries: usize,
    /// The most pairs scored for the verification figures (see `most_pairs`).
    most_pairs: usize,
    /// The answers the output shows: the first [`SHOWN`], or every query's for `--json`.
    kept: Vec<Answer>,
    /// When the queries carry identities: the identities as numbers.
    ids: Option<Ids>,
    embedded: Tally,
    /// The same search on the raw (preprocessed) features: the baseline the embedding is
    /// compared against (not for a saved database, which keeps no features).
    raw: Option<Tally>,
}

impl Answers {
    /// Answers one part's queries by their `embeddings` (and their raw features, for the
    /// baseline), scoring their pairs while fewer than `most_scored` queries are, and
    /// keeping `keep` of their answers.
    fn add(
        &mut self,
        part: nnc_data::Encoded,
        embeddings: Embeddings,
        database: &[String],
        (most_scored, keep): (usize, usize),
    ) -> Result<(), Diagnostic> {
        let part_ids = part.identities.as_ref().map(|names| {
            let ids = self.ids.get_or_insert_with(|| Ids::new(database));
            names.iter().map(|name| ids.number(name)).collect::<Vec<u32>>()
        });
        let scored = match &part_ids {
            Some(_) => most_scored.saturating_sub(self.queries).min(part.rows),
            None => 0,
        };
        let identities = part_ids.as_deref().zip(self.ids.as_ref().map(|ids| &ids.database[..]));
        let best = self.embedded.search(embeddings, scored, identities)?;
        if let Some(raw) = self.raw.as_mut() {
            let width = part.inputs.len() / part.rows.max(1);
            raw.search(Embeddings { values: part.inputs, width }, scored, identities)?;
        }
        if let (Some(ids), Some(part_ids)) = (self.ids.as_mut(), &part_ids) {
            ids.scored.extend_from_slice(&part_ids[..scored]);
        }
        for (row, best) in best.into_iter().enumerate().take(keep) {
            let identity = part.identities.as_ref().map(|names| names[row].clone());
            self.kept.push(Answer { line: part.lines[row], identity, best });
        }
        self.queries += part.rows;
        Ok(())
    }
}

/// Identities as numbers, in order of first appearance: the database's, then new ones
/// from the queries.
struct Ids {
    numbers: HashMap<String, u32>,
    database: Vec<u32>,
    /// The identities of the queries whose pairs are scored (the first ones).
    scored: Vec<u32>,
}

impl Ids {
    fn new(database: &[String]) -> Ids {
        let mut ids = Ids { numbers: HashMap::new(), database: Vec::new(), scored: Vec::new() };
        ids.database = database.iter().map(|name| ids.number(name)).collect();
        ids
    }

    fn number(&mut self, name: &str) -> u32 {
        let next = self.numbers.len() as u32;
        *self.numbers.entry(name.to_string()).or_insert(next)
    }
}

/// One search's running totals: every scored pair's score, and the queries whose best
/// match has their identity.
struct Tally {
    searcher: Searcher,
    scores: Vec<f32>,
    right: usize,
}

impl Tally {
    fn new(database: Embeddings, measure: Measure, top: usize) -> Tally {
        Tally { searcher: Searcher::new(database, measure, top), scores: Vec::new(), right: 0 }
    }

    /// Searches for `queries`, scoring the first `scored`; counts the right answers among
    /// them when their identities are known.
    fn search(
        &mut self,
        queries: Embeddings,
        scored: usize,
        identities: Option<(&[u32], &[u32])>,
    ) -> Result<Vec<Vec<Match>>, Diagnostic> {
        let best = self.searcher.search(queries, scored, &mut self.scores).map_err(ProductsError::diagnostic)?;
        if let Some((queries, database)) = identities {
            let right = |(best, id): (&Vec<Match>, &u32)| best.first().is_some_and(|m| database[m.row] == *id);
            self.right += best.iter().zip(queries).filter(|&answer| right(answer)).count();
        }
        Ok(best)
    }
}

/// Embeds and searches the query file a part at a time: memory is bounded by the
/// database and a part, whatever the number of queries (with `--json`, every query's
/// matches are kept too, and refused before they pass the memory left).
fn answer(
    context: &Context,
    model: &SavedModel,
    request: &Request<'_>,
    embedder: &mut Embedder<'_>,
    database: &Database,
    database_inputs: Option<RawRows>,
) -> Result<Answers, Vec<Diagnostic>> {
    let (measure, top) = (request.measure, request.top);
    let budget = nnc_driver::limits::budget(context.overrides.memory_limit);
    // The searcher's copy of the embeddings (of length 1 for cosine), made fallibly.
    let (values, width) = (&database.embeddings.values, database.embeddings.width);
    let mut copy = Vec::new();
    if copy.try_reserve_exact(values.len()).is_err() {
        let what = format!("a copy of the database's {} embeddings to search", database.lines.len());
        return Err(vec![nnc_driver::memory::too_large(
            &what,
            values.len() as u64 * 4,
            budget,
            model.job.span,
            "this job",
        )]);
    }
    copy.extend_from_slice(values);
    let mut answers = Answers {
        queries: 0,
        most_pairs: 0,
        kept: Vec::new(),
        ids: None,
        embedded: Tally::new(Embeddings { values: copy, width }, measure, top),
        raw: None,
    };
    let mut raw_database = database_inputs;
    answers.most_pairs = most_pairs(budget.bytes);
    let most_scored = scored_queries(usize::MAX, database.embeddings.rows(), answers.most_pairs);
    let mut take = |part: nnc_data::Encoded| {
        if context.json {
            let queries = answers.queries + part.rows;
            nnc_driver::memory::check_json_matches(queries, top, budget, model.job.span)?;
        }
        let embeddings = Embeddings { values: embedder.embed(&part.inputs)?, width: embedder.width };
        if let Some((inputs, width)) = raw_database.take().filter(|_| part.identities.is_some()) {
            answers.raw = Some(Tally::new(Embeddings { values: inputs, width }, measure, 1));
        }
        let keep = if context.json { part.rows } else { SHOWN.saturating_sub(answers.kept.len()) };
        answers.add(part, embeddings, &database.identities, (most_scored, keep))?;
        Ok(true)
    };
    encode_rows_in_parts(context, model, (request.query, true), &mut take)?;
    Ok(answers)
}

/// A cosine threshold is a similarity in [−1, 1]; a Euclidean one a distance, at least 0.
fn check_threshold(request: &Request<'_>) -> Result<(), Vec<Diagnostic>> {
    let Some(t) = request.threshold else { return Ok(()) };
    let (valid, range) = match request.measure {
        Measure::Cosine => ((-1.0..=1.0).contains(&t), "between -1 and 1 (a cosine similarity)"),
        Measure::Euclidean => (t >= 0.0 && t.is_finite(), "at least 0 (a distance)"),
    };
    if valid {
        return Ok(());
    }
    Err(vec![
        Diagnostic::error(
            codes::THRESHOLD_RANGE,
            format!("--threshold {t} is outside the range of {} similarity", request.measure.name()),
            Span::new(0, 0),
            "for this program",
        )
        .with_help(format!("give a threshold {range}, or leave it out to use the database's equal-error threshold")),
    ])
}

/// Encoded input rows and their width: the raw features the baseline compares.
type RawRows = (Vec<f32>, usize);

/// The database's embeddings and identities (and its encoded inputs, for the raw-feature
/// baseline, or why they were left out): read back from a saved database, or embedded
/// from its rows.
fn database(
    context: &Context,
    model: &SavedModel,
    request: &Request<'_>,
    embedder: &mut Embedder<'_>,
) -> Result<(Database, Option<RawRows>, Option<String>), Vec<Diagnostic>> {
    let (path, layer) = (request.database, embedder.layer.clone());
    if path.extension().is_some_and(|e| e == "safetensors") {
        let saved = Database::read(path).map_err(|e| {
            file_error(
                codes::WEIGHTS_UNREADABLE,
                format!("`{}`: {e}", path.display()),
                "give rows (CSV or image folder), or a file written by `nnc similar --save-database`",
            )
        })?;
        if saved.model != model.job.model.name || saved.layer != layer {
            return Err(file_error(
                codes::WEIGHTS_MISMATCH,
                format!(
                    "`{}` holds embeddings of `{}` from model `{}`; the queries are embedded by `{layer}` of `{}`",
                    path.display(),
                    saved.layer,
                    saved.model,
                    model.job.model.name
                ),
                "save the database again with these weights and layer",
            ));
        }
        return Ok((saved, None, None));
    }
    // A part at a time: the embeddings and the encoded inputs (for the baseline) are kept,
    // not every part's text. Both grow fallibly: the embeddings are refused (E0309) when
    // they do not fit, the inputs, which only the baseline needs, left out.
    let mut database = Database {
        model: model.job.model.name.clone(),
        layer,
        embeddings: Embeddings { values: Vec::new(), width: embedder.width },
        identities: Vec::new(),
        lines: Vec::new(),
    };
    let budget = nnc_driver::limits::budget(context.overrides.memory_limit);
    let (mut inputs, mut width, mut left_out) = (Some(Vec::new()), 0, None);
    let mut take = |part: nnc_data::Encoded| {
        let Some(identities) = part.identities else { return Err(no_identities(model, path)) };
        let embeddings = embedder.embed(&part.inputs)?;
        let values = &mut database.embeddings.values;
        if values.try_reserve(embeddings.len()).is_err() {
            let (rows, bytes) = (database.lines.len() + part.rows, (values.len() + embeddings.len()) as u64 * 4);
            let what = format!("the embeddings of the database's first {rows} rows");
            return Err(nnc_driver::memory::too_large(&what, bytes, budget, model.job.span, "this job"));
        }
        values.extend_from_slice(&embeddings);
        database.identities.extend(identities);
        database.lines.extend_from_slice(&part.lines);
        width = part.inputs.len() / part.rows.max(1);
        if let Some(kept) = inputs.as_mut() {
            let bytes = (kept.len() + part.inputs.len()) as u64 * 4;
            if bytes > budget.bytes / 2 || kept.try_reserve(part.inputs.len()).is_err() {
                inputs = None;
                left_out = Some(format!(
                    "the raw features' baseline is left out: the database's encoded inputs pass {} of memory, \
                     more than half of {}",
                    nnc_driver::limits::size(bytes),
                    budget.describe()
                ));
            } else {
                kept.extend_from_slice(&part.inputs);
            }
        }
        Ok(true)
    };
    encode_rows_in_parts(context, model, (path, true), &mut take)?;
    if database.lines.is_empty() {
        return Err(file_error(
            codes::EMPTY_FILE,
            format!("the database `{}` has no rows: no query could match", path.display()),
            "give the rows of known identities to match the queries against",
        ));
    }
    Ok((database, inputs.map(|inputs| (inputs, width)), left_out))
}

fn no_identities(model: &SavedModel, path: &Path) -> Diagnostic {
    let column = super::identity_column(&model.weights.metadata.preprocessing);
    Diagnostic::error(
        codes::NO_IDENTITIES,
        format!("the database `{}` has no identities: no `{column}` column", path.display()),
        model.job.data.span,
        "the identities are this data's target",
    )
    .with_help(format!(
        "give each database row its identity in a `{column}` column (or a folder of class folders for images)"
    ))
}

/// The threshold given, else the equal-error threshold over the database's own pairs.
fn threshold(request: &Request<'_>, database: &Database) -> Result<(f32, &'static str), Vec<Diagnostic>> {
    if let Some(t) = request.threshold {
        return Ok((t, "given"));
    }
    let rows = database.embeddings.rows().min(CALIBRATION_ROWS);
    let sample = Embeddings {
        values: database.embeddings.values[..rows * database.embeddings.width].to_vec(),
        width: database.embeddings.width,
    };
    let ids = identity_ids(&[&database.identities[..rows]]);
    // Under a memory limit the calibration's block may not fit: that is the user's to
    // change, not a bug.
    let found = search(&sample, &sample, request.measure, 0, rows).map_err(|e| vec![e.diagnostic()])?;
    let pairs = Pairs::within(found.scores.as_deref().unwrap_or_default(), &ids[0]);
    match pairs.verification(request.measure) {
        Some(v) => Ok((v.eer_threshold, "the equal error rate of the database's own pairs")),
        None => Err(vec![
            Diagnostic::error(
                codes::THRESHOLD_RANGE,
                "no --threshold given, and none can be calibrated: the database has no two rows of one identity",
                Span::new(0, 0),
                "for this program",
            )
            .with_help("give --threshold, e.g. --threshold 0.8 for cosine similarity"),
        ]),
    }
}

fn distinct(identities: &[String]) -> usize {
    identities.iter().collect::<std::collections::HashSet<_>>().len()
}

/// Each query's line, identity, verdict and best matches.
fn matches_json(answers: &[Answer], database: &Database, measure: Measure, threshold: f32) -> Vec<Value> {
    let key = match measure {
        Measure::Cosine => "similarity",
        Measure::Euclidean => "distance",
    };
    answers
        .iter()
        .map(|answer| {
            let accepted = answer.best.first().is_some_and(|m| match measure {
                Measure::Cosine => m.value >= threshold,
                Measure::Euclidean => m.value <= threshold,
            });
            json!({
                "line": answer.line,
                "identity": answer.identity,
                "verdict": if accepted { "match" } else { "no match" },
                "best": answer.best.iter().map(|m| json!({
                    "line": database.lines[m.row],
                    "identity": database.identities[m.row],
                    key: m.value,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn matches_text(matches: &[Value], queries: usize, measure: Measure) -> String {
    let key = if measure == Measure::Cosine { "similarity" } else { "distance" };
    let mut text = String::from("  query  identity  verdict   best matches (identity: line, value)\n");
    for m in matches.iter().take(SHOWN) {
        let best: Vec<String> = m["best"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| format!("{}: {} {:.3}", text_of(&b["identity"]), b["line"], b[key].as_f64().unwrap_or(f64::NAN)))
            .collect();
        let _ = writeln!(
            text,
            "  line {:<4} {:<9} {:<9} {}",
            m["line"],
            text_of(&m["identity"]),
            text_of(&m["verdict"]),
            best.join(", ")
        );
    }
    if queries > SHOWN {
        let _ = writeln!(text, "  ... {} more queries (use --json for all)", queries - SHOWN);
    }
    text
}

fn text_of(value: &Value) -> String {
    value.as_str().map_or_else(|| if value.is_null() { "-".to_string() } else { value.to_string() }, str::to_string)
}

/// The verification and identification figures, into the report and as text.
fn verification(
    report: &mut Value,
    pairs: &Pairs,
    top1: f64,
    baseline: Option<(f64, f64)>,
    measure: Measure,
    threshold: f32,
    (scored, queries, most): (usize, usize, usize),
) -> String {
    let mut text = String::new();
    let right = (top1 * queries as f64).round();
    let raw = |value: Option<f64>, percent: bool| match value {
        Some(v) if percent => format!(" (raw features: {:.1}%)", v * 100.0),
        Some(v) => format!(" (raw features: {v:.4})"),
        None => String::new(),
    };
    report["top1_accuracy"] = json!(top1);
    if let Some(v) = pairs.verification(measure) {
        let (far, frr) = pairs.rates_at(measure.score(threshold));
        let (pairs, genuine, impostor) = (v.genuine_pairs + v.impostor_pairs, v.genuine_pairs, v.impostor_pairs);
        let _ = if scored < queries {
            let why = if most < nnc_driver::similar::MAX_PAIRS { " in the memory left" } else { "" };
            writeln!(
                text,
                "verification over the {pairs} pairs of the first {scored} of {queries} queries ({genuine} genuine, \
                 {impostor} impostor; at most {most} pairs are scored{why}):"
            )
        } else {
            writeln!(text, "verification over {pairs} query-database pairs ({genuine} genuine, {impostor} impostor):")
        };
        report["verification_queries"] = json!(scored);
        let _ = writeln!(text, "  ROC AUC {:.4}{}", v.roc_auc, raw(baseline.map(|b| b.0), false));
        let _ =
            writeln!(text, "  equal error rate {:.2}% at threshold {}", v.equal_error_rate * 100.0, v.eer_threshold);
        let _ = writeln!(
            text,
            "  at threshold {threshold}: false accept rate {:.2}%, false reject rate {:.2}%",
            far * 100.0,
            frr * 100.0
        );
        report["roc_auc"] = json!(v.roc_auc);
        report["eer_threshold"] = json!(v.eer_threshold);
        report["equal_error_rate"] = json!(v.equal_error_rate);
        report["false_accept_rate"] = json!(far);
        report["false_reject_rate"] = json!(frr);
        report["genuine_pairs"] = json!(v.genuine_pairs);
        report["impostor_pairs"] = json!(v.impostor_pairs);
    }
    let _ = writeln!(
        text,
        "identification: top-1 accuracy {:.1}% ({right}/{queries}){}",
        top1 * 100.0,
        raw(baseline.map(|b| b.1), true)
    );
    if let Some((auc, top1)) = baseline {
        report["baseline"] = json!({ "layer": "input", "roc_auc": auc, "top1_accuracy": top1 });
    }
    text
}
