//! Cranelift code generation: kernel programs to native functions.
//!
//! [`compile`] JIT-compiles a set of [`Unit`]s into one [`Compiled`] unit: a kernel
//! program becomes a function over a slot table ([`Kernel::call`]); a training loop
//! becomes one function that runs every epoch and step of a training run
//! ([`TrainLoop::run`]). The emitter (`emit.rs`) turns views into 64-bit addresses and,
//! when [`Options::checked`] is on (debug builds), guards every load and store with a
//! bounds check; `loops.rs` and `matmul.rs` emit the two kinds of kernel, `math.rs` the
//! elementwise math, `gemm.rs` the library path for large products.
//!
//! Ownership: a [`Compiled`] unit owns the code; kernels and loops are reachable only as
//! references into it and cannot outlive it, and every call checks the sizes of the
//! buffers it is given against the program it was compiled from.

mod emit;
mod gemm;
mod jit;
mod loops;
mod math;
mod matmul;
mod profile;
mod program;
mod small_gemm;
mod train_loop;

pub use profile::{KernelTime, take_profile};
pub use train_loop::{INTERRUPTED, LoopContext, LoopShape};

use cranelift::prelude::*;
use cranelift_codegen::ir::MemFlagsData;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};
use emit::{Emitter, Helpers, Place};
use jit::Tier;
use nnc_kernels::{Program, Storage};

/// Why compilation failed. Every variant is a compiler or environment problem, not a
/// user error.
#[derive(Debug)]
pub struct CodegenError(pub String);

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code generation failed: {}", self.0)
    }
}

impl std::error::Error for CodegenError {}

fn err(context: &str) -> impl Fn(&dyn std::fmt::Display) -> CodegenError + '_ {
    move |e| CodegenError(format!("{context}: {e}"))
}

/// How to compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Bounds-check every load and store of generated code (reporting and aborting on a
    /// violation). On in debug builds.
    pub checked: bool,
    /// Time every kernel (see [`take_profile`]).
    pub profile: bool,
    /// Keep each function's CLIF text (stage `clif`); writing it costs a fifth of a
    /// small program's compile time.
    pub clif: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { checked: cfg!(debug_assertions), profile: false, clif: false }
    }
}

/// One function to compile.
pub enum Unit<'a> {
    /// A kernel program, called through a slot table; `hot` when it runs every step
    /// (else it is compiled quickly rather than well).
    Program { name: &'a str, program: &'a Program, hot: bool },
    /// A whole training run: `step` for full batches, `tail` for the last, smaller one.
    TrainLoop { name: &'a str, step: &'a Program, tail: Option<&'a Program>, shape: LoopShape },
}

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
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: entry points are only reachable through `&self`, so none outlives it.
            unsafe { module.free_memory() };
        }
    }
}

impl Compiled {
    /// The kernel program compiled under `name`.
    pub fn kernel(&self, name: &str) -> Option<&Kernel> {
        self.kernels.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }

    /// The training loop compiled under `name`.
    pub fn train_loop(&self, name: &str) -> Option<&TrainLoop> {
        self.loops.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    /// The CLIF text of every function, in compilation order (when compiled with
    /// [`Options::clif`]).
    pub fn clif(&self) -> String {
        let kernels = self.kernels.iter().map(|(_, k)| k.clif.as_str());
        let loops = self.loops.iter().map(|(_, l)| l.clif.as_str());
        kernels.chain(loops).collect::<Vec<_>>().join("\n")
    }
}

/// Buffers for one call: one slice per input, per parameter (updated in place) and per
/// output, plus scratch of [`Kernel::arena_len`] elements.
pub struct Frame<'a> {
    pub inputs: &'a [&'a [f32]],
    pub params: &'a mut [Vec<f32>],
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

    /// Runs the compiled program on `frame`.
    ///
    /// Panics if a buffer's length differs from its declared shape: callers size every
    /// buffer from the same program, so a mismatch is a bug, and checking keeps the call
    /// safe.
    pub fn call(&self, frame: Frame<'_>) {
        assert!(lengths_match(frame.inputs.iter().map(|b| b.len()), &self.input_lens), "input sizes");
        assert!(lengths_match(frame.params.iter().map(Vec::len), &self.param_lens), "param sizes");
        let output_lens: Vec<usize> = self.outputs.iter().map(|(_, l)| *l).collect();
        assert!(lengths_match(frame.outputs.iter().map(Vec::len), &output_lens), "output sizes");
        assert!(frame.scratch.len() >= self.arena_len, "scratch size");
        let count = self.input_lens.len() + self.param_lens.len() + output_lens.len() + 1;
        // Small slot tables live on the stack, so a call allocates nothing.
        let mut on_stack = [std::ptr::null_mut::<f32>(); 32];
        let mut on_heap = Vec::new();
        let slots: &mut [*mut f32] = if count <= on_stack.len() {
            &mut on_stack[..count]
        } else {
            on_heap.resize(count, std::ptr::null_mut());
            &mut on_heap
        };
        // Inputs are only read by compiled code; the slot table is uniform, hence the cast.
        let pointers = (frame.inputs.iter().map(|b| b.as_ptr().cast_mut()))
            .chain(frame.params.iter_mut().map(|b| b.as_mut_ptr()))
            .chain(frame.outputs.iter_mut().map(|b| b.as_mut_ptr()))
            .chain(std::iter::once(frame.scratch.as_mut_ptr()));
        for (slot, pointer) in slots.iter_mut().zip(pointers) {
            *slot = pointer;
        }
        // SAFETY: every slot points to a live buffer of the size the program was compiled
        // for (checked above); the program's views stay inside them (verified when it was
        // built, and bounds-checked in debug builds); `self` keeps the code alive.
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
    pub params: &'a [Vec<f32>],
    /// The next epoch's row order and per-step learning rates.
    pub perm: &'a mut [u32],
    pub lr: &'a mut [f32],
}

