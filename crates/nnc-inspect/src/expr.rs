//! Expressions in the notation of the course, recovered from graph IR.
//!
//! [`Builder`] turns the instructions behind a value into an [`Expr`], stopping at values
//! that have names (`z1`, `δ2`, `W1`); movement ops vanish (a broadcast bias reads as
//! `b1`), constants that are a multiple of 1/N print as `/N`, and a few compositions are
//! recognised for what they are (`max(z, 0)` is `ReLU(z)`, `sum·(1/n)` is `mean`, the
//! shifted exponentials over their row sum are `softmax`). Printing is plain text with
//! Unicode or LaTeX. With `indexed`, a network whose values are one number per row (linear
//! regression) reads element-wise: `Σᵢ 2(w·xᵢ + b − yᵢ)·xᵢ`.

use nnc_ir::{Graph, Op, ValueId};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A named value, parameter or input.
    Sym(String),
    Num(f32),
    /// The rows of the batch, `N`.
    Rows,
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    /// A product with a scalar (or of scalars): `a·b`.
    Scale(Box<Expr>, Box<Expr>),
    /// An elementwise product of tensors: `a ⊙ b`.
    Hadamard(Box<Expr>, Box<Expr>),
    MatMul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Square(Box<Expr>),
    Transpose(Box<Expr>),
    Call(&'static str, Vec<Expr>),
    Sum(Over, Box<Expr>),
    /// `1[a > b]`.
    Indicator(Box<Expr>, Box<Expr>),
}

/// What a sum runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    All,
    /// Down the rows of the batch (a bias gradient): `Σ_rows`, or `Σᵢ` element-wise.
    Rows,
    /// Along each row (over classes): `Σⱼ`.
    Columns,
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// Builds expressions over one graph.
pub struct Builder<'g> {
    pub graph: &'g Graph,
    /// Values shown by name instead of expanded.
    pub names: HashMap<ValueId, String>,
    /// Rows of the batch: constants k/N print as `k/N`.
    pub rows: usize,
}

