//! A CSV file of independent rows: select, type, handle missing values, split, fit the
//! encodings on the training part, encode every part.

use crate::coded::{Coded, CodedColumns, TextColumns};
use crate::dataset::{Dataset, Prepared, Preprocessing, SplitOrder, TargetEncoding, Task, largest_input};
use crate::encode::{ColumnEncoding, Encoding, Slots, categories, fit_numeric, mean, natural_order};
use crate::read::{Room, Table};
use crate::select::resolve_columns;
use crate::spec::{CsvSpec, Features, Missing, Normalize, Target};
use crate::split::{check_rows, split_rows};
use crate::typing::{ColumnType, Numbers, column_types, missing_value, parsed_type};
use nnc_diagnostics::{Diagnostic, Span, codes};

/// The used columns of a file with their types.
struct Columns {
    features: Vec<usize>,
    targets: Vec<usize>,
    /// Types of `features` then `targets`, in that order.
    types: Vec<ColumnType>,
}

impl Columns {
    fn used(&self) -> Vec<usize> {
        self.features.iter().chain(&self.targets).copied().collect()
    }

    fn feature_type(&self, index: usize) -> &ColumnType {
        &self.types[index]
    }

    fn target_type(&self, index: usize) -> &ColumnType {
        &self.types[self.features.len() + index]
    }

    /// The columns encoding reads as text: the categorical ones, and the annotation.
    fn text(&self, annotation: Option<usize>) -> Vec<usize> {
        let categorical = self.used().into_iter().zip(&self.types).filter(|(_, t)| **t == ColumnType::Categorical);
        categorical.map(|(column, _)| column).chain(annotation).collect()
    }
}

pub(crate) fn prepare(
    spec: &CsvSpec,
    mut table: Table,
    output_width: usize,
    seed: u64,
    room: &Room,
    read_again: Option<&dyn Fn() -> Result<Table, Vec<Diagnostic>>>,
) -> Result<Prepared, Vec<Diagnostic>> {
    let split_seed = spec.split.seed.unwrap_or(seed);
    let split = |n: usize| split_rows(n, &spec.split, split_seed);
    // Under `missing error` every row is used, so the split (a shuffle of all the rows:
    // 17 ms of a million) is drawn on a second thread while the columns are typed.
    let all_rows = (spec.missing == Missing::Error).then(|| table.rows());
    let (columns, text, usable, parts) = std::thread::scope(|scope| {
        // (Unless no thread can be started: then it is drawn below, as when rows are left out.)
        let early = all_rows.and_then(|n| std::thread::Builder::new().spawn_scoped(scope, move || split(n)).ok());
        let mut columns = typed_columns(spec, &mut table)?;
        if let Some(read_again) = read_again
            && text_needed(&table, &columns)
        {
            // The first reading's cells go before the second reading's come.
            drop(std::mem::replace(&mut table, Table::new(Vec::new())));
            table = read_again()?;
            columns = typed_columns(spec, &mut table)?;
        }
        let annotation = annotation_column(&table, &columns);
        let coded = CodedColumns::of(&table, &columns.text(annotation));
        check_columns(spec, &table, &coded, &columns)?;
        let text = TextColumns::keep(std::mem::replace(&mut table, Table::new(Vec::new())), coded);
        let usable = usable_rows(spec, &text, &columns);
        check_rows(&spec.split, usable.len()).map_err(|d| vec![d])?;
        let parts = match early {
            Some(early) if all_rows == Some(usable.len()) => early.join().unwrap_or_else(|_| split(usable.len())),
            _ => split(usable.len()),
        };
        Ok::<_, Vec<Diagnostic>>(((columns, annotation), text, usable, parts))
    })?;
    let [train_rows, val_rows, test_rows]: [Vec<usize>; 3] =
        parts.map(|part| part.iter().map(|&i| usable[i]).collect());
    let (columns, annotation) = columns;
    let encodings = fit_features(spec, &text, &columns, &train_rows);
    let target = fit_target(spec, &text, &columns, &train_rows, output_width);
    let rows = text.rows();
    let builder =
        Builder { spec, room, text: &text, columns: &columns, encodings: &encodings, target: &target, annotation };
    let train = builder.build(&train_rows).map_err(|d| vec![d])?;
    let validation = (!val_rows.is_empty()).then(|| builder.build(&val_rows)).transpose().map_err(|d| vec![d])?;
    let test = (!test_rows.is_empty()).then(|| builder.build(&test_rows)).transpose().map_err(|d| vec![d])?;
    let task = match &target {
        TargetEncoding::Features | TargetEncoding::Columns(_) => Task::Regression,
        TargetEncoding::Classes { classes, binary: true, .. } => {
            Task::Binary(Some([classes[0].clone(), classes[1].clone()]))
        }
        TargetEncoding::Classes { classes, .. } => Task::Classes(classes.clone()),
    };
    let largest = (spec.normalize == Normalize::None).then(|| largest_input(&train)).flatten();
    Ok(Prepared {
        train,
        validation,
        test,
        task,
        preprocessing: Preprocessing { features: encodings, target, window: None },
        split_order: if spec.split.train >= 1.0 { SplitOrder::AllTrain } else { SplitOrder::Shuffled(split_seed) },
        dropped_rows: rows - usable.len(),
        naive_mae: None,
        input_span: feature_span(spec),
        target_span: target_span(spec),
        largest_input: largest,
    })
}

