//! The Cranelift module: the host ISA, the Rust helpers generated code calls, and
//! compiling a set of functions on every core before placing them in one JIT module.
//!
//! Cranelift compiles each function independently: the functions are built as CLIF one
//! after the other (cheap) and each is handed to a [`Workers`] queue as soon as it is
//! built, where the calling thread and a helper compile them (the expensive part: about
//! 1 ms per 1,500 instructions); the module then only links the bytes. The helper starts
//! before the first function is built because waking an idle core can take a while.
//!
//! Code that runs every step is compiled for speed; code that runs at most once per
//! epoch (the last, smaller step, evaluations, the loop around the steps) is compiled
//! quickly, with no optimisation and single-pass register allocation: half the compile
//! time, and a quarter slower to run.

use crate::cpu::CpuClass;
use crate::{CodegenError, err, gemm, profile};
use cranelift::prelude::*;
use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, ModuleReloc};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// How hard Cranelift works on a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    /// Runs every step: optimised, with the backtracking register allocator.
    Hot,
    /// Runs at most once per epoch: compiled as fast as Cranelift can.
    Cold,
}

/// The host ISA configured for a tier, without the features above `class`.
fn host_isa(tier: Tier, class: CpuClass) -> Result<OwnedTargetIsa, CodegenError> {
    let mut flags = settings::builder();
    // cranelift-jit needs non-PIC code and absolute libcalls.
    // Cranelift's own IR verifier runs in debug builds (where the tests run); it would add
    // about half to every compile.
    let verify = if cfg!(debug_assertions) { "true" } else { "false" };
    let (opt_level, regalloc) = match tier {
        Tier::Hot => ("speed", "backtracking"),
        Tier::Cold => ("none", "single_pass"),
    };
    let settings = [
        ("opt_level", opt_level),
        ("regalloc_algorithm", regalloc),
        ("is_pic", "false"),
        ("use_colocated_libcalls", "false"),
        ("enable_verifier", verify),
    ];
    for (name, value) in settings {
        flags.set(name, value).map_err(|e| err("flag")(&e))?;
    }
    // cranelift-native enables the host's features (AVX, FMA), without which vector
    // and fma instructions become libcalls; those above the chosen class are turned off.
    let mut isa = cranelift_native::builder().map_err(|e| err("host ISA")(&e))?;
    for feature in features_above(class) {
        isa.set(feature, "false").map_err(|e| err("ISA feature")(&e))?;
    }
    isa.finish(settings::Flags::new(flags)).map_err(|e| err("host ISA")(&e))
}

/// Cranelift's x86-64 features a CPU of `class` may lack. `generic` is the x86-64
/// baseline itself (SSE2), which is what `cranelift_native` finds on a CPU of the first
/// x86-64 generations (Core 2 before 2008, AMD K8 and K10, the early 64-bit Atoms), so
/// that `NNC_CPU=generic` tests the code such a CPU gets. `avx2` is Haswell's set.
fn features_above(class: CpuClass) -> Vec<&'static str> {
    const AVX512: &[&str] = &[
        "has_avx512bitalg",
        "has_avx512dq",
        "has_avx512f",
        "has_avx512vbmi",
        "has_avx512vl",
        "has_avx512vnni",
        "has_avx_vnni",
    ];
    const AVX2: &[&str] = &["has_avx", "has_avx2", "has_fma", "has_bmi1", "has_bmi2", "has_lzcnt"];
    const SSE3_TO_SSE42: &[&str] = &["has_popcnt", "has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_cmpxchg16b"];
    match class {
        _ if !cfg!(target_arch = "x86_64") => Vec::new(),
        CpuClass::Avx512 => Vec::new(),
        CpuClass::Avx2 => AVX512.to_vec(),
        CpuClass::Generic => [AVX512, AVX2, SSE3_TO_SSE42].concat(),
    }
}

