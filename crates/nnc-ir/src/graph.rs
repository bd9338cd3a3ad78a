//! The graph: SSA instructions in definition-before-use order, plus declarations.

use crate::op::Op;
use crate::shape::Shape;
use nnc_diagnostics::Span;
use std::fmt;

/// An SSA value: the index of the instruction that defines it. Printed `%N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl ValueId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Which part of a training step an instruction belongs to. Semantics never depend on it;
/// the printer uses it to label sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Forward,
    Backward,
    Update,
}

/// Where an instruction came from: its section, the layer or construct that made it, and
/// the source text, so later views can point back at the program.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Origin {
    pub section: Option<Section>,
    /// Shared, not copied: every pass rebuilds the graph, copying each instruction's
    /// origin.
    pub label: std::sync::Arc<str>,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    pub op: Op,
    pub args: Vec<ValueId>,
    pub shape: Shape,
    pub origin: Origin,
}

/// A named input or parameter slot.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub name: String,
    pub shape: Shape,
}

/// A program over tensors. Values are defined before use; inputs and params are read
/// through `Op::Input` / `Op::Param` instructions.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    pub name: String,
    pub inputs: Vec<Decl>,
    pub params: Vec<Decl>,
    pub insts: Vec<Inst>,
    /// Named results of a call.
    pub outputs: Vec<(String, ValueId)>,
    /// New values of parameters, written back after the call (param index, value).
    pub updates: Vec<(u32, ValueId)>,
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Graph {
        Graph { name: name.into(), ..Graph::default() }
    }

    pub fn inst(&self, value: ValueId) -> &Inst {
        &self.insts[value.index()]
    }

    pub fn shape(&self, value: ValueId) -> &Shape {
        &self.inst(value).shape
    }

    pub fn values(&self) -> impl Iterator<Item = ValueId> + use<> {
        (0..self.insts.len() as u32).map(ValueId)
    }

    /// Declares an input and returns the value that reads it.
    pub fn add_input(&mut self, name: impl Into<String>, shape: Shape, origin: Origin) -> ValueId {
        let index = self.inputs.len() as u32;
        self.inputs.push(Decl { name: name.into(), shape: shape.clone() });
        self.push_typed(Op::Input(index), Vec::new(), shape, origin)
    }

    /// Declares a parameter and returns the value that reads it.
    pub fn add_param(&mut self, name: impl Into<String>, shape: Shape, origin: Origin) -> ValueId {
        let index = self.params.len() as u32;
        self.params.push(Decl { name: name.into(), shape: shape.clone() });
        self.push_typed(Op::Param(index), Vec::new(), shape, origin)
    }

    /// Appends an instruction whose result shape follows from its operands.
    ///
    /// Panics on ill-typed operands: front ends check user programs before building IR,
    /// so a failure here is a compiler bug.
    pub fn push(&mut self, op: Op, args: Vec<ValueId>, origin: Origin) -> ValueId {
        self.push_typed(op, args, Shape::scalar(), origin)
    }

    /// Appends an instruction with an explicit result shape (for movement ops and leaves).
    pub fn push_typed(&mut self, op: Op, args: Vec<ValueId>, declared: Shape, origin: Origin) -> ValueId {
        let arg_shapes: Vec<&Shape> = args.iter().map(|&a| self.shape(a)).collect();
        let shape = op
            .result_shape(&arg_shapes, &declared)
            .unwrap_or_else(|err| panic!("internal compiler error: ill-typed {} in @{}: {err}", op.name(), self.name));
        let id = ValueId(self.insts.len() as u32);
        self.insts.push(Inst { op, args, shape, origin });
        id
    }

    /// A scalar constant broadcast to `shape` (or left scalar).
    pub fn constant(&mut self, value: f32, shape: &Shape, origin: Origin) -> ValueId {
        let scalar = self.push(Op::Const(value), Vec::new(), origin.clone());
        self.broadcast(scalar, shape, origin)
    }

    /// Broadcasts `value` to `shape`; no instruction when it already has that shape.
    pub fn broadcast(&mut self, value: ValueId, shape: &Shape, origin: Origin) -> ValueId {
        if self.shape(value) == shape {
            value
        } else {
            self.push_typed(Op::Broadcast, vec![value], shape.clone(), origin)
        }
    }

    /// Reshapes `value`; no instruction when it already has that shape.
    pub fn reshape(&mut self, value: ValueId, shape: &Shape, origin: Origin) -> ValueId {
        if self.shape(value) == shape {
            value
        } else {
            self.push_typed(Op::Reshape, vec![value], shape.clone(), origin)
        }
    }

    /// Sums `value` over every axis to a scalar.
    pub fn sum_all(&mut self, value: ValueId, origin: Origin) -> ValueId {
        let axes: Vec<usize> = (0..self.shape(value).rank()).collect();
        if axes.is_empty() { value } else { self.push(Op::ReduceSum { axes }, vec![value], origin) }
    }

    /// `|x|` as `x · sign(x)` with `sign(x) = [x > 0] − [0 > x]`: the comparisons are
    /// piecewise constant, so autodiff derives the gradient `sign(x)`, which is 0 at 0 (the
    /// subgradient PyTorch and the course use; `max(x, −x)` would give −1 there).
    pub fn abs(&mut self, x: ValueId, origin: Origin) -> ValueId {
        let shape = self.shape(x).clone();
        let zero = self.constant(0.0, &shape, origin.clone());
        let positive = self.push(Op::CmpGt, vec![x, zero], origin.clone());
        let negative = self.push(Op::CmpGt, vec![zero, x], origin.clone());
        let sign = self.push(Op::Sub, vec![positive, negative], origin.clone());
        self.push(Op::Mul, vec![x, sign], origin)
    }

    /// Number of uses of each value (operands, outputs and updates).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.insts.len()];
        for inst in &self.insts {
            for arg in &inst.args {
                counts[arg.index()] += 1;
            }
        }
        let roots = self.outputs.iter().map(|(_, v)| *v).chain(self.updates.iter().map(|(_, v)| *v));
        for value in roots {
            counts[value.index()] += 1;
        }
        counts
    }
}