/// The columns whose cells that are numbers need not keep their text (see
/// [`Table::parsing`]) when the file is read for training: the used columns, except those
/// declared categorical and those with a missing-value marker that reads as a number
/// (both compare every cell's text). Unused columns keep theirs, for labelling plots.
pub(crate) fn numbers_only(spec: &CsvSpec, header: &[String]) -> Vec<bool> {
    let Ok((features, targets)) = resolve_columns(spec, &Table::new(header.to_vec())) else { return Vec::new() };
    let mut only = vec![false; header.len()];
    for column in features.into_iter().chain(targets) {
        let name = &header[column];
        let declared = spec.declares_categorical(header, column);
        let numeric_marker = crate::typing::numeric_marker(spec.missing_values.markers_for(name));
        only[column] = !declared && !numeric_marker;
    }
    only
}

/// Whether a column typed categorical by its data (mostly text, with some numbers) lost
/// the text of its numbers: its categories need it, so the file must be read again.
fn text_needed(table: &Table, columns: &Columns) -> bool {
    let categorical = columns.used().into_iter().zip(&columns.types).filter(|(_, t)| **t == ColumnType::Categorical);
    categorical.map(|(column, _)| column).any(|column| table.text_dropped(column))
}

/// The used columns with their types.
fn typed_columns(spec: &CsvSpec, table: &mut Table) -> Result<Columns, Vec<Diagnostic>> {
    let (features, targets) = resolve_columns(spec, table)?;
    let used: Vec<usize> = features.iter().chain(&targets).copied().collect();
    let mut types = Vec::new();
    let mut errors = Vec::new();
    for typed in type_columns(spec, table, &used) {
        match typed {
            Ok(t) => types.push(t),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Columns { features, targets, types })
}

/// A class target alone, and no missing value under `missing error`.
fn check_columns(
    spec: &CsvSpec,
    table: &Table,
    coded: &CodedColumns,
    columns: &Columns,
) -> Result<(), Vec<Diagnostic>> {
    check_class_target(spec, &table.header, columns).map_err(|d| vec![d])?;
    first_missing(spec, table, coded, columns).map_err(|d| vec![d])
}

/// No missing value under `missing error`: each column's first missing row, then the
/// first of those. A numeric column found its own when it was typed, and a categorical
/// one tests each distinct cell once.
fn first_missing(spec: &CsvSpec, table: &Table, coded: &CodedColumns, columns: &Columns) -> Result<(), Diagnostic> {
    if spec.missing != Missing::Error {
        return Ok(());
    }
    let used = columns.used();
    let first_of_column = |(&column, column_type): (&usize, &ColumnType)| match column_type {
        ColumnType::Numeric(values) => values.first_missing(),
        ColumnType::Categorical => coded
            .column(column)
            .and_then(|coded| coded.first_row(|cell| spec.missing_values.is_missing(&table.header[column], cell))),
    };
    let firsts: Vec<Option<usize>> = used.iter().zip(&columns.types).map(first_of_column).collect();
    // The cell is read from the table: a numeric column's missing cell kept its text.
    missing_value(spec, (&table.header, &table.lines), (&used, &columns.types), &firsts, |row, column| {
        table.cell(row, column)
    })
}

/// A class column is the one target: its classes become the outputs.
fn check_class_target(spec: &CsvSpec, header: &[String], columns: &Columns) -> Result<(), Diagnostic> {
    if columns.targets.len() < 2 {
        return Ok(());
    }
    let categorical = (0..columns.targets.len()).find(|&i| *columns.target_type(i) == ColumnType::Categorical);
    let Some(index) = categorical else { return Ok(()) };
    let name = &header[columns.targets[index]];
    let span = match &spec.target {
        Target::Columns(names) => names.iter().find(|n| &n.name == name).map_or(spec.path_span, |n| n.span),
        Target::Features(_) | Target::Window => spec.path_span,
    };
    Err(Diagnostic::error(
        codes::MULTI_TARGET_CLASSES,
        format!("the class column `{name}` must be the only target"),
        span,
        "categorical target",
    )
    .with_help("predict one class column at a time, in its own train block"))
}

fn feature_span(spec: &CsvSpec) -> Span {
    match &spec.features {
        Some(Features::Columns(_, span) | Features::AllBut(_, span)) => *span,
        None => spec.path_span,
    }
}

fn target_span(spec: &CsvSpec) -> Span {
    match &spec.target {
        Target::Columns(names) => match (names.first(), names.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => spec.path_span,
        },
        Target::Features(span) => *span,
        Target::Window => spec.path_span,
    }
}

/// Rows to keep: all of them, except rows with a missing value under `missing drop` and
/// rows with a missing target under `missing mean`.
fn usable_rows(spec: &CsvSpec, text: &TextColumns, columns: &Columns) -> Vec<usize> {
    let checked: Vec<(usize, &ColumnType)> = match spec.missing {
        Missing::Error => return (0..text.rows()).collect(),
        Missing::Drop => columns.used().into_iter().zip(&columns.types).collect(),
        Missing::Mean => columns.targets.iter().copied().zip(&columns.types[columns.features.len()..]).collect(),
    };
    // Which distinct cells of each categorical column are missing.
    let missing: Vec<Option<(&Coded, Vec<bool>)>> = (checked.iter())
        .map(|&(column, _)| {
            let coded = text.column(column)?;
            Some((coded, coded.per_value(|cell| spec.missing_values.is_missing(&text.header[column], cell))))
        })
        .collect();
    (0..text.rows())
        .filter(|&row| {
            checked.iter().zip(&missing).all(|((_, column_type), missing)| match (column_type, missing) {
                (ColumnType::Numeric(values), _) => values.get(row).is_some(),
                (ColumnType::Categorical, Some((coded, missing))) => !missing[coded.code(row)],
                (ColumnType::Categorical, None) => true,
            })
        })
        .collect()
}

/// The features' encodings, fitted on the training rows (on two threads for many rows).
fn fit_features(spec: &CsvSpec, text: &TextColumns, columns: &Columns, train_rows: &[usize]) -> Vec<ColumnEncoding> {
    let indices: Vec<usize> = (0..columns.features.len()).collect();
    let parallel = train_rows.len() * indices.len() >= PARALLEL_CELLS;
    crate::in_halves(&indices, parallel, |indices| {
        let fit = |&index: &usize| fitted(spec, text, columns.features[index], columns.feature_type(index), train_rows);
        indices.iter().map(fit).collect()
    })
}

/// Types `columns` in order: from the numbers parsed as the file was read where they
/// decide it (most numeric columns), and the rest from their text.
fn type_columns(spec: &CsvSpec, table: &mut Table, columns: &[usize]) -> Vec<Result<ColumnType, Diagnostic>> {
    let mut parsed = Vec::with_capacity(columns.len());
    let mut undecided = Vec::new();
    for &column in columns {
        match table.take_numbers(column).map(|pieces| parsed_type(spec, table, column, pieces)) {
            Some(Ok(typed)) => parsed.push(Some(typed)),
            Some(Err(numbers)) => {
                parsed.push(None);
                undecided.push((column, Some(numbers)));
            }
            None => {
                parsed.push(None);
                undecided.push((column, None));
            }
        }
    }
    let rest: Vec<(usize, Option<&Numbers>)> = undecided.iter().map(|(c, numbers)| (*c, numbers.as_ref())).collect();
    let mut rest = types_from_text(spec, table, &rest).into_iter();
    parsed.into_iter().filter_map(|typed| typed.map(Ok).or_else(|| rest.next())).collect()
}

/// Types `columns` from their text in order, on two threads for a large table (parsing a
/// million rows' numbers is most of typing them).
fn types_from_text(
    spec: &CsvSpec,
    table: &Table,
    columns: &[(usize, Option<&Numbers>)],
) -> Vec<Result<ColumnType, Diagnostic>> {
    if columns.is_empty() {
        return Vec::new();
    }
    let parallel = table.rows() * columns.len() >= PARALLEL_CELLS;
    crate::in_halves(columns, parallel, |columns| column_types(spec, table, columns))
}

/// Work on fewer cells than this is not worth a second thread.
pub(crate) const PARALLEL_CELLS: usize = 1 << 16;

fn fitted(
    spec: &CsvSpec,
    text: &TextColumns,
    column: usize,
    column_type: &ColumnType,
    rows: &[usize],
) -> ColumnEncoding {
    let name = &text.header[column];
    ColumnEncoding {
        column: name.clone(),
        encoding: fit_column(spec, text, column, column_type, rows, spec.normalize),
        missing: spec.missing_values.markers_for(name).to_vec(),
    }
}

fn fit_column(
    spec: &CsvSpec,
    text: &TextColumns,
    column: usize,
    column_type: &ColumnType,
    rows: &[usize],
    normalize: Normalize,
) -> Encoding {
    let impute = spec.missing == Missing::Mean;
    match column_type {
        ColumnType::Numeric(values) => {
            // The present values, read where they are: a copy of them was all of fitting a
            // million rows under `normalize none`, which then reads nothing.
            let present = rows.iter().filter_map(|&r| values.get(r));
            let (offset, scale) = fit_numeric(present.clone(), normalize);
            Encoding::Numeric { offset, scale, fill: if impute { mean(present) } else { None } }
        }
        ColumnType::Categorical => {
            let markers = spec.missing_values.markers_for(&text.header[column]);
            let (categories, most) = categories(counts(text, column, rows), markers);
            Encoding::OneHot { categories, fill: if impute { most } else { None } }
        }
    }
}

/// Each distinct cell of a kept text column with how many of `rows` hold it.
fn counts<'t>(text: &'t TextColumns, column: usize, rows: &[usize]) -> impl Iterator<Item = (&'t str, usize)> {
    debug_assert!(text.column(column).is_some(), "column {column} was kept as text");
    text.column(column).into_iter().flat_map(|coded| coded.counts(rows))
}

