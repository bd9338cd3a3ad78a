//! The one boundary between safe Rust and generated code. Every call into compiled code,
//! and every type that guards one, is in this file:
//!
//! - [`Compiled`] owns the code and frees it when dropped; [`Kernel`] and [`TrainLoop`]
//!   are reachable only as references into it, so no entry point outlives its code.
//! - [`compile`](crate::compile) verifies every program (`nnc_kernels::verify_with`: each
//!   view inside its buffer, in checked 64-bit arithmetic; gathers inside the whole data
//!   set; no input written; each buffer within its declared length) and every training
//!   loop's shape against its step programs before any code is made; the entry points
//!   here then check each call's buffers against those declared lengths. Compiled code
//!   touches nothing else, so the calls are sound for any arguments safe code can make.
//! - A training loop's row order and learning-rate tables, and the parameters, are
//!   reached only through raw pointers while generated code runs: the epoch callback sees
//!   them through slices made from those same pointers, never through a reference that
//!   would invalidate them (Rust's aliasing rules).

use crate::denormals::FlushDenormals;
use crate::train_loop::{INTERRUPTED, LoopContext, LoopShape};
use crate::{CodegenError, Unit};
use cranelift_jit::JITModule;
use cranelift_module::FuncId;
use std::sync::atomic::AtomicU32;

type ProgramEntry = unsafe extern "C" fn(*const *mut f32);
type LoopEntry = unsafe extern "C" fn(*const LoopContext) -> i32;

/// A compiled kernel program.
pub struct Kernel {
    entry: ProgramEntry,
    clif: String,
    input_lens: Vec<usize>,
    param_lens: Vec<usize>,
    outputs: Vec<(String, usize)>,
    arena_len: usize,
    /// Whether the program updates a parameter (else they may be passed shared).
    updates_params: bool,
}

/// A compiled training loop.
pub struct TrainLoop {
    entry: LoopEntry,
    clif: String,
    shape: LoopShape,
    param_lens: Vec<usize>,
    arena_len: usize,
}

/// Compiled code for several units; frees the code when dropped.
pub struct Compiled {
    module: Option<JITModule>,
    kernels: Vec<(String, Kernel)>,
    loops: Vec<(String, TrainLoop)>,
    /// Names that call the kernel compiled under another name: `(name, of)`.
    aliases: Vec<(String, String)>,
    asm: String,
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: entry points are only reachable through `&self`, so none outlives it.
            unsafe { module.free_memory() };
        }
    }
}