/// Buffers and callbacks of one training loop run.
pub struct LoopRun<'a> {
    pub x: &'a [f32],
    pub y: &'a [f32],
    pub params: &'a mut [Vec<f32>],
    pub epochs: u64,
    /// The first epoch's row order (a permutation of `0..rows`) and learning rates.
    pub perm: &'a mut [u32],
    pub lr: &'a mut [f32],
    /// Polled after each step; set it (from another thread) to stop.
    pub interrupt: &'a std::sync::atomic::AtomicU32,
    /// Called after each epoch: `true` goes on.
    pub on_epoch: &'a mut dyn FnMut(EpochEnd<'_>) -> bool,
}

struct CallbackState<'a, 'b> {
    run: &'b mut LoopRun<'a>,
    rows: u32,
    /// Whether the loop reads rows through the row order (it does not for one batch of
    /// every row), so the order must be checked after each epoch.
    reads_order: bool,
    panic: Option<Box<dyn std::any::Any + Send>>,
    bad_order: bool,
}

unsafe extern "C" fn epoch_trampoline(user: *mut std::ffi::c_void, epoch: u64, loss_sum: f64) -> i32 {
    // SAFETY: `user` is the `CallbackState` that `TrainLoop::run` passed, alive and not
    // otherwise borrowed while the loop runs.
    let state = unsafe { &mut *(user as *mut CallbackState) };
    let (rows, state_reads_order) = (state.rows, state.reads_order);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let run = &mut *state.run;
        let go_on = (run.on_epoch)(EpochEnd { epoch, loss_sum, params: run.params, perm: run.perm, lr: run.lr });
        (go_on, !state_reads_order || run.perm.iter().all(|&r| r < rows))
    }));
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
    pub fn run(&self, run: &mut LoopRun<'_>) -> LoopEnd {
        let shape = self.shape;
        assert_eq!(run.x.len(), shape.rows * shape.x_width, "input size");
        assert_eq!(run.y.len(), shape.rows * shape.y_width, "target size");
        assert!(lengths_match(run.params.iter().map(Vec::len), &self.param_lens), "param sizes");
        assert_eq!(run.perm.len(), shape.rows, "row order size");
        assert_eq!(run.lr.len(), shape.steps(), "learning rates");
        assert!(run.perm.iter().all(|&r| (r as usize) < shape.rows), "row order out of range");
        let mut arena = vec![0.0f32; self.arena_len];
        let mut loss = 0.0f32;
        let params: Vec<*mut f32> = run.params.iter_mut().map(|p| p.as_mut_ptr()).collect();
        let (x, y, perm, lr, epochs) = (run.x.as_ptr(), run.y.as_ptr(), run.perm.as_ptr(), run.lr.as_ptr(), run.epochs);
        let interrupt = run.interrupt.as_ptr().cast_const();
        let reads_order = shape.batch < shape.rows;
        let mut state = CallbackState { run, rows: shape.rows as u32, reads_order, panic: None, bad_order: false };
        let context = LoopContext {
            x,
            y,
            perm,
            lr,
            params: params.as_ptr(),
            arena: arena.as_mut_ptr(),
            loss: &mut loss,
            epochs,
            callback: epoch_trampoline,
            user: (&mut state as *mut CallbackState).cast(),
            interrupt,
        };
        // SAFETY: every pointer in the context covers the buffer the loop was compiled for
        // (checked above); the callback only rewrites row orders with rows in range
        // (checked by the trampoline, which stops the loop otherwise) and learning rates in
        // place; `self` keeps the code alive.
        let code = unsafe { (self.entry)(&context) };
        if let Some(panic) = state.panic {
            std::panic::resume_unwind(panic);
        }
        assert!(!state.bad_order, "the epoch callback wrote a row out of range");
        match code {
            0 => LoopEnd::Done,
            INTERRUPTED => LoopEnd::Interrupted,
            _ => LoopEnd::Stopped,
        }
    }
}

