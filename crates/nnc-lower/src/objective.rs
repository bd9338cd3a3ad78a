//! `minimize` blocks: gradient descent on a formula. The objective is lowered to a scalar
//! graph over one parameter per declared variable, so the same autodiff differentiates it.

use crate::settings::{Settings, expect_number, single_value};
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_ir::{Graph, Op, Origin, Section, Shape, ValueId, assert_valid};
use nnc_syntax::ast::{self, BinOp, ExprKind};

/// A checked `minimize` block.
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

const FUNCTIONS: &[&str] = &["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu"];

pub(crate) fn check_minimize(block: &ast::MinimizeBlock, errors: &mut Vec<Diagnostic>) -> Option<Minimization> {
    let before = errors.len();
    let mut settings = Settings::new(&block.settings, &["lr", "steps"], errors);
    let learning_rate = match settings.take("lr") {
        Some(setting) => positive(setting, settings.errors),
        None => Some(0.1),
    };
    let steps = settings.take("steps").and_then(|s| settings.count(s, 0)).unwrap_or(20);
    if block.params.is_empty() {
        errors.push(
            Diagnostic::error(
                codes::MINIMIZE_STRUCTURE,
                format!("minimize `{}` has no parameters", block.name.name),
                block.name.span,
                "nothing to move",
            )
            .with_help("declare a parameter with its start value: `param x = 5`"),
        );
    }
    let Some(objective) = &block.objective else {
        errors.push(
            Diagnostic::error(
                codes::MINIMIZE_STRUCTURE,
                format!("minimize `{}` has no objective", block.name.name),
                block.name.span,
                "nothing to minimise",
            )
            .with_help("write `objective 0.5 * x^2`"),
        );
        return None;
    };
    let mut graph = Graph::new(format!("{}.objective", block.name.name));
    let origin = Origin { section: Some(Section::Forward), label: "objective".to_string(), span: Some(objective.span) };
    let mut variables = Vec::new();
    for param in &block.params {
        if variables.iter().any(|(name, _)| *name == param.name.name) {
            errors.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!("parameter `{}` is declared twice", param.name.name),
                    param.span,
                    "declared again",
                )
                .with_help("give each parameter one `param NAME = START` line"),
            );
            continue;
        }
        let value = graph.add_param(param.name.name.clone(), Shape::scalar(), origin.clone());
        variables.push((param.name.name.clone(), value));
    }
    let mut lowering = ExprLowering { graph: &mut graph, variables: &variables, origin, errors };
    let value = lowering.lower(objective);
    graph.outputs.push(("value".to_string(), value?));
    if errors.len() != before {
        return None;
    }
    assert_valid(&graph, "lowering");
    Some(Minimization {
        name: block.name.name.clone(),
        params: block.params.iter().map(|p| (p.name.name.clone(), p.init.value as f32)).collect(),
        objective: value?,
        graph,
        formula: nnc_syntax::expr_text(objective),
        learning_rate: learning_rate?,
        steps,
        span: block.span,
    })
}

fn positive(setting: &ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<f32> {
    let value = single_value(setting, errors)?;
    let number = expect_number(value, errors)?;
    let rate = number as f32;
    if rate > 0.0 && rate.is_finite() {
        Some(rate)
    } else {
        errors.push(
            Diagnostic::error(
                codes::VALUE_RANGE,
                format!("learning rate must be positive, got {number}"),
                value.span,
                "not > 0",
            )
            .with_help("try `lr 0.1`"),
        );
        None
    }
}

struct ExprLowering<'a> {
    graph: &'a mut Graph,
    variables: &'a [(String, ValueId)],
    origin: Origin,
    errors: &'a mut Vec<Diagnostic>,
}