/// Makes the compiled units callable: `code` holds each unit's finalized entry point and
/// CLIF text, in order. Called by `compile` on the module it finalized from those units.
pub(crate) fn link(
    module: JITModule,
    units: &[Unit<'_>],
    entries: Vec<(FuncId, String)>,
    asm: String,
) -> Result<Compiled, CodegenError> {
    let mut compiled = Compiled { module: None, kernels: Vec::new(), loops: Vec::new(), aliases: Vec::new(), asm };
    for (unit, (id, clif)) in units.iter().zip(entries) {
        let code = module.get_finalized_function(id);
        match unit {
            Unit::Program { name, program, .. } => {
                // SAFETY: compiled from a function of signature `fn(i64)` in the host
                // calling convention, which is `ProgramEntry`.
                let entry = unsafe { std::mem::transmute::<*const u8, ProgramEntry>(code) };
                let written = crate::program::written(program);
                let updates_params = program
                    .buffers
                    .iter()
                    .zip(written)
                    .any(|(b, w)| w && matches!(b.storage, nnc_kernels::Storage::Param(_)));
                let kernel = Kernel {
                    entry,
                    clif,
                    input_lens: program.input_lens.clone(),
                    param_lens: program.param_lens.clone(),
                    outputs: program.outputs.clone(),
                    arena_len: program.arena_len,
                    updates_params,
                };
                compiled.kernels.push((name.to_string(), kernel));
            }
            Unit::TrainLoop { name, step, tail, shape, .. } => {
                // SAFETY: compiled from a function of signature `fn(i64) -> i32`, which is
                // `LoopEntry`.
                let entry = unsafe { std::mem::transmute::<*const u8, LoopEntry>(code) };
                let arena_len = step.arena_len.max(tail.map_or(0, |t| t.arena_len));
                let train_loop =
                    TrainLoop { entry, clif, shape: *shape, param_lens: step.param_lens.clone(), arena_len };
                compiled.loops.push((name.to_string(), train_loop));
            }
        }
    }
    compiled.module = Some(module);
    Ok(compiled)
}

impl Compiled {
    /// The kernel program compiled under `name`, or under the name it is an alias of.
    pub fn kernel(&self, name: &str) -> Option<&Kernel> {
        let name = self.aliases.iter().find(|(alias, _)| alias == name).map_or(name, |(_, of)| of.as_str());
        self.kernels.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }

    /// Lets `name` call the kernel compiled under `of`, a program with the same code (a
    /// second split evaluated in calls of as many rows as the first's). False, and nothing
    /// changes, when no kernel is compiled under `of`.
    pub fn alias(&mut self, name: &str, of: &str) -> bool {
        let known = self.kernels.iter().any(|(n, _)| n == of);
        if known {
            self.aliases.push((name.to_string(), of.to_string()));
        }
        known
    }

    /// The training loop compiled under `name`.
    pub fn train_loop(&self, name: &str) -> Option<&TrainLoop> {
        self.loops.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    /// The CLIF text of every function, in compilation order (when compiled with
    /// [`Options::clif`](crate::Options::clif)).
    pub fn clif(&self) -> String {
        let kernels = self.kernels.iter().map(|(_, k)| k.clif.clone());
        let loops = self.loops.iter().map(|(_, l)| l.clif.clone());
        let aliases = self.aliases.iter().map(|(name, of)| format!("; {name}: the code of {of}\n"));
        kernels.chain(loops).chain(aliases).collect::<Vec<_>>().join("\n")
    }

    /// The machine code of every function as Cranelift lists it, in compilation order
    /// (when compiled with [`Options::asm`](crate::Options::asm)).
    pub fn asm(&self) -> &str {
        &self.asm
    }
}

/// The parameters of a call: updated in place, or only read (an evaluation).
pub enum Params<'a> {
    Update(&'a mut [Vec<f32>]),
    Read(&'a [&'a [f32]]),
}

/// Buffers for one call: one slice per input, the parameters, one per output, plus scratch
/// of [`Kernel::arena_len`] elements.
pub struct Frame<'a> {
    pub inputs: &'a [&'a [f32]],
    pub params: Params<'a>,
    pub outputs: &'a mut [Vec<f32>],
    pub scratch: &'a mut [f32],
}

fn lengths_match(lens: impl ExactSizeIterator<Item = usize>, expected: &[usize]) -> bool {
    lens.len() == expected.len() && lens.zip(expected).all(|(len, want)| len == *want)
}

impl Kernel {
    /// The CLIF text of the compiled function (stage `clif`).
    pub fn clif(&self) -> &str {
        &self.clif
    }

    pub fn input_sizes(&self) -> &[usize] {
        &self.input_lens
    }

    pub fn param_sizes(&self) -> &[usize] {
        &self.param_lens
    }

    /// Each output's name and element count, in declaration order.
    pub fn outputs(&self) -> impl Iterator<Item = (&str, usize)> {
        self.outputs.iter().map(|(n, l)| (n.as_str(), *l))
    }

    /// Elements of scratch a call needs.
    pub fn arena_len(&self) -> usize {
        self.arena_len
    }

    /// Whether the program updates its parameters (calls must pass [`Params::Update`]).
    pub fn updates_params(&self) -> bool {
        self.updates_params
    }

