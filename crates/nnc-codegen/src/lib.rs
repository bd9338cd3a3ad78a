//! Cranelift code generation: kernel programs to native functions.
//!
//! [`compile`] JIT-compiles a set of [`Unit`]s into one [`Compiled`] unit: a kernel
//! program becomes a function over a slot table ([`Kernel::call`]); a training loop
//! becomes one function that runs every epoch and step of a training run
//! ([`TrainLoop::run`]). The emitter (`emit.rs`) turns views into 64-bit addresses and,
//! when [`Options::checked`] is on (debug builds), guards every load and store with a
//! bounds check; `loops.rs` and `matmul.rs` emit the two kinds of kernel, `math.rs` the
//! elementwise math, `gemm.rs` the library path for large products (`softmax.rs` the rows' softmax it
//! computes after one).
//!
//! Every call into generated code, and the types guarding it, are in `boundary.rs`: a
//! [`Compiled`] unit owns the code; kernels and loops are reachable only as references
//! into it and cannot outlive it, and every call checks the sizes of the buffers it is
//! given against the program it was compiled from, which [`compile`] verified first
//! (`validate.rs`).

mod boundary;
pub mod cpu;
mod denormals;
mod emit;
mod gemm;
mod jit;
mod loops;
mod math;
mod matmul;
mod parallel;
mod profile;
mod program;
mod small_gemm;
mod softmax;
mod train_loop;
mod validate;
mod window;

pub use boundary::{Compiled, EpochEnd, Frame, Kernel, LoopEnd, LoopRun, Params, TrainLoop};
pub use denormals::cpu_flushes_denormals;
pub use nnc_kernels::seed_value;
pub use profile::{KernelTime, take_profile};
pub use small_gemm::{
    Kernel as ProductKernel, multiply, multiply_any_size, multiply_input_gradient, multiply_left_transposed,
};
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
    /// Keep each function's machine code as Cranelift lists it (stage `asm`).
    pub asm: bool,
    /// Generate code for this class instead of [`cpu::class`]'s (never above the host's):
    /// the `asm` goldens pin one class whatever the machine.
    pub class: Option<cpu::CpuClass>,
    /// CLIF instructions a function of a training step may hold before the rest of the
    /// step goes into another ([`PIECE_INSTS`]; 1 puts each kernel in a function of its
    /// own, as a test does).
    pub piece_insts: usize,
}

impl Options {
    /// Whether the code may use fused multiply-adds (the class `build` resolved).
    fn fma(&self) -> bool {
        self.class.unwrap_or_else(cpu::class).has_fma()
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            checked: cfg!(debug_assertions),
            profile: false,
            clif: false,
            asm: false,
            class: None,
            piece_insts: PIECE_INSTS,
        }
    }
}

/// One function to compile.
pub enum Unit<'a> {
    /// A kernel program, called through a slot table; `hot` when it runs every step
    /// (else it is compiled quickly rather than well).
    Program { name: &'a str, program: &'a Program, hot: bool },
    /// A whole training run: `step` for full batches, `tail` for the last, smaller one;
    /// `quick_step` when the run is too short to repay optimising the step (it is then
    /// compiled quickly, as the tail is).
    TrainLoop { name: &'a str, step: &'a Program, tail: Option<&'a Program>, shape: LoopShape, quick_step: bool },
}

/// The fewest points of a loop kernel that code generated for a hot program (one run every
/// step) or a cold one splits between the threads; the kernel planner (`nnc_kernels`'
/// `threads.rs`) needs it to know which buffers the two cores write half each.
pub fn split_loop_points(hot: bool) -> usize {
    if hot { parallel::MIN_POINTS } else { parallel::MIN_POINTS_COLD }
}

/// CLIF instructions a function of a training step holds before the rest of the step
/// goes into another (`Builder::step`), so that the two cores compile a large step at
/// once: Cranelift's optimising compile of `examples/iris.nn`'s step, 1,835 instructions
/// in one function, took 7.6 ms on one core while the other finished the rest in 5.
/// In pieces of 1,000, code generation took 8–24 % less time for iris, `autoencoder.nn`
/// and `house_price_embedding.nn` (`docs/performance.md`, *Compile tiers*); pieces of 400
/// gained less (a step is whole kernels, and one kernel can outweigh the rest).
pub const PIECE_INSTS: usize = 1000;