fn fit_target(
    spec: &CsvSpec,
    text: &TextColumns,
    columns: &Columns,
    train_rows: &[usize],
    output_width: usize,
) -> TargetEncoding {
    if matches!(spec.target, Target::Features(_)) {
        return TargetEncoding::Features;
    }
    match columns.targets.as_slice() {
        [column] if *columns.target_type(0) == ColumnType::Categorical => {
            let markers = spec.missing_values.markers_for(&text.header[*column]);
            let mut classes = categories(counts(text, *column, train_rows), markers).0;
            classes.sort_by(|a, b| natural_order(a, b));
            let binary = classes.len() == 2 && output_width == 1;
            TargetEncoding::Classes { column: text.header[*column].clone(), classes, binary }
        }
        targets => TargetEncoding::Columns(
            targets
                .iter()
                .enumerate()
                .map(|(index, &column)| fitted(spec, text, column, columns.target_type(index), train_rows))
                .collect(),
        ),
    }
}

/// The first column the model does not use whose cells take at most 20 values: a label
/// of the rows worth colouring plots by.
fn annotation_column(table: &Table, columns: &Columns) -> Option<usize> {
    let used = columns.used();
    (0..table.header.len()).filter(|c| !used.contains(c)).find(|&column| {
        let mut seen: Vec<&str> = Vec::new();
        for row in 0..table.rows() {
            let cell = table.cell(row, column);
            if !seen.contains(&cell) {
                if seen.len() == 20 {
                    return false;
                }
                seen.push(cell);
            }
        }
        seen.len() > 1
    })
}

