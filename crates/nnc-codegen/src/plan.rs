//! The buffer plan and calling convention of a compiled graph.
//!
//! A compiled function has the signature `extern "C" fn(slots: *const *mut f32)`. The
//! slots are, in order: one per graph input, one per parameter, one per output, and last
//! one scratch arena. Every non-leaf value lives at a fixed offset in the arena, decided
//! here at compile time, so a call allocates nothing.

use nnc_ir::{Graph, Op};

/// Where a value's elements live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// In the caller's buffer for slot `n`.
    Slot(usize),
    /// In the scratch arena at this element offset.
    Scratch(usize),
}

/// The calling convention and buffer plan of one compiled graph.
#[derive(Clone, Debug)]
pub struct Plan {
    pub n_inputs: usize,
    pub n_params: usize,
    pub n_outputs: usize,
    pub locations: Vec<Location>,
    /// Elements of scratch the caller must provide.
    pub scratch_len: usize,
}

impl Plan {
    pub fn new(graph: &Graph) -> Plan {
        let (n_inputs, n_params) = (graph.inputs.len(), graph.params.len());
        let mut scratch_len = 0;
        let mut locations = Vec::with_capacity(graph.insts.len());
        for inst in &graph.insts {
            let location = match inst.op {
                Op::Input(slot) => Location::Slot(slot as usize),
                Op::Param(slot) => Location::Slot(n_inputs + slot as usize),
                // A reshape reads the same elements in the same order: share the buffer.
                Op::Reshape => locations[inst.args[0].index()],
                _ => {
                    let offset = scratch_len;
                    scratch_len += inst.shape.numel();
                    Location::Scratch(offset)
                }
            };
            locations.push(location);
        }
        Plan { n_inputs, n_params, n_outputs: graph.outputs.len(), locations, scratch_len }
    }

    pub fn output_slot(&self, output: usize) -> usize {
        self.n_inputs + self.n_params + output
    }

    pub fn scratch_slot(&self) -> usize {
        self.n_inputs + self.n_params + self.n_outputs
    }

    pub fn n_slots(&self) -> usize {
        self.scratch_slot() + 1
    }
}
