//! `nnc fmt`: the canonical layout of a program, comments kept.
//!
//! Blocks are separated by one blank line; a block's statements go one per line, indented
//! by two spaces; tokens are separated by single spaces (`sgd(lr = 0.1)`, `[1, 2]`,
//! `dense 4 relu (init = zeros)`, `0.5 * x^2`); an inline table's columns are aligned. A
//! blank line between statements is kept (several become one). Comments stay where they
//! were: on their own line before what follows them, or after the statement they end.
//! Formatting is idempotent and never changes what the program means (tests parse both).

use crate::parse::{NnParser, Rule};
use crate::table::{RowText, row_texts};
use nnc_diagnostics::Diagnostic;
use pest::Parser;
use pest::iterators::Pair;

/// The canonical text of `source`, or its syntax errors.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    crate::parse(source)?;
    let mut pairs = NnParser::parse(Rule::program, source).map_err(|_| Vec::<Diagnostic>::new())?;
    let program = pairs.next().ok_or_else(Vec::new)?;
    let mut writer = Writer { source, comments: comments(source), next: 0, out: String::new() };
    let mut first = true;
    for item in program.into_inner().filter(|p| p.as_rule() != Rule::EOI) {
        if !first {
            writer.out.push('\n');
        }
        first = false;
        writer.leading(item.as_span().start(), "");
        writer.block(item);
    }
    writer.leading(source.len(), "");
    let text = writer.out.trim_end().to_string();
    Ok(if text.is_empty() { text } else { text + "\n" })
}

/// A `//` comment: where it starts and ends, and whether code precedes it on its line.
struct Comment {
    start: usize,
    text: String,
    trailing: bool,
}

fn comments(source: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        let mut in_string = false;
        let mut previous = '\0';
        for (offset, c) in line.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '/' if !in_string && previous == '/' => {
                    let start = line_start + offset - 1;
                    let text = line[offset - 1..].trim_end().to_string();
                    let trailing = !line[..offset - 1].trim().is_empty();
                    out.push(Comment { start, text, trailing });
                    break;
                }
                _ => {}
            }
            previous = c;
        }
        line_start += line.len();
    }
    out
}

struct Writer<'a> {
    source: &'a str,
    comments: Vec<Comment>,
    /// The first comment not yet written.
    next: usize,
    out: String,
}

impl Writer<'_> {
    /// Writes the comments that start before `position`, each on its own line.
    fn leading(&mut self, position: usize, indent: &str) {
        while let Some(comment) = self.comments.get(self.next).filter(|c| c.start < position) {
            self.out.push_str(&format!("{indent}{}\n", comment.text));
            self.next += 1;
        }
    }

    /// Ends the line of a statement that ends at `end`, with a comment that follows it on
    /// the same line before `limit` (where the next statement or brace starts).
    fn end_line(&mut self, end: usize, limit: usize) {
        let line_end = self.source[end..].find('\n').map_or(self.source.len(), |i| end + i);
        let before = line_end.min(limit.max(end));
        if let Some(comment) = self.comments.get(self.next).filter(|c| c.trailing && c.start >= end && c.start < before)
        {
            self.out.push_str(&format!("  {}", comment.text));
            self.next += 1;
        }
        self.out.push('\n');
    }

    /// Whether the source has a blank line between `from` and `to`, ignoring comments.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let lines: Vec<&str> = self.source[from..to].split('\n').collect();
        lines.len() > 2 && lines[1..lines.len() - 1].iter().any(|l| l.trim().is_empty())
    }

    fn block(&mut self, block: Pair<Rule>) {
        let span = block.as_span();
        let mut header = Vec::new();
        let mut statements: Vec<Statement> = Vec::new();
        for child in block.into_inner() {
            match child.as_rule() {
                Rule::kw_data | Rule::kw_model | Rule::kw_train | Rule::kw_on | Rule::kw_minimize | Rule::ident
                    if statements.is_empty() =>
                {
                    header.push(child.as_str().to_string());
                }
                Rule::settings => statements.extend(child.into_inner().map(Statement::Pair)),
                Rule::table => {
                    for part in child.into_inner() {
                        match part.as_rule() {
                            Rule::table_rows => statements.extend(
                                row_texts(part.as_str(), part.as_span().start()).into_iter().map(Statement::Row),
                            ),
                            _ => statements.push(Statement::Pair(part)),
                        }
                    }
                }
                _ => statements.push(Statement::Pair(child)),
            }
        }
        self.out.push_str(&format!("{} {{", header.join(" ")));
        let open = self.source[span.start()..].find('{').map_or(span.start(), |i| span.start() + i + 1);
        let close = span.end().saturating_sub(1);
        // A comment after `{` belongs there only if no statement follows on its line.
        self.end_line(open, statements.first().map_or(close, Statement::start));
        let table = table_widths(&statements);
        let mut previous_end = open;
        for statement in &statements {
            let start = statement.start();
            if previous_end != open && self.blank_between(previous_end, start) {
                self.out.push('\n');
            }
            self.leading(start, "  ");
            let text = match (&table, statement.cells()) {
                (Some(widths), Some(cells)) => table_line(&cells, widths),
                _ => statement.render(),
            };
            self.out.push_str(&format!("  {text}"));
            previous_end = statement.end();
            let limit = statements.iter().map(Statement::start).find(|&s| s > start).unwrap_or(close);
            self.end_line(previous_end, limit);
        }
        self.leading(close, "  ");
        self.out.push('}');
        self.end_line(span.end(), self.source.len());
    }
}

