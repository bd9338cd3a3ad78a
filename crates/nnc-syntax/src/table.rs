//! The rows of an inline table. The grammar takes everything from the header to the
//! block's `}` as one token (`table_rows`), so a table of millions of rows costs no
//! parse-tree node per number; this module reads and checks that text by the row grammar
//!
//! ```text
//! rows = (row? comment? (newline | ";"))* row? comment?
//! row  = number+ "->" number+          (spaces and tabs between tokens)
//! ```
//!
//! with `number` as in the grammar file, reporting the first error of each bad row at its
//! token, as the parser would.

use crate::ast::{Row, Table};
use nnc_diagnostics::{Diagnostic, Span, codes};

pub(crate) const ROW_HINT: &str = "each table row is numbers, `->`, numbers, on one line";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lexeme {
    Number,
    Arrow,
    RowEnd,
    Comment,
    /// Anything else: a syntax error.
    Other,
}

/// The lexemes of `text`, which starts at byte `offset` of the source: each with its
/// start and end in the source.
fn lexemes(text: &str, offset: usize) -> impl Iterator<Item = (Lexeme, usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\r') {
            at += 1;
        }
        let start = at;
        let lexeme = match *bytes.get(at)? {
            b'\n' | b';' => {
                at += 1;
                Lexeme::RowEnd
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at += bytes[at..].iter().position(|&b| b == b'\n').unwrap_or(bytes.len() - at);
                Lexeme::Comment
            }
            b'-' if bytes.get(at + 1) == Some(&b'>') => {
                at += 2;
                Lexeme::Arrow
            }
            _ => match number_end(bytes, at) {
                Some(end) => {
                    at = end;
                    Lexeme::Number
                }
                None => {
                    // The rest of the word is what was found instead.
                    let word = bytes[at..].iter().take_while(|b| !b.is_ascii_whitespace() && **b != b';').count();
                    at += word.max(1);
                    while !text.is_char_boundary(at) {
                        at += 1;
                    }
                    Lexeme::Other
                }
            },
        };
        Some((lexeme, offset + start, offset + at))
    })
}

/// The end of the number at `start` (`-`? digits (`.` digits)? (`e` (`+`|`-`)? digits)?,
/// not followed by a letter, digit or `_`), or `None` where none starts. As in the
/// grammar, `1-2` is two numbers.
fn number_end(bytes: &[u8], start: usize) -> Option<usize> {
    let digits = |at: &mut usize| {
        let from = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at > from
    };
    let mut at = start + usize::from(bytes.get(start) == Some(&b'-'));
    if !digits(&mut at) {
        return None;
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if !digits(&mut at) {
            return None;
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1 + usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
        if !digits(&mut at) {
            return None;
        }
    }
    let ident_char = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    (!bytes.get(at).is_some_and(ident_char)).then_some(at)
}

/// Where a row stands while it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between rows.
    Idle,
    Inputs,
    /// Just after `->`.
    Arrow,
    Targets,
}

