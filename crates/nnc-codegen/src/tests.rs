//! The debug bounds checks, on programs whose declared lengths lie (so the checks fire
//! while the memory behind them is really there). `compile` refuses such programs; these
//! tests go around it, to see the last line of defence work.

use crate::jit::OUT_OF_BOUNDS_SEEN;
use crate::{Frame, Options, Params, Unit, build};
use nnc_ir::{Graph, Op, Origin, Shape};
use nnc_kernels::Storage;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

/// One test at a time: they share the counter.
static SERIAL: Mutex<()> = Mutex::new(());

/// `y = exp(x)` over `len` elements, its input buffer said to hold `claimed` elements, run
/// checked over a real buffer of `len`: how many accesses the checks reported.
fn reports_for(len: usize, claimed: usize) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut graph = Graph::new("lying");
    let x = graph.add_input("x", Shape(vec![len]), Origin::default());
    let y = graph.push(Op::Exp, vec![x], Origin::default());
    graph.outputs.push(("y".to_string(), y));
    let mut program = nnc_kernels::lower(&graph, &[], &nnc_kernels::Options::default());
    let input = program.buffers.iter().position(|b| b.storage == Storage::Input(0)).expect("x is read");
    program.buffers[input].len = claimed;
    let options = Options { checked: true, ..Options::default() };
    let compiled = build(&[Unit::Program { name: "lying", program: &program, hot: true }], options)
        .expect("an unverified program still compiles");
    let kernel = compiled.kernel("lying").expect("compiled under its name");
    let before = OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst);
    let x = vec![0.5f32; len];
    let mut outputs = vec![vec![0.0f32; len]];
    let mut scratch = vec![0.0f32; kernel.arena_len()];
    let inputs: [&[f32]; 1] = [&x];
    kernel.call(Frame {
        inputs: &inputs,
        params: Params::Update(&mut []),
        outputs: &mut outputs,
        scratch: &mut scratch,
    });
    OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst) - before
}

#[test]
fn a_program_within_its_buffers_reports_nothing() {
    assert_eq!(reports_for(8, 8), 0);
}

#[test]
fn an_access_past_the_end_is_reported() {
    assert!(reports_for(8, 5) > 0);
}

/// Four lanes over a buffer of three elements, and any access to an empty one: the check
/// compared a negative limit unsigned and let both through.
#[test]
fn a_buffer_shorter_than_one_vector_or_empty_fails_every_access() {
    assert!(reports_for(4, 3) > 0);
    assert!(reports_for(4, 0) > 0);
}

/// A product handed to the GEMM library: its operands are checked at both ends (the first
/// element alone was checked before).
#[test]
fn a_library_operand_past_its_buffer_is_reported() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (m, k, n) = (4, 6, 5);
    let mut graph = Graph::new("product");
    let a = graph.add_input("a", Shape(vec![m, k]), Origin::default());
    let b = graph.add_input("b", Shape(vec![k, n]), Origin::default());
    let c = graph.push(Op::MatMul, vec![a, b], Origin::default());
    graph.outputs.push(("c".to_string(), c));
    let options = nnc_kernels::Options { library_macs: 0, ..nnc_kernels::Options::default() };
    let mut program = nnc_kernels::lower(&graph, &[], &options);
    assert!(nnc_kernels::patterns(&program).contains(&nnc_kernels::Pattern::LibraryMatmul));
    let run = |program: &nnc_kernels::Program| {
        let options = Options { checked: true, ..Options::default() };
        let compiled = build(&[Unit::Program { name: "product", program, hot: true }], options).expect("it compiles");
        let kernel = compiled.kernel("product").expect("compiled under its name");
        let (x, y) = (vec![1.0f32; m * k], vec![1.0f32; k * n]);
        let mut outputs = vec![vec![0.0f32; m * n]];
        let mut scratch = vec![0.0f32; kernel.arena_len()];
        let inputs: [&[f32]; 2] = [&x, &y];
        let before = OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst);
        let frame =
            Frame { inputs: &inputs, params: Params::Update(&mut []), outputs: &mut outputs, scratch: &mut scratch };
        kernel.call(frame);
        OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst) - before
    };
    assert_eq!(run(&program), 0);
    let b_buffer = program.buffers.iter().position(|b| b.storage == Storage::Input(1)).expect("b is read");
    program.buffers[b_buffer].len = k * n - 1;
    assert!(run(&program) > 0, "the last element of B is past the claimed end");
}

/// A panic while functions are built (here, a body naming a node that does not exist, which
/// `compile` would refuse) is an error: the compiling helper thread was left waiting for
/// more work and the call never returned.
#[test]
fn a_panic_while_building_is_an_error_not_a_hang() {
    let mut graph = Graph::new("broken");
    let x = graph.add_input("x", Shape(vec![8]), Origin::default());
    let y = graph.push(Op::Exp, vec![x], Origin::default());
    graph.outputs.push(("y".to_string(), y));
    let mut program = nnc_kernels::lower(&graph, &[], &nnc_kernels::Options::default());
    if let nnc_kernels::KernelKind::Loop { body, .. } = &mut program.kernels[0].kind {
        body.stores[0].value = nnc_kernels::NodeId(1000);
    }
    let units = [Unit::Program { name: "broken", program: &program, hot: true }];
    let Err(error) = build(&units, Options::default()) else { panic!("a broken program compiled") };
    assert!(error.0.contains("internal error"), "{}", error.0);
    assert!(crate::compile(&units, Options::default()).is_err(), "compile refuses it before building");
}