/// JIT-compiles `units` for the host CPU, after checking each: its kernel programs verify
/// (`nnc_kernels::verify_with`) and a training loop's shape fits its step programs. A unit
/// that fails is a compiler bug, reported as an error, never compiled.
pub fn compile(units: &[Unit<'_>], options: Options) -> Result<Compiled, CodegenError> {
    for unit in units {
        validate::unit(unit)?;
    }
    build(units, options)
}

/// Compiles units `compile` has checked.
fn build(units: &[Unit<'_>], options: Options) -> Result<Compiled, CodegenError> {
    let class = options.class.map_or_else(cpu::class, |class| class.min(cpu::host_class()));
    let options = Options { class: Some(class), ..options };
    let (mut module, isas) = jit::new_module(class)?;
    let ids = jit::declare_helpers(&mut module)?;
    let workers = jit::Workers::new(isas, options.asm);
    let built = std::thread::scope(|scope| {
        if jit::Workers::threads() > 1 {
            // Without a helper (no thread can be started: under `ulimit -v` its stack may
            // not fit), `close` below compiles the whole queue on this thread.
            let _ = std::thread::Builder::new().spawn_scoped(scope, || workers.serve());
        }
        // A panic while building must still release the helper, or the scope would wait
        // for it forever.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut builder = Builder {
                module: &mut module,
                ids,
                context: FunctionBuilderContext::new(),
                options,
                workers: &workers,
            };
            units.iter().enumerate().map(|(index, unit)| builder.unit(unit, index)).collect::<Result<Vec<_>, _>>()
        }));
        workers.close();
        built
    });
    let entries = built.map_err(|panic| CodegenError(format!("internal error: {}", jit::panic_message(&*panic))))??;
    let asm = workers.define_all(&mut module)?;
    // Linking asserts inside Cranelift; one failing must be an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.finalize_definitions()))
        .map_err(|panic| CodegenError(format!("internal error linking: {}", jit::panic_message(&*panic))))?
        .map_err(|e| err("finalize")(&e))?;
    let compiled = boundary::link(module, units, entries, asm)?;
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

