//! The whole training run in native code: a loop function runs epochs × batches and
//! calls a step function (and one for the smaller last step) that reads data rows through
//! the epoch's row order and the step's learning rate from a table. Rust is entered once
//! per epoch, through a callback that records the loss, validates, decides whether to go
//! on, and writes the next epoch's row order and rates. The steps are functions of their
//! own, not inlined, so that Cranelift compiles them in parallel; a call costs a few
//! nanoseconds a step. A large step is several functions (pieces, [`StepPiece`]) called
//! in turn, for the same reason.
//!
//! ```text
//! extern "C" fn(context: *const LoopContext) -> i32   // 0 done, else the callback's code
//! extern "C" fn(context: *const LoopContext, first_row: u64, step: u64)   // one step
//! ```

use crate::emit::{Emitter, Helpers, Place};
use crate::program::{emit_kernels, written};
use cranelift::prelude::*;
use cranelift_codegen::ir::{BlockArg, FuncRef, MemFlagsData, SigRef};
use nnc_kernels::{Program, Storage};

/// What the generated loop reads, in this order (8 bytes each).
#[repr(C)]
pub struct LoopContext {
    pub x: *const f32,
    pub y: *const f32,
    /// Row order of the current epoch (`rows` entries); unused when one batch holds every
    /// row, which is never shuffled.
    pub perm: *const u32,
    /// Each step's scalar inputs for the current epoch: its learning rate, then, for a
    /// seeded loop, its seed (`LoopShape::step_inputs` numbers per step).
    pub lr: *const f32,
    /// One pointer per parameter (and optimizer state).
    pub params: *const *mut f32,
    pub arena: *mut f32,
    /// Where a step writes its loss.
    pub loss: *mut f32,
    pub epochs: u64,
    pub callback: unsafe extern "C" fn(*mut std::ffi::c_void, u64, f64) -> i32,
    pub user: *mut std::ffi::c_void,
    /// Polled after every step: non-zero stops the loop (returning 2).
    pub interrupt: *const u32,
}

/// The shape of a training loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopShape {
    /// Training rows.
    pub rows: usize,
    /// Rows per full step.
    pub batch: usize,
    /// Values per row of the inputs and of the targets.
    pub x_width: usize,
    pub y_width: usize,
    /// Whether a step draws random numbers (dropout): it then reads a seed per step,
    /// beside its learning rate.
    pub seeded: bool,
}

impl LoopShape {
    /// Scalar inputs per step in the rate table: the learning rate, and the seed.
    pub fn step_inputs(&self) -> usize {
        1 + usize::from(self.seeded)
    }

    pub fn full_steps(&self) -> usize {
        self.rows / self.batch
    }

    pub fn tail_rows(&self) -> usize {
        self.rows % self.batch
    }

    /// Steps per epoch, counting the smaller last one.
    pub fn steps(&self) -> usize {
        self.full_steps() + usize::from(self.tail_rows() > 0)
    }
}

/// Return code when the interrupt flag stopped the loop.
pub const INTERRUPTED: i32 = 2;

/// The context fields a step reads.
struct Fields {
    x: Value,
    y: Value,
    perm: Value,
    lr: Value,
    params: Vec<Value>,
    arena: Value,
    loss: Value,
}

/// Field `index` of the context (they are all 8 bytes).
fn field(b: &mut FunctionBuilder, context: Value, index: i32) -> Value {
    b.ins().load(types::I64, MemFlagsData::trusted(), context, index * 8)
}

fn step_fields(b: &mut FunctionBuilder, context: Value, n_params: usize) -> Fields {
    let (x, y, perm, lr, params, arena, loss) = (
        field(b, context, 0),
        field(b, context, 1),
        field(b, context, 2),
        field(b, context, 3),
        field(b, context, 4),
        field(b, context, 5),
        field(b, context, 6),
    );
    let params =
        (0..n_params).map(|n| b.ins().load(types::I64, MemFlagsData::trusted(), params, (n * 8) as i32)).collect();
    Fields { x, y, perm, lr, params, arena, loss }
}