/// `y = max(x, 0)·x` over `[rows, 256]`, compiled hot or cold, run checked: its output,
/// the accesses the bounds checks reported, and the CLIF text.
fn elementwise(rows: usize, hot: bool, claimed: Option<usize>) -> (Vec<f32>, usize, String) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let len = rows * 256;
    let shape = Shape(vec![rows, 256]);
    let mut graph = Graph::new("wide");
    let x = graph.add_input("x", shape.clone(), Origin::default());
    let zero = graph.constant(0.0, &shape, Origin::default());
    let relu = graph.push(Op::Max, vec![x, zero], Origin::default());
    let y = graph.push(Op::Mul, vec![relu, x], Origin::default());
    graph.outputs.push(("y".to_string(), y));
    let mut program = nnc_kernels::lower(&graph, &[], &nnc_kernels::Options::default());
    if let Some(claimed) = claimed {
        let input = program.buffers.iter().position(|b| b.storage == Storage::Input(0)).expect("x is read");
        program.buffers[input].len = claimed;
    }
    let options = Options { checked: true, clif: true, ..Options::default() };
    let compiled = build(&[Unit::Program { name: "wide", program: &program, hot }], options).expect("it compiles");
    let kernel = compiled.kernel("wide").expect("compiled under its name");
    let mut outputs = vec![vec![0.0f32; len]];
    let mut scratch = vec![0.0f32; kernel.arena_len()];
    let x = input(len);
    let inputs: [&[f32]; 1] = [&x];
    let before = OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst);
    let frame =
        Frame { inputs: &inputs, params: Params::Update(&mut []), outputs: &mut outputs, scratch: &mut scratch };
    kernel.call(frame);
    let reports = OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst) - before;
    (outputs.remove(0), reports, kernel.clif().to_string())
}

fn input(len: usize) -> Vec<f32> {
    (0..len).map(|i| (i % 97) as f32 / 50.0 - 1.0).collect()
}

#[test]
fn a_loop_kernel_split_between_threads_computes_every_element() {
    // 2^16 points split in code that runs every step, 2^18 in code that runs once an epoch.
    for (rows, hot) in [(256, true), (1024, false)] {
        let expected: Vec<f32> = input(rows * 256).iter().map(|&x| if x > 0.0 { x * x } else { 0.0 * x }).collect();
        let (split, reports, clif) = elementwise(rows, hot, None);
        assert!(clif.contains("; wide.0.k0"), "the kernel has a function of its own:\n{clif}");
        assert_eq!(split, expected, "hot: {hot}");
        assert_eq!(reports, 0);
    }
    let (_, _, clif) = elementwise(256, false, None);
    assert!(!clif.contains(".k0"), "2^16 points stay on one thread in cold code");
    let (small, _, clif) = elementwise(8, true, None);
    assert!(!clif.contains(".k0"), "2,048 points stay on one thread");
    assert_eq!(small[..4], [-0.0, -0.0, -0.0, -0.0]);
}

#[test]
fn the_bounds_checks_guard_a_split_kernel_too() {
    let (_, reports, _) = elementwise(256, true, Some(256 * 256 - 3));
    assert!(reports > 0);
}

/// `x` of `shape` reduced over `axes` (a sum, or with `max` a maximum), compiled: the
/// output.
fn reduced(shape: &[usize], axes: &[usize], max: bool, x: &[f32]) -> Vec<f32> {
    let mut graph = Graph::new("reduced");
    let input = graph.add_input("x", Shape(shape.to_vec()), Origin::default());
    let op = if max { Op::ReduceMax { axes: axes.to_vec() } } else { Op::ReduceSum { axes: axes.to_vec() } };
    let y = graph.push(op, vec![input], Origin::default());
    graph.outputs.push(("y".to_string(), y));
    let program = nnc_kernels::lower(&graph, &[], &nnc_kernels::Options::default());
    let compiled = build(&[Unit::Program { name: "reduced", program: &program, hot: true }], Options::default())
        .expect("it compiles");
    let kernel = compiled.kernel("reduced").expect("compiled under its name");
    let kept: usize = shape.iter().enumerate().filter(|(a, _)| !axes.contains(a)).map(|(_, &d)| d).product();
    let mut outputs = vec![vec![0.0f32; kept]];
    let mut scratch = vec![0.0f32; kernel.arena_len()];
    let inputs: [&[f32]; 1] = [x];
    kernel.call(Frame {
        inputs: &inputs,
        params: Params::Update(&mut []),
        outputs: &mut outputs,
        scratch: &mut scratch,
    });
    outputs.remove(0)
}