    /// Runs the compiled program on `frame`.
    ///
    /// Panics if a buffer's length differs from its declared shape, or if parameters the
    /// program updates are passed read-only: callers size every buffer from the same
    /// program, so a mismatch is a bug, and checking keeps the call safe.
    pub fn call(&self, frame: Frame<'_>) {
        assert!(lengths_match(frame.inputs.iter().map(|b| b.len()), &self.input_lens), "input sizes");
        let params_ok = match &frame.params {
            Params::Update(params) => lengths_match(params.iter().map(Vec::len), &self.param_lens),
            Params::Read(params) => {
                !self.updates_params && lengths_match(params.iter().map(|p| p.len()), &self.param_lens)
            }
        };
        assert!(params_ok, "param sizes, or read-only params for a program that updates them");
        let output_lens = self.outputs.iter().map(|(_, l)| *l);
        assert!(
            frame.outputs.len() == self.outputs.len() && frame.outputs.iter().map(Vec::len).eq(output_lens),
            "output sizes"
        );
        assert!(frame.scratch.len() >= self.arena_len, "scratch size");
        let count = self.input_lens.len() + self.param_lens.len() + self.outputs.len() + 1;
        // Small slot tables live on the stack, so a call allocates nothing.
        let mut on_stack = [std::ptr::null_mut::<f32>(); 32];
        let mut on_heap = Vec::new();
        let slots: &mut [*mut f32] = if count <= on_stack.len() {
            &mut on_stack[..count]
        } else {
            on_heap.resize(count, std::ptr::null_mut());
            &mut on_heap
        };
        // Inputs and read-only parameters are never written by the program (verified when
        // it was compiled); the slot table is uniform, hence the casts.
        let mut next = 0;
        let mut put = |pointer: *mut f32| {
            slots[next] = pointer;
            next += 1;
        };
        frame.inputs.iter().for_each(|b| put(b.as_ptr().cast_mut()));
        match frame.params {
            Params::Update(params) => params.iter_mut().for_each(|b| put(b.as_mut_ptr())),
            Params::Read(params) => params.iter().for_each(|b| put(b.as_ptr().cast_mut())),
        }
        frame.outputs.iter_mut().for_each(|b| put(b.as_mut_ptr()));
        put(frame.scratch.as_mut_ptr());
        let _flush = FlushDenormals::on();
        // SAFETY: every slot points to a live buffer of the size the program was compiled
        // for (checked above); the program's views stay inside them and write neither the
        // inputs nor, unless passed for update, the parameters (verified when it was
        // compiled, and bounds-checked in debug builds); `self` keeps the code alive.
        unsafe { (self.entry)(slots.as_ptr()) }
    }
}

/// How a training loop run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopEnd {
    /// Every epoch ran.
    Done,
    /// The epoch callback asked to stop.
    Stopped,
    /// The interrupt flag was set.
    Interrupted,
}

/// What the epoch callback sees and may change.
pub struct EpochEnd<'a> {
    /// 0-based.
    pub epoch: u64,
    /// Σ (step loss × step rows) over the epoch, in f64.
    pub loss_sum: f64,
    /// Every parameter (and optimizer state), as training left it.
    pub params: &'a [&'a [f32]],
    /// The next epoch's row order and per-step learning rates (each followed by the
    /// step's seed when the loop is seeded).
    pub perm: &'a mut [u32],
    pub lr: &'a mut [f32],
}

/// Buffers and callbacks of one training loop run.
pub struct LoopRun<'a> {
    pub x: &'a [f32],
    pub y: &'a [f32],
    pub params: &'a mut [Vec<f32>],
    pub epochs: u64,
    /// The first epoch's row order (a permutation of `0..rows`) and learning rates; the
    /// run owns them (see [`Table`]).
    pub perm: Vec<u32>,
    pub lr: Vec<f32>,
    /// Polled after each step; set it (from another thread) to stop.
    pub interrupt: &'a AtomicU32,
    /// Called after each epoch: `true` goes on.
    pub on_epoch: &'a mut dyn FnMut(EpochEnd<'_>) -> bool,
}

/// A table generated code reads while the loop runs and the epoch callback rewrites:
/// owned through a raw pointer, so that the code's reads and the callback's writes go
/// through one pointer and no reference is alive while generated code runs.
struct Table<T> {
    pointer: *mut T,
    len: usize,
}

impl<T> Table<T> {
    fn new(values: Vec<T>) -> Table<T> {
        let len = values.len();
        Table { pointer: Box::into_raw(values.into_boxed_slice()).cast::<T>(), len }
    }

    /// The table as a slice, for as long as no generated code runs.
    ///
    /// # Safety
    /// No other access to the table may happen while the slice lives.
    unsafe fn slice(&mut self) -> &mut [T] {
        // SAFETY: `pointer` owns `len` initialised elements (from `new`); the caller
        // guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.pointer, self.len) }
    }
}

impl<T> Drop for Table<T> {
    fn drop(&mut self) {
        // SAFETY: `pointer` and `len` came from `Box::into_raw` of a boxed slice.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.pointer, self.len)) });
    }
}

