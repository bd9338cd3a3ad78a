//! A library product whose whole epilogue is a dense layer's bias and ReLU —
//! `out[i, j] = max(acc + bias[j], 0)`, or without either — or a gradient's ReLU-derivative
//! mask and column sums — `out[i, j] = acc · (m[i, j] > 0)` with `sums[j] += out[i, j]` —
//! is finished by the GEMM kernel on each register block before it is stored: no buffer
//! for the plain product, no pass that reads it back (on W2, 32 × 128 results written,
//! read and written again every step, forward and backward).
//!
//! The epilogue's one written store must write the whole output row-major, and its only
//! other store may be the column sums of the same value; the ReLU must be `max(x, 0)` in
//! that order (`x > 0 ? x : 0`, which the kernels compute exactly, a NaN included); the
//! bias must be a row read the same at every `i`; the mask a matrix laid out as the output.

use crate::ir::*;

pub(crate) fn finish_in_registers(program: &mut Program) {
    for kernel in &mut program.kernels {
        let KernelKind::Matmul(mm) = &mut kernel.kind else { continue };
        if !matches!(mm.strategy, Strategy::Library { .. }) || mm.accumulate.is_some() || mm.acc.is_some() {
            continue;
        }
        let Some((into, finish)) = finishing(mm) else { continue };
        let scratch =
            |b: BufferId| matches!(program.buffers[b.index()].storage, Storage::Arena(_) | Storage::Output(_));
        let view = |v: &Option<View>| v.as_ref().map(|v| v.buffer);
        let reads = [Some(mm.a.buffer), Some(mm.b.buffer), view(&finish.bias), view(&finish.mask)];
        let sums_apart = finish.sums.is_none_or(|s| scratch(s) && s != into && !reads.contains(&Some(s)));
        if !scratch(into) || reads.contains(&Some(into)) || !sums_apart {
            continue;
        }
        mm.epilogue = Body::default();
        mm.acc = Some(into);
        mm.finish = Some(Box::new(finish));
    }
}

/// The buffer the epilogue writes and how, when the epilogue is a bias, a ReLU, a mask,
/// column sums or several of them.
fn finishing(mm: &Matmul) -> Option<(BufferId, Finish)> {
    let (store, sums) = match mm.epilogue.stores.as_slice() {
        [store] => (store, None),
        [x, y] => match (column_sums(mm.n, x, y), column_sums(mm.n, y, x)) {
            (Some(sums), _) => (x, Some(sums)),
            (_, Some(sums)) => (y, Some(sums)),
            _ => return None,
        },
        _ => return None,
    };
    let whole = [mm.n as isize, 1];
    let writes_whole = store.combine == Combine::Write && store.view.strides == whole && store.view.offset == 0;
    if !writes_whole || store.view.gather.is_some() {
        return None;
    }
    let node = |id: NodeId| &mm.epilogue.nodes[id.0 as usize];
    let (value, mask) = match node(store.value) {
        Node::Binary(Binary::Mul, x, y) => match (positive(&mm.epilogue, *y, mm.n), positive(&mm.epilogue, *x, mm.n)) {
            (Some(mask), _) => (*x, Some(mask)),
            (_, Some(mask)) => (*y, Some(mask)),
            _ => (store.value, None),
        },
        _ => (store.value, None),
    };
    let (value, relu) = match node(value) {
        Node::Binary(Binary::Max, x, zero) if *node(*zero) == Node::Const(0.0) => (*x, true),
        _ => (value, false),
    };
    let bias = acc_plus_bias(&mm.epilogue, value)?;
    let finish = Finish { bias, relu, mask, sums, softmax: None };
    (finish.bias.is_some() || relu || finish.mask.is_some() || sums.is_some()).then_some((store.view.buffer, finish))
}

/// The buffer `sum` adds `whole`'s value into at `[j]` for every row: a column sum.
fn column_sums(n: usize, whole: &Store, sum: &Store) -> Option<BufferId> {
    let row = sum.view.strides == [0, 1] && sum.view.offset == 0 && sum.view.gather.is_none();
    let same = whole.value == sum.value && whole.view.buffer != sum.view.buffer;
    (sum.combine == Combine::Sum && row && same && n > 0).then_some(sum.view.buffer)
}

/// The mask `m` of `m > 0`, when `id` is that comparison of a load laid out as the output.
fn positive(body: &Body, id: NodeId, n: usize) -> Option<View> {
    let node = |id: NodeId| &body.nodes[id.0 as usize];
    let Node::Binary(Binary::CmpGt, m, zero) = node(id) else { return None };
    match (node(*m), node(*zero)) {
        (Node::Load(m), Node::Const(0.0)) if m.strides == [n as isize, 1] && m.gather.is_none() => Some(m.clone()),
        _ => None,
    }
}

/// Node `id` as `acc` (`Some(None)`) or `acc + bias[j]` (`Some(Some(bias))`, the bias a
/// row read the same at every `i`), else `None`.
pub(crate) fn acc_plus_bias(body: &Body, id: NodeId) -> Option<Option<View>> {
    let node = |id: NodeId| &body.nodes[id.0 as usize];
    match node(id) {
        Node::Acc => Some(None),
        Node::Binary(Binary::Add, a, b) => match (node(*a), node(*b)) {
            (Node::Acc, Node::Load(row)) | (Node::Load(row), Node::Acc) if is_row(row) => Some(Some(row.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// A view that reads element `j` of one row at every `(i, j)`.
fn is_row(view: &View) -> bool {
    view.strides == [0, 1] && view.gather.is_none()
}