/// One line of a block: a statement of the grammar, or a row of an inline table.
enum Statement<'i> {
    Pair(Pair<'i, Rule>),
    Row(RowText<'i>),
}

impl Statement<'_> {
    fn start(&self) -> usize {
        match self {
            Statement::Pair(pair) => pair.as_span().start(),
            Statement::Row(row) => row.start,
        }
    }

    fn end(&self) -> usize {
        match self {
            Statement::Pair(pair) => content_end(pair),
            Statement::Row(row) => row.end,
        }
    }

    /// The cells of a table line (the header, or a row), to be aligned.
    fn cells(&self) -> Option<Vec<&str>> {
        match self {
            Statement::Pair(pair) if pair.as_rule() == Rule::table_header => {
                Some(pair.clone().into_inner().map(|c| c.as_str()).collect())
            }
            Statement::Pair(_) => None,
            Statement::Row(row) => Some(row.cells.clone()),
        }
    }

    fn render(&self) -> String {
        match self {
            Statement::Pair(pair) => render(pair),
            Statement::Row(row) => row.cells.join(" "),
        }
    }
}

/// Where a statement's last token ends: a pair's span may run on over the spaces and
/// comment after it.
fn content_end(pair: &Pair<Rule>) -> usize {
    match pair.clone().into_inner().last() {
        Some(last) => content_end(&last),
        None => pair.as_span().end(),
    }
}

/// The canonical text of a statement or part of one.
fn render(pair: &Pair<Rule>) -> String {
    let children: Vec<Pair<Rule>> = pair.clone().into_inner().collect();
    let joined = |separator: &str| children.iter().map(render).collect::<Vec<_>>().join(separator);
    match pair.as_rule() {
        // Tokens written as they are: a string keeps its quotes, a range its `..`.
        Rule::string | Rule::range | Rule::number | Rule::integer | Rule::ident => pair.as_str().to_string(),
        Rule::list => format!("[{}]", joined(", ")),
        Rule::options => format!("({})", joined(", ")),
        Rule::call | Rule::fn_call => {
            let (name, rest) = children.split_first().map_or(("", &[][..]), |(n, r)| (n.as_str(), r));
            format!("{name}({})", rest.iter().map(render).collect::<Vec<_>>().join(", "))
        }
        Rule::option => format!("{} = {}", render(&children[0]), render(&children[1])),
        Rule::param_stmt => format!("param {} = {}", children[1].as_str(), children[2].as_str()),
        Rule::expr => expression(&children),
        Rule::value | Rule::arg => joined(" "),
        Rule::setting | Rule::layer | Rule::input_stmt | Rule::objective_stmt | Rule::table_header => joined(" "),
        _ if children.is_empty() => pair.as_str().to_string(),
        _ => joined(" "),
    }
}

/// `0.5 * x^2`: spaces around `+ - * /`, none around `^` or after a unary minus;
/// parenthesised sub-expressions keep their parentheses.
fn expression(children: &[Pair<Rule>]) -> String {
    let mut out = String::new();
    for child in children {
        match child.as_rule() {
            Rule::add | Rule::sub | Rule::mul | Rule::div => out.push_str(&format!(" {} ", child.as_str())),
            Rule::pow => out.push('^'),
            Rule::unary => out.push('-'),
            Rule::expr => out.push_str(&format!("({})", render(child))),
            _ => out.push_str(&render(child)),
        }
    }
    out
}

/// Column widths of an inline table (`x1 x2 -> y` and its rows), aligned left.
fn table_widths(statements: &[Statement]) -> Option<Vec<usize>> {
    let rows: Vec<Vec<&str>> = statements.iter().filter_map(Statement::cells).collect();
    if rows.is_empty() {
        return None;
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    Some(
        (0..columns)
            .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|t| t.chars().count()).max().unwrap_or(0))
            .collect(),
    )
}

fn table_line(cells: &[&str], widths: &[usize]) -> String {
    let last = cells.len().saturating_sub(1);
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| if i == last { cell.to_string() } else { format!("{cell:<width$}", width = widths[i]) })
        .collect::<Vec<_>>()
        .join(" ")
}
