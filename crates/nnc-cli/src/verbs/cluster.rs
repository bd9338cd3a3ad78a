//! `nnc cluster`: k-means on a program's preprocessed features (no training) or on a
//! layer's embeddings from saved weights; inertia, silhouette, and against the data's
//! classes when it has them the adjusted Rand index and a contingency table; each row's
//! cluster as CSV and the clusters drawn in two dimensions. A range of k (`--k 2..10`)
//! gives a table and the elbow and silhouette plots instead.

use super::{Context, csv_text, encode_rows_in_parts, file_error, saved_model, write, write_plot};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_driver::cluster::{Plane, Settings, adjusted_rand_index, contingency, kmeans, silhouette};
use nnc_driver::embed::Embedder;
use nnc_driver::products::ProductsError;
use nnc_driver::similar::identity_ids;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// The command line of `nnc cluster`.
pub struct Request<'a> {
    /// `K` or `A..B` (inclusive).
    pub k: &'a str,
    pub weights: Option<&'a Path>,
    pub layer: Option<&'a str>,
    pub input: Option<&'a Path>,
    pub seed: u64,
    pub restarts: usize,
    pub out: &'a Path,
    pub png: bool,
}

/// What is clustered: rows of numbers, where they come from, their file lines and
/// labels (when the data has classes).
struct Points {
    values: Vec<f32>,
    width: usize,
    what: String,
    lines: Vec<u64>,
    labels: Option<(String, Vec<String>)>,
}

