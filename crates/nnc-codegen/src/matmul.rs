//! Matrix products.
//!
//! Small ones are register tiles of f32x4 fused multiply-adds, the epilogue applied to
//! the accumulators before anything is stored:
//! - a product at least 4 columns wide takes tiles of up to 4 rows × 8 columns (8
//!   accumulators, within x86's 16 vector registers), then a 4-column tile, then scalar
//!   columns;
//! - a product narrower than 4 but at least 4 rows tall (the output layer of a regression
//!   or of XOR) is computed transposed, `Cᵀ = Bᵀ·Aᵀ`, so its rows fill the lanes;
//! - a product smaller than 4 × 4 with a long reduction (a weight gradient of a one-input
//!   layer) is a few dot products, four lanes along the reduction.
//!
//! Epilogue reductions over the whole product (a loss sum) accumulate in registers across
//! every tile and meet memory once. Large products call the GEMM library (`gemm.rs`), then
//! run the epilogue as a loop over the product.

use crate::emit::{Emitter, Ix};
use crate::loops::emit_loop;
use cranelift::prelude::*;
use nnc_kernels::{Body, Combine, Matmul, Node, Store, Strategy, View};

/// Rows per register tile.
const TILE_ROWS: usize = 4;
/// Reduction steps fully unrolled up to this length.
const UNROLL_K: usize = 8;
/// Row and column tiles unrolled up to this many each: none, since a copy of a tile
/// repeats its epilogue for each accumulator (an Adam update is 22 operations), and such
/// copies were most of a small network's step and of its compile time, while the loop
/// they saved costs a few instructions a tile. Looped, `examples/iris.nn` compiles in
/// 201 M instructions instead of 321 M, and trains as fast (`docs/performance.md`,
/// *Compile tiers*).
const UNROLL_TILES: usize = 1;
/// Independent accumulators of a dot product, or of a total over the product, to hide
/// the latency of each addition behind the others.
const CHAINS: usize = 4;

pub(crate) fn emit_matmul(e: &mut Emitter, mm: &Matmul) {
    match mm.strategy {
        Strategy::Tiled => emit_tiled(e, mm),
        Strategy::Library { threads, halves } => emit_library(e, mm, (threads, halves)),
    }
}

/// A view with stride 0 on every axis of extent 1 (where the index is always 0), except
/// a gathered axis (where row 0 of the batch is not row 0 of the data).
fn effective(view: &View, dims: &[usize]) -> View {
    let strides = (view.strides.iter().zip(dims).enumerate())
        .map(|(axis, (&s, &d))| if d == 1 && view.gather != Some(axis) { 0 } else { s })
        .collect();
    View { strides, ..view.clone() }
}

/// The same view with its two axes swapped.
fn swapped(view: &View) -> View {
    let strides = vec![view.strides[1], view.strides[0]];
    let gather = view.gather.map(|axis| 1 - axis);
    View { strides, gather, ..view.clone() }
}

fn map_views(body: &Body, f: impl Fn(&View) -> View) -> Body {
    let nodes = body
        .nodes
        .iter()
        .map(|node| match node {
            Node::Load(view) => Node::Load(f(view)),
            other => other.clone(),
        })
        .collect();
    let stores = body.stores.iter().map(|s| Store { view: f(&s.view), ..s.clone() }).collect();
    Body { nodes, stores }
}

/// The product as the tiles compute it, maybe transposed.
struct Oriented {
    m: usize,
    n: usize,
    k: usize,
    a: View,
    b: View,
    epilogue: Body,
}

impl Oriented {
    fn new(mm: &Matmul) -> Oriented {
        let dims = [mm.m, mm.n];
        let epilogue = map_views(&mm.epilogue, |v| effective(v, &dims));
        if mm.n < 4 && mm.m >= 4 {
            // Cᵀ = Bᵀ·Aᵀ: the rows of C run along the lanes.
            let epilogue = map_views(&epilogue, swapped);
            return Oriented { m: mm.n, n: mm.m, k: mm.k, a: swapped(&mm.b), b: swapped(&mm.a), epilogue };
        }
        Oriented { m: mm.m, n: mm.n, k: mm.k, a: mm.a.clone(), b: mm.b.clone(), epilogue }
    }
}

/// Epilogue reductions over every point, kept in registers across the whole product: per
/// store that reduces everything, [`CHAINS`] vector accumulators (the tile's points take
/// turns) and one scalar one.
struct Totals {
    variables: Vec<Option<(Vec<Variable>, Variable)>>,
}