/// JIT-compiles `units` for the host CPU.
pub fn compile(units: &[Unit<'_>], options: Options) -> Result<Compiled, CodegenError> {
    let (mut module, isas) = jit::new_module()?;
    let ids = jit::declare_helpers(&mut module)?;
    let workers = jit::Workers::new(isas);
    let entries = std::thread::scope(|scope| {
        if jit::Workers::threads() > 1 {
            scope.spawn(|| workers.serve());
        }
        let mut builder =
            Builder { module: &mut module, ids, context: FunctionBuilderContext::new(), options, workers: &workers };
        let entries: Result<Vec<_>, CodegenError> =
            units.iter().enumerate().map(|(index, unit)| builder.unit(unit, index)).collect();
        // Closing also releases the helper when building failed.
        workers.close();
        entries
    })?;
    workers.define_all(&mut module)?;
    module.finalize_definitions().map_err(|e| err("finalize")(&e))?;
    let mut compiled = Compiled { module: None, kernels: Vec::new(), loops: Vec::new() };
    for (unit, (id, clif)) in units.iter().zip(entries) {
        let code = module.get_finalized_function(id);
        match unit {
            Unit::Program { name, program, .. } => {
                // SAFETY: compiled from a function of signature `fn(i64)` in the host
                // calling convention, which is `ProgramEntry`.
                let entry = unsafe { std::mem::transmute::<*const u8, ProgramEntry>(code) };
                compiled.kernels.push((
                    name.to_string(),
                    Kernel {
                        entry,
                        clif,
                        input_lens: program.input_lens.clone(),
                        param_lens: program.param_lens.clone(),
                        outputs: program.outputs.clone(),
                        arena_len: program.arena_len,
                    },
                ));
            }
            Unit::TrainLoop { name, step, tail, shape } => {
                // SAFETY: compiled from a function of signature `fn(i64) -> i32`, which is
                // `LoopEntry`.
                let entry = unsafe { std::mem::transmute::<*const u8, LoopEntry>(code) };
                let arena_len = step.arena_len.max(tail.map_or(0, |t| t.arena_len));
                compiled.loops.push((
                    name.to_string(),
                    TrainLoop { entry, clif, shape: *shape, param_lens: step.param_lens.clone(), arena_len },
                ));
            }
        }
    }
    compiled.module = Some(module);
    if options.profile {
        // Unit `u` ticks as `2u` (its program, or a loop's full step) and `2u + 1` (a
        // loop's last, smaller step).
        let names = units.iter().flat_map(|u| match u {
            Unit::Program { name, .. } => [name.to_string(), String::new()],
            Unit::TrainLoop { name, .. } => [name.to_string(), format!("{name}.tail")],
        });
        profile::register(names.collect());
    }
    Ok(compiled)
}

/// Builds the CLIF of every function of the units being compiled.
struct Builder<'m> {
    module: &'m mut JITModule,
    ids: jit::HelperIds,
    context: FunctionBuilderContext,
    options: Options,
    workers: &'m jit::Workers,
}