/// What the epoch trampoline needs: the callback, the tables, the parameter pointers.
struct CallbackState<'a, 'b> {
    on_epoch: &'b mut dyn FnMut(EpochEnd<'_>) -> bool,
    perm: Table<u32>,
    lr: Table<f32>,
    /// Each parameter's pointer and length (from the run's `&mut` borrow of them).
    params: Vec<(*mut f32, usize)>,
    /// Room for the callback's view of the parameters, kept empty between callbacks (so
    /// that no reference outlives one, and an epoch allocates nothing).
    views: Vec<&'static [f32]>,
    rows: u32,
    /// Whether the loop reads rows through the row order (it does not for one batch of
    /// every row), so the order must be checked after each epoch.
    reads_order: bool,
    panic: Option<Box<dyn std::any::Any + Send>>,
    bad_order: bool,
    _borrow: std::marker::PhantomData<&'a mut ()>,
}

impl<'a, 'b> CallbackState<'a, 'b> {
    fn new(
        on_epoch: &'b mut dyn FnMut(EpochEnd<'_>) -> bool,
        perm: Vec<u32>,
        lr: Vec<f32>,
        params: &'a mut [Vec<f32>],
        shape: LoopShape,
    ) -> CallbackState<'a, 'b> {
        let params: Vec<(*mut f32, usize)> = params.iter_mut().map(|p| (p.as_mut_ptr(), p.len())).collect();
        CallbackState {
            on_epoch,
            perm: Table::new(perm),
            lr: Table::new(lr),
            views: Vec::with_capacity(params.len()),
            params,
            rows: shape.rows as u32,
            reads_order: shape.batch < shape.rows,
            panic: None,
            bad_order: false,
            _borrow: std::marker::PhantomData,
        }
    }

    /// After the loop: the callback's panic, resumed, or its bad row order, reported.
    fn finish(&mut self) {
        if let Some(panic) = self.panic.take() {
            std::panic::resume_unwind(panic);
        }
        assert!(!self.bad_order, "the epoch callback wrote a row out of range");
    }
}

unsafe extern "C" fn epoch_trampoline(user: *mut std::ffi::c_void, epoch: u64, loss_sum: f64) -> i32 {
    // The callback is Rust (validation, progress, the next row order): it runs with the
    // floating-point state the loop's caller had.
    let _keep = FlushDenormals::paused();
    // SAFETY: `user` is the `CallbackState` that `TrainLoop::run` passed, alive and not
    // otherwise borrowed while the loop runs.
    let state = unsafe { &mut *(user as *mut CallbackState) };
    // SAFETY: generated code is paused in this call: nothing else touches the parameters
    // or the tables until it returns, each slice is made from the pointer the code uses,
    // and none outlives the call (`views` is emptied below, the callback's borrows end).
    let mut params = std::mem::take(&mut state.views);
    params.extend(state.params.iter().map(|&(p, len)| unsafe { std::slice::from_raw_parts(p.cast_const(), len) }));
    let (perm, lr) = unsafe { (state.perm.slice(), state.lr.slice()) };
    let (rows, reads_order) = (state.rows, state.reads_order);
    let on_epoch = &mut state.on_epoch;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let go_on = on_epoch(EpochEnd { epoch, loss_sum, params: &params, perm: &mut *perm, lr: &mut *lr });
        (go_on, !reads_order || perm.iter().all(|&r| r < rows))
    }));
    params.clear();
    state.views = params;
    match outcome {
        Ok((true, true)) => 0,
        Ok((_, order_ok)) => {
            state.bad_order = !order_ok;
            1
        }
        Err(panic) => {
            state.panic = Some(panic);
            1
        }
    }
}

impl TrainLoop {
    pub fn clif(&self) -> &str {
        &self.clif
    }

    pub fn shape(&self) -> LoopShape {
        self.shape
    }

    /// Elements of each parameter (and optimizer state), in declaration order.
    pub fn param_sizes(&self) -> &[usize] {
        &self.param_lens
    }

