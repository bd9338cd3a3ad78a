//! A softmax over the rows of a library product, finished by the GEMM kernel on each block
//! of rows it has just stored, instead of by a loop kernel that reads the product back.
//!
//! A softmax (and the softmax cross-entropy) lowers to two kernels: the product, whose
//! epilogue adds the bias and keeps each row's maximum, then a loop that computes
//! `exp(z − max)` and each row's sum of them. The loop cannot join the product's epilogue,
//! because every element needs its row's whole maximum first. The kernel can: a block of
//! whole rows is still in L1 when it is stored, so it finds the maximum, the exponentials
//! and their sums in one more pass over it (W2: the 32 × 10 logits). What else the
//! epilogue computed from `z` (a loss's `Σ_j y · z`) runs over the stored `z` afterwards.
//!
//! The pattern, kernel `k` then kernel `k + 1`:
//! - `k`: a library product whose epilogue writes the plain product `acc` whole to a
//!   scratch buffer `Z`, and stores `v = acc + bias[j]` (or `v = acc`) to `M[i]` with
//!   `Combine::Max`; any other store reads `acc` only through `v`;
//! - `k + 1`: a loop over the product's shape whose only stores are
//!   `e = exp((Z[i, j] + bias[j]) − M[i])`, written whole to `X` and summed into `S[i]`;
//! - `Z` is read by no other kernel, and `Z`, `M`, `X` and `S` are distinct scratch
//!   buffers the product's operands do not read.
//!
//! Then `k` finishes `Z = v` with the softmax `(M, X, S)`, its epilogue keeps the other
//! stores with `v` as the finished element, and `k + 1` is gone.

use crate::ir::*;

pub(crate) fn softmax_in_registers(program: &mut Program) {
    let mut index = 0;
    while index + 1 < program.kernels.len() {
        if let Some(found) = matching(program, index) {
            rewrite(program, index, found);
        }
        index += 1;
    }
}

/// What the two kernels compute, when they are the pattern.
struct Found {
    z: BufferId,
    bias: Option<View>,
    softmax: Softmax,
    /// The epilogue's node `v` (the finished element).
    value: NodeId,
    /// The epilogue's stores other than `Z`'s and `M`'s.
    rest: Vec<Store>,
}

fn matching(program: &Program, index: usize) -> Option<Found> {
    let KernelKind::Matmul(mm) = &program.kernels[index].kind else { return None };
    let KernelKind::Loop { dims, body } = &program.kernels[index + 1].kind else { return None };
    let library = matches!(mm.strategy, Strategy::Library { .. });
    if !library || mm.accumulate.is_some() || mm.acc.is_some() || mm.finish.is_some() || dims != &[mm.m, mm.n] {
        return None;
    }
    let epilogue = &mm.epilogue;
    let node = |id: NodeId| &epilogue.nodes[id.0 as usize];
    let whole = [mm.n as isize, 1];
    let plain = epilogue
        .stores
        .iter()
        .position(|s| *node(s.value) == Node::Acc && s.combine == Combine::Write && laid_out(&s.view, &whole))?;
    let max = epilogue.stores.iter().position(|s| s.combine == Combine::Max && laid_out(&s.view, &[1, 0]))?;
    let (z, m, value) =
        (epilogue.stores[plain].view.buffer, epilogue.stores[max].view.buffer, epilogue.stores[max].value);
    let bias = crate::finish::acc_plus_bias(epilogue, value)?;
    let rest: Vec<Store> = (epilogue.stores.iter().enumerate())
        .filter(|(i, _)| *i != plain && *i != max)
        .map(|(_, s)| s.clone())
        .collect();
    if rest.iter().any(|s| reads_acc_apart_from(epilogue, s.value, value)) {
        return None;
    }
    let (x, s) = exponentials(body, z, m, bias.as_ref(), &whole)?;
    let softmax = Softmax { max: m, exps: x, total: s };
    let buffers = [z, m, x, s];
    let distinct = (0..4).all(|i| (i + 1..4).all(|j| buffers[i] != buffers[j]));
    let scratch = buffers.iter().all(|b| matches!(program.buffers[b.index()].storage, Storage::Arena(_)));
    let operands = [Some(mm.a.buffer), Some(mm.b.buffer), bias.as_ref().map(|b| b.buffer)];
    let apart = buffers.iter().all(|b| !operands.contains(&Some(*b)));
    let rest_apart = rest.iter().all(|store| {
        let reads = reads_of(epilogue, store.value);
        buffers.iter().all(|b| store.view.buffer != *b && !reads.contains(b))
    });
    let z_private = (program.kernels.iter().enumerate())
        .all(|(i, k)| i == index || i == index + 1 || !k.reads().iter().any(|v| v.buffer == z));
    (distinct && scratch && apart && rest_apart && z_private).then_some(Found { z, bias, softmax, value, rest })
}

