//! Compiled code against independent references.
//!
//! - Every compiled function of every golden program and example (the training step and
//!   the smaller last step, each split's evaluation, descent) runs the *optimised* graph
//!   as fused kernels; the reference interpreter runs the *unoptimised* graph; they agree.
//!   Together the programs use every IR op and every fusion pattern (asserted).
//! - The training loop, which inlines the step, gives bit for bit what calling the
//!   standalone step on the same rows in the same order gives.
//! - The inline polynomial exp, log and tanh against f64 over dense sweeps of f32 inputs,
//!   with their special values.
//!
//! In debug builds (as `cargo test` builds), every load and store of generated code is
//! bounds-checked.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_codegen::{EpochEnd, LoopRun};
use nnc_driver::{Functions, Overrides, compile_job, compile_minimization};
use nnc_ir::{Graph, Op, Origin, Shape, evaluate};
use nnc_kernels::Pattern;
use nnc_runtime::{DataView, Role};
use nnc_tests::differential::{assert_close, compare_eval, compare_step, params_for};
use nnc_tests::{nn_files, repo_root, run_compiled};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicU32;

fn programs() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = nn_files(&root.join("examples"));
    files.extend(nn_files(&root.join("tests/golden/ok")));
    files
}

#[test]
fn every_compiled_function_matches_the_interpreter_on_the_unoptimised_graph() {
    let (mut ops, mut patterns, mut functions) = (BTreeSet::new(), BTreeSet::new(), 0);
    for path in programs() {
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let checked = nnc_driver::check(&source, path.parent().unwrap(), Overrides::default()).unwrap();
        for plan in &checked.jobs {
            let compiled = compile_job(plan, Functions::All, nnc_codegen::Options::default()).unwrap();
            for (_, program) in &plan.programs {
                patterns.extend(nnc_kernels::patterns(program));
            }
            for (role, graph) in &plan.graphs.unoptimized {
                ops.extend(graph.insts.iter().map(|i| i.op.name()));
                match role {
                    Role::Step | Role::TailStep => compare_step(&name, plan, &compiled, role, graph),
                    Role::Eval(_) | Role::EvalRest(_) => compare_eval(&name, plan, &compiled, role, graph),
                    Role::TrainLoop | Role::Descend => unreachable!(),
                }
                functions += 1;
            }
        }
        for plan in &checked.minimizations {
            let compiled = compile_minimization(plan, nnc_codegen::Options::default()).unwrap();
            let graph = &plan.graphs.step;
            ops.extend(graph.insts.iter().map(|i| i.op.name()));
            let start: Vec<f32> = plan.minimization.params.iter().map(|(_, x)| *x).collect();
            let trajectory =
                nnc_runtime::descend(&compiled, &start, plan.minimization.learning_rate, 3, None, None).trajectory;
            let mut params: Vec<Vec<f32>> = start.iter().map(|&x| vec![x]).collect();
            for point in &trajectory {
                let refs: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
                let lr = [plan.minimization.learning_rate];
                let values = evaluate(graph, &[&lr], &refs);
                let value = values[graph.outputs[0].1.index()][0];
                assert_close(&format!("{name} {} value", plan.minimization.name), &[point.value], &[value]);
                for (slot, update) in &graph.updates {
                    params[*slot as usize] = values[update.index()].clone();
                }
            }
            functions += 1;
        }
    }
    let every: BTreeSet<&str> = Op::every().iter().map(Op::name).collect();
    let missing: Vec<&&str> = every.difference(&ops).collect();
    assert!(missing.is_empty(), "no tested program uses {missing:?}");
    let unused: Vec<&Pattern> = Pattern::ALL.iter().filter(|p| !patterns.contains(*p)).collect();
    assert!(unused.is_empty(), "no tested program fuses {unused:?}");
    assert!(functions >= 40, "only {functions} compiled functions compared");
}

