//! `minimize` blocks: the settings, the parameters, and the objective with every name
//! resolved (a [`Formula`]), so that lowering it to a graph cannot fail.

use crate::settings::{Settings, expect_number, single_value};
use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_syntax::ast::{self, BinOp, ExprKind};

/// A checked `minimize` block.
#[derive(Clone, Debug)]
pub struct Minimize {
    pub name: String,
    /// Variables and their start values, in declaration order.
    pub params: Vec<(String, f32)>,
    pub objective: Formula,
    /// Where the objective is written.
    pub objective_span: Span,
    /// The objective as written, fully parenthesised.
    pub formula: String,
    pub learning_rate: f32,
    pub steps: u64,
    pub span: Span,
}

/// An objective over the parameters, names resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    Number(f32),
    /// The parameter of this index in [`Minimize::params`].
    Param(usize),
    Neg(Box<Formula>),
    Binary(Operator, Box<Formula>, Box<Formula>),
    Call(Function, Box<Formula>),
}

/// `+ - * / ^`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// The functions an objective may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Exp,
    Log,
    Sqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    LeakyRelu,
}

const FUNCTIONS: &[(&str, Function)] = &[
    ("exp", Function::Exp),
    ("log", Function::Log),
    ("sqrt", Function::Sqrt),
    ("abs", Function::Abs),
    ("tanh", Function::Tanh),
    ("sigmoid", Function::Sigmoid),
    ("relu", Function::Relu),
    ("leaky_relu", Function::LeakyRelu),
];

pub(crate) fn check_minimize(block: &ast::MinimizeBlock, errors: &mut Vec<Diagnostic>) -> Option<Minimize> {
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
    let mut names: Vec<&str> = Vec::new();
    for param in &block.params {
        if names.contains(&param.name.name.as_str()) {
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
        names.push(&param.name.name);
    }
    let formula = resolve(objective, &names, errors);
    (errors.len() == before).then_some(Minimize {
        name: block.name.name.clone(),
        params: block.params.iter().map(|p| (p.name.name.clone(), p.init.value as f32)).collect(),
        objective: formula?,
        objective_span: objective.span,
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

/// `expr` with its parameters and functions resolved, reporting each unknown one.
fn resolve(expr: &ast::Expr, params: &[&str], errors: &mut Vec<Diagnostic>) -> Option<Formula> {
    let mut go = |inner: &ast::Expr| resolve(inner, params, errors).map(Box::new);
    Some(match &expr.kind {
        ExprKind::Number(n) => Formula::Number(*n as f32),
        ExprKind::Var(name) => match params.iter().position(|p| p == name) {
            Some(index) => Formula::Param(index),
            None => {
                let diagnostic = Diagnostic::error(
                    codes::UNKNOWN_PARAMETER,
                    format!("unknown parameter `{name}`"),
                    expr.span,
                    "not declared",
                );
                errors.push(match did_you_mean(name, params.iter().copied()) {
                    Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(expr.span, close),
                    None => diagnostic.with_help(format!("declare it with `param {name} = 0`")),
                });
                return None;
            }
        },
        ExprKind::Neg(inner) => Formula::Neg(go(inner)?),
        ExprKind::Binary(op, lhs, rhs) => {
            let (lhs, rhs) = (go(lhs), go(rhs));
            let operator = match op {
                BinOp::Add => Operator::Add,
                BinOp::Sub => Operator::Sub,
                BinOp::Mul => Operator::Mul,
                BinOp::Div => Operator::Div,
                BinOp::Pow => Operator::Pow,
            };
            Formula::Binary(operator, lhs?, rhs?)
        }
        ExprKind::Call(callee, arg) => {
            let arg = go(arg);
            let function = FUNCTIONS.iter().find(|(name, _)| *name == callee.name).map(|(_, f)| *f);
            let Some(function) = function else {
                let diagnostic = Diagnostic::error(
                    codes::UNKNOWN_CHOICE,
                    format!("unknown function `{}`", callee.name),
                    callee.span,
                    "not a function",
                );
                let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
                errors.push(match did_you_mean(&callee.name, names.iter().copied()) {
                    Some(close) => {
                        diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(callee.span, close)
                    }
                    None => diagnostic.with_help(format!("functions: {}", names.join(", "))),
                });
                return None;
            };
            Formula::Call(function, arg?)
        }
    })
}