/// The same reduction as the interpreter computes it (`nnc_ir`'s `interp.rs`): in row-major
/// order, each output element combined with its points in the order the loops visit them.
fn reduced_in_order(shape: &[usize], axes: &[usize], max: bool, x: &[f32]) -> Vec<f32> {
    let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    let len: usize = kept.iter().map(|&a| shape[a]).product();
    let mut out = vec![if max { f32::NEG_INFINITY } else { 0.0 }; len];
    for (flat, &value) in x.iter().enumerate() {
        let (mut rest, mut index) = (flat, vec![0; shape.len()]);
        for a in (0..shape.len()).rev() {
            index[a] = rest % shape[a];
            rest /= shape[a];
        }
        let at = kept.iter().fold(0, |at, &a| at * shape[a] + index[a]);
        out[at] = if max { if value > out[at] { value } else { out[at] } } else { out[at] + value };
    }
    out
}

#[test]
fn reductions_over_outer_axes_match_the_loops_bit_for_bit() {
    // A pool's window (2 × 2, 3 × 3: `window.rs` combines its points in registers), the
    // same over 1,024 images (split between the threads: `emit_loop_part` with a window),
    // a bias gradient's rows (37: a loop), a single point; innermost axes of whole
    // vectors, a scalar rest, both, and too wide to keep in registers (33).
    for (outer, reduce) in [
        (vec![5, 2, 2], vec![1, 2]),
        (vec![3, 3, 3], vec![1, 2]),
        (vec![1024, 2, 2], vec![1, 2]),
        (vec![37], vec![0]),
        (vec![4, 1], vec![1]),
    ] {
        for inner in [2, 3, 4, 6, 16, 33] {
            let shape: Vec<usize> = outer.iter().copied().chain([inner]).collect();
            let len: usize = shape.iter().product();
            // NaNs and zeros of both signs, which a maximum must treat as the interpreter does.
            let value = |i: usize| match i % 17 {
                5 => f32::NAN,
                3 => -0.0,
                11 => 0.0,
                _ => ((i * 7919) % 101) as f32 / 37.0 - 1.3,
            };
            let x: Vec<f32> = (0..len).map(value).collect();
            for max in [false, true] {
                let compiled = reduced(&shape, &reduce, max, &x);
                let expected = reduced_in_order(&shape, &reduce, max, &x);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&compiled), bits(&expected), "{shape:?} over {reduce:?}, max: {max}");
            }
        }
    }
}

/// `y = exp(x)` and the column sums of `y` over 512 rows of 64, the rows split between
/// the threads with a partial sum on each (`parallel::summed_in_halves`): the sums match
/// f64's over the same values, and the bounds checks see every access within its buffer
/// (the partials' rows on the caller's stack included).
#[test]
fn column_sums_split_between_threads_add_their_halves() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (rows, columns) = (512, 64);
    let mut graph = Graph::new("sums");
    let x = graph.add_input("x", Shape(vec![rows, columns]), Origin::default());
    let y = graph.push(Op::Exp, vec![x], Origin::default());
    let sums = graph.push(Op::ReduceSum { axes: vec![0] }, vec![y], Origin::default());
    graph.outputs.push(("y".to_string(), y));
    graph.outputs.push(("sums".to_string(), sums));
    let program = nnc_kernels::lower(&graph, &[], &nnc_kernels::Options::default());
    let halved = program.kernels.iter().any(|k| match &k.kind {
        nnc_kernels::KernelKind::Loop { dims, body } => {
            crate::parallel::split(dims, body, crate::parallel::MIN_POINTS, &program.buffers)
                .is_some_and(|split| !split.partials.is_empty())
        }
        _ => false,
    });
    assert!(halved, "a loop summing its first axis in halves:\n{}", nnc_kernels::print_program(&program));
    let options = Options { checked: true, ..Options::default() };
    let compiled = build(&[Unit::Program { name: "sums", program: &program, hot: true }], options).expect("compiles");
    let kernel = compiled.kernel("sums").expect("compiled under its name");
    let x: Vec<f32> = (0..rows * columns).map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0).collect();
    let mut outputs = vec![vec![0.0f32; rows * columns], vec![0.0f32; columns]];
    let mut scratch = vec![0.0f32; kernel.arena_len()];
    let inputs: [&[f32]; 1] = [&x];
    let before = OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst);
    kernel.call(Frame {
        inputs: &inputs,
        params: Params::Update(&mut []),
        outputs: &mut outputs,
        scratch: &mut scratch,
    });
    assert_eq!(OUT_OF_BOUNDS_SEEN.load(Ordering::SeqCst), before, "accesses out of bounds");
    for j in 0..columns {
        let exact: f64 = (0..rows).map(|i| f64::from(outputs[0][i * columns + j])).sum();
        let got = f64::from(outputs[1][j]);
        assert!((got - exact).abs() <= 1e-5 * exact.abs(), "column {j}: {got}, expected {exact}");
    }
}