/// The training loop runs the same code as the standalone step, on rows read through the
/// epoch's row order: the parameters come out identical, bit for bit.
#[test]
fn the_training_loop_matches_its_standalone_steps() {
    let root = repo_root();
    for example in [
        "examples/xor.nn",
        "examples/iris.nn",
        "examples/digits.nn",
        "examples/digits_cnn.nn",
        "tests/golden/ok/tanh-two-outputs.nn",
        "tests/golden/ok/rows-split.nn",
        "tests/golden/ok/batch-of-one-row.nn",
    ] {
        let path = root.join(example);
        let source = std::fs::read_to_string(&path).unwrap();
        let checked = nnc_driver::check(&source, path.parent().unwrap(), Overrides::default()).unwrap();
        assert_loop_matches_steps(example, &checked.jobs[0]);
    }
}

/// A step in pieces (`nnc_codegen::PIECE_INSTS`), here one function per kernel, with split
/// loops, a last smaller step, dropout's seeds and rows read through the order: the loop
/// calling the pieces in turn against the standalone steps, to the bit.
#[test]
fn a_step_in_pieces_matches_its_standalone_steps() {
    let root = repo_root();
    let pieces = nnc_codegen::Options { piece_insts: 1, asm: true, ..nnc_codegen::Options::default() };
    for example in ["examples/iris.nn", "examples/digits_cnn.nn", "tests/golden/ok/rows-split.nn"] {
        let path = root.join(example);
        let source = std::fs::read_to_string(&path).unwrap();
        let checked = nnc_driver::check(&source, path.parent().unwrap(), Overrides::default()).unwrap();
        let plan = &checked.jobs[0];
        let listing = compile_job(plan, Functions::Run, pieces).unwrap().asm().to_string();
        let kernels = plan.program(&Role::Step).unwrap().kernels.len();
        let last = format!("; train.0.step.p{} (", kernels - 1);
        assert!(listing.lines().any(|l| l.starts_with(&last)), "{example}: the premise, {kernels} pieces\n{listing}");
        assert_loop_matches_steps_with(example, plan, pieces);
    }
}

