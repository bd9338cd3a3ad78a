//! The kernel IR verifier. It runs on every program the fuser produces.
//!
//! Invariants:
//! - every node refers to earlier nodes; `acc` appears only in matmul epilogues;
//! - every view stays inside its buffer over the kernel's whole iteration space (matmul
//!   operands over `(m, k)` and `(k, n)`), and has one stride per loop axis; a gathered
//!   axis reads a data input;
//! - a scratch buffer is written before any kernel reads it;
//! - a kernel reads a buffer it writes only through the very view it writes (in place),
//!   never a buffer it reduces into, and never a matmul operand it writes;
//! - after a kernel updates a parameter, no later kernel reads it;
//! - scratch buffers live at the same time do not overlap, and all fit the arena.
//!
//! A failure is a compiler bug, never a user error.

use crate::ir::*;
use crate::plan::live_ranges;

/// Checks the invariants above, returning every violation found.
pub fn verify(program: &Program) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut written = vec![false; program.buffers.len()];
    for (index, kernel) in program.kernels.iter().enumerate() {
        let here = format!("k{index}");
        check_nodes(kernel, &here, &mut errors);
        check_bounds(program, kernel, &here, &mut errors);
        check_hazards(kernel, &here, &mut errors);
        for view in kernel.reads() {
            let buffer = program.buffer(view.buffer);
            if matches!(buffer.storage, Storage::Arena(_)) && !written[view.buffer.index()] {
                errors.push(format!("{here} reads {} ({}) before it is written", view.buffer, buffer.name));
            }
        }
        for buffer in kernel.writes() {
            written[buffer.index()] = true;
            if matches!(program.buffer(buffer).storage, Storage::Param(_)) {
                let later =
                    program.kernels[index + 1..].iter().position(|k| k.reads().iter().any(|v| v.buffer == buffer));
                if let Some(later) = later {
                    errors.push(format!("k{} reads {buffer} after {here} updated it", index + 1 + later));
                }
            }
        }
    }
    check_arena(program, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Verifies and panics with the printed program on failure.
pub fn assert_valid(program: &Program) {
    if let Err(errors) = verify(program) {
        panic!("internal compiler error: invalid kernels:\n{}\n{}", errors.join("\n"), crate::print_program(program));
    }
}

fn check_nodes(kernel: &Kernel, here: &str, errors: &mut Vec<String>) {
    let is_matmul = matches!(kernel.kind, KernelKind::Matmul(_));
    let body = kernel.body();
    for (i, node) in body.nodes.iter().enumerate() {
        let defined = |n: &NodeId| (n.0 as usize) < i;
        let ok = match node {
            Node::Acc => is_matmul,
            Node::Unary(_, a) => defined(a),
            Node::Binary(_, a, b) => defined(a) && defined(b),
            Node::Load(_) | Node::Const(_) => true,
        };
        if !ok {
            errors.push(format!("{here} v{i}: bad operand or `acc` outside a matmul"));
        }
    }
    for store in &body.stores {
        if store.value.0 as usize >= body.nodes.len() {
            errors.push(format!("{here}: a store of undefined {}", store.value));
        }
    }
}

/// The largest element a view reaches over `dims`, or why it is malformed.
fn reach(view: &View, dims: &[usize], rows: Option<usize>) -> Result<usize, String> {
    if view.strides.len() != dims.len() {
        return Err(format!("{} strides for {} axes", view.strides.len(), dims.len()));
    }
    let mut last = view.offset as isize;
    for (axis, (&stride, &dim)) in view.strides.iter().zip(dims).enumerate() {
        if stride < 0 {
            return Err("a negative stride".to_string());
        }
        // A gathered axis reads rows of the whole data set, up to `rows`.
        let extent = if view.gather == Some(axis) { rows.unwrap_or(dim) } else { dim };
        last += stride * (extent.max(1) as isize - 1);
    }
    Ok(last as usize)
}

fn check_bounds(program: &Program, kernel: &Kernel, here: &str, errors: &mut Vec<String>) {
    let dims = kernel.dims();
    let mut check = |view: &View, dims: &[usize]| {
        let buffer = program.buffer(view.buffer);
        if view.gather.is_some() && !matches!(buffer.storage, Storage::Input(n) if program.row_inputs.contains(&n)) {
            errors.push(format!("{here}: gathers rows of {} ({}), not a data input", view.buffer, buffer.name));
        }
        match reach(view, dims, None) {
            Ok(last) if last < buffer.len.max(1) => {}
            Ok(last) => errors
                .push(format!("{here}: reads or writes {}[{last}] beyond its {} elements", view.buffer, buffer.len)),
            Err(why) => errors.push(format!("{here}: view of {}: {why}", view.buffer)),
        }
    };
    for node in &kernel.body().nodes {
        if let Node::Load(view) = node {
            check(view, &dims);
        }
    }
    for store in &kernel.body().stores {
        check(&store.view, &dims);
    }
    if let KernelKind::Matmul(mm) = &kernel.kind {
        check(&mm.a, &[mm.m, mm.k]);
        check(&mm.b, &[mm.k, mm.n]);
        if let Some(accumulate) = mm.accumulate {
            let whole = View { buffer: accumulate.into, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
            check(&whole, &[mm.m, mm.n]);
        }
        let library = matches!(mm.strategy, Strategy::Library { .. });
        if (mm.acc.is_some() || mm.accumulate.is_some()) != library || (mm.acc.is_some() && mm.accumulate.is_some()) {
            errors.push(format!("{here}: a library product needs one accumulator buffer, and only it"));
        }
    }
}

fn check_hazards(kernel: &Kernel, here: &str, errors: &mut Vec<String>) {
    let stores = &kernel.body().stores;
    let operands: Vec<BufferId> = match &kernel.kind {
        KernelKind::Matmul(mm) => {
            if let Some(accumulate) = mm.accumulate
                && (accumulate.into == mm.a.buffer || accumulate.into == mm.b.buffer)
            {
                errors.push(format!("{here}: accumulates into {}, an operand of its own product", accumulate.into));
            }
            vec![mm.a.buffer, mm.b.buffer]
        }
        KernelKind::Loop { .. } => Vec::new(),
    };
    for store in stores {
        if operands.contains(&store.view.buffer) {
            errors.push(format!("{here}: writes {}, an operand of its own product", store.view.buffer));
        }
        for node in &kernel.body().nodes {
            let Node::Load(view) = node else { continue };
            if view.buffer != store.view.buffer {
                continue;
            }
            if store.combine != Combine::Write || view != &store.view {
                errors.push(format!("{here}: reads {} through another view than it writes it", view.buffer));
            }
        }
    }
}

fn check_arena(program: &Program, errors: &mut Vec<String>) {
    let ranges = live_ranges(program);
    let placed: Vec<(usize, usize, usize, (usize, usize))> = (0..program.buffers.len())
        .filter_map(|b| match (program.buffers[b].storage, ranges[b]) {
            (Storage::Arena(offset), Some(live)) => Some((b, offset, program.buffers[b].len, live)),
            _ => None,
        })
        .collect();
    for (i, &(b, offset, len, live)) in placed.iter().enumerate() {
        if offset + len > program.arena_len {
            errors.push(format!("b{b} ends past the arena"));
        }
        for &(c, other, other_len, other_live) in &placed[i + 1..] {
            let together = live.0 <= other_live.1 && other_live.0 <= live.1;
            let overlap = offset < other + other_len && other < offset + len;
            if together && overlap {
                errors.push(format!("b{b} and b{c} overlap while both are live"));
            }
        }
    }
}
