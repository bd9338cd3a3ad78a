//! The buffer plan: where each scratch buffer lives in the arena.
//!
//! Every scratch buffer is live from the first kernel that writes it to the last kernel
//! that reads it. Buffers are placed in decreasing size, each at the lowest offset that
//! overlaps no placed buffer live at the same time (the offline best fit of XLA's heap
//! simulator), at 64-byte boundaries. A training step writes every scratch buffer before
//! reading it, so the same arena serves every step.

use crate::ir::*;

/// Elements per alignment unit: 16 floats are 64 bytes, a cache line.
const ALIGN: usize = 16;

/// A library product writes its result to a buffer before the epilogue runs over it:
/// the buffer the epilogue already stores the plain product to, or a new one.
pub(crate) fn give_library_products_an_accumulator(program: &mut Program) {
    for index in 0..program.kernels.len() {
        let KernelKind::Matmul(mm) = &program.kernels[index].kind else { continue };
        if !matches!(mm.strategy, Strategy::Library { .. }) || mm.accumulate.is_some() || mm.acc.is_some() {
            continue;
        }
        let whole = vec![mm.n as isize, 1];
        let plain = mm.epilogue.stores.iter().position(|s| {
            mm.epilogue.nodes[s.value.0 as usize] == Node::Acc
                && s.combine == Combine::Write
                && s.view.strides == whole
                && s.view.offset == 0
                && matches!(program.buffers[s.view.buffer.index()].storage, Storage::Arena(_) | Storage::Output(_))
        });
        let len = mm.m * mm.n;
        let acc = match plain {
            Some(position) => {
                let KernelKind::Matmul(mm) = &mut program.kernels[index].kind else { unreachable!() };
                mm.epilogue.stores.remove(position).view.buffer
            }
            None => {
                program.buffers.push(Buffer { name: format!("k{index}.acc"), len, storage: Storage::Arena(0) });
                BufferId(program.buffers.len() as u32 - 1)
            }
        };
        let KernelKind::Matmul(mm) = &mut program.kernels[index].kind else { unreachable!() };
        mm.acc = Some(acc);
    }
}

/// `[first, last]` kernel indices during which each scratch buffer holds a value.
pub fn live_ranges(program: &Program) -> Vec<Option<(usize, usize)>> {
    let mut ranges: Vec<Option<(usize, usize)>> = vec![None; program.buffers.len()];
    for (index, kernel) in program.kernels.iter().enumerate() {
        let touched = kernel.writes().into_iter().chain(kernel.reads().into_iter().map(|v| v.buffer));
        for buffer in touched {
            if matches!(program.buffers[buffer.index()].storage, Storage::Arena(_)) {
                let range = &mut ranges[buffer.index()];
                *range = Some(range.map_or((index, index), |(first, _)| (first, index)));
            }
        }
    }
    ranges
}

/// Places every scratch buffer and sets the arena's size.
pub(crate) fn place_arena(program: &mut Program) {
    let ranges = live_ranges(program);
    let mut order: Vec<usize> = (0..program.buffers.len()).filter(|&b| ranges[b].is_some()).collect();
    order.sort_by_key(|&b| (std::cmp::Reverse(program.buffers[b].len), b));
    let mut placed: Vec<(usize, usize, (usize, usize))> = Vec::new();
    let mut arena_len = 0;
    for b in order {
        let len = program.buffers[b].len.div_ceil(ALIGN) * ALIGN;
        let live = ranges[b].expect("filtered above");
        let mut conflicts: Vec<(usize, usize)> = placed
            .iter()
            .filter(|(_, _, other)| live.0 <= other.1 && other.0 <= live.1)
            .map(|&(offset, size, _)| (offset, size))
            .collect();
        conflicts.sort_unstable();
        let mut offset = 0;
        for (start, size) in conflicts {
            if offset + len <= start {
                break;
            }
            offset = offset.max(start + size);
        }
        placed.push((offset, len, live));
        program.buffers[b].storage = Storage::Arena(offset);
        arena_len = arena_len.max(offset + len);
    }
    // Buffers no kernel touches need no room.
    for (b, range) in ranges.iter().enumerate() {
        if range.is_none() && matches!(program.buffers[b].storage, Storage::Arena(_)) {
            program.buffers[b].storage = Storage::Arena(0);
        }
    }
    program.arena_len = arena_len;
}