impl Builder<'_> {
    /// The expression that computes `value`, with named operands left as names.
    pub fn define(&self, value: ValueId) -> Expr {
        simplify(self.build(value, true))
    }

    fn operand(&self, value: ValueId) -> Expr {
        self.build(value, false)
    }

    fn build(&self, value: ValueId, top: bool) -> Expr {
        if !top && let Some(name) = self.names.get(&value) {
            return Expr::Sym(name.clone());
        }
        let inst = self.graph.inst(value);
        let arg = |i: usize| inst.args[i];
        match &inst.op {
            Op::Input(slot) => Expr::Sym(self.graph.inputs[*slot as usize].name.clone()),
            Op::Param(slot) => Expr::Sym(self.graph.params[*slot as usize].name.clone()),
            Op::Const(c) => Expr::Num(*c),
            Op::Broadcast | Op::Reshape | Op::StopGradient => self.build(arg(0), top),
            Op::Transpose => Expr::Transpose(boxed(self.operand(arg(0)))),
            Op::MatMul => Expr::MatMul(boxed(self.operand(arg(0))), boxed(self.operand(arg(1)))),
            Op::Neg => Expr::Neg(boxed(self.operand(arg(0)))),
            Op::Exp => self.recognise_exp(value).unwrap_or_else(|| Expr::Call("exp", vec![self.operand(arg(0))])),
            Op::Log => Expr::Call("log", vec![self.operand(arg(0))]),
            Op::Log1p => Expr::Call("log1p", vec![self.operand(arg(0))]),
            Op::Tanh => Expr::Call("tanh", vec![self.operand(arg(0))]),
            Op::Sqrt => Expr::Call("√", vec![self.operand(arg(0))]),
            Op::Add if arg(0) == arg(1) => Expr::Scale(boxed(Expr::Num(2.0)), boxed(self.operand(arg(0)))),
            Op::Add => self
                .recognise_add(value)
                .unwrap_or_else(|| Expr::Add(boxed(self.operand(arg(0))), boxed(self.operand(arg(1))))),
            Op::Sub => match self.sign_of(value) {
                Some(x) => Expr::Call("sign", vec![self.operand(x)]),
                None => Expr::Sub(boxed(self.operand(arg(0))), boxed(self.operand(arg(1)))),
            },
            Op::Mul => self.product(value),
            Op::Div => self
                .recognise_div(value)
                .unwrap_or_else(|| Expr::Div(boxed(self.operand(arg(0))), boxed(self.operand(arg(1))))),
            Op::Max => self.maximum(value),
            Op::CmpGt => Expr::Indicator(boxed(self.operand(arg(0))), boxed(self.operand(arg(1)))),
            Op::ReduceSum { axes } => {
                let rank = self.graph.shape(arg(0)).rank();
                let over = match axes.as_slice() {
                    [0] => Over::Rows,
                    [1] if rank == 2 => Over::Columns,
                    _ => Over::All,
                };
                Expr::Sum(over, boxed(self.operand(arg(0))))
            }
            Op::ReduceMax { .. } => Expr::Call("max_row", vec![self.operand(arg(0))]),
            Op::Window(_) => Expr::Call("windows", vec![self.operand(arg(0))]),
            Op::WindowSum(_) => Expr::Call("window_sum", vec![self.operand(arg(0))]),
            Op::Concat { .. } => Expr::Call("concat", vec![self.operand(arg(0)), self.operand(arg(1))]),
            Op::Slice { .. } => Expr::Call("slice", vec![self.operand(arg(0))]),
            Op::Random { .. } => Expr::Call("uniform", vec![self.operand(arg(0))]),
        }
    }

    /// The scalar every element of `value` equals, for a constant or a broadcast of one.
    fn splat(&self, value: ValueId) -> Option<f32> {
        let inst = self.graph.inst(value);
        match inst.op {
            Op::Const(c) => Some(c),
            Op::Broadcast | Op::Reshape => self.splat(inst.args[0]),
            _ => None,
        }
    }

    /// Through broadcasts, reshapes and stop_gradient.
    fn source(&self, value: ValueId) -> ValueId {
        let inst = self.graph.inst(value);
        match inst.op {
            Op::Broadcast | Op::Reshape | Op::StopGradient => self.source(inst.args[0]),
            _ => value,
        }
    }

    fn is_scalar(&self, value: ValueId) -> bool {
        self.graph.shape(self.source(value)).numel() == 1
    }

    /// `x` when `value` is `[x > 0] − [0 > x]`, `sign(x)`.
    fn sign_of(&self, value: ValueId) -> Option<ValueId> {
        let inst = self.graph.inst(value);
        let (positive, negative) = (self.graph.inst(inst.args[0]), self.graph.inst(inst.args[1]));
        let compares = positive.op == Op::CmpGt && negative.op == Op::CmpGt;
        let x = positive.args.first().copied()?;
        let same = compares && negative.args.get(1) == Some(&x);
        (same && self.splat(positive.args[1]) == Some(0.0) && self.splat(negative.args[0]) == Some(0.0)).then_some(x)
    }

    fn product(&self, value: ValueId) -> Expr {
        let inst = self.graph.inst(value);
        let (a, b) = (inst.args[0], inst.args[1]);
        if a == b {
            return Expr::Square(boxed(self.operand(a)));
        }
        // |x| = x · sign(x).
        if self.graph.inst(b).op == Op::Sub && self.sign_of(b) == Some(a) {
            return Expr::Call("|·|", vec![self.operand(a)]);
        }
        // mean: a sum of every element times 1/count.
        for (sum, factor) in [(a, b), (b, a)] {
            let summed = self.graph.inst(self.source(sum));
            if let (Op::ReduceSum { .. }, Some(c)) = (&summed.op, self.splat(factor)) {
                let count = self.graph.shape(summed.args[0]).numel() as f32;
                if self.graph.shape(self.source(sum)).numel() == 1 && (c * count - 1.0).abs() < 1e-6 {
                    return Expr::Call("mean", vec![self.operand(summed.args[0])]);
                }
            }
        }
        match (self.splat(a), self.splat(b)) {
            (_, Some(c)) => Expr::Scale(boxed(Expr::Num(c)), boxed(self.operand(a))),
            (Some(c), _) => Expr::Scale(boxed(Expr::Num(c)), boxed(self.operand(b))),
            _ if self.is_scalar(a) || self.is_scalar(b) => {
                // The learning rate (a true scalar) goes first: η·∂L/∂b, not ∂L/∂b·η.
                let rank0 = |v: ValueId| self.graph.shape(self.source(v)).rank() == 0;
                let leaf = |v: ValueId| matches!(self.graph.inst(self.source(v)).op, Op::Input(_) | Op::Const(_));
                let a_first = if rank0(a) && rank0(b) { leaf(a) || !leaf(b) } else { rank0(a) || !self.is_scalar(b) };
                let (scalar, tensor) = if a_first { (a, b) } else { (b, a) };
                Expr::Scale(boxed(self.operand(scalar)), boxed(self.operand(tensor)))
            }
            _ => self
                .softmax_scaled(value)
                .or_else(|| self.sigmoid_scaled(value))
                .unwrap_or_else(|| Expr::Hadamard(boxed(self.operand(a)), boxed(self.operand(b)))),
        }
    }

    fn maximum(&self, value: ValueId) -> Expr {
        let inst = self.graph.inst(value);
        let (a, b) = (inst.args[0], inst.args[1]);
        if self.splat(b) == Some(0.0) {
            return Expr::Call("ReLU", vec![self.operand(a)]);
        }
        let other = self.graph.inst(b);
        if other.op == Op::Mul && other.args.contains(&a) {
            return Expr::Call("LeakyReLU", vec![self.operand(a)]);
        }
        Expr::Call("max", vec![self.operand(a), self.operand(b)])
    }

    /// `z - max_row(z)` inside `exp`: the shifted logits of a softmax; returns `z`.
    fn shifted_logits(&self, value: ValueId) -> Option<ValueId> {
        let inst = self.graph.inst(value);
        if inst.op != Op::Sub {
            return None;
        }
        let max = self.graph.inst(self.source(inst.args[1]));
        (matches!(max.op, Op::ReduceMax { .. }) && max.args[0] == inst.args[0]).then_some(inst.args[0])
    }

    /// `exp(z - max_row z)`, the numerator of softmax, as `e^z` (scaled by a row constant).
    fn recognise_exp(&self, value: ValueId) -> Option<Expr> {
        let z = self.shifted_logits(self.graph.inst(value).args[0])?;
        Some(Expr::Call("exp", vec![self.operand(z)]))
    }

    /// `exp(s) / Σⱼ exp(s)` with `s = z - max_row(z)`: `softmax(z)`; `1/(1 + exp(−z))`:
    /// `σ(z)`.
    fn recognise_div(&self, value: ValueId) -> Option<Expr> {
        let inst = self.graph.inst(value);
        let (top, bottom) = (inst.args[0], self.source(inst.args[1]));
        if let Some(z) = self.softmax_parts(top, bottom) {
            return Some(Expr::Call("softmax", vec![self.operand(z)]));
        }
        let sum = self.graph.inst(bottom);
        if self.splat(top) == Some(1.0) && sum.op == Op::Add {
            for (one, exp) in [(sum.args[0], sum.args[1]), (sum.args[1], sum.args[0])] {
                let exp = self.graph.inst(exp);
                if self.splat(one) == Some(1.0) && exp.op == Op::Exp {
                    let negated = self.graph.inst(exp.args[0]);
                    if negated.op == Op::Neg {
                        return Some(Expr::Call("σ", vec![self.operand(negated.args[0])]));
                    }
                }
            }
        }
        None
    }

    /// `z` when `value` is `max(z, 0)` (through stop_gradient).
    fn relu_of(&self, value: ValueId) -> Option<ValueId> {
        let inst = self.graph.inst(self.source(value));
        (inst.op == Op::Max && self.splat(inst.args[1]) == Some(0.0)).then_some(inst.args[0])
    }

    /// `z` when `value` is `z − m` with `m = max(z, 0)`.
    fn shifted_by_relu(&self, value: ValueId) -> Option<ValueId> {
        let inst = self.graph.inst(value);
        if inst.op != Op::Sub {
            return None;
        }
        let z = self.relu_of(inst.args[1])?;
        (inst.args[0] == z).then_some(z)
    }

    /// `exp(z − m − m)` with `m = max(z, 0)`: the stable `e^(−|z|)`; returns `z`.
    fn exp_minus_abs(&self, value: ValueId) -> Option<ValueId> {
        let exp = self.graph.inst(self.source(value));
        if exp.op != Op::Exp {
            return None;
        }
        let twice = self.graph.inst(exp.args[0]);
        if twice.op != Op::Sub {
            return None;
        }
        let z = self.shifted_by_relu(twice.args[0])?;
        (self.relu_of(twice.args[1]) == Some(z)).then_some(z)
    }

    /// `1 + exp(z − m − m)`: `1 + e^(−|z|)`; returns `z`.
    fn one_plus_exp(&self, value: ValueId) -> Option<ValueId> {
        let inst = self.graph.inst(self.source(value));
        if inst.op != Op::Add {
            return None;
        }
        let [a, b] = [inst.args[0], inst.args[1]];
        [(a, b), (b, a)]
            .into_iter()
            .find_map(|(one, exp)| if self.splat(one) == Some(1.0) { self.exp_minus_abs(exp) } else { None })
    }

    /// `exp(z − m) ⊙ (c / (1 + exp(z − m − m)))`: `c·σ(z)` (the gradient of softplus).
    fn sigmoid_scaled(&self, value: ValueId) -> Option<Expr> {
        let inst = self.graph.inst(value);
        for (exp, scale) in [(inst.args[0], inst.args[1]), (inst.args[1], inst.args[0])] {
            let division = self.graph.inst(self.source(scale));
            let numerator = self.graph.inst(exp);
            if division.op != Op::Div || numerator.op != Op::Exp {
                continue;
            }
            if let Some(z) = self.one_plus_exp(division.args[1])
                && self.shifted_by_relu(numerator.args[0]) == Some(z)
            {
                let sigmoid = Expr::Call("σ", vec![self.operand(z)]);
                return Some(match self.splat(division.args[0]) {
                    Some(1.0) => sigmoid,
                    _ => Expr::Scale(boxed(self.operand(division.args[0])), boxed(sigmoid)),
                });
            }
        }
        None
    }

    /// Whether `exp_value` is `exp(z - max_row z)` and `total` its row sum; returns `z`.
    fn softmax_parts(&self, exp_value: ValueId, total: ValueId) -> Option<ValueId> {
        let exp = self.graph.inst(exp_value);
        let sum = self.graph.inst(total);
        if exp.op != Op::Exp || !matches!(sum.op, Op::ReduceSum { .. }) || sum.args[0] != exp_value {
            return None;
        }
        self.shifted_logits(exp.args[0])
    }

    /// `exp(s) ⊙ (c / Σⱼ exp(s))`: `c·softmax(z)` (the gradient of logsumexp).
    fn softmax_scaled(&self, value: ValueId) -> Option<Expr> {
        let inst = self.graph.inst(value);
        for (exp, scale) in [(inst.args[0], inst.args[1]), (inst.args[1], inst.args[0])] {
            let division = self.graph.inst(self.source(scale));
            if division.op != Op::Div {
                continue;
            }
            if let Some(z) = self.softmax_parts(exp, self.source(division.args[1])) {
                let softmax = Expr::Call("softmax", vec![self.operand(z)]);
                return Some(match self.splat(division.args[0]) {
                    Some(1.0) => softmax,
                    _ => Expr::Scale(boxed(self.operand(division.args[0])), boxed(softmax)),
                });
            }
        }
        None
    }

    /// `max_row(z) + log Σⱼ exp(z - max_row z)`: `logsumexp(z)`; `(m − t) +
    /// log1p(exp(z − m − m))` with `m = max(z, 0)`: `softplus(z) − t`.
    fn recognise_add(&self, value: ValueId) -> Option<Expr> {
        let inst = self.graph.inst(value);
        for (linear, log) in [(inst.args[0], inst.args[1]), (inst.args[1], inst.args[0])] {
            let (linear, log) = (self.graph.inst(linear), self.graph.inst(log));
            if log.op == Op::Log1p
                && linear.op == Op::Sub
                && let Some(z) = self.exp_minus_abs(log.args[0])
                && self.relu_of(linear.args[0]) == Some(z)
            {
                let softplus = Expr::Call("softplus", vec![self.operand(z)]);
                return Some(Expr::Sub(boxed(softplus), boxed(self.operand(linear.args[1]))));
            }
        }
        for (max, log) in [(inst.args[0], inst.args[1]), (inst.args[1], inst.args[0])] {
            let (max, log) = (self.graph.inst(self.source(max)), self.graph.inst(log));
            if !matches!(max.op, Op::ReduceMax { .. }) || log.op != Op::Log {
                continue;
            }
            let total = self.source(log.args[0]);
            let exp = self.graph.inst(total).args.first().copied()?;
            if self.softmax_parts(exp, total) == Some(max.args[0]) {
                return Some(Expr::Call("logsumexp", vec![self.operand(max.args[0])]));
            }
        }
        None
    }
}

