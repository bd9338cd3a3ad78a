//! Cranelift code generation: each graph becomes one native function.
//!
//! [`compile`] JIT-compiles a set of graphs into one [`Compiled`] unit. Each function runs
//! its whole graph (forward, backward and update of a training step) with no dispatch in
//! Rust; its calling convention and buffer plan are in [`Plan`].

mod libcalls;
mod plan;
mod translate;

pub use plan::{Location, Plan};

use cranelift::prelude::*;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use nnc_ir::Graph;
use translate::{Libcalls, Translator};

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

type Entry = unsafe extern "C" fn(*const *mut f32);

/// One compiled graph: its entry point, buffer plan and CLIF text. A kernel is only ever
/// reached through a reference into the [`Compiled`] unit that owns its code, so it cannot
/// outlive that code.
pub struct Kernel {
    entry: Entry,
    plan: Plan,
    clif: String,
    shapes: Shapes,
}

/// Element counts of each slot, checked on every call, and the outputs' names.
struct Shapes {
    inputs: Vec<usize>,
    params: Vec<usize>,
    outputs: Vec<usize>,
    output_names: Vec<String>,
}

/// Compiled code for several named graphs; frees the code when dropped.
pub struct Compiled {
    module: Option<JITModule>,
    kernels: Vec<(String, Kernel)>,
}

impl Compiled {
    /// The kernel compiled from the graph named `name`.
    pub fn kernel(&self, name: &str) -> Option<&Kernel> {
        self.kernels.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }

    /// Every kernel with its name, in compilation order.
    pub fn kernels(&self) -> impl Iterator<Item = (&str, &Kernel)> {
        self.kernels.iter().map(|(n, k)| (n.as_str(), k))
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the kernels' entry points die with `self`; nothing else holds them.
            unsafe { module.free_memory() };
        }
    }
}

/// Buffers for one call: one slice per input, per parameter (updated in place) and per
/// output, plus scratch of `plan.scratch_len` elements.
pub struct Frame<'a> {
    pub inputs: &'a [&'a [f32]],
    pub params: &'a mut [Vec<f32>],
    pub outputs: &'a mut [Vec<f32>],
    pub scratch: &'a mut [f32],
}

impl Kernel {
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The CLIF text of the compiled function (stage `clif`).
    pub fn clif(&self) -> &str {
        &self.clif
    }

    /// Elements of each input, in declaration order.
    pub fn input_sizes(&self) -> &[usize] {
        &self.shapes.inputs
    }

    /// Elements of each parameter, in declaration order.
    pub fn param_sizes(&self) -> &[usize] {
        &self.shapes.params
    }

    /// Each output's name and element count, in declaration order.
    pub fn outputs(&self) -> impl Iterator<Item = (&str, usize)> {
        self.shapes.output_names.iter().map(String::as_str).zip(self.shapes.outputs.iter().copied())
    }

    /// Runs the compiled graph on `frame`.
    ///
    /// Panics if a buffer's length differs from its declared shape: the runtime sizes every
    /// buffer from the same graph, so a mismatch is a bug, and checking keeps the call safe.
    pub fn call(&self, frame: Frame<'_>) {
        let sizes_match = |lens: &mut dyn ExactSizeIterator<Item = usize>, expected: &[usize]| {
            lens.len() == expected.len() && lens.zip(expected).all(|(len, want)| len == *want)
        };
        assert!(sizes_match(&mut frame.inputs.iter().map(|b| b.len()), &self.shapes.inputs), "input sizes");
        assert!(sizes_match(&mut frame.params.iter().map(|b| b.len()), &self.shapes.params), "param sizes");
        assert!(sizes_match(&mut frame.outputs.iter().map(|b| b.len()), &self.shapes.outputs), "output sizes");
        assert!(frame.scratch.len() >= self.plan.scratch_len, "scratch size");
        // Small slot tables live on the stack, so a training step allocates nothing.
        let mut on_stack = [std::ptr::null_mut::<f32>(); 32];
        let mut on_heap = Vec::new();
        let slots: &mut [*mut f32] = if self.plan.n_slots() <= on_stack.len() {
            &mut on_stack[..self.plan.n_slots()]
        } else {
            on_heap.resize(self.plan.n_slots(), std::ptr::null_mut());
            &mut on_heap
        };
        // Inputs are only read by compiled code; the ABI is uniform, hence the cast.
        let pointers = (frame.inputs.iter().map(|b| b.as_ptr().cast_mut()))
            .chain(frame.params.iter_mut().map(|b| b.as_mut_ptr()))
            .chain(frame.outputs.iter_mut().map(|b| b.as_mut_ptr()))
            .chain(std::iter::once(frame.scratch.as_mut_ptr()));
        for (slot, pointer) in slots.iter_mut().zip(pointers) {
            *slot = pointer;
        }
        // SAFETY: every slot points to a live buffer of the size the plan was compiled for
        // (checked above), compiled code only touches elements inside them, and `self`
        // keeps the code alive through its owner.
        unsafe { (self.entry)(slots.as_ptr()) }
    }
}