/// A run short enough to have its step compiled quickly (`QUICK_STEP_WORK` in the driver)
/// whose step still splits loops between the threads (a 1×1 convolution over batches of
/// 512 images: 32,768 points): its loop, the quick step calling the optimised functions of
/// its split loops, against its optimised standalone steps, to the bit.
#[test]
fn a_quick_step_with_split_loops_matches_its_standalone_steps() {
    let source = "data digits {\n  file \"data/digits.csv\"\n  features p0..p63\n  target label\n  categorical label\n  normalize minmax\n}\nmodel cnn {\n  input 8x8x1\n  conv2d 1 relu (kernel = 1)\n  dense 10\n}\ntrain cnn on digits { loss softmax_ce; optimizer sgd(lr = 0.05); epochs 2; batch 512; seed 0 }\n";
    let checked = nnc_driver::check(source, &repo_root().join("examples"), Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    let asm = nnc_codegen::Options { asm: true, ..nnc_codegen::Options::default() };
    let listing = compile_job(plan, Functions::Run, asm).unwrap().asm().to_string();
    let quick = listing.lines().any(|l| l.starts_with("; train.0.step (") && l.ends_with(", not optimised)"));
    let split = listing.lines().any(|l| l.starts_with("; train.0.step.k") && !l.contains("not optimised"));
    assert!(quick && split, "the premise: a quick step with optimised split loops\n{listing}");
    assert_loop_matches_steps("a quick step with split loops", plan);
}

/// Generated code for a CPU without FMA instructions (baseline x86-64) multiplies and
/// adds: an `fma` there was a call to `fmaf` for every lane, and made register tiles and
/// polynomials 10–20 × slower than the SSE2 product kernel. With FMA (and on aarch64) the
/// tiles and `exp` are fused. The numbers without FMA are checked by the whole suite under
/// `NNC_CPU=generic` (`.ci/run`).
#[test]
fn code_for_a_cpu_without_fma_has_no_fused_multiply_adds() {
    use nnc_codegen::cpu::{CpuClass, host_class};
    let path = repo_root().join("examples/autoencoder.nn"); // register tiles, tanh and sigmoid
    let source = std::fs::read_to_string(&path).unwrap();
    let checked = nnc_driver::check(&source, path.parent().unwrap(), Overrides::default()).unwrap();
    for class in [CpuClass::Generic, CpuClass::Avx2, CpuClass::Avx512] {
        let options = nnc_codegen::Options { class: Some(class), clif: true, ..nnc_codegen::Options::default() };
        let clif = compile_job(&checked.jobs[0], Functions::All, options).unwrap().clif();
        let fused = clif.lines().filter(|line| line.contains(" = fma ")).count();
        let resolved = class.min(host_class());
        assert_eq!(fused > 0, resolved.has_fma(), "{resolved:?}: {fused} fma instructions");
    }
}

/// `NNC_CPU=generic` is the x86-64 baseline: its machine code uses no instruction past
/// SSE2 (no SSE3, SSSE3, SSE4, POPCNT, LZCNT or VEX), as on a CPU of the first x86-64
/// generations, so that Cranelift's lowerings for such CPUs are what the suite tests under
/// `NNC_CPU=generic` (`.ci/run` also runs a Core 2 under qemu).
#[test]
#[cfg(target_arch = "x86_64")]
fn code_for_baseline_x86_64_uses_nothing_past_sse2() {
    // Prefixes of mnemonics (`pminsw` and `pmaxsw` are SSE2, `andnps` SSE).
    const PAST_SSE2: &[&str] = &[
        "insertps",
        "extractps",
        "blendps",
        "blendvps",
        "pblend",
        "roundp",
        "rounds",
        "pmulld",
        "pminsb",
        "pminsd",
        "pmaxsb",
        "pmaxsd",
        "pminuw",
        "pminud",
        "pmaxuw",
        "pmaxud",
        "ptest",
        "pextrd",
        "pextrq",
        "pextrb",
        "pinsrd",
        "pinsrq",
        "pinsrb",
        "pmovzx",
        "pmovsx",
        "pcmpeqq",
        "pcmpgtq",
        "packusdw",
        "dpps",
        "pshufb",
        "palignr",
        "pabs",
        "phadd",
        "phsub",
        "psign",
        "haddp",
        "hsubp",
        "addsubp",
        "movshdup",
        "movsldup",
        "movddup",
        "lddqu",
        "popcnt",
        "lzcnt",
        "tzcnt",
        "andnl",
        "andnq",
        "v",
    ];
    let options = nnc_codegen::Options {
        class: Some(nnc_codegen::cpu::CpuClass::Generic),
        asm: true,
        ..nnc_codegen::Options::default()
    };
    let mut mnemonics = BTreeSet::new();
    for example in ["examples/autoencoder.nn", "examples/digits_cnn.nn", "examples/iris.nn"] {
        let path = repo_root().join(example);
        let source = std::fs::read_to_string(&path).unwrap();
        let checked = nnc_driver::check(&source, path.parent().unwrap(), Overrides::default()).unwrap();
        let listing = compile_job(&checked.jobs[0], Functions::All, options).unwrap().asm().to_string();
        let instructions = listing.lines().filter(|line| line.starts_with("  ") && !line.trim().starts_with("unwind"));
        mnemonics.extend(instructions.filter_map(|line| line.split_whitespace().next()).map(str::to_string));
    }
    assert!(mnemonics.contains("mulps") && mnemonics.contains("addps"), "the premise: vector code\n{mnemonics:?}");
    let past: Vec<&String> =
        mnemonics.iter().filter(|m| PAST_SSE2.iter().any(|prefix| m.starts_with(prefix))).collect();
    assert!(past.is_empty(), "instructions past SSE2: {past:?}");
}

/// A step of one row is where a length-one axis can vanish from an index and a data row
/// be read off its loop (fixed in `IndexMap::through_reshape`): every training program
/// planned with a last batch of one row, its loop against its steps, and with batches of
/// one row, compiled (the fuser's and the emitter's invariants are asserted in debug).
#[test]
fn batches_of_one_row_train_as_their_steps_say() {
    let mut tails = 0;
    for path in programs() {
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dir = path.parent().unwrap();
        let planned = nnc_driver::check(&source, dir, Overrides::default()).unwrap();
        for (index, plan) in planned.jobs.iter().enumerate() {
            let rows = plan.shape.rows;
            let one = Overrides { batch: Some(1), ..Overrides::default() };
            let checked = nnc_driver::check(&source, dir, one).unwrap();
            compile_job(&checked.jobs[index], Functions::All, nnc_codegen::Options::default()).unwrap();
            if rows >= 3 {
                let tail = Overrides { batch: Some(rows - 1), ..Overrides::default() };
                let checked = nnc_driver::check(&source, dir, tail).unwrap();
                assert_loop_matches_steps(&format!("{name} (batch {})", rows - 1), &checked.jobs[index]);
                tails += 1;
            }
        }
    }
    assert!(tails >= 25, "only {tails} programs trained with a last batch of one row");
}

fn assert_loop_matches_steps(example: &str, plan: &nnc_driver::JobPlan) {
    assert_loop_matches_steps_with(example, plan, nnc_codegen::Options::default());
}

/// [`assert_loop_matches_steps`], with the functions compiled with `options`.
fn assert_loop_matches_steps_with(example: &str, plan: &nnc_driver::JobPlan, options: nnc_codegen::Options) {
    let compiled = compile_job(plan, Functions::All, options).unwrap();
    let shape = plan.shape;
    let (x, y) = (&plan.data.train.inputs, &plan.data.train.targets);
    let lens = plan.program(&Role::Step).unwrap().param_lens.clone();
    let initial = params_for(plan, &lens);
    // Three epochs: rows in reverse, then rotated by one each epoch (one batch of every
    // row is never shuffled: file order); rates 0.01 and up.
    let shuffled = shape.batch < shape.rows;
    let order = |epoch: usize| -> Vec<u32> {
        let row = |i: usize| if shuffled { (shape.rows - 1 - i + epoch) % shape.rows } else { i };
        (0..shape.rows).map(|i| row(i) as u32).collect()
    };
    let rate = |step: usize| 0.01 + 0.001 * step as f32;
    let seed = |step: usize| nnc_ir::seed_value(step as u32 * 7 + 1);
    // Each step's rate, and its seed when a layer draws random numbers.
    let table = |epoch: usize| -> Vec<f32> {
        let step = |s: usize| epoch * shape.steps() + s;
        let per_step = |s: usize| if shape.seeded { vec![rate(step(s)), seed(step(s))] } else { vec![rate(step(s))] };
        (0..shape.steps()).flat_map(per_step).collect()
    };
    let mut looped = initial.clone();
    let (perm, lr) = (order(0), table(0));
    let mut losses = Vec::new();
    let mut on_epoch = |end: EpochEnd<'_>| {
        losses.push(end.loss_sum);
        let next = end.epoch as usize + 1;
        end.perm.copy_from_slice(&order(next));
        end.lr.copy_from_slice(&table(next));
        true
    };
    let interrupt = AtomicU32::new(0);
    let train = compiled.train_loop(&Role::TrainLoop.name()).unwrap();
    train.run(LoopRun {
        x,
        y,
        params: &mut looped,
        epochs: 3,
        perm,
        lr,
        interrupt: &interrupt,
        on_epoch: &mut on_epoch,
    });
    assert_eq!(losses.len(), 3);
    let mut stepped = initial.clone();
    for (epoch, &looped_loss) in losses.iter().enumerate() {
        let rows = order(epoch);
        let mut loss_sum = 0.0f64;
        for (s, chunk) in rows.chunks(shape.batch).enumerate() {
            let gather = |data: &[f32], width: usize| -> Vec<f32> {
                chunk.iter().flat_map(|&r| data[r as usize * width..(r as usize + 1) * width].to_vec()).collect()
            };
            let (bx, by) = (gather(x, shape.x_width), gather(y, shape.y_width));
            let role = if chunk.len() == shape.batch { Role::Step } else { Role::TailStep };
            let batch = DataView { inputs: &bx, targets: &by, rows: chunk.len() };
            let at = epoch * shape.steps() + s;
            let loss = nnc_runtime::step_once(&compiled, &role, batch, (rate(at), seed(at)), &mut stepped);
            loss_sum += f64::from(loss) * chunk.len() as f64;
        }
        assert_eq!(looped_loss, loss_sum, "{example}: epoch {epoch} loss");
    }
    assert_eq!(looped, stepped, "{example}: parameters after three epochs");
}

