//! Matrix products. Small ones are register tiles of f32x4 fused multiply-adds (up to 4
//! rows × 8 columns in 8 accumulators, within x86's 16 vector registers) with the epilogue
//! applied to the accumulators before anything is stored; columns that do not fill a
//! vector take a scalar tile. Large ones call the GEMM library (`gemm.rs`), then run the
//! epilogue as a loop over the product.

use crate::emit::{Emitter, Ix};
use crate::loops::emit_loop;
use cranelift::prelude::*;
use nnc_kernels::{Matmul, Program, Strategy, View};

/// Rows per register tile.
const TILE_ROWS: usize = 4;
/// Reduction steps fully unrolled up to this length.
const UNROLL_K: usize = 8;
/// Row and column tiles unrolled up to this many each.
const UNROLL_TILES: usize = 2;

pub(crate) fn emit_matmul(e: &mut Emitter, program: &Program, mm: &Matmul) {
    match mm.strategy {
        Strategy::Tiled => emit_tiled(e, program, mm),
        Strategy::Library { threads } => emit_library(e, program, mm, threads),
    }
}

/// The columns of one tile: `vectors` f32x4 lanes from `j0`, or one scalar column.
#[derive(Clone, Copy)]
struct Columns {
    j0: Ix,
    vectors: usize,
}

fn emit_tiled(e: &mut Emitter, program: &Program, mm: &Matmul) {
    e.init_reductions(program, &mm.epilogue);
    let rows = TILE_ROWS.min(mm.m);
    let full_rows = mm.m / rows * rows;
    e.counted(full_rows, rows, UNROLL_TILES, &mut |e, i0| column_tiles(e, mm, i0, rows));
    if mm.m > full_rows {
        column_tiles(e, mm, Ix::constant(full_rows), mm.m - full_rows);
    }
}

/// Every tile of the row block starting at `i0`: 8-column tiles, a 4-column tile, then
/// scalar columns.
fn column_tiles(e: &mut Emitter, mm: &Matmul, i0: Ix, rows: usize) {
    let eights = mm.n / 8 * 8;
    e.counted(eights, 8, UNROLL_TILES, &mut |e, j0| tile(e, mm, i0, rows, Columns { j0, vectors: 2 }));
    let mut j = eights;
    if mm.n - j >= 4 {
        tile(e, mm, i0, rows, Columns { j0: Ix::constant(j), vectors: 1 });
        j += 4;
    }
    for column in j..mm.n {
        tile(e, mm, i0, rows, Columns { j0: Ix::constant(column), vectors: 0 });
    }
}

/// One register tile: `rows` × (`columns.vectors` × 4, or 1) accumulators over the whole
/// reduction, then the epilogue on each.
fn tile(e: &mut Emitter, mm: &Matmul, i0: Ix, rows: usize, columns: Columns) {
    let lanes = if columns.vectors == 0 { 1 } else { 4 };
    let width = columns.vectors.max(1);
    let ty = if lanes == 1 { types::F32 } else { types::F32X4 };
    let accumulators: Vec<Variable> = (0..rows * width)
        .map(|_| {
            let variable = e.b.declare_var(ty);
            let zero = e.fconst(0.0, lanes);
            e.b.def_var(variable, zero);
            variable
        })
        .collect();
    let row_index: Vec<Ix> = (0..rows).map(|r| i0.plus(r as i64)).collect();
    let column_index: Vec<Ix> = (0..width).map(|v| columns.j0.plus(4 * v as i64)).collect();
    let mut step = |e: &mut Emitter, p: Ix| {
        let b: Vec<Value> = column_index.iter().map(|&j| e.load(&mm.b, &[p, j], lanes)).collect();
        for (r, &i) in row_index.iter().enumerate() {
            let a = e.load(&mm.a, &[i, p], 1);
            let a = if lanes == 1 { a } else { e.b.ins().splat(types::F32X4, a) };
            for (v, &b) in b.iter().enumerate() {
                let variable = accumulators[r * width + v];
                let acc = e.b.use_var(variable);
                let sum = e.b.ins().fma(a, b, acc);
                e.b.def_var(variable, sum);
            }
        }
    };
    e.counted(mm.k, 1, UNROLL_K, &mut step);
    for (r, &i) in row_index.iter().enumerate() {
        for (v, &j) in column_index.iter().enumerate() {
            let acc = e.b.use_var(accumulators[r * width + v]);
            let index = [i, j];
            let mut values = vec![None; mm.epilogue.nodes.len()];
            e.eval(&mm.epilogue, &index, lanes, Some(acc), &mut values);
            for store in &mm.epilogue.stores {
                let x = e.operand(&values, store.value, lanes);
                e.store(store, &index, x, lanes);
            }
        }
    }
}

/// `acc = A·B` by the GEMM library on `threads` threads, then the epilogue over it.
fn emit_library(e: &mut Emitter, program: &Program, mm: &Matmul, threads: usize) {
    let acc = mm.acc.expect("internal error: a library product without its accumulator");
    let a = e.pointer(mm.a.buffer, mm.a.offset);
    let b = e.pointer(mm.b.buffer, mm.b.offset);
    let c = e.pointer(acc, 0);
    let numbers = [
        mm.m as i64,
        mm.n as i64,
        mm.k as i64,
        mm.a.strides[0] as i64,
        mm.a.strides[1] as i64,
        mm.b.strides[0] as i64,
        mm.b.strides[1] as i64,
        threads as i64,
    ];
    let numbers: Vec<Value> = numbers.iter().map(|&n| e.iconst(n)).collect();
    let arguments =
        [numbers[0], numbers[1], numbers[2], a, numbers[3], numbers[4], b, numbers[5], numbers[6], c, numbers[7]];
    e.b.ins().call(e.helpers.gemm, &arguments);
    let view = View { buffer: acc, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
    emit_loop(e, program, &[mm.m, mm.n], &mm.epilogue, Some(&view));
}