/// Rewrites toward the textbook form: constants k/N as `k·x/N`, `a·(−c) + b·c` as
/// `c·(b − a)`, double negations away.
pub fn simplify(e: Expr) -> Expr {
    let e = map_children(e, &simplify);
    match e {
        Expr::Neg(inner) => match *inner {
            Expr::Neg(x) => *x,
            Expr::Num(c) => Expr::Num(-c),
            // −(a ⊙ (−b)) = a ⊙ b
            Expr::Hadamard(a, b) => match *b {
                Expr::Neg(b) => Expr::Hadamard(a, b),
                b => match *a {
                    Expr::Neg(a) => Expr::Hadamard(a, boxed(b)),
                    a => Expr::Neg(boxed(Expr::Hadamard(boxed(a), boxed(b)))),
                },
            },
            other => Expr::Neg(boxed(other)),
        },
        Expr::Scale(c, x) if *c == Expr::Num(1.0) => *x,
        Expr::Scale(c, x) if *c == Expr::Num(-1.0) => Expr::Neg(x),
        // 2·(0.5·x) = x
        Expr::Scale(c, x) => match (*c, *x) {
            (Expr::Num(a), Expr::Scale(b, x)) if matches!(*b, Expr::Num(_)) => {
                let Expr::Num(b) = *b else { unreachable!() };
                simplify(Expr::Scale(boxed(Expr::Num(a * b)), x))
            }
            (c, x) => Expr::Scale(boxed(c), boxed(x)),
        },
        Expr::Add(a, b) => match (*a, *b) {
            (Expr::Scale(c1, x), Expr::Scale(c2, y)) if negated(&c1, &c2) => Expr::Scale(c2, boxed(Expr::Sub(y, x))),
            (Expr::Scale(c1, x), Expr::Scale(c2, y)) if negated(&c2, &c1) => Expr::Scale(c1, boxed(Expr::Sub(x, y))),
            (a, Expr::Neg(b)) => Expr::Sub(boxed(a), b),
            (a, b) => Expr::Add(boxed(a), boxed(b)),
        },
        other => other,
    }
}

