//! The kernel IR verifier. It runs on every program the fuser produces.
//!
//! Invariants:
//! - every node refers to earlier nodes; `acc` appears only in matmul epilogues;
//! - every view stays inside its buffer over the kernel's whole iteration space (matmul
//!   operands over `(m, k)` and `(k, n)`, a library product's output over `(m, n)`), in
//!   64-bit arithmetic that is checked for overflow, and has one stride per loop axis;
//! - a gathered axis reads a data input, and (given the data set's size, [`DataBound`])
//!   stays inside the whole data set for every row the row table may name;
//! - no kernel writes an input: inputs are the caller's, shared, buffers;
//! - a scratch buffer is written before any kernel reads it;
//! - a kernel reads a buffer it writes only through the very view it writes (in place),
//!   never a buffer it reduces into, and never a matmul operand it writes;
//! - after a kernel updates a parameter, no later kernel reads it;
//! - scratch buffers live at the same time do not overlap, and all fit the arena;
//! - every input, parameter and output buffer fits the length the program declares to its
//!   caller (`input_lens`, `param_lens`, `outputs`), which the caller's buffers are checked
//!   against.
//!
//! A failure is a compiler bug, never a user error.

use crate::ir::*;
use crate::plan::live_ranges;

/// The data a training loop binds to a program's row inputs: `rows` rows of the whole data
/// set, and the element count of each row input bound (`(input, elements)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataBound {
    pub rows: usize,
    pub lens: Vec<(u32, usize)>,
}

/// Checks the invariants above, returning every violation found.
pub fn verify(program: &Program) -> Result<(), Vec<String>> {
    verify_with(program, None)
}