/// `op` compiled over `xs` (vector and scalar code both run: the length is not a multiple
/// of four).
fn compiled_unary(op: Op, xs: &[f32]) -> Vec<f32> {
    let mut graph = Graph::new("math");
    let x = graph.add_input("x", Shape(vec![xs.len()]), Origin::default());
    let y = graph.push(op, vec![x], Origin::default());
    graph.outputs.push(("y".to_string(), y));
    run_compiled(&graph, &[xs], &mut []).remove(0)
}

/// Generated code writes denormal results as 0 (`nnc_codegen`'s `denormals.rs`: they cost
/// x86 cores a microcode assist each), computes with denormal inputs as they are, and
/// leaves the caller's floating-point state as it found it.
#[test]
fn denormal_results_are_zero_in_generated_code_only() {
    let tiny = f32::MIN_POSITIVE; // 2^-126, the smallest normal f32
    let xs = [tiny, tiny / 8.0, 3.0, 1e-39]; // the second and last are denormal inputs
    let mut graph = Graph::new("halves");
    let x = graph.add_input("x", Shape(vec![xs.len()]), Origin::default());
    let half = graph.add_input("half", Shape(vec![xs.len()]), Origin::default());
    let y = graph.push(Op::Mul, vec![x, half], Origin::default());
    let (logs, logged) = (graph.push(Op::Log, vec![x], Origin::default()), xs.map(|x| f64::from(x).ln()));
    graph.outputs.push(("y".to_string(), y));
    graph.outputs.push(("log".to_string(), logs));
    let outputs = run_compiled(&graph, &[&xs, &[0.5; 4]], &mut []);
    // x86-64 cores honour the bit; valgrind's emulated core (CI runs this file under it)
    // and other architectures keep denormals.
    let flushed_by_cpu = nnc_codegen::cpu_flushes_denormals();
    assert_eq!(flushed_by_cpu, cfg!(target_arch = "x86_64") && !running_under_valgrind());
    let expected_half = |x: f32| if flushed_by_cpu && (x / 2.0).abs() < tiny { 0.0 } else { x / 2.0 };
    for (i, &x) in xs.iter().enumerate() {
        assert_eq!(outputs[0][i], expected_half(x), "{x} / 2");
        assert!((f64::from(outputs[1][i]) - logged[i]).abs() < 1e-4 * logged[i].abs().max(1.0), "log {x}");
    }
    // Rust after the call: denormals as ever.
    assert!(std::hint::black_box(tiny) / std::hint::black_box(2.0f32) > 0.0);
}