#[cfg(test)]
mod tests;

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
        let options = self.options;
        match unit {
            Unit::Program { name, program, hot } => {
                let name = format!("{name}.{index}");
                let tier = if *hot { Tier::Hot } else { Tier::Cold };
                let (workers, ids) = (self.workers, self.ids);
                let mut spawned = String::new();
                let (id, mut clif) = self.function(&name, 1, false, tier, 2 * index, |b, helpers, module| {
                    let text = options.clif.then_some(&mut spawned);
                    let mut spawner = Spawner::new(module, workers, ids, &name, tier, text);
                    emit_program_function(b, helpers, program, options, Some(&mut spawner))
                })?;
                clif.push_str(&spawned);
                Ok((id, clif))
            }
            Unit::TrainLoop { name, step, tail, shape, quick_step } => {
                // The step's split loops stay optimised and split at a step's threshold,
                // for which the kernel planner placed them.
                let tier = if *quick_step { Tier::Cold } else { Tier::Hot };
                let step_name = format!("{name}.{index}.step");
                let (step_ids, mut clif) =
                    self.step(&step_name, step, shape.batch, (tier, Tier::Hot), *shape, 2 * index)?;
                let tail_ids = match tail {
                    Some(tail) => {
                        let name = format!("{name}.{index}.tail");
                        let (ids, text) =
                            self.step(&name, tail, shape.tail_rows(), (Tier::Cold, Tier::Cold), *shape, 2 * index + 1)?;
                        clif.push_str(&text);
                        ids
                    }
                    None => Vec::new(),
                };
                let (id, text) =
                    self.function(&format!("{name}.{index}"), 1, true, Tier::Cold, 2 * index, |b, helpers, module| {
                        let step: Vec<_> = step_ids.iter().map(|&id| far_call(module, id, b)).collect();
                        let tail: Vec<_> = tail_ids.iter().map(|&id| far_call(module, id, b)).collect();
                        let mut callback = module.make_signature();
                        callback.params.extend([types::I64, types::I64, types::F64].map(AbiParam::new));
                        callback.returns.push(AbiParam::new(types::I32));
                        let callback = b.import_signature(callback);
                        train_loop::emit_train_loop(b, helpers, callback, &step, &tail, *shape);
                    })?;
                clif.push_str(&text);
                Ok((id, clif))
            }
        }
    }

    /// Builds a training step of `rows` rows as functions of about [`PIECE_INSTS`] CLIF
    /// instructions each, which the loop calls in turn: `name` for the first, `name.p1`,
    /// `name.p2` … for the rest. The pieces of a large step are compiled on both cores at
    /// once, while the next is built. `tiers`: the pieces', and their split loops'.
    fn step(
        &mut self,
        name: &str,
        program: &Program,
        rows: usize,
        (tier, loops_tier): (Tier, Tier),
        shape: LoopShape,
        profile_unit: usize,
    ) -> Result<(Vec<FuncId>, String), CodegenError> {
        let (options, workers, ids) = (self.options, self.workers, self.ids);
        let (mut pieces, mut clif, mut first) = (Vec::new(), String::new(), 0);
        while first < program.kernels.len() || pieces.is_empty() {
            let piece_name = if pieces.is_empty() { name.to_string() } else { format!("{name}.p{}", pieces.len()) };
            let piece = train_loop::StepPiece { program, rows, first, budget: options.piece_insts };
            let mut spawned = String::new();
            let mut next = first;
            let (id, text) = self.function(&piece_name, 3, false, tier, profile_unit, |b, h, module| {
                let text = options.clif.then_some(&mut spawned);
                let mut spawner = Spawner::new(module, workers, ids, &piece_name, loops_tier, text);
                next = train_loop::emit_step(b, h, piece, shape, options.checked, options.fma(), Some(&mut spawner));
            })?;
            clif.push_str(&text);
            clif.push_str(&spawned);
            pieces.push(id);
            if next <= first {
                break; // no kernels at all: one empty step
            }
            first = next;
        }
        Ok((pieces, clif))
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
        let shape = FunctionShape { name, params, returns, tier };
        let profile = self.options.profile.then_some(profile_unit);
        let (module, workers, ids, clif) = (&mut *self.module, self.workers, self.ids, self.options.clif);
        define_function(module, workers, &mut self.context, (ids, profile), shape, clif, body)
            .map_err(|e| err("declare")(&e))
    }
}

/// The name, signature and compilation tier of a function [`define_function`] builds.
struct FunctionShape<'a> {
    name: &'a str,
    /// How many i64 parameters it takes.
    params: usize,
    /// Whether it returns an i32.
    returns: bool,
    tier: Tier,
}

/// Declares a function, builds its body with `body`, and queues it for compilation on
/// `workers`: the steps every compiled function goes through. `profile` is the profile
/// unit its kernels count under, when profiling. Returns its id and, when `clif`, its
/// CLIF text.
fn define_function(
    module: &mut JITModule,
    workers: &jit::Workers,
    context: &mut FunctionBuilderContext,
    (ids, profile): (jit::HelperIds, Option<usize>),
    shape: FunctionShape<'_>,
    clif: bool,
    body: impl FnOnce(&mut FunctionBuilder, Helpers, &mut JITModule),
) -> Result<(FuncId, String), cranelift_module::ModuleError> {
    let mut function = module.make_context();
    let signature = &mut function.func.signature;
    signature.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), shape.params));
    if shape.returns {
        signature.returns.push(AbiParam::new(types::I32));
    }
    let id = module.declare_function(shape.name, Linkage::Local, &function.func.signature)?;
    let target = module.target_config();
    {
        let mut b = FunctionBuilder::new(&mut function.func, context);
        let helpers = Helpers {
            gemm: module.declare_func_in_func(ids.gemm, b.func),
            out_of_bounds: module.declare_func_in_func(ids.out_of_bounds, b.func),
            profile: profile.map(|unit| (module.declare_func_in_func(ids.profile, b.func), unit)),
        };
        body(&mut b, helpers, module);
        b.seal_all_blocks();
        b.finalize(target);
    }
    let text = if clif { format!("; {}\n{}", shape.name, function.func.display()) } else { String::new() };
    workers.submit(id, shape.name.to_string(), function, shape.tier);
    Ok((id, text))
}

