//! Every pairwise dot product of two sets of rows, by a compiled kernel: what `nnc
//! similar` and `nnc cluster` measure similarities and distances with. One IR graph,
//! `S = A Bᵀ`, goes through the compiler like any forward pass (fused, then to the
//! product strategies: nnc's register tiles or the GEMM library on both cores), and runs
//! block by block, so memory stays bounded by the blocks whatever the row counts.

use nnc_codegen::{Compiled, Frame, Params, Unit};
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_ir::{Graph, Op, Origin, Shape};
use nnc_runtime::Role;

/// A compiled `A Bᵀ` for blocks of `rows_a × width` and `rows_b × width`, with the
/// buffers its calls use (allocated once, fallibly: a block of products is megabytes).
pub struct Products {
    compiled: Compiled,
    rows_a: usize,
    rows_b: usize,
    width: usize,
    outputs: Vec<Vec<f32>>,
    scratch: Vec<f32>,
    /// The last, shorter blocks of `a` and `b`, padded with zero rows.
    block_a: Vec<f32>,
    block_b: Vec<f32>,
}

/// Why products cannot be had: their buffers do not fit in memory (a diagnostic the user
/// can act on), or a bug (the kernel did not compile).
#[derive(Debug)]
pub enum ProductsError {
    NoMemory(String),
    Bug(String),
}

impl ProductsError {
    /// What the user is told: how much memory was missing, with what to do, or a bug to
    /// report.
    pub fn diagnostic(self) -> Diagnostic {
        let span = Span::new(0, 0);
        match self {
            ProductsError::NoMemory(message) => Diagnostic::error(codes::TOO_LARGE, message, span, "for this program")
                .with_help("use fewer rows, or a process with more memory"),
            ProductsError::Bug(message) => {
                Diagnostic::error(codes::INTERNAL, message, span, "for this program").with_help("report this bug")
            }
        }
    }
}

impl std::fmt::Display for ProductsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProductsError::NoMemory(message) | ProductsError::Bug(message) => f.write_str(message),
        }
    }
}

impl From<ProductsError> for String {
    fn from(error: ProductsError) -> String {
        error.to_string()
    }
}

/// The kernel's name in its compiled unit.
const NAME: &str = "products";

impl Products {
    /// Compiles the product for blocks of at most `rows_a` and `rows_b` rows of `width`
    /// numbers (0 counts as 1).
    pub fn new(rows_a: usize, rows_b: usize, width: usize) -> Result<Products, ProductsError> {
        let (rows_a, rows_b, width) = (rows_a.max(1), rows_b.max(1), width.max(1));
        let mut graph = Graph::new(NAME);
        let origin = Origin::default();
        let a = graph.add_input("a", Shape(vec![rows_a, width]), origin.clone());
        let b = graph.add_input("b", Shape(vec![rows_b, width]), origin.clone());
        let b_t = graph.push(Op::Transpose, vec![b], origin.clone());
        let products = graph.push(Op::MatMul, vec![a, b_t], origin);
        graph.outputs.push(("products".to_string(), products));
        let graph = nnc_opt::optimize(&graph);
        let program = crate::graphs::lower(&Role::Eval(NAME), &graph);
        let unit = Unit::Program { name: NAME, program: &program, hot: true };
        let compiled = nnc_codegen::compile(&[unit], nnc_codegen::Options::default())
            .map_err(|e| ProductsError::Bug(e.to_string()))?;
        let kernel = compiled.kernel(NAME).ok_or_else(|| ProductsError::Bug("no product kernel".into()))?;
        let zeros = |len: usize| {
            crate::memory::zeros(len).ok_or_else(|| {
                let size = crate::limits::size((len as u64).saturating_mul(4));
                ProductsError::NoMemory(format!("a block of {rows_a} × {rows_b} products needs a buffer of {size}"))
            })
        };
        let outputs = kernel.outputs().map(|(_, len)| zeros(len)).collect::<Result<_, _>>()?;
        let scratch = zeros(kernel.arena_len())?;
        let (block_a, block_b) = (zeros(rows_a * width)?, zeros(rows_b * width)?);
        Ok(Products { compiled, rows_a, rows_b, width, outputs, scratch, block_a, block_b })
    }