/// Emits the loop function's body into `b` (whose entry block takes the context): every
/// epoch calls `step` for each full batch and `tail` for the last, smaller one.
pub(crate) fn emit_train_loop(
    b: &mut FunctionBuilder,
    helpers: Helpers,
    callback: SigRef,
    step: &[FuncRef],
    tail: &[FuncRef],
    shape: LoopShape,
) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let context = b.block_params(entry)[0];
    let (loss_slot, epochs, callback_fn, user, interrupt) =
        (field(b, context, 6), field(b, context, 7), field(b, context, 8), field(b, context, 9), field(b, context, 10));
    let (epoch_head, epoch_body, done) = (b.create_block(), b.create_block(), b.create_block());
    b.append_block_param(epoch_head, types::I64);
    b.append_block_param(done, types::I32);
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().jump(epoch_head, &[BlockArg::Value(zero)]);
    b.switch_to_block(epoch_head);
    let epoch = b.block_params(epoch_head)[0];
    let finished = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, epochs);
    let success = b.ins().iconst(types::I32, 0);
    b.ins().brif(finished, done, &[BlockArg::Value(success)], epoch_body, &[]);
    b.switch_to_block(epoch_body);
    b.seal_block(epoch_body);
    let loss_sum = b.declare_var(types::F64);
    let nothing = b.ins().f64const(0.0);
    b.def_var(loss_sum, nothing);
    let call_step = |b: &mut FunctionBuilder, pieces: &[FuncRef], first_row: Value, index: Value, rows: usize| {
        for &piece in pieces {
            b.ins().call(piece, &[context, first_row, index]);
        }
        let loss = b.ins().load(types::F32, MemFlagsData::trusted(), loss_slot, 0);
        let loss = b.ins().fpromote(types::F64, loss);
        let weight = b.ins().f64const(rows as f64);
        let old = b.use_var(loss_sum);
        // An f32 times a row count below 2²⁹ is exact in f64, so this is what a fused
        // multiply-add gives, without one (baseline x86-64 would call `fma`).
        let weighted = b.ins().fmul(loss, weight);
        let new = b.ins().fadd(weighted, old);
        b.def_var(loss_sum, new);
        poll_interrupt(b, interrupt, done);
    };
    {
        let mut e = Emitter {
            b: &mut *b,
            helpers,
            places: Vec::new(),
            rows: None,
            checked: false,
            fma: false, // it only counts steps
            kernel: 0,
            known_rows: Vec::new(),
            split: None,
            reuse: Default::default(),
        };
        e.counted(shape.full_steps(), 1, 1, &mut |e, s| {
            let s = e.value(s);
            let first_row = e.b.ins().imul_imm_s(s, shape.batch as i64);
            call_step(e.b, step, first_row, s, shape.batch);
        });
    }
    if !tail.is_empty() {
        let first_row = b.ins().iconst(types::I64, (shape.full_steps() * shape.batch) as i64);
        let index = b.ins().iconst(types::I64, shape.full_steps() as i64);
        call_step(b, tail, first_row, index, shape.tail_rows());
    }
    let total = b.use_var(loss_sum);
    let call = b.ins().call_indirect(callback, callback_fn, &[user, epoch, total]);
    let code = b.inst_results(call)[0];
    let next = b.ins().iadd_imm_s(epoch, 1);
    b.ins().brif(code, done, &[BlockArg::Value(code)], epoch_head, &[BlockArg::Value(next)]);
    b.seal_block(epoch_head);
    b.switch_to_block(done);
    b.seal_block(done);
    let result = b.block_params(done)[0];
    b.ins().return_(&[result]);
}