/// JIT-compiles named graphs, one function each, for the host CPU.
pub fn compile(graphs: &[(&str, &Graph)]) -> Result<Compiled, CodegenError> {
    let mut module = new_module()?;
    let libcall_ids = declare_libcalls(&mut module)?;
    let mut pending = Vec::new();
    let mut builder_context = FunctionBuilderContext::new();
    for (index, (name, graph)) in graphs.iter().enumerate() {
        let (id, clif) = define(&mut module, &mut builder_context, &libcall_ids, graph, index)?;
        pending.push((name.to_string(), id, clif, Plan::new(graph), shapes_of(graph)));
    }
    module.finalize_definitions().map_err(|e| err("finalize")(&e))?;
    let kernels = pending
        .into_iter()
        .map(|(name, id, clif, plan, shapes)| {
            let code = module.get_finalized_function(id);
            // SAFETY: `code` was compiled from a function with signature `fn(i64)` under the
            // host calling convention, which is `Entry`.
            let entry = unsafe { std::mem::transmute::<*const u8, Entry>(code) };
            (name, Kernel { entry, plan, clif, shapes })
        })
        .collect();
    Ok(Compiled { module: Some(module), kernels })
}

fn shapes_of(graph: &Graph) -> Shapes {
    Shapes {
        inputs: graph.inputs.iter().map(|d| d.shape.numel()).collect(),
        params: graph.params.iter().map(|d| d.shape.numel()).collect(),
        outputs: graph.outputs.iter().map(|(_, v)| graph.shape(*v).numel()).collect(),
        output_names: graph.outputs.iter().map(|(n, _)| n.clone()).collect(),
    }
}

fn new_module() -> Result<JITModule, CodegenError> {
    let mut flags = settings::builder();
    // cranelift-jit needs non-PIC code and absolute libcalls.
    for (name, value) in [("opt_level", "speed"), ("is_pic", "false"), ("use_colocated_libcalls", "false")] {
        flags.set(name, value).map_err(|e| err("flag")(&e))?;
    }
    // cranelift-native enables the host's features (AVX, FMA), without which vector
    // and fma instructions become libcalls.
    let isa = cranelift_native::builder()
        .map_err(|e| err("host ISA")(&e))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| err("host ISA")(&e))?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    for (name, function) in libcalls::LIBCALLS {
        builder.symbol(*name, *function as *const u8);
    }
    Ok(JITModule::new(builder))
}

fn declare_libcalls(module: &mut JITModule) -> Result<Vec<FuncId>, CodegenError> {
    let mut signature = module.make_signature();
    signature.params.push(AbiParam::new(types::F32));
    signature.returns.push(AbiParam::new(types::F32));
    libcalls::LIBCALLS
        .iter()
        .map(|(name, _)| module.declare_function(name, Linkage::Import, &signature).map_err(|e| err("declare")(&e)))
        .collect()
}

fn define(
    module: &mut JITModule,
    builder_context: &mut FunctionBuilderContext,
    libcall_ids: &[FuncId],
    graph: &Graph,
    index: usize,
) -> Result<(FuncId, String), CodegenError> {
    let mut context = module.make_context();
    context.func.signature.params.push(AbiParam::new(types::I64));
    let name = format!("{}.{index}", graph.name);
    let id = module.declare_function(&name, Linkage::Local, &context.func.signature).map_err(|e| err("declare")(&e))?;
    let plan = Plan::new(graph);
    let target = module.target_config();
    {
        let mut builder = FunctionBuilder::new(&mut context.func, builder_context);
        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        let slots = builder.block_params(entry)[0];
        let refs: Vec<_> = libcall_ids.iter().map(|id| module.declare_func_in_func(*id, builder.func)).collect();
        let libcalls = Libcalls { exp: refs[0], log: refs[1], tanh: refs[2] };
        let mut translator = Translator { builder: &mut builder, graph, plan: &plan, libcalls, bases: Vec::new() };
        translator.load_bases(slots);
        translator.translate();
        builder.seal_all_blocks();
        builder.finalize(target);
    }
    let clif = format!("; {name}\n{}", context.func.display());
    module.define_function(id, &mut context).map_err(|e| err(&name)(&format!("{e:?}")))?;
    module.clear_context(&mut context);
    Ok((id, clif))
}