fn negated(a: &Expr, b: &Expr) -> bool {
    matches!((a, b), (Expr::Num(x), Expr::Num(y)) if *x == -*y && *x != 0.0)
}

fn map_children(e: Expr, f: &dyn Fn(Expr) -> Expr) -> Expr {
    let b = |x: Box<Expr>| boxed(f(*x));
    match e {
        Expr::Neg(x) => Expr::Neg(b(x)),
        Expr::Add(x, y) => Expr::Add(b(x), b(y)),
        Expr::Sub(x, y) => Expr::Sub(b(x), b(y)),
        Expr::Scale(x, y) => Expr::Scale(b(x), b(y)),
        Expr::Hadamard(x, y) => Expr::Hadamard(b(x), b(y)),
        Expr::MatMul(x, y) => Expr::MatMul(b(x), b(y)),
        Expr::Div(x, y) => Expr::Div(b(x), b(y)),
        Expr::Square(x) => Expr::Square(b(x)),
        Expr::Transpose(x) => Expr::Transpose(b(x)),
        Expr::Call(name, args) => Expr::Call(name, args.into_iter().map(f).collect()),
        Expr::Sum(over, x) => Expr::Sum(over, b(x)),
        Expr::Indicator(x, y) => Expr::Indicator(b(x), b(y)),
        leaf @ (Expr::Sym(_) | Expr::Num(_) | Expr::Rows) => leaf,
    }
}

