//! Products follow their data between the two cores, and lead it to a split loop that
//! reads it next (`follow_the_data`).
//!
//! The code generator runs a large loop kernel as two halves of its first axis, one per
//! core (`nnc_codegen`'s `parallel.rs`), and the GEMM helper splits a product on two
//! threads into two blocks of rows when it can (`gemm.rs`'s `split`). Either way each
//! core's half of the result is left in that core's cache. A product that then reads it
//! on one thread fetches the other half from the other core, which on the machines
//! measured costs more than handing half of the product to that core: a network of
//! width 16 on 784 inputs spent a quarter of its step copying the batch's rows and
//! reading them back across the cores.
//!
//! A product the helper splits by columns leaves each core half of every row's columns
//! the same way: W3's 128 × 512 hidden layers, whose 10-wide neighbours (the output
//! product reading them along its reduction, `δ3·W3ᵀ` reading one as its ReLU mask,
//! `hᵀ·δ3` reading it along its rows) ran on one thread and took 59 µs a step against
//! 50 on both (`--profile`; W3 trains 2 % faster).
//!
//! So a library product that reads such a buffer along the axis it is split on (rows of
//! A or of its mask, columns of B or of its mask) or along its reduction (`k`, as a
//! weight gradient `Xᵀ·δ` reads the batch) runs on both threads, whatever its size.
//! Along the reduction, each thread sums its own half of the rows and the halves are
//! added (`Strategy::Library { halves }`) when the second half's sum, which the first
//! thread then fetches, is smaller than the half of the operand a split of C would make
//! each thread fetch; when the product has no finish in registers, which needs the
//! whole sum; and when it has at least `HALVES_MIN_MACS` multiply-adds (a smaller one
//! that would be summed in halves stays as its size puts it).

use crate::ir::*;
use std::collections::HashMap;

/// The part of a buffer the two threads wrote half each: `count` rows (or columns) along
/// the axis the writer was split on, `stride` apart from element `offset`, `elements` in
/// all.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Halves {
    count: usize,
    stride: isize,
    offset: usize,
    elements: usize,
}

impl Halves {
    /// Whether each thread wrote one contiguous range, the first `count / 2` rows of
    /// `stride` elements and the rest: the rows are dense and lie in order, so a reader
    /// that splits the same elements at the same place on any axis reads its own half.
    fn are_ranges(&self) -> bool {
        self.stride > 0 && self.stride as usize * self.count == self.elements
    }

    /// Where the second thread's range starts, relative to `offset`.
    fn boundary(&self) -> usize {
        self.stride.unsigned_abs() * (self.count / 2)
    }

    /// Whether `view`, split into halves along `axis` (`count` long; its other axis
    /// `other` long), gives each thread the elements it wrote: along the same rows
    /// (`count` and `stride` alike), or, when the halves are ranges, at the same boundary
    /// with each step along `axis` holding the whole other axis (W5's im2col matrix,
    /// written by images of 16 rows and read by its weight gradient a row at a time).
    fn read_by(&self, view: &View, axis: usize, count: usize, other: usize) -> bool {
        let (Some(&stride), Some(&across)) = (view.strides.get(axis), view.strides.get(1 - axis)) else { return false };
        if count == self.count && stride == self.stride {
            return true;
        }
        let across = across.unsigned_abs() * other.saturating_sub(1);
        let Ok(step) = usize::try_from(stride) else { return false };
        self.are_ranges()
            && view.gather.is_none()
            && view.offset == self.offset
            && across < step
            && step * count == self.elements
            && step * (count / 2) == self.boundary()
    }
}