/// `(X, S)` when the loop's only stores are `e = exp((Z + bias) − M)` written whole to `X`
/// and summed along rows into `S`.
fn exponentials(
    body: &Body,
    z: BufferId,
    m: BufferId,
    bias: Option<&View>,
    whole: &[isize; 2],
) -> Option<(BufferId, BufferId)> {
    let [first, second] = body.stores.as_slice() else { return None };
    let (written, summed) = if first.combine == Combine::Write { (first, second) } else { (second, first) };
    let shapes = written.combine == Combine::Write && laid_out(&written.view, whole);
    let sums = summed.combine == Combine::Sum && laid_out(&summed.view, &[1, 0]);
    if !shapes || !sums || written.value != summed.value {
        return None;
    }
    let node = |id: NodeId| &body.nodes[id.0 as usize];
    let Node::Unary(Unary::Exp, difference) = node(written.value) else { return None };
    let Node::Binary(Binary::Sub, logit, maximum) = node(*difference) else { return None };
    let loads = |id: NodeId, buffer: BufferId, strides: &[isize]| matches!(node(id), Node::Load(v) if v.buffer == buffer && laid_out(v, strides));
    let logit_matches = match (bias, node(*logit)) {
        (None, _) => loads(*logit, z, whole),
        (Some(bias), Node::Binary(Binary::Add, a, b)) => {
            let is_bias = |id: NodeId| matches!(node(id), Node::Load(v) if v == bias);
            (loads(*a, z, whole) && is_bias(*b)) || (is_bias(*a) && loads(*b, z, whole))
        }
        _ => false,
    };
    (logit_matches && loads(*maximum, m, &[1, 0])).then_some((written.view.buffer, summed.view.buffer))
}

/// The product finishes `Z` with the softmax; the epilogue keeps the other stores, reading
/// the finished element as `Acc`; the loop is gone, its values now the product's.
fn rewrite(program: &mut Program, index: usize, found: Found) {
    let looped = program.kernels.remove(index + 1);
    let kernel = &mut program.kernels[index];
    let KernelKind::Matmul(mm) = &mut kernel.kind else { unreachable!("matched as a product") };
    let mut nodes = mm.epilogue.nodes.clone();
    nodes[found.value.0 as usize] = Node::Acc;
    mm.epilogue = compacted(Body { nodes, stores: found.rest });
    mm.acc = Some(found.z);
    mm.finish =
        Some(Box::new(Finish { bias: found.bias, relu: false, mask: None, sums: None, softmax: Some(found.softmax) }));
    kernel.absorb(looped);
}

/// Whether `id` reaches an `Acc` node other than through `through`.
fn reads_acc_apart_from(body: &Body, id: NodeId, through: NodeId) -> bool {
    if id == through {
        return false;
    }
    match &body.nodes[id.0 as usize] {
        Node::Acc => true,
        Node::Unary(_, a) => reads_acc_apart_from(body, *a, through),
        Node::Binary(_, a, b) => reads_acc_apart_from(body, *a, through) || reads_acc_apart_from(body, *b, through),
        Node::Load(_) | Node::Const(_) | Node::Random { .. } => false,
    }
}

/// The buffers node `id` reads, through its operands.
fn reads_of(body: &Body, id: NodeId) -> Vec<BufferId> {
    match &body.nodes[id.0 as usize] {
        Node::Load(view) => vec![view.buffer],
        Node::Unary(_, a) => reads_of(body, *a),
        Node::Binary(_, a, b) => [reads_of(body, *a), reads_of(body, *b)].concat(),
        Node::Random { seed, .. } => reads_of(body, *seed),
        Node::Acc | Node::Const(_) => Vec::new(),
    }
}

/// The body with only the nodes its stores reach, renumbered in their order.
fn compacted(body: Body) -> Body {
    let mut used = vec![false; body.nodes.len()];
    let mut stack: Vec<NodeId> = body.stores.iter().map(|s| s.value).collect();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut used[id.0 as usize], true) {
            continue;
        }
        match &body.nodes[id.0 as usize] {
            Node::Unary(_, a) => stack.push(*a),
            Node::Binary(_, a, b) => stack.extend([*a, *b]),
            Node::Random { seed, .. } => stack.push(*seed),
            Node::Load(_) | Node::Const(_) | Node::Acc => {}
        }
    }
    let mut renumbered = vec![NodeId(0); body.nodes.len()];
    let mut nodes = Vec::new();
    for (old, node) in body.nodes.into_iter().enumerate() {
        if !used[old] {
            continue;
        }
        renumbered[old] = NodeId(nodes.len() as u32);
        let new = |id: &NodeId| renumbered[id.0 as usize];
        nodes.push(match node {
            Node::Unary(op, a) => Node::Unary(op, new(&a)),
            Node::Binary(op, a, b) => Node::Binary(op, new(&a), new(&b)),
            Node::Random { salt, seed, offset, strides } => Node::Random { salt, seed: new(&seed), offset, strides },
            other => other,
        });
    }
    let stores = body.stores.into_iter().map(|s| Store { value: renumbered[s.value.0 as usize], ..s }).collect();
    Body { nodes, stores }
}

/// A view with these strides from the buffer's start, not gathered.
fn laid_out(view: &View, strides: &[isize]) -> bool {
    view.strides == strides && view.offset == 0 && view.gather.is_none()
}
