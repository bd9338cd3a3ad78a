//! A library product whose epilogue only scales the product into a buffer it updates —
//! `W ← W - lr·(A·B)`, or with weight decay `W ← (1 - lr·wd)·W - lr·(A·B)` — lets the GEMM
//! do the update in place: `W ← alpha·W + beta·A·B`. No product buffer, no extra pass.
//!
//! The epilogue's one store must be affine in the product and in the buffer it writes
//! (read at the same point), with coefficients that are the same at every point: constants
//! and scalar inputs such as the learning rate, and no other term.

use crate::ir::*;

pub(crate) fn accumulate_in_place(program: &mut Program) {
    for kernel in &mut program.kernels {
        let KernelKind::Matmul(mm) = &mut kernel.kind else { continue };
        if !matches!(mm.strategy, Strategy::Library { .. }) {
            continue;
        }
        if let Some(accumulate) = affine_update(mm) {
            mm.epilogue.stores.clear();
            mm.accumulate = Some(accumulate);
        }
    }
}

/// A coefficient: zero, one, or the value of a scalar node.
#[derive(Clone, Copy, PartialEq)]
enum Coefficient {
    Zero,
    One,
    Node(NodeId),
}

/// `acc·product + dst·into + constant`.
#[derive(Clone, Copy)]
struct Affine {
    acc: Coefficient,
    dst: Coefficient,
    constant: Coefficient,
}

fn affine_update(mm: &mut Matmul) -> Option<Accumulate> {
    let [store] = mm.epilogue.stores.as_slice() else { return None };
    let whole = vec![mm.n as isize, 1];
    let writes_whole = store.combine == Combine::Write && store.view.strides == whole && store.view.offset == 0;
    if !writes_whole || store.view.gather.is_some() {
        return None;
    }
    let (into, value) = (store.view.clone(), store.value);
    let mut builder = Builder { body: &mut mm.epilogue, into: &into };
    let form = builder.affine(value)?;
    if form.constant != Coefficient::Zero {
        return None;
    }
    let alpha = builder.node(form.dst);
    let beta = builder.node(form.acc);
    Some(Accumulate { into: into.buffer, alpha, beta })
}

struct Builder<'a> {
    body: &'a mut Body,
    into: &'a View,
}

impl Builder<'_> {
    /// A scalar node for a coefficient.
    fn node(&mut self, coefficient: Coefficient) -> NodeId {
        match coefficient {
            Coefficient::Node(id) => id,
            Coefficient::Zero => self.push(Node::Const(0.0)),
            Coefficient::One => self.push(Node::Const(1.0)),
        }
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.body.nodes.push(node);
        NodeId(self.body.nodes.len() as u32 - 1)
    }

    fn is_scalar(&self, id: NodeId) -> bool {
        match &self.body.nodes[id.0 as usize] {
            Node::Const(_) => true,
            Node::Load(view) => view.strides.iter().all(|&s| s == 0) && view.gather.is_none(),
            Node::Acc => false,
            Node::Random { strides, seed, .. } => strides.iter().all(|&s| s == 0) && self.is_scalar(*seed),
            Node::Unary(_, a) => self.is_scalar(*a),
            Node::Binary(_, a, b) => self.is_scalar(*a) && self.is_scalar(*b),
        }
    }

    fn binary(&mut self, op: Binary, a: Coefficient, b: Coefficient) -> Coefficient {
        use Coefficient::{One, Zero};
        match (op, a, b) {
            (Binary::Add, Zero, x) | (Binary::Add | Binary::Sub, x, Zero) => x,
            (Binary::Mul, Zero, _) | (Binary::Mul, _, Zero) => Zero,
            (Binary::Mul, One, x) | (Binary::Mul | Binary::Div, x, One) => x,
            (op, a, b) => {
                let (a, b) = (self.node(a), self.node(b));
                Coefficient::Node(self.push(Node::Binary(op, a, b)))
            }
        }
    }

    fn negate(&mut self, a: Coefficient) -> Coefficient {
        match a {
            Coefficient::Zero => Coefficient::Zero,
            other => {
                let a = self.node(other);
                Coefficient::Node(self.push(Node::Unary(Unary::Neg, a)))
            }
        }
    }

    fn combine(&mut self, op: Binary, x: Affine, y: Affine) -> Affine {
        Affine {
            acc: self.binary(op, x.acc, y.acc),
            dst: self.binary(op, x.dst, y.dst),
            constant: self.binary(op, x.constant, y.constant),
        }
    }

    fn scale(&mut self, op: Binary, x: Affine, s: Coefficient) -> Affine {
        Affine {
            acc: self.binary(op, x.acc, s),
            dst: self.binary(op, x.dst, s),
            constant: self.binary(op, x.constant, s),
        }
    }

    /// The node as an affine form, when it is one.
    fn affine(&mut self, id: NodeId) -> Option<Affine> {
        use Coefficient::{One, Zero};
        if self.is_scalar(id) {
            return Some(Affine { acc: Zero, dst: Zero, constant: Coefficient::Node(id) });
        }
        match self.body.nodes[id.0 as usize].clone() {
            Node::Acc => Some(Affine { acc: One, dst: Zero, constant: Zero }),
            Node::Load(view) if &view == self.into => Some(Affine { acc: Zero, dst: One, constant: Zero }),
            Node::Unary(Unary::Neg, a) => {
                let x = self.affine(a)?;
                Some(Affine { acc: self.negate(x.acc), dst: self.negate(x.dst), constant: self.negate(x.constant) })
            }
            Node::Binary(op @ (Binary::Add | Binary::Sub), a, b) => {
                let (x, y) = (self.affine(a)?, self.affine(b)?);
                Some(self.combine(op, x, y))
            }
            Node::Binary(Binary::Mul, a, b) if self.is_scalar(a) => {
                let x = self.affine(b)?;
                Some(self.scale(Binary::Mul, x, Coefficient::Node(a)))
            }
            Node::Binary(op @ (Binary::Mul | Binary::Div), a, b) if self.is_scalar(b) => {
                let x = self.affine(a)?;
                Some(self.scale(op, x, Coefficient::Node(b)))
            }
            _ => None,
        }
    }
}