/// Where one source column's model columns come from: a numeric column's value, encoded
/// in place (most columns, and most of encoding a large file), or a categorical column's
/// one-hot slot, found once for each distinct cell (`None` where its cell could not be
/// encoded, which rows reaching here were checked not to have).
enum Source<'a> {
    Number { values: &'a Numbers, offset: f32, scale: f32, fill: Option<f32> },
    OneHot { coded: Option<&'a Coded>, slots: Vec<Option<usize>>, width: usize },
}

impl<'a> Source<'a> {
    fn new(column: usize, column_type: &'a ColumnType, encoding: &ColumnEncoding, text: &'a TextColumns) -> Source<'a> {
        if let (ColumnType::Numeric(values), &Encoding::Numeric { offset, scale, fill }) =
            (column_type, &encoding.encoding)
        {
            return Source::Number { values, offset, scale, fill };
        }
        debug_assert!(*column_type == ColumnType::Categorical, "a numeric column has a numeric encoding");
        let coded = text.column(column);
        let categories = Slots::of(encoding);
        let slots = coded.map_or_else(Vec::new, |c| c.per_value(|cell| encoding.one_hot_slot(&categories, cell).ok()));
        Source::OneHot { coded, slots, width: encoding.encoding.width() }
    }
}

/// Encodes rows of the table with fitted encodings.
struct Builder<'a> {
    spec: &'a CsvSpec,
    room: &'a Room,
    text: &'a TextColumns,
    columns: &'a Columns,
    encodings: &'a [ColumnEncoding],
    target: &'a TargetEncoding,
    annotation: Option<usize>,
}

