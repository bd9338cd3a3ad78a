//! Data: everything between a checked `data` block and the matrices training reads.
//!
//! [`load`] reads an inline table or a CSV file ([`read`](read.rs)), selects feature and
//! target columns (`select.rs`), types every used column explicitly (`typing.rs`), applies
//! the `missing` setting, splits the rows (`split.rs`), fits encodings on the training part
//! (`encode.rs`) and encodes every part (`tabular.rs`), or cuts a time series into windows
//! (`window.rs`). A folder of images (`images.rs`) becomes a table of pixels and a class
//! column, and is prepared as a CSV file would be. Every problem with a file is a diagnostic naming the file and line.
//! `nnc check` and `nnc run` both load data through here.

mod apply;
mod coded;
mod dataset;
mod encode;
mod images;
mod read;
mod rows;
mod select;
mod spec;
mod split;
mod tabular;
mod typing;
mod window;

/// `work` over all of `items`, as two halves on two threads when `parallel` (the halves'
/// results in order). Loading a large file types columns, fits them and encodes rows
/// this way: each is independent of the others.
fn in_halves<T: Sync, R: Send>(items: &[T], parallel: bool, work: impl Fn(&[T]) -> Vec<R> + Sync) -> Vec<R> {
    if !parallel || items.len() < 2 {
        return work(items);
    }
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new().spawn_scoped(scope, || work(second));
        let mut done = work(first);
        // A panic on the helper would be a bug in `work`, and no helper at all (no thread
        // can be started under `ulimit -v`) a limit: either way its half is done here.
        done.extend(helper.ok().and_then(|helper| helper.join().ok()).unwrap_or_else(|| work(second)));
        done
    })
}

/// [`in_halves`] for work that writes a fixed number of values per item into `out`: each
/// half writes its own part of `out` in place (joining two results copied half of a
/// million rows' encoding and faulted in its pages a second time).
fn fill_in_halves<T: Sync, V: Send>(items: &[T], out: &mut [V], parallel: bool, work: impl Fn(&[T], &mut [V]) + Sync) {
    if !parallel || items.len() < 2 {
        return work(items, out);
    }
    let per_item = out.len() / items.len();
    let (first, second) = items.split_at(items.len() / 2);
    let (first_out, second_out) = out.split_at_mut(first.len() * per_item);
    let helper_failed = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new().spawn_scoped(scope, || work(second, &mut *second_out));
        work(first, first_out);
        helper.map_or(true, |helper| helper.join().is_err())
    });
    // A panic on the helper would be a bug in `work`, and no helper at all (no thread can
    // be started under `ulimit -v`) a limit: either way its half is done here.
    if helper_failed {
        work(second, second_out);
    }
}

/// One xorshift step: the tests' reproducible stream of pseudo-random numbers.
#[cfg(test)]
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

pub use apply::{Encoded, NewRows};
pub use dataset::{Dataset, Prepared, Preprocessing, SplitOrder, TargetEncoding, Task};
pub use encode::{CellProblem, ColumnEncoding, Encoding};
pub use images::as_csv as image_folder_csv;
pub use read::{MEMORY_PER_BYTE, PartSize, Room};
pub use rows::Rows;
pub use spec::{
    Color, ColumnRef, CsvSpec, DEFAULT_MISSING_VALUES, DataSpec, Features, ImageSpec, Missing, MissingValues, Name,
    Normalize, Source, Split, TableSpec, Target, Window, default_markers,
};

use nnc_diagnostics::{Diagnostic, Span, codes};
use std::path::Path;

/// What loading needs to know about the model and the run.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Units of the model's last layer: a two-class target with one output unit is 0/1.
    pub output_width: usize,
    /// Shuffles rows before splitting, unless the split names its own seed.
    pub seed: u64,
    /// The memory loading may take.
    pub room: Room,
}

/// Loads and prepares the data of one job.
pub fn load(spec: &DataSpec, base_dir: &Path, options: LoadOptions) -> Result<Prepared, Vec<Diagnostic>> {
    match &spec.source {
        Source::Table(table) => Ok(from_table(table)),
        Source::Csv(csv) => from_csv(csv, base_dir, options),
        Source::Images(images) => from_images(images, base_dir, options),
    }
}