/// Constants that are k/N print as `k·x/N` (N the batch rows, k a small integer), and
/// k/(wN) as `k·x/(wN)` for the `widths` of the model's outputs (a mean over every output
/// of every row).
pub fn per_row(e: Expr, rows: usize, widths: &[usize]) -> Expr {
    let rows_expr =
        |w: usize| if w == 1 { Expr::Rows } else { Expr::Scale(boxed(Expr::Num(w as f32)), boxed(Expr::Rows)) };
    let per_row = |e: Expr, rows: usize| per_row(e, rows, widths);
    let e = match e {
        Expr::Scale(c, x) => match *c {
            Expr::Num(c) if rows > 1 => match std::iter::once(1)
                .chain(widths.iter().copied())
                .find_map(|w| multiple_of_inverse(c, rows * w).map(|k| (k, w)))
            {
                Some((k, w)) if w > 1 => {
                    let scaled = if k == 1 {
                        per_row(*x, rows)
                    } else {
                        Expr::Scale(boxed(Expr::Num(k as f32)), boxed(per_row(*x, rows)))
                    };
                    Expr::Div(boxed(scaled), boxed(rows_expr(w)))
                }
                found => match found.map(|(k, _)| k) {
                    Some(1) => Expr::Div(boxed(per_row(*x, rows)), boxed(Expr::Rows)),
                    Some(-1) => Expr::Neg(boxed(Expr::Div(boxed(per_row(*x, rows)), boxed(Expr::Rows)))),
                    Some(k) if k < 0 => Expr::Neg(boxed(Expr::Div(
                        boxed(Expr::Scale(boxed(Expr::Num(-k as f32)), boxed(per_row(*x, rows)))),
                        boxed(Expr::Rows),
                    ))),
                    Some(k) => Expr::Div(
                        boxed(Expr::Scale(boxed(Expr::Num(k as f32)), boxed(per_row(*x, rows)))),
                        boxed(Expr::Rows),
                    ),
                    None => Expr::Scale(boxed(Expr::Num(c)), boxed(per_row(*x, rows))),
                },
            },
            c => Expr::Scale(boxed(per_row(c, rows)), boxed(per_row(*x, rows))),
        },
        other => map_children(other, &|child| per_row(child, rows)),
    };
    hoist_rows(e)
}

