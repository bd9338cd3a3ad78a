//! The closed set of primitive tensor operations and their typing rules.
//!
//! Everything a program can say (layers, activations, losses, optimizers) lowers to these.
//! The gradient rule of each op lives beside it in `vjp.rs`; adding an op follows
//! `docs/adding-an-op.md`.

use crate::shape::Shape;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The number types ops are evaluated in: f32 (what compiled code computes, and constant
/// folding) and f64 (the reference `nnc gradcheck` takes its finite differences in).
pub trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    fn of(x: f32) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn tanh(self) -> Self;
    fn sqrt(self) -> Self;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            fn of(x: f32) -> $t {
                x.into()
            }
            fn exp(self) -> $t {
                <$t>::exp(self)
            }
            fn ln(self) -> $t {
                <$t>::ln(self)
            }
            fn ln_1p(self) -> $t {
                <$t>::ln_1p(self)
            }
            fn tanh(self) -> $t {
                <$t>::tanh(self)
            }
            fn sqrt(self) -> $t {
                <$t>::sqrt(self)
            }
        }
    };
}
real!(f32);
real!(f64);

/// A primitive operation. Operands are the instruction's `args`; attributes live here.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    // Leaves.
    /// The graph's `n`-th input (data fed in each call).
    Input(u32),
    /// The graph's `n`-th parameter (state that persists between calls).
    Param(u32),
    /// A scalar constant; `broadcast` it to use it with a tensor.
    Const(f32),

    // Elementwise unary.
    Neg,
    Exp,
    Log,
    /// `log(1 + a)`, accurate where `a` is tiny (where `1 + a` rounds to 1): `log` of a
    /// sum cannot be composed to that precision.
    Log1p,
    Tanh,
    Sqrt,

    // Elementwise binary; both operands have the result's shape.
    Add,
    Sub,
    Mul,
    Div,
    Max,
    /// `1.0` where `a > b`, else `0.0`.
    CmpGt,

    // Reductions over the listed axes, which are removed from the shape.
    ReduceSum {
        axes: Vec<usize>,
    },
    ReduceMax {
        axes: Vec<usize>,
    },

    // Movement: the result shape is the instruction's type.
    /// Right-aligned (numpy) broadcast to the result shape.
    Broadcast,
    /// Same elements, new shape.
    Reshape,
    /// Swaps the two axes of a matrix.
    Transpose,
    /// The operand unchanged, but a constant to autodiff: its gradient is not propagated.
    /// Lowering uses it where the gradient through a value is zero in exact arithmetic
    /// (the max subtracted before `exp` for stability), so none is computed.
    StopGradient,

    // Contraction.
    /// `[m, k] x [k, n] -> [m, n]`.
    MatMul,
}

/// Coarse families of ops, for passes and codegen that treat a family alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpClass {
    Leaf,
    Unary,
    Binary,
    Reduce,
    Movement,
    Contraction,
}

impl Op {
    /// One op of every kind, for tests that must cover them all.
    pub fn every() -> Vec<Op> {
        let every = vec![
            Op::Input(0),
            Op::Param(0),
            Op::Const(0.0),
            Op::Neg,
            Op::Exp,
            Op::Log,
            Op::Log1p,
            Op::Tanh,
            Op::Sqrt,
            Op::Add,
            Op::Sub,
            Op::Mul,
            Op::Div,
            Op::Max,
            Op::CmpGt,
            Op::ReduceSum { axes: Vec::new() },
            Op::ReduceMax { axes: Vec::new() },
            Op::Broadcast,
            Op::Reshape,
            Op::Transpose,
            Op::StopGradient,
            Op::MatMul,
        ];
        // A new op makes this match fail to compile until the list above has it too.
        for op in &every {
            match op {
                Op::Input(_) | Op::Param(_) | Op::Const(_) | Op::Neg | Op::Exp | Op::Log | Op::Log1p => {}
                Op::Tanh | Op::Sqrt => {}
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Max | Op::CmpGt => {}
                Op::ReduceSum { .. } | Op::ReduceMax { .. } | Op::Broadcast | Op::Reshape | Op::Transpose => {}
                Op::StopGradient | Op::MatMul => {}
            }
        }
        every
    }

    pub fn class(&self) -> OpClass {
        match self {
            Op::Input(_) | Op::Param(_) | Op::Const(_) => OpClass::Leaf,
            Op::Neg | Op::Exp | Op::Log | Op::Log1p | Op::Tanh | Op::Sqrt => OpClass::Unary,
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Max | Op::CmpGt => OpClass::Binary,
            Op::ReduceSum { .. } | Op::ReduceMax { .. } => OpClass::Reduce,
            Op::Broadcast | Op::Reshape | Op::Transpose | Op::StopGradient => OpClass::Movement,
            Op::MatMul => OpClass::Contraction,
        }
    }

