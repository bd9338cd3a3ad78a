//! The unsafe boundary from the safe side: `nnc_codegen::compile` is a safe function over
//! public, mutable programs, so every program a caller can build must either be refused
//! or run inside its buffers. Each case here once compiled into code that read or wrote
//! outside them (in release builds, where nothing checks at run time).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_codegen::{LoopShape, Options, Unit, compile};
use nnc_driver::Overrides;
use nnc_kernels::{KernelKind, Node, Program, Storage};
use nnc_runtime::Role;
use nnc_tests::repo_root;

/// The step and tail programs and loop shape of a training example.
fn plan(example: &str) -> (Program, Option<Program>, LoopShape) {
    let path = repo_root().join("examples").join(example);
    plan_of(&std::fs::read_to_string(&path).unwrap())
}

fn plan_of(source: &str) -> (Program, Option<Program>, LoopShape) {
    let checked = nnc_driver::check(source, &repo_root().join("examples"), Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    (plan.program(&Role::Step).unwrap().clone(), plan.program(&Role::TailStep).cloned(), plan.shape)
}

fn refused(units: &[Unit<'_>]) -> String {
    match compile(units, Options::default()) {
        Ok(_) => panic!("compiled"),
        Err(error) => error.0,
    }
}

fn program_refused(program: &Program) -> String {
    refused(&[Unit::Program { name: "p", program, hot: false }])
}

fn loop_refused(step: &Program, tail: Option<&Program>, shape: LoopShape) -> String {
    refused(&[Unit::TrainLoop { name: "train", step, tail, shape, quick_step: false }])
}

#[test]
fn the_examples_compile() {
    let (step, tail, shape) = plan("iris.nn");
    compile(
        &[Unit::TrainLoop { name: "train", step: &step, tail: tail.as_ref(), shape, quick_step: false }],
        Options::default(),
    )
    .unwrap();
}

/// The reproduction: a buffer enlarged after lowering.
#[test]
fn a_buffer_longer_than_declared_is_refused() {
    let (mut step, _, _) = plan("xor.nn");
    let input = step.buffers.iter().position(|b| b.storage == Storage::Input(0)).unwrap();
    step.buffers[input].len += 1000;
    assert!(program_refused(&step).contains("declared"));
}

#[test]
fn a_view_past_its_buffer_or_overflowing_is_refused() {
    let (step, _, _) = plan("iris.nn");
    let with_first_load = |edit: &dyn Fn(&mut nnc_kernels::View)| {
        let mut program = step.clone();
        let body = match &mut program.kernels[0].kind {
            KernelKind::Loop { body, .. } => body,
            KernelKind::Matmul(mm) => &mut mm.epilogue,
        };
        if let Some(view) = body.nodes.iter_mut().find_map(|n| if let Node::Load(v) = n { Some(v) } else { None }) {
            edit(view);
        } else if let KernelKind::Matmul(mm) = &mut program.kernels[0].kind {
            edit(&mut mm.a);
        }
        program
    };
    let far = with_first_load(&|view| view.offset += 1 << 20);
    assert!(program_refused(&far).contains("beyond"));
    let huge = with_first_load(&|view| view.strides[0] = isize::MAX);
    assert!(program_refused(&huge).contains("overflows"), "checked arithmetic, not a wrap or a panic");
}

#[test]
fn a_kernel_writing_an_input_is_refused() {
    let (mut step, _, _) = plan("xor.nn");
    let input = step.buffers.iter().position(|b| b.storage == Storage::Input(0)).unwrap() as u32;
    let kernel = step.kernels.iter_mut().find(|k| !k.body().stores.is_empty()).unwrap();
    let store = match &mut kernel.kind {
        KernelKind::Loop { body, .. } => &mut body.stores[0],
        KernelKind::Matmul(mm) => &mut mm.epilogue.stores[0],
    };
    store.view.buffer = nnc_kernels::BufferId(input);
    assert!(program_refused(&step).contains("an input"));
}

/// A library product writes its whole (m, n) output: an accumulator too small for it is
/// refused (the verifier checked only updates in place).
#[test]
fn a_library_product_into_a_short_buffer_is_refused() {
    let (mut step, _, _) = plan("digits.nn");
    let acc = step
        .kernels
        .iter()
        .find_map(|k| match &k.kind {
            KernelKind::Matmul(mm) => mm.acc,
            KernelKind::Loop { .. } => None,
        })
        .expect("digits has a library product");
    step.buffers[acc.index()].len = 1;
    assert!(program_refused(&step).contains("beyond"));
}

/// A training loop whose shape disagrees with its programs: the loop would index the row
/// order and rate tables, and the data, by the shape.
#[test]
fn a_loop_whose_shape_disagrees_with_its_steps_is_refused() {
    let (step, tail, shape) = plan("iris.nn");
    let tail = tail.expect("iris has a smaller last batch");
    assert!(loop_refused(&step, Some(&tail), LoopShape { rows: shape.rows + 7, ..shape }).contains("cannot"));
    assert!(loop_refused(&step, None, shape).contains("no last step"));
    assert!(loop_refused(&step, Some(&tail), LoopShape { batch: shape.batch + 1, ..shape }).contains("inputs"));
    assert!(loop_refused(&step, Some(&tail), LoopShape { x_width: shape.x_width + 1, ..shape }).contains("inputs"));
    assert!(loop_refused(&step, Some(&step), shape).contains("inputs"), "a full step in the tail's place");
}

/// A gathered read reaches rows of the whole data set through the row order: it is
/// checked against the data the loop binds, not the batch. With one row a batch, a row
/// stride one too long stays inside the batch's buffer but not inside the data set.
#[test]
fn a_gather_past_the_data_set_is_refused() {
    let source = std::fs::read_to_string(repo_root().join("examples/xor.nn")).unwrap().replace("batch 4", "batch 1");
    let (mut step, tail, shape) = plan_of(&source);
    assert_eq!((shape.batch, shape.rows), (1, 4));
    let gathered = step
        .kernels
        .iter_mut()
        .flat_map(|k| match &mut k.kind {
            KernelKind::Loop { body, .. } => body.nodes.iter_mut().collect::<Vec<_>>(),
            KernelKind::Matmul(mm) => mm.epilogue.nodes.iter_mut().collect(),
        })
        .find_map(|n| match n {
            Node::Load(view) if view.gather.is_some() => Some(view),
            _ => None,
        })
        .expect("the step gathers its rows");
    let axis = gathered.gather.unwrap();
    gathered.strides[axis] += 1;
    assert!(nnc_kernels::verify(&step).is_ok(), "inside the batch's buffer");
    assert!(loop_refused(&step, tail.as_ref(), shape).contains("beyond"));
}

/// Fuzzing finding (`fuzz/` target `source`, after 256 compilations in one process under
/// AddressSanitizer): the training loop called its step with a 32-bit relative call, and
/// the JIT had placed the two more than 2 GiB apart, so linking panicked inside
/// Cranelift. Calls between compiled functions now go through absolute addresses.
#[test]
fn compiled_functions_call_each_other_at_any_distance() {
    let (step, tail, shape) = plan("iris.nn");
    let options = Options { clif: true, ..Options::default() };
    let compiled = compile(
        &[Unit::TrainLoop { name: "train", step: &step, tail: tail.as_ref(), shape, quick_step: false }],
        options,
    )
    .unwrap();
    let clif = compiled.clif();
    assert!(clif.contains("call fn"), "the loop calls its steps");
    assert!(!clif.contains("colocated"), "no call needs its callee within 2 GiB:\n{clif}");
}

/// A product whose ReLU mask and column sums the GEMM kernel applies (`finish.rs`) reads
/// the mask and writes the sums through raw pointers: a mask past its buffer, sums shorter
/// than a row of the product, and sums that are one of the product's operands are refused.
#[test]
fn a_finish_outside_its_buffers_is_refused() {
    let (step, _, _) = plan("digits.nn");
    let finished = |program: &Program| -> usize {
        program
            .kernels
            .iter()
            .position(
                |k| matches!(&k.kind, KernelKind::Matmul(mm) if mm.finish.as_ref().is_some_and(|f| f.sums.is_some())),
            )
            .expect("digits' hidden layer's gradient is finished in registers")
    };
    let edit = |change: &dyn Fn(&mut Program, usize)| {
        let mut program = step.clone();
        let index = finished(&program);
        change(&mut program, index);
        program_refused(&program)
    };
    let far = edit(&|p, k| finish(p, k).mask.as_mut().unwrap().offset += 1);
    assert!(far.contains("beyond"), "{far}");
    let short = edit(&|p, k| {
        let sums = finish(p, k).sums.unwrap();
        p.buffers[sums.index()].len -= 1;
    });
    assert!(short.contains("beyond"), "{short}");
    let aliased = edit(&|p, k| {
        let KernelKind::Matmul(mm) = &p.kernels[k].kind else { unreachable!() };
        let operand = mm.a.buffer;
        finish(p, k).sums = Some(operand);
    });
    assert!(aliased.contains("writes a buffer it reads"), "{aliased}");
}

/// A product whose rows' softmax the GEMM helper computes (`softmax.rs`) writes each row's
/// maximum, exponentials and sum through raw pointers: exponentials or sums shorter than
/// the product needs, a maximum written into one of the product's operands and two of
/// them in one buffer are refused.
#[test]
fn a_softmax_outside_its_buffers_is_refused() {
    let (step, _, _) = plan("digits.nn");
    let index = step
        .kernels
        .iter()
        .position(
            |k| matches!(&k.kind, KernelKind::Matmul(mm) if mm.finish.as_ref().is_some_and(|f| f.softmax.is_some())),
        )
        .expect("digits' output layer's softmax is computed by the product");
    let edit = |change: &dyn Fn(&mut Program, &mut nnc_kernels::Softmax)| {
        let mut program = step.clone();
        let mut softmax = finish(&mut program, index).softmax.unwrap();
        change(&mut program, &mut softmax);
        finish(&mut program, index).softmax = Some(softmax);
        program_refused(&program)
    };
    // Later kernels read the exponentials and sums too; the product itself must be refused.
    let beyond = format!("k{index}: reads or writes");
    let short_exps = edit(&|p, s| p.buffers[s.exps.index()].len -= 1);
    assert!(short_exps.contains(&beyond), "{short_exps}");
    let short_total = edit(&|p, s| p.buffers[s.total.index()].len -= 1);
    assert!(short_total.contains(&beyond), "{short_total}");
    let into_operand = edit(&|p, s| {
        let KernelKind::Matmul(mm) = &p.kernels[index].kind else { unreachable!() };
        s.max = mm.b.buffer;
    });
    assert!(into_operand.contains("writes a buffer it reads"), "{into_operand}");
    let twice = edit(&|_, s| s.total = s.max);
    assert!(twice.contains("one twice"), "{twice}");
}

fn finish(program: &mut Program, index: usize) -> &mut nnc_kernels::Finish {
    match &mut program.kernels[index].kind {
        KernelKind::Matmul(mm) => mm.finish.as_deref_mut().unwrap(),
        KernelKind::Loop { .. } => unreachable!(),
    }
}