/// `2·(x/N)` reads better as `2x/N`; `-(a/N) + (b/N)` as `(b − a)/N`.
fn hoist_rows(e: Expr) -> Expr {
    match e {
        Expr::Scale(c, x) => match *x {
            Expr::Div(inner, n) if *n == Expr::Rows => Expr::Div(boxed(Expr::Scale(c, inner)), n),
            x => Expr::Scale(c, boxed(x)),
        },
        Expr::Add(a, b) => match (*a, *b) {
            (Expr::Neg(a), Expr::Div(b, n)) if *n == Expr::Rows => match *a {
                Expr::Div(a, m) if *m == Expr::Rows => Expr::Div(boxed(Expr::Sub(b, a)), n),
                a => Expr::Add(boxed(Expr::Neg(boxed(a))), boxed(Expr::Div(b, n))),
            },
            (Expr::Div(a, n), Expr::Div(b, m)) if *n == Expr::Rows && *m == Expr::Rows => {
                Expr::Div(boxed(Expr::Add(a, b)), n)
            }
            (a, b) => Expr::Add(boxed(a), boxed(b)),
        },
        other => other,
    }
}

/// `k` when `c == k / rows` for a small integer `k`.
fn multiple_of_inverse(c: f32, rows: usize) -> Option<i32> {
    let k = c * rows as f32;
    let rounded = k.round();
    (c.abs() < 1.0 && rounded != 0.0 && rounded.abs() <= 8.0 && (k - rounded).abs() < 1e-4 * rounded.abs().max(1.0))
        .then_some(rounded as i32)
}