impl Totals {
    fn declare(e: &mut Emitter, body: &Body) -> Totals {
        let variables = body
            .stores
            .iter()
            .map(|store| {
                let everything = store.combine != Combine::Write && store.view.strides.iter().all(|&s| s == 0);
                everything.then(|| {
                    let identity = store.combine.identity().unwrap_or(0.0);
                    let vectors: Vec<Variable> = (0..CHAINS)
                        .map(|_| {
                            let variable = e.b.declare_var(types::F32X4);
                            let v = e.fconst(identity, 4);
                            e.b.def_var(variable, v);
                            variable
                        })
                        .collect();
                    let scalar = e.b.declare_var(types::F32);
                    let s = e.fconst(identity, 1);
                    e.b.def_var(scalar, s);
                    (vectors, scalar)
                })
            })
            .collect();
        Totals { variables }
    }

    /// Stores the epilogue's results at `index` (`lanes` wide); `slot` is the point's
    /// place in its tile.
    fn store(
        &self,
        e: &mut Emitter,
        body: &Body,
        values: &[Option<(Value, usize)>],
        index: &[Ix],
        lanes: usize,
        slot: usize,
    ) {
        for (store, variable) in body.stores.iter().zip(&self.variables) {
            let x = e.operand(values, store.value, lanes);
            match variable {
                Some((vectors, scalar)) => {
                    let variable = if lanes == 4 { vectors[slot % CHAINS] } else { *scalar };
                    let old = e.b.use_var(variable);
                    let new = e.combine(store.combine, old, x, lanes);
                    e.b.def_var(variable, new);
                }
                None => e.store(store, index, x, lanes),
            }
        }
    }

    fn flush(&self, e: &mut Emitter, body: &Body) {
        for (store, variable) in body.stores.iter().zip(&self.variables) {
            let Some((vectors, scalar)) = variable else { continue };
            let mut vector = e.b.use_var(vectors[0]);
            for &other in &vectors[1..] {
                let other = e.b.use_var(other);
                vector = e.combine(store.combine, vector, other, 4);
            }
            let lanes = e.horizontal(store.combine, vector);
            let rest = e.b.use_var(*scalar);
            let total = e.combine(store.combine, lanes, rest, 1);
            e.store(store, &[Ix::constant(0), Ix::constant(0)], total, 1);
        }
    }
}

fn emit_tiled(e: &mut Emitter, mm: &Matmul) {
    e.init_reductions(&mm.epilogue);
    let product = Oriented::new(mm);
    let totals = Totals::declare(e, &product.epilogue);
    if product.m < 4 && product.n < 4 && product.k >= 8 {
        for i in 0..product.m {
            for j in 0..product.n {
                dot(e, &product, &totals, Ix::constant(i), Ix::constant(j));
            }
        }
    } else {
        let rows = TILE_ROWS.min(product.m);
        let full_rows = product.m / rows * rows;
        e.counted(full_rows, rows, UNROLL_TILES, &mut |e, i0| column_tiles(e, &product, &totals, i0, rows));
        if product.m > full_rows {
            column_tiles(e, &product, &totals, Ix::constant(full_rows), product.m - full_rows);
        }
    }
    totals.flush(e, &product.epilogue);
}

/// The columns of one tile: `vectors` f32x4 lanes from `j0`, or one scalar column.
#[derive(Clone, Copy)]
struct Columns {
    j0: Ix,
    vectors: usize,
}

/// Every tile of the row block starting at `i0`: tiles of 8 columns (16 for one or two
/// rows, the same 8 accumulators), a 4-column tile, then scalar columns.
fn column_tiles(e: &mut Emitter, product: &Oriented, totals: &Totals, i0: Ix, rows: usize) {
    let vectors = if rows <= 2 { 4 } else { 2 };
    let wide = product.n / (4 * vectors) * (4 * vectors);
    e.counted(wide, 4 * vectors, UNROLL_TILES, &mut |e, j0| {
        tile(e, product, totals, i0, rows, Columns { j0, vectors })
    });
    let mut j = wide;
    while product.n - j >= 4 {
        tile(e, product, totals, i0, rows, Columns { j0: Ix::constant(j), vectors: 1 });
        j += 4;
    }
    for column in j..product.n {
        tile(e, product, totals, i0, rows, Columns { j0: Ix::constant(column), vectors: 0 });
    }
}

fn accumulators(e: &mut Emitter, count: usize, lanes: usize) -> Vec<Variable> {
    let ty = if lanes == 1 { types::F32 } else { types::F32X4 };
    (0..count)
        .map(|_| {
            let variable = e.b.declare_var(ty);
            let zero = e.fconst(0.0, lanes);
            e.b.def_var(variable, zero);
            variable
        })
        .collect()
}

