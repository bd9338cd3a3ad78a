//! A library product whose whole epilogue is a dense layer's bias and ReLU —
//! `out[i, j] = max(acc + bias[j], 0)`, or without either — is finished by the GEMM
//! kernel on each register block before it is stored: no buffer for the plain product,
//! no pass that reads it back (on W2, 32 × 128 results written, read and written again
//! every step).
//!
//! The epilogue's one store must write the whole output row-major; the ReLU must be
//! `max(x, 0)` in that order (`x > 0 ? x : 0`, which the kernels compute exactly, a NaN
//! included); the bias must be a row read the same at every `i`.

use crate::ir::*;

pub(crate) fn finish_in_registers(program: &mut Program) {
    for kernel in &mut program.kernels {
        let KernelKind::Matmul(mm) = &mut kernel.kind else { continue };
        if !matches!(mm.strategy, Strategy::Library { .. }) || mm.accumulate.is_some() || mm.acc.is_some() {
            continue;
        }
        let Some((into, finish)) = finishing(mm) else { continue };
        let storage = &program.buffers[into.index()].storage;
        let operand = [Some(mm.a.buffer), Some(mm.b.buffer), finish.bias.as_ref().map(|b| b.buffer)];
        if !matches!(storage, Storage::Arena(_) | Storage::Output(_)) || operand.contains(&Some(into)) {
            continue;
        }
        mm.epilogue = Body::default();
        mm.acc = Some(into);
        mm.finish = Some(Box::new(finish));
    }
}

/// The buffer the epilogue writes and how, when the epilogue is a bias, a ReLU or both.
fn finishing(mm: &Matmul) -> Option<(BufferId, Finish)> {
    let [store] = mm.epilogue.stores.as_slice() else { return None };
    let whole = [mm.n as isize, 1];
    let writes_whole = store.combine == Combine::Write && store.view.strides == whole && store.view.offset == 0;
    if !writes_whole || store.view.gather.is_some() {
        return None;
    }
    let node = |id: NodeId| &mm.epilogue.nodes[id.0 as usize];
    let (value, relu) = match node(store.value) {
        Node::Binary(Binary::Max, x, zero) if *node(*zero) == Node::Const(0.0) => (*x, true),
        _ => (store.value, false),
    };
    let bias = match node(value) {
        Node::Acc => None,
        Node::Binary(Binary::Add, a, b) => match (node(*a), node(*b)) {
            (Node::Acc, Node::Load(row)) | (Node::Load(row), Node::Acc) if is_row(row) => Some(row.clone()),
            _ => return None,
        },
        _ => return None,
    };
    (bias.is_some() || relu).then_some((store.view.buffer, Finish { bias, relu }))
}

/// A view that reads element `j` of one row at every `(i, j)`.
fn is_row(view: &View) -> bool {
    view.strides == [0, 1] && view.gather.is_none()
}