/// Whether valgrind runs this process (it preloads its helpers into the processes it runs).
fn running_under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|preload| preload.contains("valgrind") || preload.contains("vgpreload"))
}

/// Distance in units in the last place between two finite f32s of the same sign.
fn ulps(a: f32, b: f32) -> u64 {
    let key = |x: f32| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::from(i32::MIN) - bits } else { bits }
    };
    key(a).abs_diff(key(b))
}

/// Every `stride`-th f32 bit pattern between `low` and `high` (both of one sign).
fn sweep(low: f32, high: f32, stride: u32) -> Vec<f32> {
    let (a, b) = (low.to_bits().min(high.to_bits()), low.to_bits().max(high.to_bits()));
    (a..=b).step_by(stride as usize).map(f32::from_bits).collect()
}

/// The largest error in ulps (against the correctly rounded f64 result) over `xs`.
fn max_ulps(op: Op, xs: &[f32], reference: fn(f64) -> f64) -> (u64, f32) {
    let ys = compiled_unary(op, xs);
    xs.iter().zip(&ys).map(|(&x, &y)| (ulps(y, reference(f64::from(x)) as f32), x)).max_by_key(|&(u, _)| u).unwrap()
}

/// The inline polynomials: their worst error over dense sweeps, as stated in
/// `docs/performance.md`, and IEEE special values.
#[test]
fn exp_log_and_tanh_are_accurate() {
    let mut exp_inputs = sweep(-87.0, -1e-7, 1013);
    exp_inputs.extend(sweep(1e-7, 88.0, 1013));
    let (exp_error, at) = max_ulps(Op::Exp, &exp_inputs, f64::exp);
    assert!(exp_error <= 1, "exp: {exp_error} ulp at {at}");
    let log_inputs = sweep(1e-38, 3e38, 997);
    let (log_error, at) = max_ulps(Op::Log, &log_inputs, f64::ln);
    assert!(log_error <= 2, "log: {log_error} ulp at {at}");
    let subnormals = sweep(1e-44, 1e-39, 101);
    let (subnormal_error, at) = max_ulps(Op::Log, &subnormals, f64::ln);
    assert!(subnormal_error <= 2, "log of subnormals: {subnormal_error} ulp at {at}");
    // log1p where it matters: tiny arguments (where 1 + x rounds to 1) up to large ones.
    let mut log1p_inputs = sweep(1e-30, 1e30, 1009);
    log1p_inputs.extend(sweep(-0.99, -1e-30, 1009));
    let (log1p_error, at) = max_ulps(Op::Log1p, &log1p_inputs, f64::ln_1p);
    assert!(log1p_error <= 3, "log1p: {log1p_error} ulp at {at}");
    let mut tanh_inputs = sweep(-10.0, -1e-6, 1009);
    tanh_inputs.extend(sweep(1e-6, 10.0, 1009));
    let (tanh_error, at) = max_ulps(Op::Tanh, &tanh_inputs, f64::tanh);
    assert!(tanh_error <= 2, "tanh: {tanh_error} ulp at {at}");
    let special = [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -1.0, 100.0, -100.0, 1e-45];
    let same = |a: f32, b: f32| a == b || (a.is_nan() && b.is_nan());
    // exp flushes results below the smallest normal f32 (x < -87.3) to 0, as documented.
    let exp = |x: f32| if x < -87.3 { 0.0 } else { x.exp() };
    let operations: [(Op, &dyn Fn(f32) -> f32); 4] =
        [(Op::Exp, &exp), (Op::Log, &f32::ln), (Op::Log1p, &f32::ln_1p), (Op::Tanh, &f32::tanh)];
    for (op, reference) in operations {
        let ys = compiled_unary(op.clone(), &special);
        for (&x, &y) in special.iter().zip(&ys) {
            let want = reference(x);
            let close_enough = same(y, want) || (want.is_finite() && ulps(y, want) <= 4);
            assert!(close_enough, "{}({x}) = {y}, expected {want}", op.name());
        }
    }
    println!(
        "max error: exp {exp_error} ulp, log {log_error} ulp (subnormals {subnormal_error}), log1p {log1p_error} ulp, \
         tanh {tanh_error} ulp"
    );
}