/// Precedence levels for parenthesising.
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const ATOM: u8 = 4;

/// How to print: Unicode text or LaTeX, matrices or elements of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Text,
    Latex,
}

pub fn print(e: &Expr, style: Style) -> String {
    Printer { style }.expr(e, 0)
}

struct Printer {
    style: Style,
}

impl Printer {
    fn latex(&self) -> bool {
        self.style == Style::Latex
    }

    fn expr(&self, e: &Expr, context: u8) -> String {
        let (text, level) = self.bare(e);
        if level < context { format!("({text})") } else { text }
    }

    fn bare(&self, e: &Expr) -> (String, u8) {
        let l = self.latex();
        match e {
            Expr::Sym(name) => (if l { latex_name(name) } else { name.clone() }, ATOM),
            Expr::Num(c) => (number(*c), if *c < 0.0 { SUM } else { ATOM }),
            Expr::Rows => ("N".to_string(), ATOM),
            Expr::Neg(x) => (format!("{}{}", if l { "-" } else { "−" }, self.expr(x, PRODUCT + 1)), SUM),
            Expr::Add(a, b) => (format!("{} + {}", self.expr(a, SUM), self.expr(b, SUM)), SUM),
            Expr::Sub(a, b) => {
                let minus = if l { "-" } else { "−" };
                (format!("{} {minus} {}", self.expr(a, SUM), self.expr(b, SUM + 1)), SUM)
            }
            Expr::Scale(c, x) if **x == Expr::Rows => (format!("{}N", self.expr(c, ATOM)), PRODUCT),
            Expr::Scale(c, x) => {
                let dot = if l { " \\cdot " } else { "·" };
                match **c {
                    // 2(ŷ − y) rather than 2·(ŷ − y)
                    Expr::Num(_) if self.bare(x).1 < PRODUCT => {
                        (format!("{}{}", self.expr(c, ATOM), self.expr(x, ATOM)), PRODUCT)
                    }
                    _ => (format!("{}{dot}{}", self.expr(c, PRODUCT), self.expr(x, PRODUCT)), PRODUCT),
                }
            }
            // (δ2·W2ᵀ) ⊙ 1[h1 > 0]: products inside an elementwise product get parentheses.
            Expr::Hadamard(a, b) => {
                let op = if l { " \\odot " } else { " ⊙ " };
                (format!("{}{op}{}", self.expr(a, PRODUCT + 1), self.expr(b, PRODUCT + 1)), PRODUCT)
            }
            Expr::MatMul(a, b) => {
                let dot = if l { " \\cdot " } else { "·" };
                (format!("{}{dot}{}", self.expr(a, PRODUCT), self.expr(b, PRODUCT + 1)), PRODUCT)
            }
            // (1/N) Σᵢ ..., as the course writes a mean.
            Expr::Div(a, b) if matches!(**a, Expr::Sum(..)) && **b == Expr::Rows => {
                let one_over = if l { "\\frac{1}{N} " } else { "(1/N) " };
                (format!("{one_over}{}", self.expr(a, SUM)), PRODUCT)
            }
            Expr::Div(a, b) if l => (format!("\\frac{{{}}}{{{}}}", self.expr(a, 0), self.expr(b, 0)), ATOM),
            Expr::Div(a, b) => (format!("{}/{}", self.expr(a, PRODUCT), self.expr(b, ATOM)), PRODUCT),
            // (∂L/∂W1)²: a name with a fraction bar gets parentheses before a power.
            Expr::Square(x) => {
                let base = match &**x {
                    Expr::Sym(name) if name.contains('/') => format!("({})", self.expr(x, 0)),
                    _ => self.expr(x, ATOM),
                };
                (format!("{base}{}", if l { "^2" } else { "²" }), ATOM)
            }
            Expr::Transpose(x) => (format!("{}{}", self.expr(x, ATOM), if l { "^\\top" } else { "ᵀ" }), ATOM),
            Expr::Call("|·|", args) => {
                let inner = self.expr(&args[0], 0);
                (if l { format!("\\lvert {inner} \\rvert") } else { format!("|{inner}|") }, ATOM)
            }
            Expr::Call("√", args) => {
                let inner = self.expr(&args[0], 0);
                (if l { format!("\\sqrt{{{inner}}}") } else { format!("√({inner})") }, ATOM)
            }
            Expr::Call(name, args) => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a, 0)).collect();
                let name = if l { latex_function(name) } else { name.to_string() };
                let (open, close) = if l { ("\\left(", "\\right)") } else { ("(", ")") };
                (format!("{name}{open}{}{close}", args.join(", ")), ATOM)
            }
            Expr::Sum(over, x) => {
                let sigma = match (over, l) {
                    (Over::All, false) => "Σ ",
                    (Over::Rows, false) => "Σ_rows ",
                    (Over::Columns, false) => "Σⱼ ",
                    (Over::All, true) => "\\sum ",
                    (Over::Rows, true) => "\\sum_{\\text{rows}} ",
                    (Over::Columns, true) => "\\sum_j ",
                };
                (format!("{sigma}{}", self.expr(x, PRODUCT)), SUM)
            }
            Expr::Indicator(a, b) => {
                let (a, b) = (self.expr(a, 0), self.expr(b, 0));
                (if l { format!("\\mathbb{{1}}[{a} > {b}]") } else { format!("1[{a} > {b}]") }, ATOM)
            }
        }
    }
}

