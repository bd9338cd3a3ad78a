//! `minimize` blocks: the checked objective lowered to a scalar graph over one parameter
//! per declared variable, so the same autodiff differentiates it.

use nnc_check::{Formula, Function, Minimize, Operator};
use nnc_diagnostics::Span;
use nnc_ir::{Graph, Op, Origin, Section, Shape, ValueId, assert_valid};

/// A `minimize` block with its objective as a graph.
#[derive(Clone, Debug)]
pub struct Minimization {
    pub name: String,
    /// Variables and their start values, in declaration order (the graph's params).
    pub params: Vec<(String, f32)>,
    /// The objective as a graph with one scalar output `value`.
    pub graph: Graph,
    pub objective: ValueId,
    /// The objective as written, fully parenthesised.
    pub formula: String,
    pub learning_rate: f32,
    pub steps: u64,
    pub span: Span,
}

/// Lowers a checked block's objective.
pub fn lower_minimization(block: &Minimize) -> Minimization {
    let mut graph = Graph::new(format!("{}.objective", block.name));
    let origin =
        Origin { section: Some(Section::Forward), label: "objective".into(), span: Some(block.objective_span) };
    let params: Vec<ValueId> =
        block.params.iter().map(|(name, _)| graph.add_param(name.clone(), Shape::scalar(), origin.clone())).collect();
    let objective = Lowering { graph: &mut graph, params: &params, origin }.lower(&block.objective);
    graph.outputs.push(("value".to_string(), objective));
    assert_valid(&graph, "lowering");
    Minimization {
        name: block.name.clone(),
        params: block.params.clone(),
        graph,
        objective,
        formula: block.formula.clone(),
        learning_rate: block.learning_rate,
        steps: block.steps,
        span: block.span,
    }
}

struct Lowering<'a> {
    graph: &'a mut Graph,
    params: &'a [ValueId],
    origin: Origin,
}

impl Lowering<'_> {
    fn push(&mut self, op: Op, args: Vec<ValueId>) -> ValueId {
        self.graph.push(op, args, self.origin.clone())
    }

    fn constant(&mut self, value: f32) -> ValueId {
        self.push(Op::Const(value), Vec::new())
    }

    fn lower(&mut self, formula: &Formula) -> ValueId {
        match formula {
            Formula::Number(n) => self.constant(*n),
            Formula::Param(index) => self.params[*index],
            Formula::Neg(inner) => {
                let inner = self.lower(inner);
                self.push(Op::Neg, vec![inner])
            }
            Formula::Binary(Operator::Pow, base, exponent) => self.power(base, exponent),
            Formula::Binary(op, lhs, rhs) => {
                let (lhs, rhs) = (self.lower(lhs), self.lower(rhs));
                let op = match op {
                    Operator::Add => Op::Add,
                    Operator::Sub => Op::Sub,
                    Operator::Mul => Op::Mul,
                    Operator::Div | Operator::Pow => Op::Div,
                };
                self.push(op, vec![lhs, rhs])
            }
            Formula::Call(function, arg) => {
                let arg = self.lower(arg);
                self.call(*function, arg)
            }
        }
    }

    /// `a ^ n` for a whole constant `n` as repeated multiplication (exact, defined for
    /// negative `a`); otherwise `exp(n * log(a))`.
    fn power(&mut self, base: &Formula, exponent: &Formula) -> ValueId {
        let base = self.lower(base);
        if let Formula::Number(n) = *exponent
            && n.fract() == 0.0
            && n.abs() <= 64.0
        {
            let mut result = if n == 0.0 { self.constant(1.0) } else { base };
            for _ in 1..n.abs() as u32 {
                result = self.push(Op::Mul, vec![result, base]);
            }
            if n < 0.0 {
                let one = self.constant(1.0);
                result = self.push(Op::Div, vec![one, result]);
            }
            return result;
        }
        let exponent = self.lower(exponent);
        let log = self.push(Op::Log, vec![base]);
        let scaled = self.push(Op::Mul, vec![exponent, log]);
        self.push(Op::Exp, vec![scaled])
    }

    fn call(&mut self, function: Function, x: ValueId) -> ValueId {
        match function {
            Function::Exp => self.push(Op::Exp, vec![x]),
            Function::Log => self.push(Op::Log, vec![x]),
            Function::Sqrt => self.push(Op::Sqrt, vec![x]),
            Function::Tanh => self.push(Op::Tanh, vec![x]),
            Function::Abs => self.graph.abs(x, self.origin.clone()),
            Function::Relu => {
                let zero = self.constant(0.0);
                self.push(Op::Max, vec![x, zero])
            }
            Function::LeakyRelu => {
                let slope = self.constant(0.01);
                let leak = self.push(Op::Mul, vec![slope, x]);
                self.push(Op::Max, vec![x, leak])
            }
            Function::Sigmoid => {
                let negated = self.push(Op::Neg, vec![x]);
                let exp = self.push(Op::Exp, vec![negated]);
                let one = self.constant(1.0);
                let denominator = self.push(Op::Add, vec![one, exp]);
                self.push(Op::Div, vec![one, denominator])
            }
        }
    }
}