impl Builder<'_> {
    fn build(&self, rows: &[usize]) -> Result<Dataset, Diagnostic> {
        let input_names: Vec<String> = self.encodings.iter().flat_map(|c| c.encoding.names(&c.column)).collect();
        let features: Vec<Source> = (self.encodings.iter().enumerate())
            .map(|(index, encoding)| {
                Source::new(self.columns.features[index], self.columns.feature_type(index), encoding, self.text)
            })
            .collect();
        let inputs = self.encode_all(rows, &features, input_names.len())?;
        let (target_names, targets) = match self.target {
            TargetEncoding::Features => {
                let mut copy = self.zeros(rows.len(), input_names.len())?;
                copy.copy_from_slice(&inputs);
                (input_names.clone(), copy)
            }
            TargetEncoding::Columns(encodings) => {
                let targets: Vec<Source> = (encodings.iter().enumerate())
                    .map(|(index, encoding)| {
                        Source::new(self.columns.targets[index], self.columns.target_type(index), encoding, self.text)
                    })
                    .collect();
                let names: Vec<String> = encodings.iter().flat_map(|c| c.encoding.names(&c.column)).collect();
                let out = self.encode_all(rows, &targets, names.len())?;
                (names, out)
            }
            TargetEncoding::Classes { classes, binary, .. } => {
                let names = if *binary { vec![classes[1].clone()] } else { classes.clone() };
                (names, self.classes(rows, classes, *binary)?)
            }
        };
        let annotation = self.annotation.map(|column| {
            let values = rows.iter().map(|&row| self.text.cell(row, column).to_string()).collect();
            let name = self.text.header[column].clone();
            (name, values)
        });
        let lines = rows.iter().map(|&row| self.text.lines[row]).collect();
        Ok(Dataset { input_names, target_names, inputs, targets, rows: rows.len(), annotation, lines })
    }

    /// The `width` model columns of `sources` for each of `rows`, row after row: in two
    /// halves on two threads for many rows (rows are independent, and encoding them is a
    /// fifth of loading a million rows).
    fn encode_all(&self, rows: &[usize], sources: &[Source], width: usize) -> Result<Vec<f32>, Diagnostic> {
        let mut out = self.zeros(rows.len(), width)?;
        let parallel = out.len() >= PARALLEL_CELLS;
        crate::fill_in_halves(rows, &mut out, parallel, |rows, out| self.encode_rows(rows, sources, out));
        Ok(out)
    }

    /// `rows` rows of `width` zeros, or a diagnostic when they do not fit: more than the
    /// room there was before the file was read, or more than can be allocated now (under
    /// `ulimit -v` a failed allocation would abort the process). A file's size does not
    /// bound its encoding: a cell of one letter is a column per category of its column.
    fn zeros(&self, rows: usize, width: usize) -> Result<Vec<f32>, Diagnostic> {
        // The fallible reservation only proves the memory can be had: `vec!` then takes
        // zeroed pages from the system without writing them (a million rows' `resize`
        // wrote 44 MB of zeros first, 10 ms of a 147 ms load), and they are given back
        // and taken again with nothing in between.
        let mut probe = Vec::new();
        self.room.reserve_encoded(&mut probe, (rows, width), &self.spec.path, self.spec.path_span)?;
        drop(probe);
        Ok(vec![0.0; rows * width])
    }

    /// Writes the model columns of `sources` for each of `rows` into `out`, row after row.
    fn encode_rows(&self, rows: &[usize], sources: &[Source], out: &mut [f32]) {
        if out.is_empty() {
            return;
        }
        let width = out.len() / rows.len();
        for (&row, row_out) in rows.iter().zip(out.chunks_exact_mut(width)) {
            let mut out = row_out.iter_mut();
            for source in sources {
                match source {
                    &Source::Number { values, offset, scale, fill } => {
                        let value = values.get(row).or(fill);
                        debug_assert!(value.is_some(), "row {row} was checked for missing values");
                        if let Some(slot) = out.next() {
                            *slot = value.map_or(0.0, |v| (v - offset) / scale);
                        }
                    }
                    Source::OneHot { coded, slots, width } => {
                        let slot = coded.and_then(|coded| slots[coded.code(row)]);
                        debug_assert!(slot.is_some(), "row {row} was checked for missing values");
                        for (i, value) in out.by_ref().take(*width).enumerate() {
                            *value = f32::from(u8::from(Some(i) == slot));
                        }
                    }
                }
            }
        }
    }

    /// Each row's class, one-hot (or 0 or 1 for a binary one), on two threads for many
    /// rows; the first row whose class the training split lacks is a diagnostic.
    fn classes(&self, rows: &[usize], classes: &[String], binary: bool) -> Result<Vec<f32>, Diagnostic> {
        let column = self.columns.targets[0];
        let slots = Slots::over(classes);
        // Each distinct label's class, found once.
        let coded = self.text.column(column);
        let class_of = coded.map_or_else(Vec::new, |coded| coded.per_value(|label| slots.get(label)));
        let class = |row: usize| coded.and_then(|coded| class_of[coded.code(row)]);
        if let Some(&row) = rows.iter().find(|&&row| class(row).is_none()) {
            let label = self.text.cell(row, column);
            return Err(Diagnostic::error(
                codes::UNSEEN_CLASS,
                format!(
                    "class `{label}` (line {} of `{}`) does not occur in the training split",
                    self.text.lines[row], self.spec.path
                ),
                target_span(self.spec),
                "target column",
            )
            .with_note(format!("training classes: {}", classes.join(", ")))
            .with_help("use a larger training fraction or another split seed, so every class is seen in training"));
        }
        let width = if binary { 1 } else { classes.len() };
        // Zeros: only each row's class is written.
        let mut out = self.zeros(rows.len(), width)?;
        let parallel = out.len() >= PARALLEL_CELLS;
        crate::fill_in_halves(rows, &mut out, parallel, |rows, out| {
            for (&row, out) in rows.iter().zip(out.chunks_exact_mut(width)) {
                let class = class(row).unwrap_or(0);
                match (binary, out.get_mut(class)) {
                    (true, _) => out[0] = class as f32,
                    (false, Some(slot)) => *slot = 1.0,
                    (false, None) => {}
                }
            }
        });
        Ok(out)
    }
}