/// `a·b + c` rounded once, should an `fma` reach code for a CPU without FMA instructions.
extern "C" fn fused_multiply_add(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

/// A JIT module for the host, generating code for `class` (at most the host's), and the
/// ISA of each tier (shared with the compiling threads; the module only links what they
/// compile).
pub(crate) fn new_module(class: CpuClass) -> Result<(JITModule, [OwnedTargetIsa; 2]), CodegenError> {
    let (isa, cold) = (host_isa(Tier::Hot, class)?, host_isa(Tier::Cold, class)?);
    let mut builder = JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
    builder.symbol("nnc_gemm", gemm::nnc_gemm as *const u8);
    builder.symbol("nnc_parallel_loop", gemm::nnc_parallel_loop as *const u8);
    builder.symbol("nnc_out_of_bounds", out_of_bounds as *const u8);
    builder.symbol("nnc_profile_tick", profile::nnc_profile_tick as *const u8);
    // Generated code uses `fma` only where the class has FMA (`Emitter::mul_add`; a test
    // checks the CLIF); without FMA Cranelift would call `fmaf`, given here rather than
    // looked up in the process, where a binary that never calls it has no libm copy.
    builder.symbol("fmaf", fused_multiply_add as *const u8);
    Ok((JITModule::new(builder), [isa, cold]))
}

/// Reports an out-of-bounds access of generated code (a compiler bug) and aborts: the
/// process must not go on with memory it should not have touched.
extern "C" fn out_of_bounds(kernel: i64, buffer: i64, element: i64, len: i64) {
    // The unit tests make programs with lying lengths (over buffers long enough) to see
    // the check fire: there it is counted, not fatal.
    if cfg!(test) {
        #[cfg(test)]
        OUT_OF_BOUNDS_SEEN.fetch_add(1, Ordering::SeqCst);
        return;
    }
    eprintln!(
        "nnc: internal error: kernel k{kernel} accessed element {element} of buffer b{buffer}, which has {len}; \
         please report this bug"
    );
    std::process::abort();
}

/// Out-of-bounds accesses the checks reported (unit tests only).
#[cfg(test)]
pub(crate) static OUT_OF_BOUNDS_SEEN: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Copy)]
pub(crate) struct HelperIds {
    pub gemm: FuncId,
    pub parallel_loop: FuncId,
    pub out_of_bounds: FuncId,
    pub profile: FuncId,
}

pub(crate) fn declare_helpers(module: &mut JITModule) -> Result<HelperIds, CodegenError> {
    let mut gemm = module.make_signature();
    gemm.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), 13));
    gemm.params.extend(std::iter::repeat_n(AbiParam::new(types::F32), 2));
    gemm.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), 7));
    let mut oob = module.make_signature();
    oob.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), 4));
    let mut parallel = module.make_signature();
    parallel.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), 3));
    let mut tick = module.make_signature();
    tick.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), 2));
    let declare = |module: &mut JITModule, name: &str, sig| {
        module.declare_function(name, Linkage::Import, sig).map_err(|e| err("declare")(&e))
    };
    Ok(HelperIds {
        gemm: declare(module, "nnc_gemm", &gemm)?,
        out_of_bounds: declare(module, "nnc_out_of_bounds", &oob)?,
        profile: declare(module, "nnc_profile_tick", &tick)?,
        // Last, so that the others keep their numbers in the CLIF text.
        parallel_loop: declare(module, "nnc_parallel_loop", &parallel)?,
    })
}

/// A function built as CLIF, waiting to be compiled.
struct Pending {
    index: usize,
    tier: Tier,
    id: FuncId,
    name: String,
    context: Context,
}

/// A compiled function: machine code and the relocations the module resolves.
struct Machine {
    id: FuncId,
    name: String,
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    /// Cranelift's listing of the machine code, when asked for (stage `asm`).
    asm: Option<String>,
    tier: Tier,
}

/// Functions waiting to be compiled, and what came of those compiled.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Pending>,
    closed: bool,
    done: Vec<Option<Result<Machine, CodegenError>>>,
}

/// A compile queue served by the calling thread and up to one helper.
pub(crate) struct Workers {
    /// Hot, cold.
    isas: [OwnedTargetIsa; 2],
    queue: Mutex<Queue>,
    ready: Condvar,
    submitted: AtomicUsize,
    /// Keep each function's machine-code listing.
    asm: bool,
}

