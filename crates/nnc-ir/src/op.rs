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
    /// The value as the f32 nearest it (a seed's bits travel as an f32).
    fn to_f32(self) -> f32;
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
            fn to_f32(self) -> f32 {
                self as f32
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

    // Layout: the result is the operands' elements rearranged, computed into a buffer of
    // its own.
    /// The windows of a batch of images, for convolution as a product (im2col):
    /// `[n, h, w, c] -> [n, oh, ow, kh, kw, c]`, element `(n, i, j, u, v, c)` being
    /// `x[n, i·sh + u − top, j·sw + v − left, c]`, or 0 outside the image (padding).
    Window(Window),
    /// The adjoint of `Window` (col2im): each window element added back to the pixel it was
    /// taken from, `[n, oh, ow, kh, kw, c] -> [n, h, w, c]` (the result shape is declared).
    WindowSum(Window),
    /// Two tensors joined along `axis`.
    Concat {
        axis: usize,
    },
    /// Elements `start..start + len` of `axis` (`len` from the declared result shape): a
    /// movement op, read in place.
    Slice {
        axis: usize,
        start: usize,
    },

    /// Numbers uniform in [0, 1) (multiples of 2⁻²⁴), one per element of the declared
    /// shape, from the scalar operand (whose bits are a seed), the element's index and
    /// `salt`: the same seed gives the same numbers, in compiled code and the interpreter.
    Random {
        salt: u32,
    },
}

/// How a [`Op::Window`] takes windows: kernel, stride and padding along height and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// Zero rows and columns before (top, left) and after (bottom, right) the image.
    pub before: [usize; 2],
    pub after: [usize; 2],
}

impl Window {
    /// Output height and width for an image of `size` (height, width); `None` when the
    /// kernel is larger than the padded image or a stride is 0.
    pub fn output(&self, size: [usize; 2]) -> Option<[usize; 2]> {
        let one = |axis: usize| {
            let padded = size[axis].checked_add(self.before[axis])?.checked_add(self.after[axis])?;
            let room = padded.checked_sub(self.kernel[axis])?;
            (self.stride[axis] > 0 && self.kernel[axis] > 0).then(|| room / self.stride[axis] + 1)
        };
        Some([one(0)?, one(1)?])
    }

    /// The shape of the windows of images of `shape` (`[n, h, w, c]`).
    pub fn windows_shape(&self, shape: &Shape) -> Option<Shape> {
        let [n, h, w, c] = *shape.dims() else { return None };
        let [oh, ow] = self.output([h, w])?;
        Some(Shape(vec![n, oh, ow, self.kernel[0], self.kernel[1], c]))
    }

    /// The source pixel (row or column) of output position `i` and kernel offset `u` along
    /// `axis`, or `None` in the padding.
    pub fn source(&self, axis: usize, i: usize, u: usize, size: usize) -> Option<usize> {
        (i * self.stride[axis] + u).checked_sub(self.before[axis]).filter(|&p| p < size)
    }

    /// `3x3, stride 1x1, pad 1,1,1,1` for printing.
    pub fn describe(&self) -> String {
        format!(
            "kernel={}x{}, stride={}x{}, pad={},{},{},{}",
            self.kernel[0],
            self.kernel[1],
            self.stride[0],
            self.stride[1],
            self.before[0],
            self.after[0],
            self.before[1],
            self.after[1]
        )
    }
}

/// A seed as the value `Op::Random` reads: a number in [1, 2) whose 23 mantissa bits are
/// the seed (so that it survives any float conversion a runtime makes).
pub fn seed_value(seed: u32) -> f32 {
    f32::from_bits(0x3F80_0000 | (seed & 0x007F_FFFF))
}

/// The seed in a value made by [`seed_value`].
pub fn seed_bits(value: f32) -> u32 {
    value.to_bits() & 0x007F_FFFF
}