/// Emits a step function's body into `b` (whose entry block takes the context, the first
/// row of the step in the row order, and the step's index in the epoch).
pub(crate) fn emit_step(
    b: &mut FunctionBuilder,
    helpers: Helpers,
    step: StepPiece<'_>,
    shape: LoopShape,
    checked: bool,
    fma: bool,
    split: Option<&mut dyn crate::parallel::LoopFunctions>,
) -> usize {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (context, first_row, index) = (b.block_params(entry)[0], b.block_params(entry)[1], b.block_params(entry)[2]);
    let fields = step_fields(b, context, step.program.param_lens.len());
    let mut e = Emitter {
        b,
        helpers,
        places: Vec::new(),
        rows: None,
        checked,
        fma,
        kernel: 0,
        known_rows: Vec::new(),
        split,
        reuse: Default::default(),
    };
    let next = run_step(&mut e, &fields, step, first_row, index, shape);
    e.b.ins().return_(&[]);
    next
}

/// The part of a step one function emits: `program`'s kernels from `first` on, until the
/// function holds `budget` CLIF instructions. A large step is several such functions,
/// which the two cores compile at once, called in turn by the loop.
#[derive(Clone, Copy)]
pub(crate) struct StepPiece<'a> {
    pub program: &'a Program,
    /// Rows of the step's batch.
    pub rows: usize,
    pub first: usize,
    pub budget: usize,
}

/// One step: the program with data read through the rows from `first_row` of the row
/// order, the step's learning rate, and the loss written to the context's loss slot.
fn run_step(
    e: &mut Emitter,
    fields: &Fields,
    piece: StepPiece<'_>,
    first_row: Value,
    step: Value,
    shape: LoopShape,
) -> usize {
    let (program, rows) = (piece.program, piece.rows);
    // One batch of every row is never shuffled: it reads the rows in order.
    e.rows = (shape.batch < shape.rows).then(|| {
        let offset = e.b.ins().ishl_imm_s(first_row, 2);
        e.b.ins().iadd(fields.perm, offset)
    });
    // Each step's rate (and seed) are `step_inputs` floats into the table.
    let lr_offset = e.b.ins().ishl_imm_s(step, if shape.seeded { 3 } else { 2 });
    let lr = e.b.ins().iadd(fields.lr, lr_offset);
    let seed = if shape.seeded { e.b.ins().iadd_imm_s(lr, 4) } else { lr };
    let written = written(program);
    e.places = program
        .buffers
        .iter()
        .enumerate()
        .map(|(index, buffer)| {
            let (base, len) = match buffer.storage {
                Storage::Input(0) => (fields.x, shape.rows * shape.x_width),
                Storage::Input(1) => (fields.y, shape.rows * shape.y_width),
                // Inputs are x, y, the seed when seeded, then the learning rate.
                Storage::Input(2) if shape.seeded => (seed, 1),
                Storage::Input(_) => (lr, 1),
                Storage::Param(n) => (fields.params[n as usize], program.param_lens[n as usize]),
                Storage::Output(_) => (fields.loss, 1),
                Storage::Arena(offset) => (e.b.ins().iadd_imm_s(fields.arena, (offset * 4) as i64), buffer.len),
            };
            // The epoch callback rewrites the learning rates between epochs: they are not
            // read-only for the loop, only the data is.
            let fixed = matches!(buffer.storage, Storage::Input(0 | 1));
            Place { base, len, written: written[index] || !fixed }
        })
        .collect();
    debug_assert_eq!(program.input_lens[..2], [rows * shape.x_width, rows * shape.y_width]);
    emit_kernels(e, program, piece.first, piece.budget)
}

/// Leaves the loop with [`INTERRUPTED`] when the interrupt flag is set.
fn poll_interrupt(b: &mut FunctionBuilder, interrupt: Value, done: Block) {
    // Another thread (the Ctrl-C handler) writes the flag: an atomic load, which on x86-64
    // is a plain `mov` that the optimiser may not hoist out of the loop.
    let flag = b.ins().atomic_load(types::I32, MemFlagsData::trusted(), interrupt);
    let go_on = b.create_block();
    let code = b.ins().iconst(types::I32, i64::from(INTERRUPTED));
    b.ins().brif(flag, done, &[BlockArg::Value(code)], go_on, &[]);
    b.switch_to_block(go_on);
    b.seal_block(go_on);
}