/// One register tile: `rows` × (`columns.vectors` × 4, or 1) accumulators over the whole
/// reduction, then the epilogue on each.
fn tile(e: &mut Emitter, product: &Oriented, totals: &Totals, i0: Ix, rows: usize, columns: Columns) {
    let lanes = if columns.vectors == 0 { 1 } else { 4 };
    let width = columns.vectors.max(1);
    let accumulators = accumulators(e, rows * width, lanes);
    let row_index: Vec<Ix> = (0..rows).map(|r| i0.plus(r as i64)).collect();
    let column_index: Vec<Ix> = (0..width).map(|v| columns.j0.plus(4 * v as i64)).collect();
    // The tile's data rows, looked up once for the whole reduction and the epilogue.
    let gathered = product.a.gather == Some(0)
        || product.epilogue.nodes.iter().any(|n| matches!(n, Node::Load(v) if v.gather == Some(0)));
    let known = if gathered { e.remember_rows(&row_index) } else { e.known_rows.len() };
    let mut step = |e: &mut Emitter, p: Ix| {
        let b: Vec<Value> = column_index.iter().map(|&j| e.load(&product.b, &[p, j], lanes)).collect();
        for (r, &i) in row_index.iter().enumerate() {
            let a = e.load(&product.a, &[i, p], 1);
            let a = if lanes == 1 { a } else { e.b.ins().splat(types::F32X4, a) };
            for (v, &b) in b.iter().enumerate() {
                let variable = accumulators[r * width + v];
                let acc = e.b.use_var(variable);
                let sum = e.mul_add(a, b, acc);
                e.b.def_var(variable, sum);
            }
        }
    };
    e.counted(product.k, 1, UNROLL_K, &mut step);
    for (r, &i) in row_index.iter().enumerate() {
        for (v, &j) in column_index.iter().enumerate() {
            let acc = e.b.use_var(accumulators[r * width + v]);
            epilogue(e, product, totals, &[i, j], lanes, acc, r * width + v);
        }
    }
    e.forget_rows(known);
}

fn epilogue(e: &mut Emitter, product: &Oriented, totals: &Totals, index: &[Ix], lanes: usize, acc: Value, slot: usize) {
    let mut values = vec![None; product.epilogue.nodes.len()];
    e.eval(&product.epilogue, index, lanes, Some(acc), &mut values);
    totals.store(e, &product.epilogue, &values, index, lanes, slot);
}

/// `C[i, j]` as a dot product, four lanes along the reduction, then its epilogue.
fn dot(e: &mut Emitter, product: &Oriented, totals: &Totals, i: Ix, j: Ix) {
    // B read along its reduction axis: the same view with the axes in (j, p) order.
    let b = swapped(&product.b);
    let accumulators = accumulators(e, CHAINS, 4);
    let block = 4 * CHAINS;
    let blocks = product.k / block * block;
    e.counted(blocks, block, 1, &mut |e, p0| {
        for (n, &variable) in accumulators.iter().enumerate() {
            let p = p0.plus(4 * n as i64);
            let x = e.load(&product.a, &[i, p], 4);
            let y = e.load(&b, &[j, p], 4);
            let acc = e.b.use_var(variable);
            let sum = e.mul_add(x, y, acc);
            e.b.def_var(variable, sum);
        }
    });
    let mut vector = e.b.use_var(accumulators[0]);
    for &variable in &accumulators[1..] {
        let other = e.b.use_var(variable);
        vector = e.b.ins().fadd(vector, other);
    }
    let mut total = e.horizontal(Combine::Sum, vector);
    for p in blocks..product.k {
        let p = Ix::constant(p);
        let x = e.load(&product.a, &[i, p], 1);
        let y = e.load(&b, &[j, p], 1);
        total = e.mul_add(x, y, total);
    }
    epilogue(e, product, totals, &[i, j], 1, total, 0);
}