/// The pixels of every image and its class, prepared as a CSV file of those columns is:
/// the class is categorical, and no class name is a missing-value marker (a class folder
/// named `None` or `NA` is a class).
fn from_images(spec: &ImageSpec, base_dir: &Path, options: LoadOptions) -> Result<Prepared, Vec<Diagnostic>> {
    let folder = images::read(spec, base_dir, &options.room).map_err(|d| vec![d])?;
    let class = Name { name: images::CLASS_COLUMN.to_string(), span: spec.path_span };
    let csv = CsvSpec {
        path: spec.path.clone(),
        path_span: spec.path_span,
        features: None,
        target: Target::Columns(vec![class.clone()]),
        categorical: vec![ColumnRef::Name(class)],
        normalize: Normalize::None,
        split: spec.split,
        window: None,
        filter: None,
        missing: Missing::Error,
        missing_values: MissingValues { markers: Vec::new(), per_column: Vec::new() },
        insert_at: Span { start: spec.path_span.end, end: spec.path_span.end },
    };
    tabular::prepare(&csv, folder, options.output_width, options.seed, &options.room, None)
}

fn from_csv(spec: &CsvSpec, base_dir: &Path, options: LoadOptions) -> Result<Prepared, Vec<Diagnostic>> {
    let file =
        read::FileRef { path: &spec.path, path_span: spec.path_span, room: &options.room, from_command_line: false };
    // A filter compares a column's text, and a window's series is typed from its text:
    // only other data leaves out the text of numbers (see `tabular::numbers_only`).
    let numbers_only = |header: &[String]| match (&spec.filter, &spec.window) {
        (None, None) => tabular::numbers_only(spec, header),
        _ => Vec::new(),
    };
    let mut table = read::read(&file, base_dir, read::Cells(&numbers_only)).map_err(|d| vec![d])?;
    if let Some((column, wanted)) = &spec.filter {
        let index = select::column_index(&table.header, column).map_err(|d| vec![d])?;
        let keep: Vec<bool> = (0..table.rows()).map(|r| table.cell(r, index) == wanted).collect();
        table.retain_rows(|r| keep[r]);
        if table.rows() == 0 {
            return Err(vec![
                Diagnostic::error(
                    codes::FILTER_EMPTY,
                    format!("no row has `{}` equal to `{wanted}`", column.name),
                    column.span,
                    "filter keeps nothing",
                )
                .with_help("check the value; comparison is exact text"),
            ]);
        }
    }
    match &spec.window {
        Some(window) => window::prepare(spec, window, &table),
        None => {
            let read_again = || read::read(&file, base_dir, read::Cells::ALL_TEXT).map_err(|d| vec![d]);
            tabular::prepare(spec, table, options.output_width, options.seed, &options.room, Some(&read_again))
        }
    }
}

fn from_table(table: &TableSpec) -> Prepared {
    let names = |names: &[Name]| names.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
    let train = Dataset {
        input_names: names(&table.inputs),
        target_names: names(&table.targets),
        inputs: table.row_values().flat_map(|r| &r[..table.inputs.len()]).copied().collect(),
        targets: table.row_values().flat_map(|r| &r[table.inputs.len()..]).copied().collect(),
        rows: table.rows,
        annotation: None,
        lines: Vec::new(),
    };
    let binary = train.n_targets() == 1 && train.targets.iter().all(|&t| t == 0.0 || t == 1.0);
    let span_of = |names: &[Name]| match (names.first(), names.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => table.span,
    };
    let identity = |name: &Name| ColumnEncoding {
        column: name.name.clone(),
        encoding: Encoding::Numeric { offset: 0.0, scale: 1.0, fill: None },
        missing: Vec::new(),
    };
    Prepared {
        train,
        validation: None,
        test: None,
        task: if binary { Task::Binary(None) } else { Task::Regression },
        preprocessing: Preprocessing {
            features: table.inputs.iter().map(identity).collect(),
            target: TargetEncoding::Columns(table.targets.iter().map(identity).collect()),
            window: None,
        },
        split_order: SplitOrder::AllTrain,
        dropped_rows: 0,
        naive_mae: None,
        input_span: span_of(&table.inputs),
        target_span: span_of(&table.targets),
        largest_input: None,
    }
}