/// A call from one compiled function to another of the same module, through its absolute
/// address: the JIT may place two functions of a module more than 2 GiB apart (it did,
/// after a few hundred compilations in one process), where a 32-bit relative call cannot
/// reach and linking fails.
fn far_call(module: &mut JITModule, callee: FuncId, b: &mut FunctionBuilder) -> cranelift_codegen::ir::FuncRef {
    let call = module.declare_func_in_func(callee, b.func);
    b.func.dfg.ext_funcs[call].colocated = false;
    call
}

/// Builds and queues the functions of loop kernels split between threads
/// (`parallel.rs`) while the function that calls them is being built.
struct Spawner<'m> {
    module: &'m mut JITModule,
    workers: &'m jit::Workers,
    ids: jit::HelperIds,
    context: FunctionBuilderContext,
    /// The calling function's name: kernel `k`'s function is `{caller}.k{k}`.
    caller: String,
    /// The calling function's tier, which sets the fewest points a kernel is split at.
    /// The kernels' functions themselves are always optimised: a loop large enough to
    /// split in an evaluation (2¹⁸ points) repays it several times over. W5 at 28×28
    /// evaluated in 260 instead of 304 ms and W5 in 24.8 instead of 29.4 (9 interleaved
    /// runs, medians); W5 compiled in 12.1 instead of 10.9 ms (21 runs; minima 9.0 and
    /// 8.9), at 28×28 in 9.4 against 9.9.
    tier: Tier,
    /// Where the CLIF text of each function goes, when it is kept (stage `clif`).
    clif: Option<&'m mut String>,
    /// `nnc_parallel_loop` as the calling function imports it, once it does.
    helper: Option<cranelift_codegen::ir::FuncRef>,
}

impl<'m> Spawner<'m> {
    fn new(
        module: &'m mut JITModule,
        workers: &'m jit::Workers,
        ids: jit::HelperIds,
        caller: &str,
        tier: Tier,
        clif: Option<&'m mut String>,
    ) -> Spawner<'m> {
        let context = FunctionBuilderContext::new();
        Spawner { module, workers, ids, context, caller: caller.to_string(), tier, clif, helper: None }
    }
}

impl parallel::LoopFunctions for Spawner<'_> {
    fn build(
        &mut self,
        caller: &mut FunctionBuilder,
        spec: &parallel::LoopSpec,
    ) -> Option<(cranelift_codegen::ir::FuncRef, cranelift_codegen::ir::FuncRef)> {
        let name = format!("{}.k{}", self.caller, spec.kernel);
        let shape = FunctionShape { name: &name, params: 3, returns: false, tier: Tier::Hot };
        let (module, workers, keep_text) = (&mut *self.module, self.workers, self.clif.is_some());
        let (id, text) =
            define_function(module, workers, &mut self.context, (self.ids, None), shape, keep_text, |b, h, _| {
                parallel::emit_kernel_function(b, h, spec)
            })
            .ok()?;
        if let Some(clif) = self.clif.as_deref_mut() {
            clif.push_str(&text);
        }
        let helper =
            *self.helper.get_or_insert_with(|| self.module.declare_func_in_func(self.ids.parallel_loop, caller.func));
        Some((far_call(self.module, id, caller), helper))
    }

    fn min_points(&self) -> usize {
        split_loop_points(self.tier == Tier::Hot)
    }
}

/// A program function: the slots are the inputs, parameters, outputs, then the arena.
fn emit_program_function(
    b: &mut FunctionBuilder,
    helpers: Helpers,
    program: &Program,
    options: Options,
    split: Option<&mut dyn parallel::LoopFunctions>,
) {
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
    let mut e = Emitter {
        b,
        helpers,
        places,
        rows: None,
        checked: options.checked,
        fma: options.fma(),
        kernel: 0,
        known_rows: Vec::new(),
        split,
        reuse: Default::default(),
    };
    program::emit_program(&mut e, program);
    e.b.ins().return_(&[]);
}