    /// Calls `visit(i, j, block)` for every pair of blocks of `a` and `b` (rows of
    /// `width`, row-major), where `block.row(r)[c]` is row `i + r` of `a` dotted with row
    /// `j + c` of `b`.
    pub fn for_each_block(&mut self, a: &[f32], b: &[f32], mut visit: impl FnMut(usize, usize, &Block<'_>)) {
        let Some(kernel) = self.compiled.kernel(NAME) else { return };
        let (width, block_rows_a, block_rows_b) = (self.width, self.rows_a, self.rows_b);
        let (rows_a, rows_b) = (a.len() / width, b.len() / width);
        for i in (0..rows_a).step_by(block_rows_a) {
            let taken_a = (rows_a - i).min(block_rows_a);
            let operand_a = block_of(&a[i * width..(i + taken_a) * width], &mut self.block_a);
            for j in (0..rows_b).step_by(block_rows_b) {
                let taken_b = (rows_b - j).min(block_rows_b);
                let inputs = [operand_a, block_of(&b[j * width..(j + taken_b) * width], &mut self.block_b)];
                kernel.call(Frame {
                    inputs: &inputs,
                    params: Params::Read(&[]),
                    outputs: &mut self.outputs,
                    scratch: &mut self.scratch,
                });
                // Only the rows and columns of real rows (the last blocks are padded).
                let values = &self.outputs[0][..taken_a * block_rows_b];
                visit(i, j, &Block { values, rows: taken_a, cols: taken_b, stride: block_rows_b });
            }
        }
    }
}

/// One block of products: `rows × cols`, row-major, rows `stride` apart.
pub struct Block<'a> {
    pub values: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub stride: usize,
}

impl Block<'_> {
    pub fn row(&self, r: usize) -> &[f32] {
        &self.values[r * self.stride..r * self.stride + self.cols]
    }
}

/// `rows` where they lie when they fill a block, else copied into the front of `padded`
/// and followed by zero rows: copying every block of the database for every block of
/// queries was a tenth of a large search.
fn block_of<'a>(rows: &'a [f32], padded: &'a mut [f32]) -> &'a [f32] {
    if rows.len() == padded.len() {
        return rows;
    }
    fill(padded, rows);
    padded
}

/// Copies `rows` into the front of `block` and zeroes the rest (padding rows).
fn fill(block: &mut [f32], rows: &[f32]) {
    block[..rows.len()].copy_from_slice(rows);
    block[rows.len()..].fill(0.0);
}

/// Each row's squared length.
pub fn squared_lengths(rows: &[f32], width: usize) -> Vec<f32> {
    rows.chunks(width.max(1)).map(|row| row.iter().map(|v| v * v).sum()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Products that do not fit the memory left are the user's to change (`nnc similar`
    /// calibrating its threshold under `ulimit -v` once called them a bug).
    #[test]
    fn missing_memory_is_a_limit_and_a_failed_compile_a_bug() {
        let limit = ProductsError::NoMemory("a block needs 7.8 MiB".into()).diagnostic();
        assert_eq!((limit.code, limit.message.as_str()), (codes::TOO_LARGE, "a block needs 7.8 MiB"));
        assert!(!limit.help.as_deref().unwrap_or_default().contains("bug"));
        assert_eq!(ProductsError::Bug("no kernel".into()).diagnostic().code, codes::INTERNAL);
    }

    #[test]
    fn every_block_matches_the_dot_products_of_its_rows() {
        let width = 3;
        let a: Vec<f32> = (0..7 * width).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..5 * width).map(|i| (i as f32 * 0.91).cos()).collect();
        // Blocks that do not divide the rows: padding on both sides.
        let mut products = Products::new(3, 2, width).unwrap();
        let mut seen = vec![0u32; 7 * 5];
        products.for_each_block(&a, &b, |i, j, block| {
            for r in 0..block.rows {
                for (c, &value) in block.row(r).iter().enumerate() {
                    let (row_a, row_b) = (&a[(i + r) * width..][..width], &b[(j + c) * width..][..width]);
                    let expected: f32 = row_a.iter().zip(row_b).map(|(x, y)| x * y).sum();
                    assert!((value - expected).abs() < 1e-5, "({}, {}): {value} against {expected}", i + r, j + c);
                    seen[(i + r) * 5 + j + c] += 1;
                }
            }
        });
        assert!(seen.iter().all(|&n| n == 1), "every pair exactly once: {seen:?}");
    }
}
