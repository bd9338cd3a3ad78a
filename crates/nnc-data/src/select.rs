//! Which columns of the file are features and which are targets, with the mistakes a
//! selection can hold: unknown names, ranges that run backwards, nothing left, a column
//! picked twice, and a target among the features (target leakage).

use crate::read::Table;
use crate::spec::{ColumnRef, CsvSpec, Features, Name, Target};
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};

/// The file's column for `name`, or a diagnostic with the closest names.
pub(crate) fn column_index(header: &[String], name: &Name) -> Result<usize, Diagnostic> {
    header.iter().position(|h| *h == name.name).ok_or_else(|| {
        let diagnostic = Diagnostic::error(
            codes::UNKNOWN_COLUMN,
            format!("the file has no column `{}`", name.name),
            name.span,
            "unknown column",
        );
        match did_you_mean(&name.name, header.iter().map(String::as_str)) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(name.span, close),
            None => diagnostic.with_help(format!("the columns are: {}", header.join(", "))),
        }
    })
}

/// Feature and target columns, in selection order.
pub(crate) fn resolve_columns(spec: &CsvSpec, table: &Table) -> Result<(Vec<usize>, Vec<usize>), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut lookup = |name: &Name| column_index(&table.header, name).map_err(|d| errors.push(d)).ok();
    let targets: Vec<(usize, Span)> = match &spec.target {
        Target::Columns(names) => names.iter().filter_map(|n| lookup(n).map(|c| (c, n.span))).collect(),
        Target::Features(_) | Target::Window => Vec::new(),
    };
    let reversed_categorical: Vec<Diagnostic> =
        spec.categorical.iter().filter_map(|declared| pick(declared, &mut lookup).err()).collect();
    for (name, _) in &spec.missing_values.per_column {
        lookup(name);
    }
    let target_columns: Vec<usize> = targets.iter().map(|(c, _)| *c).collect();
    let all = 0..table.header.len();
    let features: Vec<(usize, Span)> = match &spec.features {
        None => all.filter(|c| !target_columns.contains(c)).map(|c| (c, spec.path_span)).collect(),
        Some(Features::AllBut(excluded, span)) => {
            let excluded: Vec<usize> = excluded.iter().filter_map(&mut lookup).collect();
            all.filter(|c| !target_columns.contains(c) && !excluded.contains(c)).map(|c| (c, *span)).collect()
        }
        Some(Features::Columns(columns, _)) => {
            let mut picked = Vec::new();
            let mut reversed = Vec::new();
            for column in columns {
                match pick(column, &mut lookup) {
                    Ok(selected) => picked.extend(selected),
                    Err(diagnostic) => reversed.push(diagnostic),
                }
            }
            errors.extend(reversed);
            picked
        }
    };
    errors.extend(reversed_categorical);
    if errors.is_empty() {
        check_selection(spec, table, &features, &targets, &mut errors);
    }
    if errors.is_empty() { Ok((features.iter().map(|(c, _)| *c).collect(), target_columns)) } else { Err(errors) }
}

/// The columns one entry of `features` selects, each with the span that selected it.
fn pick(column: &ColumnRef, lookup: &mut impl FnMut(&Name) -> Option<usize>) -> Result<Vec<(usize, Span)>, Diagnostic> {
    match column {
        ColumnRef::Name(name) => Ok(lookup(name).map(|c| (c, name.span)).into_iter().collect()),
        ColumnRef::Range(from, to) => {
            let (Some(a), Some(b)) = (lookup(from), lookup(to)) else { return Ok(Vec::new()) };
            let span = column.span();
            if a > b {
                return Err(Diagnostic::error(
                    codes::REVERSED_RANGE,
                    format!("`{}` comes after `{}` in the file (columns {} and {})", from.name, to.name, a + 1, b + 1),
                    span,
                    "empty range",
                )
                .with_help(format!("write `{}..{}`", to.name, from.name))
                .with_fix(span, format!("{}..{}", to.name, from.name)));
            }
            Ok((a..=b).map(|c| (c, span)).collect())
        }
    }
}

fn check_selection(
    spec: &CsvSpec,
    table: &Table,
    features: &[(usize, Span)],
    targets: &[(usize, Span)],
    errors: &mut Vec<Diagnostic>,
) {
    if features.is_empty() {
        let span = match &spec.features {
            Some(Features::Columns(_, span) | Features::AllBut(_, span)) => *span,
            None => spec.path_span,
        };
        errors.push(
            Diagnostic::error(codes::NO_FEATURES, "no feature columns are left", span, "selects nothing")
                .with_help("name at least one input column"),
        );
    }
    // One diagnostic per selecting span, not one per column of a repeated range.
    let mut reported: Vec<Span> = Vec::new();
    for (index, &(column, span)) in features.iter().enumerate() {
        if reported.contains(&span) {
            continue;
        }
        let name = &table.header[column];
        if let Some(&(_, target_span)) = targets.iter().find(|(t, _)| *t == column) {
            errors.push(
                Diagnostic::error(
                    codes::TARGET_IN_FEATURES,
                    format!("the target `{name}` is also a feature"),
                    span,
                    format!("selects `{name}`"),
                )
                .with_secondary(target_span, "the target")
                .with_note("a model that sees its target as an input learns to copy it: its scores would be fake")
                .with_help(format!("leave `{name}` out of the features (`features all but ...` excludes targets)")),
            );
            reported.push(span);
        } else if let Some(&(_, first)) = features[..index].iter().find(|(c, _)| *c == column) {
            errors.push(
                Diagnostic::error(
                    codes::DUPLICATE_FEATURE,
                    format!("column `{name}` is selected as a feature twice"),
                    span,
                    "selected again",
                )
                .with_secondary(first, "first selected here")
                .with_help("select each column once"),
            );
            reported.push(span);
        }
    }
}