    /// Runs the training loop. Panics on buffers of the wrong size or a row order with a
    /// row out of range (a caller bug); a panic in `on_epoch` stops the loop and resumes.
    pub fn run(&self, run: LoopRun<'_>) -> LoopEnd {
        let shape = self.shape;
        assert_eq!(run.x.len(), shape.rows * shape.x_width, "input size");
        assert_eq!(run.y.len(), shape.rows * shape.y_width, "target size");
        assert!(lengths_match(run.params.iter().map(Vec::len), &self.param_lens), "param sizes");
        assert_eq!(run.perm.len(), shape.rows, "row order size");
        assert_eq!(run.lr.len(), shape.steps() * shape.step_inputs(), "learning rates (and seeds)");
        assert!(run.perm.iter().all(|&r| (r as usize) < shape.rows), "row order out of range");
        let mut arena = vec![0.0f32; self.arena_len];
        let mut loss = 0.0f32;
        let mut state = CallbackState::new(run.on_epoch, run.perm, run.lr, run.params, shape);
        let param_pointers: Vec<*mut f32> = state.params.iter().map(|&(p, _)| p).collect();
        let context = LoopContext {
            x: run.x.as_ptr(),
            y: run.y.as_ptr(),
            perm: state.perm.pointer.cast_const(),
            lr: state.lr.pointer.cast_const(),
            params: param_pointers.as_ptr(),
            arena: arena.as_mut_ptr(),
            loss: &mut loss,
            epochs: run.epochs,
            callback: epoch_trampoline,
            user: (&mut state as *mut CallbackState).cast(),
            interrupt: run.interrupt.as_ptr().cast_const(),
        };
        let flush = FlushDenormals::on();
        // SAFETY: every pointer in the context covers the buffer the loop was compiled for
        // (checked above; the shape was checked against the step programs, and their views
        // verified against it, when the loop was compiled); the callback only rewrites row
        // orders with rows in range (checked by the trampoline, which stops the loop
        // otherwise) and learning rates in place, through the tables' own pointers; `self`
        // keeps the code alive.
        let code = unsafe { (self.entry)(&context) };
        drop(flush);
        state.finish();
        match code {
            0 => LoopEnd::Done,
            INTERRUPTED => LoopEnd::Interrupted,
            _ => LoopEnd::Stopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CallbackState, EpochEnd, LoopShape, epoch_trampoline};

    /// What a training loop does with the tables and parameters, played without generated
    /// code (so that Miri can check the aliasing): the code reads the row order and rates
    /// and writes the parameters through raw pointers, the epoch callback rewrites the
    /// tables and reads the parameters in between, and the code reads again.
    /// `cargo +nightly miri test -p nnc-codegen boundary` runs it under Miri.
    #[test]
    fn generated_code_and_the_epoch_callback_share_buffers_soundly() {
        let mut params = vec![vec![1.0f32, 2.0], vec![3.0]];
        let shape = LoopShape { rows: 3, batch: 2, x_width: 1, y_width: 1, seeded: false };
        let mut seen = Vec::new();
        let mut on_epoch = |end: EpochEnd<'_>| {
            seen.push(end.params.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
            end.perm.reverse();
            end.lr.iter_mut().for_each(|r| *r *= 0.5);
            end.epoch < 1
        };
        let mut state = CallbackState::new(&mut on_epoch, vec![0, 1, 2], vec![0.1, 0.2], &mut params, shape);
        let (perm, lr) = (state.perm.pointer.cast_const(), state.lr.pointer.cast_const());
        let pointers: Vec<*mut f32> = state.params.iter().map(|&(p, _)| p).collect();
        let user: *mut std::ffi::c_void = (&mut state as *mut CallbackState).cast();
        let mut orders = Vec::new();
        for epoch in 0..2u64 {
            // SAFETY: the pointers are the state's own, to live buffers of these lengths,
            // and nothing else uses them between these accesses (as in generated code).
            unsafe {
                orders.push([*perm, *perm.add(1), *perm.add(2)]);
                assert!(*lr > 0.0);
                let (first, second) = (pointers[0], pointers[1]);
                *first += 1.0;
                *second -= 1.0;
            }
            // SAFETY: `user` is the state, alive and not otherwise borrowed.
            let code = unsafe { epoch_trampoline(user, epoch, 1.0) };
            assert_eq!(code, if epoch == 0 { 0 } else { 1 });
        }
        state.finish();
        drop(state);
        assert_eq!(orders, [[0, 1, 2], [2, 1, 0]]);
        assert_eq!(seen, [vec![vec![2.0, 2.0], vec![2.0]], vec![vec![3.0, 2.0], vec![1.0]]]);
        assert_eq!(params, [vec![3.0, 2.0], vec![1.0]]);
    }
}