impl Workers {
    pub fn new(isas: [OwnedTargetIsa; 2], asm: bool) -> Workers {
        Workers { isas, queue: Mutex::default(), ready: Condvar::new(), submitted: AtomicUsize::new(0), asm }
    }

    /// How many threads should serve the queue: two where there are two cores.
    pub fn threads() -> usize {
        crate::cpu::threads()
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a built function for compilation.
    pub fn submit(&self, id: FuncId, name: String, context: Context, tier: Tier) {
        let index = self.submitted.fetch_add(1, Ordering::Relaxed);
        self.lock().waiting.push_back(Pending { index, tier, id, name, context });
        self.ready.notify_one();
    }

    /// Compiles queued functions until the queue is closed and empty.
    pub fn serve(&self) {
        loop {
            let mut queue = self.lock();
            let pending = loop {
                match queue.waiting.pop_front() {
                    Some(pending) => break pending,
                    None if queue.closed => return,
                    None => queue = self.ready.wait(queue).unwrap_or_else(|p| p.into_inner()),
                }
            };
            drop(queue);
            let index = pending.index;
            let isa = &self.isas[usize::from(pending.tier == Tier::Cold)];
            let machine = compile_one(&**isa, pending, self.asm);
            let mut queue = self.lock();
            if queue.done.len() <= index {
                queue.done.resize_with(index + 1, || None);
            }
            queue.done[index] = Some(machine);
        }
    }

    /// Stops waiting for more functions, helps compile the rest, and defines every
    /// compiled function in `module` (once every thread has finished).
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
        self.serve();
    }

    /// Defines every compiled function in `module`; returns their machine-code listings
    /// in the order they were submitted (empty unless the workers keep them).
    pub fn define_all(self, module: &mut JITModule) -> Result<String, CodegenError> {
        let queue = self.queue.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut listings = String::new();
        for machine in queue.done {
            let machine = machine.ok_or_else(|| CodegenError("a function was not compiled".into()))??;
            module
                .define_function_bytes(machine.id, machine.alignment, &machine.bytes, &machine.relocs)
                .map_err(|e| err(&machine.name)(&format!("{e:?}")))?;
            if let Some(asm) = machine.asm {
                let quick = if machine.tier == Tier::Cold { ", not optimised" } else { "" };
                listings.push_str(&format!("; {} ({} bytes{quick})\n{asm}\n", machine.name, machine.bytes.len()));
            }
        }
        Ok(listings)
    }
}

/// Compiles one function; a panic inside Cranelift becomes an error, so that the other
/// thread is never left waiting for this one.
fn compile_one(isa: &dyn TargetIsa, pending: Pending, asm: bool) -> Result<Machine, CodegenError> {
    let name = pending.name.clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile_caught(isa, pending, asm))).unwrap_or_else(
        |panic| Err(CodegenError(format!("internal error compiling {name}: {}", panic_message(&*panic)))),
    )
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => text.to_string(),
        (_, Some(text)) => text.clone(),
        _ => "a panic".to_string(),
    }
}

fn compile_caught(isa: &dyn TargetIsa, pending: Pending, asm: bool) -> Result<Machine, CodegenError> {
    let Pending { id, name, mut context, tier, .. } = pending;
    context.set_disasm(asm);
    context.compile(isa, &mut ControlPlane::default()).map_err(|e| err(&name)(&format!("{:?}", e.inner)))?;
    let code = context.compiled_code().ok_or_else(|| CodegenError(format!("{name}: no code")))?;
    let alignment =
        u64::from(code.buffer.alignment).max(u64::from(isa.function_alignment().minimum)).max(isa.symbol_alignment());
    let bytes = code.code_buffer().to_vec();
    let relocs = code.buffer.relocs().iter().map(|r| ModuleReloc::from_mach_reloc(r, &context.func, id)).collect();
    let asm = code.vcode.clone();
    Ok(Machine { id, name, bytes, alignment, relocs, asm, tier })
}