/// A constant as a person writes it: integers plainly, other values with at most six
/// significant digits (1 − 0.9 folded in f32 reads 0.1, not 0.100000024), tiny and huge
/// ones in scientific notation.
pub fn number(c: f32) -> String {
    if c == c.trunc() && c.abs() < 1e6 {
        return format!("{}", c as i64);
    }
    let value = f64::from(c);
    let digits = (1..=6)
        .find(|&d| {
            let shown: f64 = format!("{value:.*e}", d - 1).parse().unwrap_or(f64::NAN);
            (shown - value).abs() <= 1e-6 * value.abs()
        })
        .unwrap_or(7);
    let scientific = format!("{value:.*e}", digits - 1);
    let exponent: i32 = scientific.split_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    if (-4..6).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        format!("{value:.decimals$}")
    } else {
        scientific
    }
}

fn latex_function(name: &str) -> String {
    match name {
        "exp" | "log" | "tanh" | "max" => format!("\\{name}"),
        "σ" => "\\sigma".to_string(),
        other => format!("\\operatorname{{{other}}}"),
    }
}

/// `W1` → `W_{1}`, `∂L/∂W1` → `\frac{\partial L}{\partial W_{1}}`, Greek and hats to LaTeX.
pub fn latex_name(name: &str) -> String {
    if let Some((top, bottom)) = name.split_once('/')
        && top.starts_with('∂')
        && bottom.starts_with('∂')
    {
        return format!("\\frac{{\\partial {}}}{{\\partial {}}}", latex_name(&top[3..]), latex_name(&bottom[3..]));
    }
    let mut out = String::new();
    let mut digits = String::new();
    for ch in name.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        if !digits.is_empty() {
            out.push_str(&format!("_{{{digits}}}"));
            digits.clear();
        }
        match ch {
            'δ' => out.push_str("\\delta "),
            'η' => out.push_str("\\eta "),
            'ŷ' => out.push_str("\\hat{y}"),
            'ᵢ' => out.push_str("_i"),
            '′' => out.push('\''),
            other => out.push(other),
        }
    }
    if !digits.is_empty() {
        out.push_str(&format!("_{{{digits}}}"));
    }
    out.replace("\\delta _", "\\delta_").trim_end().to_string()
}