/// Reads the `table_rows` token `text` (at byte `offset` of `source`) into `table`'s
/// values and rows; a malformed row, or a number outside f32, is a diagnostic.
pub(crate) fn read_rows(text: &str, offset: usize, table: &mut Table, errors: &mut Vec<Diagnostic>) {
    let source_end = offset + text.len();
    let mut row = Row { first: 0, inputs: 0, targets: 0, span: Span::new(offset, offset) };
    let mut state = State::Idle;
    let mut bad_row = false;
    let mut lexemes = lexemes(text, offset).peekable();
    while let Some((lexeme, start, end)) = lexemes.next() {
        let span = Span::new(start, end);
        // The rest of a bad row is skipped: one error a row.
        if bad_row {
            if lexeme == Lexeme::RowEnd {
                (state, bad_row) = (State::Idle, false);
            }
            continue;
        }
        let expected = match (lexeme, state) {
            (Lexeme::Comment, _) => None,
            (Lexeme::Number, _) => {
                let value = crate::parse::number_value(&text[start - offset..end - offset], span, errors);
                if state == State::Idle {
                    row = Row { first: table.values.len(), inputs: 0, targets: 0, span };
                }
                row.span = row.span.to(span);
                match state {
                    State::Idle | State::Inputs => (state, row.inputs) = (State::Inputs, row.inputs + 1),
                    State::Arrow | State::Targets => (state, row.targets) = (State::Targets, row.targets + 1),
                }
                table.values.push(value as f32);
                None
            }
            (Lexeme::Arrow, State::Inputs) => {
                state = State::Arrow;
                None
            }
            (Lexeme::Arrow, State::Idle) => Some("a table row such as `0 1 -> 1`"),
            (Lexeme::Arrow, _) => Some("a number"),
            (Lexeme::RowEnd, State::Idle | State::Targets) => {
                if state == State::Targets && !bad_row {
                    table.rows.push(row);
                }
                (state, bad_row) = (State::Idle, false);
                None
            }
            (Lexeme::RowEnd, State::Inputs) => Some("`->` or a number"),
            (Lexeme::RowEnd, State::Arrow) => Some("a number"),
            (Lexeme::Other, State::Idle) => Some("a table row such as `0 1 -> 1`"),
            (Lexeme::Other, State::Inputs) => Some("`->` or a number"),
            (Lexeme::Other, State::Arrow | State::Targets) => Some("a number"),
        };
        if let Some(expected) = expected {
            errors.push(row_error(text, offset, start, end, expected));
            // An error at the row's end ends the row; elsewhere the row's rest is skipped.
            (state, bad_row) = if lexeme == Lexeme::RowEnd { (State::Idle, false) } else { (state, true) };
        }
        if lexemes.peek().is_none() && !bad_row {
            finish(table, row, state, source_end, text, offset, errors);
        }
    }
}

/// The end of the text ends the last row: complete, or an error at the block's end.
fn finish(
    table: &mut Table,
    row: Row,
    state: State,
    end: usize,
    text: &str,
    offset: usize,
    errors: &mut Vec<Diagnostic>,
) {
    match state {
        State::Targets => table.rows.push(row),
        State::Inputs => errors.push(row_error(text, offset, end, end, "`->` or a number")),
        State::Arrow => errors.push(row_error(text, offset, end, end, "a number")),
        State::Idle => {}
    }
}

fn row_error(text: &str, offset: usize, start: usize, end: usize, expected: &str) -> Diagnostic {
    let found = match text.get(start - offset..end - offset) {
        Some("") | None => "`}`".to_string(),
        Some("\n") => "end of line".to_string(),
        Some(other) => format!("`{other}`"),
    };
    Diagnostic::error(
        codes::SYNTAX,
        format!("syntax error: expected {expected}"),
        Span::new(start, end.max(start + 1)),
        format!("unexpected {found}"),
    )
    .with_help(ROW_HINT)
}

/// One row's cells as text (numbers and the arrow), and where it starts and ends.
pub(crate) struct RowText<'a> {
    pub start: usize,
    pub end: usize,
    pub cells: Vec<&'a str>,
}

/// The rows of a valid `table_rows` token `text` starting at byte `offset` (for
/// `nnc fmt`).
pub(crate) fn row_texts(text: &str, offset: usize) -> Vec<RowText<'_>> {
    let mut rows: Vec<RowText> = Vec::new();
    let mut current: Option<RowText> = None;
    for (lexeme, start, end) in lexemes(text, offset) {
        match lexeme {
            Lexeme::Number | Lexeme::Arrow | Lexeme::Other => {
                let row = current.get_or_insert(RowText { start, end, cells: Vec::new() });
                row.end = end;
                row.cells.push(&text[start - offset..end - offset]);
            }
            Lexeme::RowEnd => rows.extend(current.take()),
            Lexeme::Comment => {}
        }
    }
    rows.extend(current);
    rows
}