pub fn cluster(context: &Context, request: &Request<'_>) -> Result<Output, Vec<Diagnostic>> {
    let (low, high) = parse_k(request.k)?;
    let points = match request.weights {
        Some(weights) => embedded(context, weights, request)?,
        None => features(context)?,
    };
    let rows = points.values.len() / points.width.max(1);
    if high > rows {
        return Err(k_error(format!("--k {high} asks for more clusters than the {rows} rows to cluster")));
    }
    let products_error = |e: ProductsError| vec![e.diagnostic()];
    let mut text =
        format!("k-means on {rows} rows of {} ({} restarts, seed {})\n", points.what, request.restarts, request.seed);
    let settings = |k| Settings { restarts: request.restarts.max(1), ..Settings::new(k, request.seed) };
    let labels = points.labels.as_ref().map(|(_, names)| {
        let ids = identity_ids(&[names]).remove(0);
        let mut classes: Vec<(u32, &String)> = ids.iter().copied().zip(names).collect();
        classes.sort();
        classes.dedup();
        (ids, classes.into_iter().map(|(_, n)| n.clone()).collect::<Vec<_>>())
    });
    if low < high {
        let mut table = Vec::new();
        let _ = writeln!(text, "   k      inertia  silhouette{}", if labels.is_some() { "     ARI" } else { "" });
        for k in low..=high {
            let clustering = kmeans(&points.values, points.width, &settings(k)).map_err(products_error)?;
            let s = silhouette(&points.values, points.width, &clustering.assignments, k).map_err(products_error)?;
            let ari = labels.as_ref().map(|(ids, classes)| {
                adjusted_rand_index(&contingency(&clustering.assignments, k, ids, classes.len()))
            });
            let _ = writeln!(
                text,
                "  {k:>2}  {:>11.4}  {:>10}{}",
                clustering.inertia,
                s.map_or("-".to_string(), |s| format!("{s:.4}")),
                ari.map_or(String::new(), |a| format!("  {a:>6.4}"))
            );
            table.push((k, clustering.inertia, s, ari));
        }
        let rows: Vec<(usize, f64, Option<f64>)> = table.iter().map(|r| (r.0, r.1, r.2)).collect();
        let [elbow, silhouettes] = nnc_inspect::plots::cluster_sweep(&rows);
        text.push_str(&write_plot(request.out, "elbow", &elbow, request.png)?);
        text.push_str(&write_plot(request.out, "silhouette", &silhouettes, request.png)?);
        let sweep: Vec<Value> =
            table.iter().map(|(k, i, s, a)| json!({ "k": k, "inertia": i, "silhouette": s, "ari": a })).collect();
        return Ok(Output::new(text, json!({ "rows": rows.len(), "sweep": sweep })));
    }
    let k = low;
    let clustering = kmeans(&points.values, points.width, &settings(k)).map_err(products_error)?;
    let s = silhouette(&points.values, points.width, &clustering.assignments, k).map_err(products_error)?;
    let _ = writeln!(
        text,
        "k = {k}: inertia {:.4} (best of {} restarts; {} Lloyd iterations), silhouette {}",
        clustering.inertia,
        request.restarts.max(1),
        clustering.iterations,
        s.map_or("-".to_string(), |s| format!("{s:.4}"))
    );
    let mut report = json!({
        "k": k,
        "rows": rows,
        "features": points.width,
        "of": points.what,
        "inertia": clustering.inertia,
        "silhouette": s,
        "iterations": clustering.iterations,
        "lloyd_iterations_all_restarts": clustering.total_iterations,
        "lloyd_seconds_all_restarts": clustering.lloyd_seconds,
        "assignments": clustering.assignments,
        "lines": points.lines,
        "points": points.values.chunks(points.width.max(1)).collect::<Vec<_>>(),
        "centroids": clustering.centroids.chunks(points.width.max(1)).collect::<Vec<_>>(),
    });
    if let (Some((ids, classes)), Some((column, _))) = (&labels, &points.labels) {
        let table = contingency(&clustering.assignments, k, ids, classes.len());
        let ari = adjusted_rand_index(&table);
        let _ = writeln!(text, "adjusted Rand index against `{column}`: {ari:.4}");
        text.push_str(&contingency_text(&table, classes, column));
        report["ari"] = json!(ari);
        report["labels"] = json!(points.labels.as_ref().map(|(_, names)| names));
        report["contingency"] = json!({ "labels": classes, "clusters": table });
    }
    let assignments = csv_text(
        std::iter::once(vec!["line".to_string(), "cluster".to_string()])
            .chain(points.lines.iter().zip(&clustering.assignments).map(|(l, c)| vec![l.to_string(), c.to_string()])),
    );
    let path = request.out.join("assignments.csv");
    write(&path, assignments.as_bytes())?;
    let _ = writeln!(text, "wrote {}: the cluster of each row", path.display());
    text.push_str(&write_plot(request.out, "clusters", &cluster_plot(&points, &clustering), request.png)?);
    Ok(Output::new(text, report))
}

/// `K` or `A..B`, each at least 2.
fn parse_k(k: &str) -> Result<(usize, usize), Vec<Diagnostic>> {
    let number = |s: &str| s.trim().parse::<usize>().ok();
    let (low, high) = match k.split_once("..") {
        Some((a, b)) => (number(a), number(b)),
        None => (number(k), number(k)),
    };
    match (low, high) {
        (Some(low), Some(high)) if low >= 2 && low <= high => Ok((low, high)),
        _ => Err(k_error(format!("--k {k} is not a number of clusters from 2, or a range `A..B` of them"))),
    }
}

fn k_error(message: String) -> Vec<Diagnostic> {
    vec![
        Diagnostic::error(codes::TOO_FEW_ROWS, message, Span::new(0, 0), "for this program")
            .with_help("give --k between 2 and the number of rows, or a range such as --k 2..10"),
    ]
}