    /// The op's name in the text form.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input(_) => "input",
            Op::Param(_) => "param",
            Op::Const(_) => "const",
            Op::Neg => "neg",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Log1p => "log1p",
            Op::Tanh => "tanh",
            Op::Sqrt => "sqrt",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Max => "max",
            Op::CmpGt => "cmp_gt",
            Op::ReduceSum { .. } => "reduce_sum",
            Op::ReduceMax { .. } => "reduce_max",
            Op::Broadcast => "broadcast",
            Op::Reshape => "reshape",
            Op::Transpose => "transpose",
            Op::StopGradient => "stop_gradient",
            Op::MatMul => "matmul",
        }
    }

    pub fn arity(&self) -> usize {
        match self.class() {
            OpClass::Leaf => 0,
            OpClass::Unary | OpClass::Reduce | OpClass::Movement => 1,
            OpClass::Binary | OpClass::Contraction => 2,
        }
    }

    /// Whether `op(a, b) == op(b, a)`, so CSE may order the operands.
    pub fn is_commutative(&self) -> bool {
        matches!(self, Op::Add | Op::Mul | Op::Max)
    }

    /// The typing rule: the result shape for operand shapes, or why they do not fit.
    /// `declared` is the result shape written on the instruction (used by movement ops
    /// and leaves, whose result shape is not implied by their operands).
    pub fn result_shape(&self, args: &[&Shape], declared: &Shape) -> Result<Shape, String> {
        if args.len() != self.arity() {
            return Err(format!("{} takes {} operands, got {}", self.name(), self.arity(), args.len()));
        }
        match self {
            Op::Const(_) if declared.rank() != 0 => Err("const is a scalar".to_string()),
            Op::Input(_) | Op::Param(_) | Op::Const(_) => Ok(declared.clone()),
            Op::Neg | Op::Exp | Op::Log | Op::Log1p | Op::Tanh | Op::Sqrt => Ok(args[0].clone()),
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Max | Op::CmpGt => {
                if args[0] == args[1] {
                    Ok(args[0].clone())
                } else {
                    Err(format!("{} needs equal shapes, got {} and {}", self.name(), args[0], args[1]))
                }
            }
            Op::ReduceSum { axes } | Op::ReduceMax { axes } => {
                let sorted = axes.windows(2).all(|w| w[0] < w[1]);
                if sorted && axes.iter().all(|&a| a < args[0].rank()) {
                    Ok(args[0].reduce(axes))
                } else {
                    Err(format!("bad axes {axes:?} for {}", args[0]))
                }
            }
            Op::Broadcast if args[0].broadcasts_to(declared) => Ok(declared.clone()),
            Op::Broadcast => Err(format!("{} does not broadcast to {declared}", args[0])),
            Op::Reshape if args[0].numel() == declared.numel() => Ok(declared.clone()),
            Op::Reshape => Err(format!("cannot reshape {} to {declared}", args[0])),
            Op::StopGradient => Ok(args[0].clone()),
            Op::Transpose if args[0].rank() == 2 => Ok(args[0].transposed()),
            Op::Transpose => Err(format!("transpose needs a matrix, got {}", args[0])),
            Op::MatMul => match (args[0].dims(), args[1].dims()) {
                ([m, k1], [k2, n]) if k1 == k2 => Ok(Shape(vec![*m, *n])),
                _ => Err(format!("shape mismatch in matmul: {} x {}", args[0], args[1])),
            },
        }
    }

    /// Applies an elementwise unary op to one value (the reference semantics).
    pub fn eval_unary<T: Real>(&self, x: T) -> T {
        match self {
            Op::Neg => -x,
            Op::Exp => x.exp(),
            Op::Log => x.ln(),
            Op::Log1p => x.ln_1p(),
            Op::Tanh => x.tanh(),
            Op::Sqrt => x.sqrt(),
            other => unreachable!("{} is not unary", other.name()),
        }
    }

    /// Applies an elementwise binary op to one pair of values (the reference semantics).
    pub fn eval_binary<T: Real>(&self, a: T, b: T) -> T {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
            Op::Max => {
                if a > b {
                    a
                } else {
                    b
                }
            }
            Op::CmpGt => T::of(f32::from(u8::from(a > b))),
            other => unreachable!("{} is not binary", other.name()),
        }
    }
}