/// The uniform number `Op::Random` gives element `index` for `seed` and `salt`: a 32-bit
/// hash (Murmur3's finaliser over a mix of the three) whose top 24 bits scale to [0, 1).
/// Compiled code computes exactly this (`nnc-codegen/src/math.rs`).
pub fn random_uniform(seed: u32, index: u32, salt: u32) -> f32 {
    let mut h = index.wrapping_mul(0x9E37_79B1) ^ seed.wrapping_mul(0x85EB_CA77) ^ salt.wrapping_mul(0xC2B2_AE3D);
    h ^= h >> 16;
    h = h.wrapping_mul(0x7FEB_352D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846C_A68B);
    h ^= h >> 16;
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
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
    /// Elements rearranged into a buffer of their own (`window`, `window_sum`, `concat`).
    Layout,
    /// Computed from an element's index (`random`).
    Generator,
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
            Op::Window(Window { kernel: [1, 1], stride: [1, 1], before: [0, 0], after: [0, 0] }),
            Op::WindowSum(Window { kernel: [1, 1], stride: [1, 1], before: [0, 0], after: [0, 0] }),
            Op::Concat { axis: 0 },
            Op::Slice { axis: 0, start: 0 },
            Op::Random { salt: 0 },
        ];
        // A new op makes this match fail to compile until the list above has it too.
        for op in &every {
            match op {
                Op::Input(_) | Op::Param(_) | Op::Const(_) | Op::Neg | Op::Exp | Op::Log | Op::Log1p => {}
                Op::Tanh | Op::Sqrt => {}
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Max | Op::CmpGt => {}
                Op::ReduceSum { .. } | Op::ReduceMax { .. } | Op::Broadcast | Op::Reshape | Op::Transpose => {}
                Op::StopGradient | Op::MatMul => {}
                Op::Window(_) | Op::WindowSum(_) | Op::Concat { .. } | Op::Slice { .. } | Op::Random { .. } => {}
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
            Op::Broadcast | Op::Reshape | Op::Transpose | Op::StopGradient | Op::Slice { .. } => OpClass::Movement,
            Op::MatMul => OpClass::Contraction,
            Op::Window(_) | Op::WindowSum(_) | Op::Concat { .. } => OpClass::Layout,
            Op::Random { .. } => OpClass::Generator,
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
            Op::Window(_) => "window",
            Op::WindowSum(_) => "window_sum",
            Op::Concat { .. } => "concat",
            Op::Slice { .. } => "slice",
            Op::Random { .. } => "random",
        }
    }

    pub fn arity(&self) -> usize {
        match self {
            Op::Concat { .. } => 2,
            _ => match self.class() {
                OpClass::Leaf => 0,
                OpClass::Unary | OpClass::Reduce | OpClass::Movement | OpClass::Layout | OpClass::Generator => 1,
                OpClass::Binary | OpClass::Contraction => 2,
            },
        }
    }

    /// Whether `op(a, b) == op(b, a)`, so CSE may order the operands. Not `max`: it is
    /// `a > b ? a : b`, so `max(NaN, 0)` is 0 and `max(0, NaN)` is NaN; a ReLU is
    /// `max(x, 0)` and must stay so (the product kernels' ReLU and the mask-from-output
    /// rewrite rely on that order).
    pub fn is_commutative(&self) -> bool {
        matches!(self, Op::Add | Op::Mul)
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
            Op::Window(window) => {
                window.windows_shape(args[0]).ok_or_else(|| format!("no windows {} of {}", window.describe(), args[0]))
            }
            Op::WindowSum(window) if window.windows_shape(declared).as_ref() == Some(args[0]) => Ok(declared.clone()),
            Op::WindowSum(window) => {
                Err(format!("{} are not the windows {} of {declared}", args[0], window.describe()))
            }
            Op::Concat { axis } => {
                let (a, b) = (args[0].dims(), args[1].dims());
                let others_equal = a.len() == b.len() && (0..a.len()).all(|i| i == *axis || a[i] == b[i]);
                if *axis < a.len() && others_equal {
                    let mut dims = a.to_vec();
                    dims[*axis] += b[*axis];
                    Ok(Shape(dims))
                } else {
                    Err(format!("cannot join {} and {} along axis {axis}", args[0], args[1]))
                }
            }
            Op::Slice { axis, start } => {
                let (from, to) = (args[0].dims(), declared.dims());
                let fits = from.len() == to.len()
                    && *axis < from.len()
                    && (0..from.len()).all(|i| i == *axis || from[i] == to[i])
                    && start.checked_add(to[*axis]).is_some_and(|end| end <= from[*axis]);
                if fits {
                    Ok(declared.clone())
                } else {
                    Err(format!("{declared} is not a slice of {} at {start} along axis {axis}", args[0]))
                }
            }
            Op::Random { .. } if args[0].rank() == 0 => Ok(declared.clone()),
            Op::Random { .. } => Err(format!("random takes a scalar seed, got {}", args[0])),
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