pub(crate) fn follow_the_data(program: &mut Program, split_loop_points: usize, threads: usize) {
    if threads < 2 {
        return;
    }
    let mut halves: HashMap<BufferId, Halves> = HashMap::new();
    // Outputs of products on one thread that no kernel has read yet: buffer → kernel.
    let mut unread: HashMap<BufferId, usize> = HashMap::new();
    for index in 0..program.kernels.len() {
        lead(program, index, &mut unread, &mut halves, threads, split_loop_points);
        let kernel = &mut program.kernels[index];
        let written = kernel.writes();
        let split_rows = match &mut kernel.kind {
            KernelKind::Loop { dims, body } => loop_halves(dims, body, split_loop_points),
            KernelKind::Matmul(mm) => {
                follow(mm, &halves, threads, split_loop_points);
                product_halves(mm)
            }
        };
        for buffer in written {
            match split_rows.filter(|(into, _)| *into == buffer) {
                Some((_, rows)) => halves.insert(buffer, rows),
                None => halves.remove(&buffer),
            };
            unread.remove(&buffer);
        }
        if let KernelKind::Matmul(mm) = &kernel.kind
            && let (Strategy::Library { threads: 1, .. }, Some(into)) = (mm.strategy, mm.acc)
        {
            unread.insert(into, index);
        }
    }
}

/// Puts a product on both threads, split by rows, when the first kernel to read its
/// output is a loop kernel the code generator splits and each half of that loop reads
/// only the rows the same thread would then write (and the product has no epilogue loop
/// of its own). Without this the product ran on one
/// core and the loop fetched half of its output from that core's cache: W5's first
/// convolution (2,048 × 16 × 9, 295 K multiply-adds, too few to be split by their
/// number) took 25 µs a step on one thread, and its max pool, split, read it.
fn lead(
    program: &mut Program,
    reader: usize,
    unread: &mut HashMap<BufferId, usize>,
    halves: &mut HashMap<BufferId, Halves>,
    threads: usize,
    split_loop_points: usize,
) {
    let read: Vec<(BufferId, bool)> = {
        let kernel = &program.kernels[reader];
        let split = match &kernel.kind {
            KernelKind::Loop { dims, body } => loop_splits(dims, body, split_loop_points).then_some(dims),
            KernelKind::Matmul(_) => None,
        };
        let mut read: Vec<(BufferId, bool)> = Vec::new();
        for view in kernel.reads() {
            let Some(&product) = unread.get(&view.buffer) else { continue };
            let KernelKind::Matmul(mm) = &program.kernels[product].kind else { continue };
            let boundary = mm.m.div_ceil(2) * mm.n;
            let local = split.is_some_and(|dims| reads_in_halves(dims, view, boundary));
            // An epilogue that stores runs over the whole product on the calling thread,
            // which would then read the other core's half.
            let fits = splits_by_rows(mm) && mm.m * mm.n >= split_loop_points && mm.epilogue.stores.is_empty();
            match read.iter_mut().find(|(buffer, _)| *buffer == view.buffer) {
                Some((_, both)) => *both &= local && fits,
                None => read.push((view.buffer, local && fits)),
            }
        }
        read
    };
    for (buffer, local) in read {
        let Some(product) = unread.remove(&buffer) else { continue };
        let KernelKind::Matmul(mm) = &mut program.kernels[product].kind else { continue };
        if local {
            mm.strategy = Strategy::Library { threads, halves: false };
            if let Some((into, rows)) = product_halves(mm) {
                halves.insert(into, rows);
            }
        }
    }
}

/// Whether a loop over `dims`, run in halves of its first axis (`count / 2` and the rest,
/// as `nnc_codegen`'s `nnc_parallel_loop` does), reads `view` only before element
/// `boundary` in its first half and only from it on in its second.
fn reads_in_halves(dims: &[usize], view: &View, boundary: usize) -> bool {
    let (Some(&count), Some(&first)) = (dims.first(), view.strides.first()) else { return false };
    let half = count / 2;
    if dims.len() < 2 || half == 0 || view.gather.is_some() || view.strides.iter().any(|&s| s < 0) {
        return false;
    }
    let span: usize =
        view.strides[1..].iter().zip(&dims[1..]).map(|(&s, &d)| s.unsigned_abs() * d.saturating_sub(1)).sum();
    let first = first.unsigned_abs();
    let last_of_first_half = view.offset + first * (half - 1) + span;
    let start_of_second_half = view.offset + first * half;
    last_of_first_half < boundary && start_of_second_half >= boundary
}

