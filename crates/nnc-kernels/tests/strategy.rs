//! Which products are register tiles of generated code and which call the product
//! kernels (`Options::library_macs`, `Options::narrow_library_macs`).

use nnc_ir::{Graph, Op, Origin, Shape};
use nnc_kernels::{KernelKind, Options, Strategy, lower};

/// The strategy chosen for `[m, k]·[k, n]` with the default options.
fn strategy(m: usize, k: usize, n: usize) -> Strategy {
    let mut graph = Graph::new("product");
    let a = graph.add_input("a", Shape(vec![m, k]), Origin::default());
    let b = graph.add_input("b", Shape(vec![k, n]), Origin::default());
    let c = graph.push(Op::MatMul, vec![a, b], Origin::default());
    graph.outputs.push(("c".to_string(), c));
    let program = lower(&graph, &[], &Options::default());
    let mut products = program.kernels.iter().filter_map(|kernel| match &kernel.kind {
        KernelKind::Matmul(product) => Some(product.strategy),
        _ => None,
    });
    products.next().expect("one product")
}

fn is_library(strategy: Strategy) -> bool {
    matches!(strategy, Strategy::Library { .. })
}

#[test]
fn products_of_a_few_thousand_multiply_adds_call_the_kernels_unless_narrow() {
    // A hidden layer of 16 units over 16 inputs, in batches of 32: the kernels' vectors
    // ran it about twice as fast as the f32x4 tiles (docs/performance.md).
    assert!(is_library(strategy(32, 16, 16)));
    assert!(is_library(strategy(32, 8, 8)), "2,048 multiply-adds");
    assert_eq!(strategy(16, 8, 8), Strategy::Tiled, "1,024 multiply-adds");
    // Two columns (a regression head's gradient) or a reduction of two would fill 2 of
    // the kernels' 8 or 16 lanes: tiles up to 16,384.
    assert_eq!(strategy(32, 64, 2), Strategy::Tiled);
    assert_eq!(strategy(256, 2, 8), Strategy::Tiled);
    assert_eq!(strategy(2, 64, 32), Strategy::Tiled);
    assert!(is_library(strategy(64, 128, 2)), "16,384 multiply-adds, narrow or not");
}