impl Builder<'_> {
    /// Builds the functions of `unit`: its entry point and its CLIF text.
    fn unit(&mut self, unit: &Unit<'_>, index: usize) -> Result<(FuncId, String), CodegenError> {
        let checked = self.options.checked;
        let options = self.options;
        match unit {
            Unit::Program { name, program, hot } => {
                let name = format!("{name}.{index}");
                let tier = if *hot { Tier::Hot } else { Tier::Cold };
                self.function(&name, 1, false, tier, 2 * index, |b, helpers, _| {
                    emit_program_function(b, helpers, program, options)
                })
            }
            Unit::TrainLoop { name, step, tail, shape } => {
                let (step_id, mut clif) =
                    self.function(&format!("{name}.{index}.step"), 3, false, Tier::Hot, 2 * index, |b, h, _| {
                        train_loop::emit_step(b, h, step, *shape, shape.batch, checked)
                    })?;
                let tail = match tail {
                    Some(tail) => {
                        let name = format!("{name}.{index}.tail");
                        let (id, text) = self.function(&name, 3, false, Tier::Cold, 2 * index + 1, |b, h, _| {
                            train_loop::emit_step(b, h, tail, *shape, shape.tail_rows(), checked)
                        })?;
                        clif.push_str(&text);
                        Some(id)
                    }
                    None => None,
                };
                let (id, text) =
                    self.function(&format!("{name}.{index}"), 1, true, Tier::Cold, 2 * index, |b, helpers, module| {
                        let step = module.declare_func_in_func(step_id, b.func);
                        let tail = tail.map(|id| module.declare_func_in_func(id, b.func));
                        let mut callback = module.make_signature();
                        callback.params.extend([types::I64, types::I64, types::F64].map(AbiParam::new));
                        callback.returns.push(AbiParam::new(types::I32));
                        let callback = b.import_signature(callback);
                        train_loop::emit_train_loop(b, helpers, callback, step, tail, *shape);
                    })?;
                clif.push_str(&text);
                Ok((id, clif))
            }
        }
    }

    /// Declares a function of `params` i64 parameters (returning an i32 when `returns`),
    /// builds its body with `body`, and queues it for compilation.
    fn function(
        &mut self,
        name: &str,
        params: usize,
        returns: bool,
        tier: Tier,
        profile_unit: usize,
        body: impl FnOnce(&mut FunctionBuilder, Helpers, &mut JITModule),
    ) -> Result<(FuncId, String), CodegenError> {
        let mut context = self.module.make_context();
        let signature = &mut context.func.signature;
        signature.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), params));
        if returns {
            signature.returns.push(AbiParam::new(types::I32));
        }
        let id = self
            .module
            .declare_function(name, Linkage::Local, &context.func.signature)
            .map_err(|e| err("declare")(&e))?;
        let target = self.module.target_config();
        {
            let mut b = FunctionBuilder::new(&mut context.func, &mut self.context);
            let helpers = Helpers {
                gemm: self.module.declare_func_in_func(self.ids.gemm, b.func),
                out_of_bounds: self.module.declare_func_in_func(self.ids.out_of_bounds, b.func),
                profile: self
                    .options
                    .profile
                    .then(|| (self.module.declare_func_in_func(self.ids.profile, b.func), profile_unit)),
            };
            body(&mut b, helpers, self.module);
            b.seal_all_blocks();
            b.finalize(target);
        }
        let clif = if self.options.clif { format!("; {name}\n{}", context.func.display()) } else { String::new() };
        self.workers.submit(id, name.to_string(), context, tier);
        Ok((id, clif))
    }
}

/// A program function: the slots are the inputs, parameters, outputs, then the arena.
fn emit_program_function(b: &mut FunctionBuilder, helpers: Helpers, program: &Program, options: Options) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let slots = b.block_params(entry)[0];
    let (n_inputs, n_params) = (program.input_lens.len(), program.param_lens.len());
    let arena_slot = n_inputs + n_params + program.outputs.len();
    let slot =
        |b: &mut FunctionBuilder, n: usize| b.ins().load(types::I64, MemFlagsData::trusted(), slots, (n * 8) as i32);
    let arena = slot(b, arena_slot);
    let written = program::written(program);
    let places = program
        .buffers
        .iter()
        .enumerate()
        .map(|(index, buffer)| {
            let base = match buffer.storage {
                Storage::Input(n) => slot(b, n as usize),
                Storage::Param(n) => slot(b, n_inputs + n as usize),
                Storage::Output(n) => slot(b, n_inputs + n_params + n as usize),
                Storage::Arena(offset) => b.ins().iadd_imm_s(arena, (offset * 4) as i64),
            };
            Place { base, len: buffer.len, written: written[index] }
        })
        .collect();
    let mut e = Emitter { b, helpers, places, rows: None, checked: options.checked, kernel: 0, known_rows: Vec::new() };
    program::emit_program(&mut e, program);
    e.b.ins().return_(&[]);
}