/// Rows of every width around the four lanes (and long ones), through each inline
/// function and a sum along the row: the kernels that compute an exp, log or tanh at
/// every point run it once per vector and once per remaining element in loops
/// (`loops.rs`), and every element must land where the interpreter puts it.
#[test]
fn inline_math_fills_rows_of_every_width() {
    type Reference = fn(f64) -> f64;
    let ops: [(Op, Reference); 3] = [(Op::Exp, f64::exp), (Op::Log, f64::ln), (Op::Tanh, f64::tanh)];
    let shapes = (1..=13).flat_map(|width| [(1, width), (3, width)]).chain([(2, 33), (1, 70), (5, 64)]);
    for (rows, width) in shapes {
        // Distinct positive values, so a misplaced or skipped element shows.
        let xs: Vec<f32> = (0..rows * width).map(|i| 0.25 + i as f32 * 0.0625).collect();
        for (op, reference) in &ops {
            let mut graph = Graph::new("rows");
            let x = graph.add_input("x", Shape(vec![rows, width]), Origin::default());
            let y = graph.push(op.clone(), vec![x], Origin::default());
            let sums = graph.push(Op::ReduceSum { axes: vec![1] }, vec![y], Origin::default());
            graph.outputs.push(("y".to_string(), y));
            graph.outputs.push(("sums".to_string(), sums));
            let compiled = run_compiled(&graph, &[&xs], &mut []);
            let name = op.name();
            for (i, (&x, &y)) in xs.iter().zip(&compiled[0]).enumerate() {
                let want = reference(f64::from(x)) as f32;
                assert!(ulps(y, want) <= 2, "{name} of {rows}x{width}, element {i}: {y}, expected {want}");
            }
            for (row, &sum) in compiled[1].iter().enumerate() {
                let want: f64 = xs[row * width..(row + 1) * width].iter().map(|&x| reference(f64::from(x))).sum();
                let tolerance = 1e-5 * want.abs().max(1.0);
                assert!(
                    (f64::from(sum) - want).abs() <= tolerance,
                    "{name} row sum {row} of {rows}x{width}: {sum}, expected {want}"
                );
            }
        }
    }
}

