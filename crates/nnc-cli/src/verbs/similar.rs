//! `nnc similar`: queries matched against a database of known rows by their embeddings,
//! with a verdict for each (match or no match) and, when the queries carry identities,
//! the verification and identification figures, beside the same figures on the raw
//! (preprocessed) features.

use super::{Context, SavedModel, encode_rows, file_error, saved_model, write, write_plot};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_driver::similar::{
    Database, Embeddings, Measure, Pairs, Search, identity_ids, scored_queries, search, top1_accuracy,
};
use serde_json::{Value, json};
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
    let (database, database_inputs) = database(context, &model, request, &layer)?;
    let queries = encode_rows(context, &model, request.query, true)?;
    let (_, query_embeddings) =
        nnc_driver::embed::embed(&model.job, &model.params, &queries.inputs, queries.rows, Some(&layer))
            .map_err(|d| vec![d])?;
    let internal = |e: String| file_error(codes::INTERNAL, e, "report this bug");
    let found =
        search(&query_embeddings, &database.embeddings, request.measure, request.top, scored(&queries, &database))
            .map_err(internal)?;
    let (threshold, source) = threshold(request, &database)?;
    let mut text = String::new();
    let mut report = json!({
        "model": model.job.model.name,
        "layer": layer,
        "metric": request.measure.name(),
        "threshold": threshold,
        "threshold_from": source,
        "database": { "rows": database.embeddings.rows(), "identities": distinct(&database.identities) },
        "queries": queries.rows,
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
        queries.rows
    );
    let matches = matches_json(&found, &database, &queries, request.measure, threshold);
    text.push_str(&matches_text(&matches, request.measure));
    report["matches"] = Value::Array(matches);
    if let Some(identities) = &queries.identities {
        let ids = identity_ids(&[&database.identities, identities]);
        // The raw features' figures are computed on a second core meanwhile: each side
        // sorts millions of pair scores.
        let (pairs, baseline) = std::thread::scope(|scope| {
            let raw = database_inputs.map(|inputs| {
                let (queries, ids) = (&queries, &ids);
                scope.spawn(move || baseline(&inputs, queries, ids, request.measure))
            });
            let pairs = Pairs::split(found.scores.as_deref().unwrap_or_default(), &ids[1], &ids[0]);
            let baseline = raw.map(|thread| thread.join().unwrap_or_else(|_| Err("the baseline failed".into())));
            (pairs, baseline)
        });
        let baseline = baseline.transpose().map_err(internal)?.flatten();
        let top1 = top1_accuracy(&found.best, &ids[1], &ids[0]);
        let counts = (scored(&queries, &database), queries.rows);
        text.push_str(&verification(&mut report, &pairs, top1, baseline, request.measure, threshold, counts));
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
    }
    if let Some(path) = request.save_database {
        let bytes = database.to_bytes().map_err(internal)?;
        write(path, &bytes)?;
        let _ = writeln!(text, "wrote the database's {} embeddings to {}", database.embeddings.rows(), path.display());
    }
    Ok(Output::new(text, report))
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
/// baseline): read back from a saved database, or embedded from its rows.
fn database(
    context: &Context,
    model: &SavedModel,
    request: &Request<'_>,
    layer: &str,
) -> Result<(Database, Option<RawRows>), Vec<Diagnostic>> {
    let path = request.database;
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
        return Ok((saved, None));
    }
    let encoded = encode_rows(context, model, path, true)?;
    let Some(identities) = encoded.identities.clone() else {
        return Err(vec![no_identities(model, path)]);
    };
    let (_, embeddings) =
        nnc_driver::embed::embed(&model.job, &model.params, &encoded.inputs, encoded.rows, Some(layer))
            .map_err(|d| vec![d])?;
    let width = encoded.inputs.len() / encoded.rows.max(1);
    let database = Database {
        model: model.job.model.name.clone(),
        layer: layer.to_string(),
        embeddings,
        identities,
        lines: encoded.lines,
    };
    Ok((database, Some((encoded.inputs, width))))
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

/// The queries whose pairs the verification figures count: none without identities,
/// else the first that [`nnc_driver::similar::MAX_PAIRS`] allows.
fn scored(queries: &nnc_data::Encoded, database: &Database) -> usize {
    match queries.identities {
        Some(_) => scored_queries(queries.rows, database.embeddings.rows()),
        None => 0,
    }
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
    let found = search(&sample, &sample, request.measure, 0, rows)
        .map_err(|e| file_error(codes::INTERNAL, e, "report this bug"))?;
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
fn matches_json(
    found: &Search,
    database: &Database,
    queries: &nnc_data::Encoded,
    measure: Measure,
    threshold: f32,
) -> Vec<Value> {
    let key = match measure {
        Measure::Cosine => "similarity",
        Measure::Euclidean => "distance",
    };
    found
        .best
        .iter()
        .enumerate()
        .map(|(q, best)| {
            let accepted = best.first().is_some_and(|m| match measure {
                Measure::Cosine => m.value >= threshold,
                Measure::Euclidean => m.value <= threshold,
            });
            json!({
                "line": queries.lines[q],
                "identity": queries.identities.as_ref().map(|ids| ids[q].clone()),
                "verdict": if accepted { "match" } else { "no match" },
                "best": best.iter().map(|m| json!({
                    "line": database.lines[m.row],
                    "identity": database.identities[m.row],
                    key: m.value,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn matches_text(matches: &[Value], measure: Measure) -> String {
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
    if matches.len() > SHOWN {
        let _ = writeln!(text, "  ... {} more queries (use --json for all)", matches.len() - SHOWN);
    }
    text
}

fn text_of(value: &Value) -> String {
    value.as_str().map_or_else(|| if value.is_null() { "-".to_string() } else { value.to_string() }, str::to_string)
}

/// ROC AUC and top-1 accuracy of the raw (preprocessed) features: what the embedding is
/// compared against.
fn baseline(
    database: &RawRows,
    queries: &nnc_data::Encoded,
    ids: &[Vec<u32>],
    measure: Measure,
) -> Result<Option<(f64, f64)>, String> {
    let width = database.1;
    let raw_database = Embeddings { values: database.0.clone(), width };
    let raw_queries = Embeddings { values: queries.inputs.clone(), width };
    let scored = scored_queries(raw_queries.rows(), raw_database.rows());
    let found = search(&raw_queries, &raw_database, measure, 1, scored)?;
    let pairs = Pairs::split(found.scores.as_deref().unwrap_or_default(), &ids[1], &ids[0]);
    let top1 = top1_accuracy(&found.best, &ids[1], &ids[0]);
    Ok(pairs.verification(measure).map(|v| (v.roc_auc, top1)))
}

/// The verification and identification figures, into the report and as text.
fn verification(
    report: &mut Value,
    pairs: &Pairs,
    top1: f64,
    baseline: Option<(f64, f64)>,
    measure: Measure,
    threshold: f32,
    (scored, queries): (usize, usize),
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
            let most = nnc_driver::similar::MAX_PAIRS;
            writeln!(
                text,
                "verification over the {pairs} pairs of the first {scored} of {queries} queries ({genuine} genuine, \
                 {impostor} impostor; at most {most} pairs are scored):"
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