/// [`verify`], with gathered reads checked against the data set `bound` describes (for a
/// training step, which reads rows of the whole data set through the row table).
pub fn verify_with(program: &Program, bound: Option<&DataBound>) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut written = vec![false; program.buffers.len()];
    for (index, kernel) in program.kernels.iter().enumerate() {
        let here = format!("k{index}");
        check_nodes(kernel, &here, &mut errors);
        check_bounds(program, kernel, bound, &here, &mut errors);
        check_hazards(kernel, &here, &mut errors);
        for view in kernel.reads() {
            let buffer = program.buffer(view.buffer);
            if matches!(buffer.storage, Storage::Arena(_)) && !written[view.buffer.index()] {
                errors.push(format!("{here} reads {} ({}) before it is written", view.buffer, buffer.name));
            }
        }
        for buffer in kernel.writes() {
            written[buffer.index()] = true;
            if matches!(program.buffer(buffer).storage, Storage::Input(_)) {
                errors.push(format!("{here} writes {buffer} ({}), an input", program.buffer(buffer).name));
            }
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
    check_declared(program, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn check_declared(program: &Program, errors: &mut Vec<String>) {
    let ranges = live_ranges(program);
    for (index, buffer) in program.buffers.iter().enumerate() {
        // Scratch no kernel touches has no place in the arena (a pass removed its uses).
        if matches!(buffer.storage, Storage::Arena(_)) && ranges[index].is_none() {
            continue;
        }
        let declared = match buffer.storage {
            Storage::Input(n) => program.input_lens.get(n as usize).copied(),
            Storage::Param(n) => program.param_lens.get(n as usize).copied(),
            Storage::Output(n) => program.outputs.get(n as usize).map(|(_, len)| *len),
            Storage::Arena(offset) => program.arena_len.checked_sub(offset),
        };
        match declared {
            Some(declared) if buffer.len <= declared => {}
            Some(declared) => errors.push(format!("b{index} has {} elements, {declared} declared", buffer.len)),
            None => errors.push(format!("b{index} ({}) is bound to nothing the program declares", buffer.name)),
        }
    }
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
            // The element index is hashed as a u32.
            Node::Random { seed, offset, strides, .. } => {
                let index = View { buffer: BufferId(0), offset: *offset, strides: strides.clone(), gather: None };
                defined(seed)
                    && reach(&index, &kernel.dims(), None).is_ok_and(|r| r.is_none_or(|r| r <= u64::from(u32::MAX)))
            }
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

/// The largest element a view reaches over `dims` (a gathered axis over `rows` rows when
/// given), or why it is malformed; `None` for an empty iteration space, which reaches
/// nothing.
fn reach(view: &View, dims: &[usize], rows: Option<usize>) -> Result<Option<u64>, String> {
    if view.strides.len() != dims.len() {
        return Err(format!("{} strides for {} axes", view.strides.len(), dims.len()));
    }
    if dims.contains(&0) {
        return Ok(None);
    }
    let overflow = || "its extent overflows 64 bits".to_string();
    let mut last = u64::try_from(view.offset).map_err(|_| overflow())?;
    for (axis, (&stride, &dim)) in view.strides.iter().zip(dims).enumerate() {
        let stride = u64::try_from(stride).map_err(|_| "a negative stride".to_string())?;
        // A gathered axis reads rows of the whole data set, up to `rows`.
        let extent = if view.gather == Some(axis) { rows.unwrap_or(dim) } else { dim };
        let span = stride.checked_mul(extent.saturating_sub(1) as u64).ok_or_else(overflow)?;
        last = last.checked_add(span).ok_or_else(overflow)?;
    }
    Ok(Some(last))
}

fn check_bounds(program: &Program, kernel: &Kernel, bound: Option<&DataBound>, here: &str, errors: &mut Vec<String>) {
    let dims = kernel.dims();
    let mut check = |view: &View, dims: &[usize]| {
        let buffer = program.buffer(view.buffer);
        let row_input = match buffer.storage {
            Storage::Input(n) if program.row_inputs.contains(&n) => Some(n),
            _ => None,
        };
        if view.gather.is_some() && row_input.is_none() {
            errors.push(format!("{here}: gathers rows of {} ({}), not a data input", view.buffer, buffer.name));
        }
        // A gathered view of a training step reads the whole data set the loop binds.
        let bound_len = |n: u32| bound?.lens.iter().find(|(input, _)| *input == n).map(|(_, len)| *len);
        let (rows, len) = match (view.gather, row_input.and_then(bound_len)) {
            (Some(_), Some(len)) => (bound.map(|b| b.rows), len),
            _ => (None, buffer.len),
        };
        match reach(view, dims, rows) {
            Ok(None) => {}
            Ok(Some(last)) if last < len as u64 => {}
            Ok(Some(last)) => {
                errors.push(format!("{here}: reads or writes {}[{last}] beyond its {len} elements", view.buffer))
            }
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
        // The library writes the whole (m, n) output, row-major.
        for output in mm.accumulate.map(|a| a.into).into_iter().chain(mm.acc) {
            let whole = View { buffer: output, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
            check(&whole, &[mm.m, mm.n]);
        }
        if let Some(finish) = &mm.finish {
            if let Some(bias) = &finish.bias {
                check(bias, &[mm.m, mm.n]);
            }
            if let Some(mask) = &finish.mask {
                check(mask, &[mm.m, mm.n]);
            }
            if let Some(sums) = finish.sums {
                check(&View { buffer: sums, offset: 0, strides: vec![0, 1], gather: None }, &[mm.m, mm.n]);
            }
            if let Some(softmax) = finish.softmax {
                for (buffer, strides) in
                    [(softmax.max, [1, 0]), (softmax.total, [1, 0]), (softmax.exps, [mm.n as isize, 1])]
                {
                    check(&View { buffer, offset: 0, strides: strides.to_vec(), gather: None }, &[mm.m, mm.n]);
                }
            }
            let mask_laid_out = finish.mask.as_ref().is_none_or(|m| m.strides == [mm.n as isize, 1]);
            let bias_a_row = finish.bias.as_ref().is_none_or(|b| b.strides == [0, 1]);
            if !mask_laid_out || !bias_a_row || finish.bias.iter().chain(&finish.mask).any(|v| v.gather.is_some()) {
                errors.push(format!("{here}: a product finished in registers reads a bias row and a mask as laid out"));
            }
            // Only a softmax leaves an epilogue to run over the finished product.
            if mm.acc.is_none() || (finish.softmax.is_none() && !mm.epilogue.stores.is_empty()) {
                errors.push(format!("{here}: a product finished in registers writes its accumulator, and only it"));
            }
            if finish.softmax.is_some() && (finish.sums.is_some() || finish.mask.is_some() || finish.relu) {
                errors.push(format!("{here}: a softmax in registers finishes a product with at most a bias"));
            }
            let view = |v: &Option<View>| v.as_ref().map(|v| v.buffer);
            let reads = [Some(mm.a.buffer), Some(mm.b.buffer), view(&finish.bias), view(&finish.mask)];
            let mut written: Vec<BufferId> = mm.acc.into_iter().chain(finish.writes()).collect();
            let stored: Vec<BufferId> = mm.epilogue.stores.iter().map(|s| s.view.buffer).collect();
            let clobbered = finish.writes().iter().any(|w| stored.contains(w));
            let read_back = written.iter().any(|w| reads.contains(&Some(*w)));
            written.sort_unstable();
            written.dedup();
            if read_back || clobbered || written.len() != 1 + finish.writes().len() {
                errors.push(format!("{here}: a product finished in registers writes a buffer it reads, or one twice"));
            }
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
        if offset.checked_add(len).is_none_or(|end| end > program.arena_len) {
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