/// `random` draws the same numbers in compiled code as in the interpreter, bit for bit,
/// whatever the kernel reads them through: along a vectorised row with a scalar tail, and
/// transposed (a stride other than 1 along the innermost loop).
#[test]
fn random_numbers_are_the_same_compiled_and_interpreted() {
    use nnc_ir::{Origin, Shape};
    let o = Origin::default;
    let mut graph = nnc_ir::Graph::new("random");
    let seed = graph.add_input("seed", Shape(vec![]), o());
    let straight = graph.push_typed(Op::Random { salt: 3 }, vec![seed], Shape(vec![7, 9]), o());
    let other = graph.push_typed(Op::Random { salt: 4 }, vec![seed], Shape(vec![9, 7]), o());
    let turned = graph.push(Op::Transpose, vec![other], o());
    let sum = graph.push(Op::Add, vec![straight, turned], o());
    graph.outputs = vec![("straight".into(), straight), ("sum".into(), sum)];
    for seed_bits in [0, 1, 12_345, 0x7F_FFFF] {
        let seed = [nnc_ir::seed_value(seed_bits)];
        let compiled = nnc_tests::run_compiled(&graph, &[&seed], &mut []);
        let interpreted = nnc_ir::evaluate(&graph, &[&seed], &[]);
        assert_eq!(compiled[0], interpreted[straight.index()], "seed {seed_bits}");
        assert_eq!(compiled[1], interpreted[sum.index()], "seed {seed_bits}");
        assert!(compiled[0].iter().all(|&x| (0.0..1.0).contains(&x)));
    }
    // Different seeds and salts draw different numbers.
    let a = nnc_ir::evaluate(&graph, &[&[nnc_ir::seed_value(1)]], &[]);
    let b = nnc_ir::evaluate(&graph, &[&[nnc_ir::seed_value(2)]], &[]);
    assert_ne!(a[straight.index()], b[straight.index()]);
    assert_ne!(a[straight.index()][..63], a[other.index()][..63]);
}

/// The numbers are uniform enough for dropout: their mean and the share below 0.3 over a
/// million draws are within 0.2 % of 1/2 and 0.3.
#[test]
fn random_numbers_are_uniform() {
    let n = 1_000_000u32;
    let draws: Vec<f32> = (0..n).map(|i| nnc_ir::random_uniform(42, i, 7)).collect();
    let mean = draws.iter().map(|&x| f64::from(x)).sum::<f64>() / f64::from(n);
    let below = draws.iter().filter(|&&x| x < 0.3).count() as f64 / f64::from(n);
    assert!((mean - 0.5).abs() < 2e-3, "mean {mean}");
    assert!((below - 0.3).abs() < 2e-3, "share below 0.3: {below}");
}