/// The program's preprocessed features, every split, as training would see them.
fn features(context: &Context) -> Result<Points, Vec<Diagnostic>> {
    let checked = context.check()?;
    let Some(plan) = checked.jobs.first() else {
        return Err(file_error(
            codes::NOTHING_TO_RUN,
            "nothing to cluster: the program has no `train` block with data".to_string(),
            "add a data block and a train block that reads it",
        ));
    };
    let data = &plan.data;
    let splits = data.splits();
    let width = data.train.n_inputs();
    let values = splits.iter().flat_map(|(_, d)| d.inputs.iter().copied()).collect();
    let lines = splits.iter().flat_map(|(_, d)| d.lines.iter().copied()).collect();
    let labels = match &data.task {
        nnc_data::Task::Classes(classes) => Some(classes.clone()),
        nnc_data::Task::Binary(Some(classes)) => Some(classes.to_vec()),
        _ => None,
    }
    .map(|classes| {
        let rows = splits.iter().flat_map(|(_, d)| d.targets.chunks(d.n_targets().max(1)));
        let names = rows.map(|row| classes[nnc_driver::metrics::class_of(row)].clone()).collect();
        (super::identity_column(&data.preprocessing), names)
    });
    Ok(Points {
        values,
        width,
        what: format!("{width} preprocessed features of data `{}`", plan.job.data.name.name),
        lines,
        labels,
    })
}

/// A layer's embeddings of `--input`, or of the program's own data file.
fn embedded(context: &Context, weights: &Path, request: &Request<'_>) -> Result<Points, Vec<Diagnostic>> {
    let model = saved_model(context, weights)?;
    let path = match (request.input, &model.job.data.source) {
        (Some(path), _) => path.to_path_buf(),
        (None, nnc_data::Source::Csv(csv)) => context.base_dir.join(&csv.path),
        (None, nnc_data::Source::Images(images)) => context.base_dir.join(&images.path),
        (None, nnc_data::Source::Table(_)) => {
            return Err(file_error(
                codes::INPUT_COLUMNS,
                "the program's data is an inline table: give the rows to cluster with --input".to_string(),
                "write the rows to a CSV file with the feature columns and pass --input FILE",
            ));
        }
    };
    // A part at a time: only the embeddings are kept, not every row's inputs.
    let mut embedder = Embedder::new(&model.job, &model.params, request.layer).map_err(|d| vec![d])?;
    let (mut values, mut lines, mut identities) = (Vec::new(), Vec::new(), None::<Vec<String>>);
    let mut take = |encoded: nnc_data::Encoded| {
        values.extend(embedder.embed(&encoded.inputs)?);
        lines.extend_from_slice(&encoded.lines);
        if let Some(part) = encoded.identities {
            identities.get_or_insert_with(Vec::new).extend(part);
        }
        Ok(true)
    };
    encode_rows_in_parts(context, &model, (&path, true), &mut take)?;
    let (layer, width) = (embedder.layer, embedder.width);
    let column = super::identity_column(&model.weights.metadata.preprocessing);
    Ok(Points {
        values,
        width,
        what: format!("the {width}-number embeddings of layer `{layer}` ({})", path.display()),
        lines,
        labels: identities.map(|ids| (column, ids)),
    })
}

fn contingency_text(table: &[Vec<usize>], classes: &[String], column: &str) -> String {
    let width = classes.iter().map(|c| c.chars().count()).max().unwrap_or(1).max(5);
    let mut text = format!("contingency (rows: cluster, columns: {column})\n  {:>7}", "");
    for class in classes {
        let _ = write!(text, " {class:>width$}");
    }
    text.push('\n');
    for (c, row) in table.iter().enumerate() {
        let _ = write!(text, "  {:>7}", format!("cluster {c}"));
        for count in row {
            let _ = write!(text, " {count:>width$}");
        }
        text.push('\n');
    }
    text
}

/// The rows in two dimensions (two numbers as they are, else their first two principal
/// components, the centroids projected onto the same axes), coloured by cluster.
fn cluster_plot(points: &Points, clustering: &nnc_driver::cluster::Clustering) -> nnc_plot::Plot {
    let plane = Plane::fit(&points.values, points.width);
    let (rows_2d, centroids_2d) = (plane.project(&points.values), plane.project(&clustering.centroids));
    let axes = if points.width == 2 {
        ["first number", "second number"]
    } else {
        ["first principal component", "second principal component"]
    };
    nnc_inspect::plots::clusters(&rows_2d, &clustering.assignments, &centroids_2d, axes)
}