/// Whether the code generator splits a loop kernel over `dims` between the threads (as
/// `nnc_codegen`'s `parallel::split` decides): large enough, and its halves along the
/// first axis store to disjoint elements, or sum over that axis into partials.
fn loop_splits(dims: &[usize], body: &Body, split_loop_points: usize) -> bool {
    let points = dims.iter().product::<usize>();
    if dims.len() < 2 || dims[0] < 2 || points < split_loop_points {
        return false;
    }
    let disjoint = |store: &Store| first_axis_parts_disjoint(dims, &store.view.strides);
    let summed = |store: &Store| store.combine == Combine::Sum && store.view.strides[0] == 0;
    let gathered = body.nodes.iter().any(|node| matches!(node, Node::Load(view) if view.gather.is_some()));
    let halved_sums = !gathered && dims[0] >= 4 && dims[0].is_multiple_of(2);
    body.stores.iter().all(|store| disjoint(store) || (halved_sums && summed(store)))
}

/// The buffer whose rows a loop kernel writes half on each thread, when the code
/// generator splits it (as `nnc_codegen`'s `parallel::split` does) and it stores one
/// buffer along its first axis, besides any sums over that axis (each thread sums its
/// half into a partial of its own; the caller adds them up).
fn loop_halves(dims: &[usize], body: &Body, split_loop_points: usize) -> Option<(BufferId, Halves)> {
    if !loop_splits(dims, body, split_loop_points) {
        return None;
    }
    let points = dims.iter().product::<usize>();
    let disjoint = |store: &&Store| first_axis_parts_disjoint(dims, &store.view.strides);
    let written: Vec<&Store> = body.stores.iter().filter(disjoint).collect();
    match written.as_slice() {
        [store] => {
            let (stride, offset) = (store.view.strides[0], store.view.offset);
            Some((store.view.buffer, Halves { count: dims[0], stride, offset, elements: points }))
        }
        _ => None,
    }
}

/// Whether the GEMM helper splits `mm` on two threads by rows rather than by columns, as
/// `gemm.rs`'s `split` decides: more rows than columns, or a softmax (whole rows), and no
/// column sums (one writer for each).
fn splits_by_rows(mm: &Matmul) -> bool {
    let finish = mm.finish.as_deref();
    let softmax = finish.is_some_and(|f| f.softmax.is_some());
    (mm.m >= mm.n || softmax) && finish.is_none_or(|f| f.sums.is_none())
}

/// The buffer a product on two threads writes half each: its output, by rows or by
/// columns as `gemm.rs` splits it (not in halves of the sum, which one thread adds up).
fn product_halves(mm: &Matmul) -> Option<(BufferId, Halves)> {
    let Strategy::Library { threads, halves: false } = mm.strategy else { return None };
    let into = mm.accumulate.map(|a| a.into).or(mm.acc)?;
    let elements = mm.m * mm.n;
    let halves = if splits_by_rows(mm) {
        Halves { count: mm.m, stride: mm.n as isize, offset: 0, elements }
    } else {
        Halves { count: mm.n, stride: 1, offset: 0, elements }
    };
    (threads > 1).then_some((into, halves))
}

/// The fewest multiply-adds a product sums in halves (below, it stays as its size puts
/// it: the hand-off costs more than fetching the other core's rows). On a Xeon, while
/// W5's first window copy ran on one thread, its first-convolution gradient (9 × 16 over
/// 2,048 rows, 295 K) took 12–14 µs summed in halves against 6.9–7.6 on one thread, and
/// the limit was 2²⁰. Since loops from 2¹⁴ points are split (`parallel::MIN_POINTS`),
/// both of that product's operands are written in halves; on a Zen 1, summed in halves
/// it took W5's training to 0.93 of its time on one thread (15 paired runs, each run
/// between two of the other binary, sd 0.036), `digits_cnn.nn` to 0.94 and `shapes.nn`
/// (72 × 16 over 576 rows, 664 K) to 0.91. Below 2¹⁸, only `shapes.nn`'s 166 K first
/// gradient changes, and its runs did not tell the two apart.
const HALVES_MIN_MACS: usize = 1 << 18;

