//! Parsing: pest pairs to the spanned AST, pest errors to diagnostics.

use crate::ast::*;
use nnc_diagnostics::{Diagnostic, Span, codes};
use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/nn.pest"]
pub(crate) struct NnParser;

/// How deeply brackets may nest. Parsing and every later walk over expressions recurse
/// once per level; this bound keeps them far from the stack's limit.
const MAX_NESTING: usize = 200;

/// How many terms and operators one objective may have, for the same reason.
const MAX_EXPRESSION_NODES: usize = 2000;

/// Parses a whole source file.
pub fn parse(source: &str) -> Result<Program, Vec<Diagnostic>> {
    check_nesting(source)?;
    let mut pairs = NnParser::parse(Rule::program, source).map_err(|err| vec![syntax_error(&err, source)])?;
    let program = pairs.next().expect("grammar: parse returns the program rule");
    let mut errors = Vec::new();
    let items = program
        .into_inner()
        .filter(|pair| pair.as_rule() != Rule::EOI)
        .map(|pair| build_item(pair, &mut errors))
        .collect();
    if errors.is_empty() { Ok(Program { items }) } else { Err(errors) }
}

/// Rejects sources whose brackets nest deeper than [`MAX_NESTING`] (outside strings and
/// comments) before the recursive parser sees them.
fn check_nesting(source: &str) -> Result<(), Vec<Diagnostic>> {
    let (mut depth, mut in_string, mut in_comment) = (0usize, false, false);
    let mut previous = '\0';
    for (offset, c) in source.char_indices() {
        match c {
            '\n' => (in_comment, in_string) = (false, false),
            _ if in_comment => {}
            '"' => in_string = !in_string,
            _ if in_string => {}
            '/' if previous == '/' => in_comment = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    let span = Span::new(offset, offset + 1);
                    return Err(vec![
                        Diagnostic::error(
                            codes::TOO_DEEP,
                            format!("brackets nest more than {MAX_NESTING} levels deep"),
                            span,
                            "too deep",
                        )
                        .with_help("split the expression into simpler parts"),
                    ]);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    Ok(())
}

fn span_of(pair: &Pair<Rule>) -> Span {
    Span::new(pair.as_span().start(), pair.as_span().end())
}

fn build_item(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Item {
    match pair.as_rule() {
        Rule::data_block => Item::Data(build_data(pair, errors)),
        Rule::model_block => Item::Model(build_model(pair, errors)),
        Rule::train_block => Item::Train(build_train(pair, errors)),
        Rule::minimize_block => Item::Minimize(build_minimize(pair, errors)),
        rule => unreachable!("grammar: unexpected item {rule:?}"),
    }
}

fn build_ident(pair: Pair<Rule>) -> Ident {
    debug_assert!(matches!(pair.as_rule(), Rule::ident | Rule::activation | Rule::layer_kind));
    let span = span_of(&pair);
    let inner = pair.clone().into_inner().next().unwrap_or(pair);
    Ident { name: inner.as_str().to_string(), span }
}

fn build_data(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> DataBlock {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().skip(1); // kw_data
    let name = build_ident(inner.next().expect("grammar: data block has a name"));
    let body = match inner.next() {
        Some(body) if body.as_rule() == Rule::table => DataBody::Table(build_table(body, errors)),
        Some(body) => DataBody::Settings(body.into_inner().map(|s| build_setting(s, errors)).collect()),
        None => DataBody::Settings(Vec::new()),
    };
    DataBlock { name, body, span }
}

fn build_table(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Table {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let header = inner.next().expect("grammar: table has a header");
    let header_span = span_of(&header);
    let (inputs, targets) = split_at_arrow(header, build_ident);
    let mut table = Table { inputs, targets, values: Vec::new(), rows: Vec::new(), span };
    let rows = inner.next().expect("grammar: a table has its rows (maybe none)");
    crate::table::read_rows(rows.as_str(), rows.as_span().start(), &mut table, errors);
    // The rows token runs on to the `}`: the table ends at its last row.
    table.span = header_span.to(table.rows.last().map_or(header_span, |row| row.span));
    table
}

/// Builds the children of `a b -> c d` into the parts left and right of the arrow.
fn split_at_arrow<T>(pair: Pair<Rule>, mut build: impl FnMut(Pair<Rule>) -> T) -> (Vec<T>, Vec<T>) {
    let (mut left, mut right, mut seen_arrow) = (Vec::new(), Vec::new(), false);
    for child in pair.into_inner() {
        match child.as_rule() {
            Rule::arrow => seen_arrow = true,
            _ if seen_arrow => right.push(build(child)),
            _ => left.push(build(child)),
        }
    }
    (left, right)
}

fn build_number(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Number {
    let span = span_of(&pair);
    Number { value: number_value(pair.as_str(), span, errors), span }
}

/// The value of a number token, checked to be a finite 32-bit float (every number nnc
/// computes with is one).
pub(crate) fn number_value(text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> f64 {
    let value = text.parse::<f64>().unwrap_or_else(|_| {
        errors.push(
            Diagnostic::error(codes::BAD_NUMBER, "malformed number", span, "not a number")
                .with_help("numbers are written like `0.1`, `20` or `1e-3`"),
        );
        0.0
    });
    if !value.is_finite() || value.abs() > f64::from(f32::MAX) {
        errors.push(
            Diagnostic::error(codes::BAD_NUMBER, "number out of range", span, "too large for a 32-bit float")
                .with_help("nnc computes in 32-bit floats, whose magnitude is at most 3.4e38"),
        );
    }
    value
}

fn build_model(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> ModelBlock {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().skip(1); // kw_model
    let name = build_ident(inner.next().expect("grammar: model has a name"));
    let stmts = inner
        .map(|stmt| match stmt.as_rule() {
            Rule::input_stmt => {
                let span = span_of(&stmt);
                let dims = stmt.into_inner().nth(1).expect("grammar: input has a width");
                let dims = (dims.as_rule() == Rule::dims).then(|| build_dims(&dims, errors));
                ModelStmt::Input { dims, span }
            }
            Rule::layer => ModelStmt::Layer(build_layer(stmt, errors)),
            rule => unreachable!("grammar: unexpected model statement {rule:?}"),
        })
        .collect();
    ModelBlock { name, stmts, span }
}

/// `8x8x1`: each number with its own span.
fn build_dims(pair: &Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Vec<Integer> {
    let start = pair.as_span().start();
    let mut offset = 0;
    let mut dims = Vec::new();
    for text in pair.as_str().split('x') {
        let span = Span::new(start + offset, start + offset + text.len());
        let value = text.parse::<u64>().unwrap_or_else(|_| {
            errors.push(
                Diagnostic::error(codes::BAD_NUMBER, "integer out of range", span, "too large")
                    .with_help("use a smaller width"),
            );
            0
        });
        dims.push(Integer { value, span });
        offset += text.len() + 1;
    }
    dims
}

fn build_layer(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Layer {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let kind = build_ident(inner.next().expect("grammar: layer has a kind"));
    let mut size = None;
    let mut words = Vec::new();
    let mut options = Vec::new();
    for part in inner {
        match part.as_rule() {
            Rule::layer_size => size = Some(build_number(part.into_inner().next().expect("grammar: size"), errors)),
            Rule::activation => words.push(build_ident(part.into_inner().next().expect("grammar: activation"))),
            Rule::options => options = part.into_inner().map(|o| build_key_value(o, errors)).collect(),
            rule => unreachable!("grammar: unexpected layer part {rule:?}"),
        }
    }
    Layer { kind, size, words, options, span }
}

fn build_key_value(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> KeyValue {
    let mut inner = pair.into_inner();
    let key = build_ident(inner.next().expect("grammar: option has a key"));
    let value = build_value(inner.next().expect("grammar: option has a value"), errors);
    KeyValue { key, value }
}

fn build_value(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Value {
    let span = span_of(&pair);
    let inner = pair.into_inner().next().expect("grammar: value has one alternative");
    let kind = match inner.as_rule() {
        Rule::number => ValueKind::Number(build_number(inner, errors).value),
        Rule::string => ValueKind::Str(inner.into_inner().as_str().to_string()),
        Rule::ident => ValueKind::Ident(inner.as_str().to_string()),
        Rule::range => {
            let mut ends = inner.into_inner().map(build_ident);
            let from = ends.next().expect("grammar: range has a start");
            let to = ends.next().expect("grammar: range has an end");
            ValueKind::Range(from, to)
        }
        Rule::list => ValueKind::List(inner.into_inner().map(|v| build_value(v, errors)).collect()),
        Rule::call => build_call(inner, errors),
        rule => unreachable!("grammar: unexpected value {rule:?}"),
    };
    Value { kind, span }
}

fn build_call(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> ValueKind {
    let mut parts = pair.into_inner();
    let callee = build_ident(parts.next().expect("grammar: call has a name"));
    let args = parts.map(|arg| build_arg(arg, errors)).collect();
    ValueKind::Call(callee, args)
}

fn build_arg(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Arg {
    let inner = pair.into_inner().next().expect("grammar: arg has one alternative");
    match inner.as_rule() {
        Rule::option => Arg::Named(build_key_value(inner, errors)),
        _ => Arg::Positional(build_value(inner, errors)),
    }
}

fn build_train(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> TrainBlock {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().filter(|p| !matches!(p.as_rule(), Rule::kw_train | Rule::kw_on));
    let model = build_ident(inner.next().expect("grammar: train names a model"));
    let data = build_ident(inner.next().expect("grammar: train names data"));
    let settings = inner.next().map(|s| s.into_inner().map(|s| build_setting(s, errors)).collect()).unwrap_or_default();
    TrainBlock { model, data, settings, span }
}

fn build_setting(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Setting {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let head = inner.next().expect("grammar: setting has a key");
    let mut values = Vec::new();
    // `early_stopping(patience = 10)`: the call is both the key and the one value.
    let key = if head.as_rule() == Rule::call {
        let key = build_ident(head.clone().into_inner().next().expect("grammar: call has a name"));
        values.push(Value { span: span_of(&head), kind: build_call(head, errors) });
        key
    } else {
        build_ident(head)
    };
    values.extend(inner.map(|v| build_value(v, errors)));
    Setting { key, values, span }
}

fn build_minimize(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> MinimizeBlock {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().skip(1); // kw_minimize
    let name = build_ident(inner.next().expect("grammar: minimize has a name"));
    let mut block = MinimizeBlock { name, params: Vec::new(), objective: None, settings: Vec::new(), span };
    for stmt in inner {
        let stmt_span = span_of(&stmt);
        match stmt.as_rule() {
            Rule::param_stmt => {
                let mut parts = stmt.into_inner().skip(1);
                let name = build_ident(parts.next().expect("grammar: param has a name"));
                let init = build_number(parts.next().expect("grammar: param has a start value"), errors);
                block.params.push(ParamDecl { name, init, span: stmt_span });
            }
            Rule::objective_stmt => {
                let expr = stmt.into_inner().nth(1).expect("grammar: objective has an expression");
                // Expressions are walked recursively at every stage; bound their size.
                if expr.clone().into_inner().flatten().count() > MAX_EXPRESSION_NODES {
                    errors.push(
                        Diagnostic::error(
                            codes::TOO_DEEP,
                            format!("the objective has more than {MAX_EXPRESSION_NODES} terms and operators"),
                            stmt_span,
                            "too long",
                        )
                        .with_help("an objective is a formula of a few terms; split long sums into simpler ones"),
                    );
                    continue;
                }
                if block.objective.is_some() {
                    errors.push(
                        Diagnostic::error(
                            codes::DUPLICATE_OBJECTIVE,
                            "more than one objective",
                            stmt_span,
                            "second objective",
                        )
                        .with_help("a minimize block has exactly one `objective`"),
                    );
                }
                block.objective = Some(build_expr(expr, errors));
            }
            Rule::setting => block.settings.push(build_setting(stmt, errors)),
            rule => unreachable!("grammar: unexpected minimize statement {rule:?}"),
        }
    }
    block
}

fn pratt() -> PrattParser<Rule> {
    PrattParser::new()
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::unary))
        .op(Op::infix(Rule::pow, Assoc::Right))
}

fn build_expr(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let parser = pratt();
    let errors = std::cell::RefCell::new(errors);
    parser
        .map_primary(|primary| build_primary(primary, &mut errors.borrow_mut()))
        .map_prefix(|op, operand| {
            let span = span_of(&op).to(operand.span);
            Expr { kind: ExprKind::Neg(Box::new(operand)), span }
        })
        .map_infix(|lhs, op, rhs| {
            let bin = match op.as_rule() {
                Rule::add => BinOp::Add,
                Rule::sub => BinOp::Sub,
                Rule::mul => BinOp::Mul,
                Rule::div => BinOp::Div,
                Rule::pow => BinOp::Pow,
                rule => unreachable!("grammar: unexpected operator {rule:?}"),
            };
            let span = lhs.span.to(rhs.span);
            Expr { kind: ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)), span }
        })
        .parse(pair.into_inner())
}

fn build_primary(pair: Pair<Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::number => ExprKind::Number(build_number(pair, errors).value),
        Rule::ident => ExprKind::Var(pair.as_str().to_string()),
        Rule::expr => return build_expr(pair, errors),
        Rule::fn_call => {
            let mut parts = pair.into_inner();
            let callee = build_ident(parts.next().expect("grammar: call has a name"));
            let arg = build_expr(parts.next().expect("grammar: call has an argument"), errors);
            ExprKind::Call(callee, Box::new(arg))
        }
        rule => unreachable!("grammar: unexpected primary {rule:?}"),
    };
    Expr { kind, span }
}

fn syntax_error(err: &pest::error::Error<Rule>, source: &str) -> Diagnostic {
    let (start, end) = match err.location {
        pest::error::InputLocation::Pos(pos) => (pos, pos),
        pest::error::InputLocation::Span(span) => span,
    };
    let found = describe_found(source, start);
    let end = if end > start { end } else { (start + found.1).min(source.len()) };
    let expected = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => expected_words(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    Diagnostic::error(
        codes::SYNTAX,
        format!("syntax error: expected {expected}"),
        Span::new(start, end),
        format!("unexpected {}", found.0),
    )
    .with_help(syntax_hint(&err.variant))
}

/// What stands at `pos`, in words, and how many bytes to underline.
pub(crate) fn describe_found(source: &str, pos: usize) -> (String, usize) {
    let rest = source.get(pos..).unwrap_or("");
    match rest.chars().next() {
        None => ("end of file".to_string(), 0),
        Some('\n') | Some('\r') => ("end of line".to_string(), 1),
        Some(c) if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' => {
            let word: String =
                rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '-').collect();
            (format!("`{word}`"), word.len())
        }
        Some(c) => (format!("`{c}`"), c.len_utf8()),
    }
}

fn expected_words(positives: &[Rule]) -> String {
    let mut words: Vec<&str> = positives.iter().map(|rule| rule_words(*rule)).collect();
    words.sort_unstable();
    words.dedup();
    match words.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn rule_words(rule: Rule) -> &'static str {
    match rule {
        Rule::ident | Rule::activation => "a name",
        Rule::integer => "a whole number",
        Rule::number => "a number",
        Rule::string => "a quoted string",
        Rule::value | Rule::arg => "a value",
        Rule::list => "a list `[...]`",
        Rule::call => "a call such as `sgd(lr = 0.1)`",
        Rule::range => "a column range `a..b`",
        Rule::options => "layer options `(...)`",
        Rule::option => "`name = value`",
        Rule::table | Rule::table_header => "a table header such as `x1 x2 -> y`",
        Rule::table_rows => "a table row such as `0 1 -> 1`",
        Rule::settings | Rule::setting => "a setting such as `epochs 100`",
        Rule::layer | Rule::layer_kind => "a layer such as `dense 4 relu`",
        // Wherever `input` may stand, so may a layer.
        Rule::input_stmt | Rule::kw_input => "`input N` or a layer such as `dense 4 relu`",
        Rule::dims => "a width such as `64` or an image size such as `8x8x1`",
        Rule::layer_size => "a number of units",
        Rule::kw_auto => "`auto`",
        Rule::data_block | Rule::kw_data => "`data`",
        Rule::model_block | Rule::kw_model => "`model`",
        Rule::train_block | Rule::kw_train => "`train`",
        Rule::minimize_block | Rule::kw_minimize => "`minimize`",
        Rule::kw_on => "`on`",
        Rule::param_stmt | Rule::kw_param => "`param NAME = VALUE`",
        Rule::objective_stmt | Rule::kw_objective => "`objective EXPR`",
        Rule::expr | Rule::fn_call | Rule::unary => "an expression",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow => "an operator",
        Rule::arrow => "`->`",
        Rule::sep | Rule::nl => "a newline or `;`",
        Rule::item => "a block",
        Rule::model_stmt => "a layer such as `dense 4 relu`",
        Rule::minimize_stmt => "`param`, `objective` or a setting",
        Rule::bin_op => "an operator",
        Rule::primary => "a number, a name or `(`",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::EOI => "end of file",
        Rule::program | Rule::WHITESPACE | Rule::COMMENT | Rule::string_inner | Rule::BOM => "more input",
    }
}

fn syntax_hint(variant: &pest::error::ErrorVariant<Rule>) -> String {
    let positives = match variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.as_slice(),
        pest::error::ErrorVariant::CustomError { .. } => &[],
    };
    if positives.iter().any(|r| matches!(r, Rule::data_block | Rule::model_block | Rule::train_block | Rule::kw_data)) {
        "a program is made of `data`, `model`, `train` and `minimize` blocks".to_string()
    } else if positives.contains(&Rule::table_rows) {
        crate::table::ROW_HINT.to_string()
    } else if positives.iter().any(|r| matches!(r, Rule::layer | Rule::input_stmt | Rule::kw_input | Rule::layer_kind))
    {
        "a model holds `input N` and layers such as `dense 4 relu`".to_string()
    } else {
        "statements end at a newline or `;`; see docs/language.md".to_string()
    }
}
