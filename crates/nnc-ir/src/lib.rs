//! The graph IR of nnc.
//!
//! A [`Graph`] is a list of instructions in definition-before-use order; each defines one
//! SSA value, named by its index (`%N`). Every value has a static [`Shape`] of `f32`s.
//! The instruction set ([`Op`]) is small and closed: leaves (`input`, `param`, `const`),
//! elementwise unary and binary ops, reductions, movement (`broadcast`, `reshape`,
//! `transpose`) and `matmul`. There is no implicit broadcasting: operands of elementwise
//! ops have equal shapes, and front ends insert `broadcast` explicitly.
//!
//! A graph has named `outputs` and parameter `updates`: a training step outputs the loss
//! and updates every parameter. The [`verify`] function states the invariants; [`print_graph`]
//! gives the stable text form documented in `docs/ir.md`; [`evaluate`] is the reference
//! interpreter; [`vjp`] holds the gradient rule of every op.

mod graph;
mod interp;
mod op;
mod print;
mod shape;
mod verify;
mod vjp;

pub use graph::{Decl, Graph, Inst, Origin, Section, ValueId};
pub use interp::evaluate;
pub use op::{Op, OpClass, Real, Window, random_uniform, seed_bits, seed_value};
pub use print::{print_graph, print_graph_with, print_instruction};
pub use shape::{Shape, for_each_offset};
pub use verify::{assert_valid, verify};
pub use vjp::vjp;