impl ExprLowering<'_> {
    fn push(&mut self, op: Op, args: Vec<ValueId>) -> ValueId {
        self.graph.push(op, args, self.origin.clone())
    }

    fn constant(&mut self, value: f32) -> ValueId {
        self.push(Op::Const(value), Vec::new())
    }

    fn lower(&mut self, expr: &ast::Expr) -> Option<ValueId> {
        match &expr.kind {
            ExprKind::Number(n) => Some(self.constant(*n as f32)),
            ExprKind::Var(name) => self.variable(name, expr.span),
            ExprKind::Neg(inner) => {
                let inner = self.lower(inner)?;
                Some(self.push(Op::Neg, vec![inner]))
            }
            ExprKind::Binary(BinOp::Pow, base, exponent) => self.power(base, exponent),
            ExprKind::Binary(op, lhs, rhs) => {
                let (lhs, rhs) = (self.lower(lhs), self.lower(rhs));
                let op = match op {
                    BinOp::Add => Op::Add,
                    BinOp::Sub => Op::Sub,
                    BinOp::Mul => Op::Mul,
                    BinOp::Div | BinOp::Pow => Op::Div,
                };
                Some(self.push(op, vec![lhs?, rhs?]))
            }
            ExprKind::Call(callee, arg) => {
                let arg = self.lower(arg);
                self.call(callee, arg?)
            }
        }
    }

    fn variable(&mut self, name: &str, span: Span) -> Option<ValueId> {
        if let Some((_, value)) = self.variables.iter().find(|(n, _)| n == name) {
            return Some(*value);
        }
        let names: Vec<&str> = self.variables.iter().map(|(n, _)| n.as_str()).collect();
        let diagnostic =
            Diagnostic::error(codes::UNKNOWN_PARAMETER, format!("unknown parameter `{name}`"), span, "not declared");
        self.errors.push(match did_you_mean(name, names.iter().copied()) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(span, close),
            None => diagnostic.with_help(format!("declare it with `param {name} = 0`")),
        });
        None
    }

    /// `a ^ n` for a whole constant `n` as repeated multiplication (exact, defined for
    /// negative `a`); otherwise `exp(n * log(a))`.
    fn power(&mut self, base: &ast::Expr, exponent: &ast::Expr) -> Option<ValueId> {
        let base = self.lower(base)?;
        if let ExprKind::Number(n) = exponent.kind
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
            return Some(result);
        }
        let exponent = self.lower(exponent)?;
        let log = self.push(Op::Log, vec![base]);
        let scaled = self.push(Op::Mul, vec![exponent, log]);
        Some(self.push(Op::Exp, vec![scaled]))
    }

    fn call(&mut self, callee: &ast::Ident, x: ValueId) -> Option<ValueId> {
        let zero = || Op::Const(0.0);
        Some(match callee.name.as_str() {
            "exp" => self.push(Op::Exp, vec![x]),
            "log" => self.push(Op::Log, vec![x]),
            "sqrt" => self.push(Op::Sqrt, vec![x]),
            "tanh" => self.push(Op::Tanh, vec![x]),
            "abs" => self.graph.abs(x, self.origin.clone()),
            "relu" => {
                let zero = self.push(zero(), Vec::new());
                self.push(Op::Max, vec![x, zero])
            }
            "leaky_relu" => {
                let slope = self.constant(0.01);
                let leak = self.push(Op::Mul, vec![slope, x]);
                self.push(Op::Max, vec![x, leak])
            }
            "sigmoid" => {
                let negated = self.push(Op::Neg, vec![x]);
                let exp = self.push(Op::Exp, vec![negated]);
                let one = self.constant(1.0);
                let denominator = self.push(Op::Add, vec![one, exp]);
                self.push(Op::Div, vec![one, denominator])
            }
            other => {
                let diagnostic = Diagnostic::error(
                    codes::UNKNOWN_CHOICE,
                    format!("unknown function `{other}`"),
                    callee.span,
                    "not a function",
                );
                self.errors.push(match did_you_mean(other, FUNCTIONS.iter().copied()) {
                    Some(close) => {
                        diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(callee.span, close)
                    }
                    None => diagnostic.with_help(format!("functions: {}", FUNCTIONS.join(", "))),
                });
                return None;
            }
        })
    }
}