/// Puts `mm` on both threads when it reads a buffer the two threads wrote half each, of
/// at least as many elements as a loop kernel the code generator splits (fetching fewer
/// from the other core costs less than handing it half of the product): along the axis
/// `mm` is split on (rows of A or of the mask; columns of B or of the mask), so each
/// thread reads the half it wrote, or along its reduction.
fn follow(mm: &mut Matmul, halves: &HashMap<BufferId, Halves>, threads: usize, split_loop_points: usize) {
    let Strategy::Library { threads: now, .. } = mm.strategy else { return };
    // Whether `view` (`count` long along `axis`, `other` along the other) is read in the
    // halves the threads wrote.
    let along = |view: Option<&View>, axis: usize, count: usize, other: usize| {
        view.is_some_and(|view| {
            halves
                .get(&view.buffer)
                .is_some_and(|h| h.elements >= split_loop_points && h.read_by(view, axis, count, other))
        })
    };
    let mask = mm.finish.as_deref().and_then(|f| f.mask.as_ref());
    let split = if splits_by_rows(mm) {
        along(Some(&mm.a), 0, mm.m, mm.k) || along(mask, 0, mm.m, mm.n)
    } else {
        along(Some(&mm.b), 1, mm.n, mm.k) || along(mask, 1, mm.n, mm.m)
    };
    // The operand's other side: what a split of C would make each thread fetch half of.
    let (a_sum, b_sum) = (along(Some(&mm.a), 1, mm.k, mm.m), along(Some(&mm.b), 0, mm.k, mm.n));
    let other = if a_sum { mm.m } else { mm.n };
    let wants_halves = (a_sum || b_sum) && mm.finish.is_none() && 2 * mm.m * mm.n < mm.k * other;
    // A product too small to sum in halves stays as its size puts it.
    let small = mm.m * mm.n * mm.k < HALVES_MIN_MACS;
    let halves = wants_halves && !small;
    if split || ((a_sum || b_sum) && !(wants_halves && small)) {
        mm.strategy = Strategy::Library { threads: threads.max(now), halves };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: usize = 1 << 15;

    fn view(buffer: u32, strides: Vec<isize>, gather: Option<usize>) -> View {
        View { buffer: BufferId(buffer), offset: 0, strides, gather }
    }

    fn kernel(kind: KernelKind) -> Kernel {
        Kernel { kind, covers: Vec::new(), origins: Vec::new(), spans: Vec::new() }
    }

    /// A copy of `rows` gathered rows of `features` from buffer 0 into buffer 1.
    fn copy(rows: usize, features: usize) -> Kernel {
        let row = vec![features as isize, 1];
        let body = Body {
            nodes: vec![Node::Load(view(0, row.clone(), Some(0)))],
            stores: vec![Store { view: view(1, row, None), value: NodeId(0), combine: Combine::Write }],
        };
        kernel(KernelKind::Loop { dims: vec![rows, features], body })
    }

    /// `into = A·B` on `threads` threads, finished by a bias when `bias`.
    fn product((m, n, k): (usize, usize, usize), a: View, b: View, into: u32, threads: usize, bias: bool) -> Kernel {
        let finish = Finish {
            bias: bias.then(|| view(9, vec![0, 1], None)),
            relu: false,
            mask: None,
            sums: None,
            softmax: None,
        };
        kernel(KernelKind::Matmul(Matmul {
            m,
            n,
            k,
            a,
            b,
            epilogue: Body::default(),
            strategy: Strategy::Library { threads, halves: false },
            acc: Some(BufferId(into)),
            accumulate: None,
            finish: Some(Box::new(finish)).filter(|_| bias),
        }))
    }

    fn strategies(kernels: Vec<Kernel>) -> Vec<Strategy> {
        let mut program = Program { kernels, row_inputs: vec![0], ..Program::default() };
        follow_the_data(&mut program, SPLIT, 2);
        let strategy = |k: &Kernel| match &k.kind {
            KernelKind::Matmul(mm) => Some(mm.strategy),
            KernelKind::Loop { .. } => None,
        };
        program.kernels.iter().filter_map(strategy).collect()
    }

    const ONE: Strategy = Strategy::Library { threads: 1, halves: false };
    const TWO: Strategy = Strategy::Library { threads: 2, halves: false };
    const HALVES: Strategy = Strategy::Library { threads: 2, halves: true };

    #[test]
    fn products_reading_a_copy_both_threads_made_run_on_both() {
        // 128 rows of 784 (the copy is split): the forward product by rows, however small;
        // the weight gradient `Xᵀ·δ` in halves of its sum, unless it is too small for them.
        let kernels = vec![
            copy(128, 784),
            product((128, 16, 784), view(1, vec![784, 1], None), view(2, vec![16, 1], None), 3, 1, true),
            product((784, 16, 128), view(1, vec![1, 784], None), view(4, vec![16, 1], None), 5, 1, false),
            product((784, 1, 128), view(1, vec![1, 784], None), view(4, vec![1, 1], None), 6, 1, false),
        ];
        assert_eq!(strategies(kernels), [TWO, HALVES, ONE]);
    }

    #[test]
    fn a_loop_that_also_sums_its_rows_still_leaves_them_in_halves() {
        // `δ` written by a split loop that sums its columns as it goes (each thread into
        // a partial of its own): the product reading `δ` by rows follows it.
        let row = vec![784, 1];
        let body = Body {
            nodes: vec![Node::Load(view(0, row.clone(), None))],
            stores: vec![
                Store { view: view(1, row, None), value: NodeId(0), combine: Combine::Write },
                Store { view: view(7, vec![0, 1], None), value: NodeId(0), combine: Combine::Sum },
            ],
        };
        let kernels = vec![
            kernel(KernelKind::Loop { dims: vec![128, 784], body }),
            product((128, 16, 784), view(1, vec![784, 1], None), view(2, vec![16, 1], None), 3, 1, true),
        ];
        assert_eq!(strategies(kernels), [TWO]);
    }

    #[test]
    fn a_copy_one_thread_made_changes_nothing() {
        // 32 rows of 784: 25,088 points, made by one thread.
        let kernels = vec![
            copy(32, 784),
            product((32, 64, 784), view(1, vec![784, 1], None), view(2, vec![64, 1], None), 3, 1, true),
            product((784, 64, 32), view(1, vec![1, 784], None), view(4, vec![64, 1], None), 5, 1, false),
        ];
        assert_eq!(strategies(kernels), [ONE, ONE]);
    }

    #[test]
    fn halves_only_when_the_second_sum_is_smaller_than_half_the_operand_and_unfinished() {
        let kernels = vec![
            copy(64, 784),
            // C is 784 × 32, half the copy: split by blocks of C.
            product((784, 32, 64), view(1, vec![1, 784], None), view(4, vec![32, 1], None), 5, 1, false),
            // A finish needs the whole sum.
            product((784, 24, 64), view(1, vec![1, 784], None), view(4, vec![24, 1], None), 6, 1, true),
            product((784, 24, 64), view(1, vec![1, 784], None), view(4, vec![24, 1], None), 7, 1, false),
        ];
        assert_eq!(strategies(kernels), [TWO, TWO, HALVES]);
    }

    #[test]
    fn a_product_by_rows_leads_the_next_when_its_output_is_large() {
        let kernels = vec![
            copy(512, 784),
            // 512 × 64 = 32,768 results, by rows: the next product follows them.
            product((512, 64, 784), view(1, vec![784, 1], None), view(2, vec![64, 1], None), 3, 1, true),
            product((512, 10, 64), view(3, vec![64, 1], None), view(4, vec![10, 1], None), 5, 1, true),
            // 512 × 10 results are too few to follow.
            product((512, 10, 10), view(5, vec![10, 1], None), view(6, vec![10, 1], None), 7, 1, true),
        ];
        assert_eq!(strategies(kernels), [TWO, TWO, ONE]);
    }

    /// `product`, its results kept where `mask` is above 0.
    fn masked(kernel: Kernel, mask: View) -> Kernel {
        let KernelKind::Matmul(mut mm) = kernel.kind else { unreachable!("a product") };
        mm.finish = Some(Box::new(Finish { bias: None, relu: false, mask: Some(mask), sums: None, softmax: None }));
        Kernel { kind: KernelKind::Matmul(mm), ..kernel }
    }

    #[test]
    fn products_follow_the_columns_of_a_product_split_by_columns() {
        // W3's layer of 512 on 128 rows is split by columns (buffer 3); its 10-wide
        // neighbours read those columns: along the reduction (`h·W3`), as the mask of
        // `δ·W3ᵀ` (split by columns too) and along the rows of `hᵀ·δ` (split by rows).
        let kernels = vec![
            product((128, 512, 784), view(1, vec![784, 1], None), view(2, vec![512, 1], None), 3, 2, true),
            product((128, 10, 512), view(3, vec![512, 1], None), view(4, vec![10, 1], None), 5, 1, true),
            masked(
                product((128, 512, 10), view(6, vec![10, 1], None), view(4, vec![1, 10], None), 7, 1, false),
                view(3, vec![512, 1], None),
            ),
            product((512, 10, 128), view(3, vec![1, 512], None), view(6, vec![10, 1], None), 8, 1, false),
        ];
        assert_eq!(strategies(kernels), [TWO, TWO, TWO, TWO]);
    }

    #[test]
    fn columns_are_followed_only_along_the_axis_a_product_is_split_on() {
        let kernels = vec![
            product((128, 512, 784), view(1, vec![784, 1], None), view(2, vec![512, 1], None), 3, 2, true),
            // C has more rows than columns: split by rows, each thread needs every column
            // of B.
            product((1024, 512, 128), view(6, vec![128, 1], None), view(3, vec![512, 1], None), 7, 1, false),
            // Fewer rows than columns: split by columns, each thread reads its own of B.
            product((64, 512, 128), view(6, vec![128, 1], None), view(3, vec![512, 1], None), 10, 1, false),
            // 64 × 256 results by columns are too few to follow.
            product((64, 256, 784), view(1, vec![784, 1], None), view(2, vec![256, 1], None), 8, 2, true),
            product((64, 10, 256), view(8, vec![256, 1], None), view(4, vec![10, 1], None), 9, 1, true),
        ];
        assert_eq!(strategies(kernels), [TWO, ONE, TWO, TWO, ONE]);
    }

    /// W5's im2col: `images` images of 16 windows into rows of `row` values of buffer 1
    /// from `offset` (the loop split by images, each half a contiguous range of rows when
    /// all of each row is `written`).
    fn windows(images: usize, offset: usize, row: usize, written: usize) -> Kernel {
        let dims = vec![images, 16, written];
        let load = view(0, vec![(16 * row) as isize, row as isize, 1], None);
        let store = View { offset, ..view(1, vec![(16 * row) as isize, row as isize, 1], None) };
        let body = Body {
            nodes: vec![Node::Load(load)],
            stores: vec![Store { view: store, value: NodeId(0), combine: Combine::Write }],
        };
        kernel(KernelKind::Loop { dims, body })
    }

    #[test]
    fn a_reduction_over_the_rows_of_ranges_written_by_images_is_summed_in_halves() {
        // The weight gradient `colsᵀ·δ` (144 × 32, k = 512 rows of the 32 images' windows)
        // reads a row of 144 at each step of its sum: the first 256 rows are the ones the
        // first thread wrote (16 images of 16 windows).
        let kernels = vec![
            windows(32, 0, 144, 144),
            product((144, 32, 512), view(1, vec![1, 144], None), view(2, vec![32, 1], None), 3, 2, false),
        ];
        assert_eq!(strategies(kernels), [HALVES]);
    }

    #[test]
    fn ranges_are_not_followed_where_a_step_of_the_sum_crosses_them() {
        let kernels = vec![
            // A row of 144 starting 8 elements into the ranges: each half's boundary moves.
            windows(32, 8, 144, 144),
            product((144, 32, 512), view(1, vec![1, 144], None), view(2, vec![32, 1], None), 3, 1, false),
            // Rows of 72 whose steps of the sum read 144 values: they cross the boundary.
            windows(32, 0, 72, 72),
            product((144, 32, 256), view(1, vec![1, 72], None), view(2, vec![32, 1], None), 4, 1, false),
            // Half of each row written (64 of 128): not ranges of whole rows.
            windows(32, 0, 128, 64),
            product((128, 32, 512), view(1, vec![1, 128], None), view(2, vec![32, 1], None), 5, 1, false),
        ];
        assert_eq!(strategies(kernels), [ONE, ONE, ONE]);
    }

    #[test]
    fn rows_rewritten_by_one_thread_are_not_followed() {
        let mut rewrite = copy(8, 16);
        let KernelKind::Loop { body, .. } = &mut rewrite.kind else { unreachable!() };
        body.stores[0].view = view(1, vec![784, 1], None);
        let kernels = vec![
            copy(128, 784),
            rewrite,
            product((128, 16, 784), view(1, vec![784, 1], None), view(2, vec![16, 1], None), 3, 1, true),
        ];
        assert_eq!(strategies(kernels), [ONE]);
    }

    /// W5's first convolution: `into = cols·W` (2,048 × 16 × 9) on one thread.
    fn convolution(into: u32) -> Kernel {
        product((2048, 16, 9), view(1, vec![9, 1], None), view(2, vec![16, 1], None), into, 1, false)
    }

    /// A loop over `dims` that loads `from` through `strides` and sums into buffer 9, its
    /// first axis kept (so the code generator splits it when it is large enough).
    fn reader(from: u32, dims: Vec<usize>, strides: Vec<isize>) -> Kernel {
        let mut out: Vec<isize> = vec![0; dims.len()];
        out[0] = 1;
        let body = Body {
            nodes: vec![Node::Load(view(from, strides, None))],
            stores: vec![Store { view: view(9, out, None), value: NodeId(0), combine: Combine::Sum }],
        };
        kernel(KernelKind::Loop { dims, body })
    }

    /// W5's first max pool over the convolution's output: [images·rows, columns, 2, 2,
    /// channels] of 32 × 8 × 8 × 16, in halves of the images.
    fn pool(from: u32, images: usize) -> Kernel {
        reader(from, vec![images * 4, 4, 2, 2, 16], vec![256, 32, 128, 16, 1])
    }

    #[test]
    fn a_product_whose_first_reader_is_split_along_its_rows_runs_on_both_threads() {
        assert_eq!(strategies(vec![convolution(3), pool(3, 32)]), [TWO]);
    }

    #[test]
    fn a_reader_that_crosses_the_rows_halves_leaves_the_product_on_one_thread() {
        // Split along the channels: each half reads rows from both halves of the product.
        let across = reader(3, vec![16, 2048], vec![1, 16]);
        assert_eq!(strategies(vec![convolution(3), across]), [ONE]);
    }

    #[test]
    fn a_reader_too_small_to_be_split_leaves_the_product_on_one_thread() {
        assert_eq!(strategies(vec![convolution(3), reader(3, vec![2, 16], vec![16, 1])]), [ONE]);
    }

    #[test]
    fn only_the_first_reader_decides() {
        // A one-thread loop reads the output first: splitting the product would make it
        // fetch half from the other core.
        let first = reader(3, vec![1, 32768], vec![0, 1]);
        assert_eq!(strategies(vec![convolution(3), first, pool(3, 32)]), [ONE]);
    }

    #[test]
    fn the_halves_of_a_product_split_so_are_followed_by_the_next_product() {
        // A product reading the pool's input rows after the pool: it follows the halves.
        let next = product((2048, 4, 16), view(3, vec![16, 1], None), view(4, vec![4, 1], None), 5, 1, false);
        assert_eq!(strategies(vec![convolution(3), pool(3, 32), next]), [TWO, TWO]);
    }
}