/// `acc = A·B` by the GEMM library on `threads` threads (summing `halves` of the
/// reduction), then the epilogue over it; or, for an update in place,
/// `into = alpha·into + beta·A·B` with no epilogue.
fn emit_library(e: &mut Emitter, mm: &Matmul, (threads, halves): (usize, bool)) {
    // The last element each operand reaches (no product is emitted for an empty one).
    let last = |view: &View, rows: usize, columns: usize| {
        view.offset
            + view.strides[0] as usize * rows.saturating_sub(1)
            + view.strides[1] as usize * columns.saturating_sub(1)
    };
    let whole = View { buffer: mm.a.buffer, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
    let a = e.pointer_to_range(mm.a.buffer, mm.a.offset, last(&mm.a, mm.m, mm.k));
    let b = e.pointer_to_range(mm.b.buffer, mm.b.offset, last(&mm.b, mm.k, mm.n));
    let (c, alpha, beta, read) = match mm.accumulate {
        Some(update) => {
            let mut values = vec![None; mm.epilogue.nodes.len()];
            let alpha = scalar(e, &mm.epilogue, update.alpha, &mut values);
            let beta = scalar(e, &mm.epilogue, update.beta, &mut values);
            (e.pointer_to_range(update.into, 0, last(&whole, mm.m, mm.n)), alpha, beta, 1)
        }
        None => {
            let acc = mm.acc.expect("internal error: a library product without its accumulator");
            (e.pointer_to_range(acc, 0, last(&whole, mm.m, mm.n)), e.fconst(0.0, 1), e.fconst(1.0, 1), 0)
        }
    };
    let numbers = [
        mm.m as i64,
        mm.n as i64,
        mm.k as i64,
        mm.a.strides[0] as i64,
        mm.a.strides[1] as i64,
        mm.b.strides[0] as i64,
        mm.b.strides[1] as i64,
        threads as i64,
        i64::from(halves),
        read,
    ];
    let n: Vec<Value> = numbers.iter().map(|&x| e.iconst(x)).collect();
    // A bias row, ReLU, mask and column sums applied by the kernel to its register blocks
    // (`nnc_kernels`' `finish.rs`).
    let finish = mm.finish.as_deref();
    let bias = match finish.and_then(|f| f.bias.as_ref()) {
        Some(row) => e.pointer_to_range(row.buffer, row.offset, row.offset + mm.n.saturating_sub(1)),
        None => e.iconst(0),
    };
    let relu = e.iconst(i64::from(finish.is_some_and(|f| f.relu)));
    let mask = match finish.and_then(|f| f.mask.as_ref()) {
        Some(mask) => e.pointer_to_range(mask.buffer, mask.offset, last(mask, mm.m, mm.n)),
        None => e.iconst(0),
    };
    let sums = match finish.and_then(|f| f.sums) {
        Some(sums) => e.pointer_to_range(sums, 0, mm.n.saturating_sub(1)),
        None => e.iconst(0),
    };
    // Each row's softmax, computed by the kernel on the rows it has stored (`softmax.rs`).
    let rows = |e: &mut Emitter, buffer| e.pointer_to_range(buffer, 0, mm.m.saturating_sub(1));
    let (max, exps, total) = match finish.and_then(|f| f.softmax) {
        Some(softmax) => {
            let whole = View { buffer: softmax.exps, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
            (
                rows(e, softmax.max),
                e.pointer_to_range(softmax.exps, 0, last(&whole, mm.m, mm.n)),
                rows(e, softmax.total),
            )
        }
        None => (e.iconst(0), e.iconst(0), e.iconst(0)),
    };
    #[rustfmt::skip]
    let arguments = [
        n[0], n[1], n[2], a, n[3], n[4], b, n[5], n[6], c, n[7], n[8], n[9], alpha, beta, bias, relu, mask, sums, max,
        exps, total,
    ];
    e.b.ins().call(e.helpers.gemm, &arguments);
    // The epilogue runs over the stored product; a product finished in registers has none,
    // unless a softmax left it the stores that read the finished product.
    let epilogue_left = mm.finish.is_none() || !mm.epilogue.stores.is_empty();
    if let (Some(acc), None, true) = (mm.acc, mm.accumulate, epilogue_left) {
        let view = View { buffer: acc, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
        emit_loop(e, &[mm.m, mm.n], &mm.epilogue, Some(&view));
    }
}

/// A scalar node of a body (constants and scalar loads only), evaluated once.
fn scalar(e: &mut Emitter, body: &Body, node: nnc_kernels::NodeId, values: &mut [Option<(Value, usize)>]) -> Value {
    if let Some((value, _)) = values[node.0 as usize] {
        return value;
    }
    let origin = [Ix::constant(0), Ix::constant(0)];
    let value = match &body.nodes[node.0 as usize] {
        Node::Const(c) => e.fconst(*c, 1),
        Node::Load(view) => e.load(view, &origin, 1),
        Node::Unary(op, a) => {
            let a = scalar(e, body, *a, values);
            e.unary(*op, a, 1)
        }
        Node::Binary(op, a, b) => {
            let (a, b) = (scalar(e, body, *a, values), scalar(e, body, *b, values));
            e.binary(*op, a, b, 1)
        }
        Node::Random { salt, seed, offset, strides } => {
            let seed = scalar(e, body, *seed, values);
            e.random(*salt, seed, *offset, strides, &origin, 1)
        }
        Node::Acc => unreachable!("the coefficients of an update in place are scalars"),
    };
    values[node.0 as usize] = Some((value, 1));
    value
}
