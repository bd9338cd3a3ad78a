//! The whole training run as one native function: epochs × batches, the step (and the
//! smaller last step) inlined, data rows read through the epoch's row order, the learning
//! rate of each step read from a table. Rust is entered once per epoch, through a
//! callback that records the loss, validates, decides whether to go on, and writes the
//! next epoch's row order and rates.
//!
//! ```text
//! extern "C" fn(context: *const LoopContext) -> i32   // 0 done, else the callback's code
//! ```

use crate::emit::{Emitter, Helpers, Place};
use crate::program::{emit_program, written};
use cranelift::prelude::*;
use cranelift_codegen::ir::{BlockArg, MemFlagsData, SigRef};
use nnc_kernels::{Program, Storage};

/// What the generated loop reads, in this order (8 bytes each).
#[repr(C)]
pub struct LoopContext {
    pub x: *const f32,
    pub y: *const f32,
    /// Row order of the current epoch (`rows` entries); unused when one batch holds every
    /// row, which is never shuffled.
    pub perm: *const u32,
    /// Learning rate of each step of the current epoch.
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
}

impl LoopShape {
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

struct Fields {
    x: Value,
    y: Value,
    perm: Value,
    lr: Value,
    params: Vec<Value>,
    arena: Value,
    loss: Value,
    epochs: Value,
    callback: Value,
    user: Value,
    interrupt: Value,
}

fn load_fields(b: &mut FunctionBuilder, context: Value, n_params: usize) -> Fields {
    let flags = MemFlagsData::trusted();
    let mut field = |index: i32| b.ins().load(types::I64, flags, context, index * 8);
    let (x, y, perm, lr, params, arena, loss, epochs, callback, user, interrupt) =
        (field(0), field(1), field(2), field(3), field(4), field(5), field(6), field(7), field(8), field(9), field(10));
    let params = (0..n_params).map(|n| b.ins().load(types::I64, flags, params, (n * 8) as i32)).collect();
    Fields { x, y, perm, lr, params, arena, loss, epochs, callback, user, interrupt }
}

/// Emits the loop function's body into `b` (whose entry block takes the context).
pub(crate) fn emit_train_loop(
    b: &mut FunctionBuilder,
    helpers: Helpers,
    callback: SigRef,
    step: &Program,
    tail: Option<&Program>,
    shape: LoopShape,
    checked: bool,
) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let context = b.block_params(entry)[0];
    let fields = load_fields(b, context, step.param_lens.len());
    let (epoch_head, epoch_body, done) = (b.create_block(), b.create_block(), b.create_block());
    b.append_block_param(epoch_head, types::I64);
    b.append_block_param(done, types::I32);
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().jump(epoch_head, &[BlockArg::Value(zero)]);
    b.switch_to_block(epoch_head);
    let epoch = b.block_params(epoch_head)[0];
    let finished = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, fields.epochs);
    let success = b.ins().iconst(types::I32, 0);
    b.ins().brif(finished, done, &[BlockArg::Value(success)], epoch_body, &[]);
    b.switch_to_block(epoch_body);
    b.seal_block(epoch_body);
    let loss_sum = b.declare_var(types::F64);
    let nothing = b.ins().f64const(0.0);
    b.def_var(loss_sum, nothing);
    let run_with = |b: &mut FunctionBuilder,
                    helpers: Helpers,
                    program: &Program,
                    first_row: Value,
                    step_index: Value,
                    rows: usize| {
        let mut e = Emitter { b, helpers, places: Vec::new(), rows: None, checked, kernel: 0, known_rows: Vec::new() };
        run_step(&mut e, &fields, program, first_row, step_index, shape, rows);
        let loss = e.b.ins().load(types::F32, MemFlagsData::trusted(), fields.loss, 0);
        let loss = e.b.ins().fpromote(types::F64, loss);
        let weight = e.b.ins().f64const(rows as f64);
        let old = e.b.use_var(loss_sum);
        let new = e.b.ins().fma(loss, weight, old);
        e.b.def_var(loss_sum, new);
        poll_interrupt(e.b, fields.interrupt, done);
    };
    {
        let mut e =
            Emitter { b: &mut *b, helpers, places: Vec::new(), rows: None, checked, kernel: 0, known_rows: Vec::new() };
        e.counted(shape.full_steps(), 1, 1, &mut |e, s| {
            let s = e.value(s);
            let first_row = e.b.ins().imul_imm_s(s, shape.batch as i64);
            run_with(e.b, helpers, step, first_row, s, shape.batch);
        });
    }
    if let Some(tail) = tail {
        let first_row = b.ins().iconst(types::I64, (shape.full_steps() * shape.batch) as i64);
        let index = b.ins().iconst(types::I64, shape.full_steps() as i64);
        // The tail's kernels tick as the loop's second program.
        let tail_helpers = Helpers { profile: helpers.profile.map(|(hook, unit)| (hook, unit + 1)), ..helpers };
        run_with(b, tail_helpers, tail, first_row, index, shape.tail_rows());
    }
    let total = b.use_var(loss_sum);
    let call = b.ins().call_indirect(callback, fields.callback, &[fields.user, epoch, total]);
    let code = b.inst_results(call)[0];
    let next = b.ins().iadd_imm_s(epoch, 1);
    b.ins().brif(code, done, &[BlockArg::Value(code)], epoch_head, &[BlockArg::Value(next)]);
    b.seal_block(epoch_head);
    b.switch_to_block(done);
    b.seal_block(done);
    let result = b.block_params(done)[0];
    b.ins().return_(&[result]);
}

/// One step: the program with data read through the rows from `first_row` of the row
/// order, the step's learning rate, and the loss written to the context's loss slot.
fn run_step(
    e: &mut Emitter,
    fields: &Fields,
    program: &Program,
    first_row: Value,
    step: Value,
    shape: LoopShape,
    rows: usize,
) {
    // One batch of every row is never shuffled: it reads the rows in order.
    e.rows = (shape.batch < shape.rows).then(|| {
        let offset = e.b.ins().ishl_imm_s(first_row, 2);
        e.b.ins().iadd(fields.perm, offset)
    });
    let lr_offset = e.b.ins().ishl_imm_s(step, 2);
    let lr = e.b.ins().iadd(fields.lr, lr_offset);
    let written = written(program);
    e.places = program
        .buffers
        .iter()
        .enumerate()
        .map(|(index, buffer)| {
            let (base, len) = match buffer.storage {
                Storage::Input(0) => (fields.x, shape.rows * shape.x_width),
                Storage::Input(1) => (fields.y, shape.rows * shape.y_width),
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
    debug_assert_eq!(program.input_lens, [rows * shape.x_width, rows * shape.y_width, 1]);
    emit_program(e, program);
}

/// Leaves the loop with [`INTERRUPTED`] when the interrupt flag is set.
fn poll_interrupt(b: &mut FunctionBuilder, interrupt: Value, done: Block) {
    let flag = b.ins().load(types::I32, MemFlagsData::new().with_notrap(), interrupt, 0);
    let go_on = b.create_block();
    let code = b.ins().iconst(types::I32, i64::from(INTERRUPTED));
    b.ins().brif(flag, done, &[BlockArg::Value(code)], go_on, &[]);
    b.switch_to_block(go_on);
    b.seal_block(go_on);
}
