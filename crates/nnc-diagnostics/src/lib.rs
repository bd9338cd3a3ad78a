//! Source spans and user-facing diagnostics.
//!
//! Every stage reports user errors as [`Diagnostic`] values; only [`render`] touches
//! codespan-reporting, so the rest of the compiler never formats errors itself. Every
//! diagnostic carries a registered [`Code`] (see [`codes`]).

pub mod codes;

pub use codes::Code;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

/// A byte range in the one source file being compiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: to_u32(start), end: to_u32(end) }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn to_u32(n: usize) -> u32 {
    // Sources larger than 4 GiB are not a use case; saturate instead of wrapping.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Line numbers of a source text, for printing where a span starts.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let breaks = source.match_indices('\n').map(|(at, _)| to_u32(at + 1));
        LineIndex { starts: std::iter::once(0).chain(breaks).collect() }
    }

    /// The 1-based line where `span` starts.
    pub fn line(&self, span: Span) -> usize {
        self.starts.partition_point(|&start| start <= span.start)
    }

    /// The 1-based line and column (in characters) where `span` starts in `source`.
    pub fn line_column(&self, source: &str, span: Span) -> (usize, usize) {
        let line = self.line(span);
        let start = self.starts[line - 1] as usize;
        let end = (span.start as usize).min(source.len());
        let column = source.get(start..end).map_or(1, |text| text.chars().count() + 1);
        (line, column)
    }
}

/// A value together with where it came from in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

/// A labelled place in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A machine-applicable edit that carries out a diagnostic's hint: replace the text at
/// `span` by `replacement` (an empty span inserts).
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

impl Fix {
    /// The source with this edit applied.
    pub fn apply(&self, source: &str) -> String {
        let range = self.span.range();
        let (start, end) = (range.start.min(source.len()), range.end.min(source.len()));
        format!("{}{}{}", &source[..start], self.replacement, &source[end..])
    }
}

/// One user-facing error: a code, a message, a primary place, other places, a hint and,
/// where the hint is a concrete edit, the edit itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label { span, message: label.into() },
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
            fix: None,
        }
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label { span, message: message.into() });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds each of `notes` (none, for an empty iterator or `None`).
    pub fn with_notes(mut self, notes: impl IntoIterator<Item = String>) -> Self {
        self.notes.extend(notes);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The edit that carries out the help: replace `span` by `replacement`.
    pub fn with_fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix { span, replacement: replacement.into() });
        self
    }
}

/// Renders diagnostics for one source file as plain text (no colour, stable for goldens).
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    render_with(file_name, source, diagnostics, Style::default())
}

/// How diagnostics are drawn on a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Plain ASCII for the box drawing, for terminals that cannot show Unicode.
    pub ascii: bool,
}

/// [`render`] with colours and ASCII as `style` says.
pub fn render_with(file_name: &str, source: &str, diagnostics: &[Diagnostic], style: Style) -> String {
    let file = SimpleFile::new(file_name, source);
    let mut config = term::Config::default();
    if style.ascii {
        config.chars = term::Chars::ascii();
    }
    let styles = term::Styles::default();
    let mut buffer = if style.color { term::termcolor::Buffer::ansi() } else { term::termcolor::Buffer::no_color() };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let converted = to_codespan(diagnostic, source.len());
        let mut writer = term::StylesWriter::new(&mut buffer, &styles);
        if let Err(err) = term::emit_to_write_style(&mut writer, &config, &file, &converted) {
            // Only reachable if a span lies outside the file: still show the message.
            out.push_str(&format!("error[{}]: {} ({err})\n", diagnostic.code.id, diagnostic.message));
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned() + &out
}

fn to_codespan(diagnostic: &Diagnostic, source_len: usize) -> cs::Diagnostic<()> {
    let clamp = |span: Span| {
        let range = span.range();
        range.start.min(source_len)..range.end.min(source_len)
    };
    let mut labels =
        vec![cs::Label::primary((), clamp(diagnostic.primary.span)).with_message(&diagnostic.primary.message)];
    for label in &diagnostic.secondary {
        labels.push(cs::Label::secondary((), clamp(label.span)).with_message(&label.message));
    }
    let mut notes = diagnostic.notes.clone();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    cs::Diagnostic::error()
        .with_code(diagnostic.code.id)
        .with_message(&diagnostic.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// The closest candidate to `name` by edit distance, for "did you mean" hints: at most
/// one edit per three characters (a swap of neighbours counts as one), and never a
/// complete replacement.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| {
            let longer = candidate.chars().count().max(name.chars().count());
            *distance <= (longer / 3).max(1) && *distance < candidate.chars().count().min(name.chars().count()).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// adjacent characters each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("xro", ["xor", "and"]), Some("xor"));
        assert_eq!(did_you_mean("zzzzzz", ["xor", "and"]), None);
        assert_eq!(did_you_mean("shuffle", ["file", "split"]), None);
        assert_eq!(did_you_mean("z", ["x"]), None);
        assert_eq!(did_you_mean("colour", ["size", "color"]), Some("color"));
        assert_eq!(did_you_mean("epoch", ["epochs", "seed"]), Some("epochs"));
    }

    #[test]
    fn renders_code_label_and_help() {
        let source = "model m { input 2 }\n";
        let diagnostic = Diagnostic::error(codes::UNKNOWN_MODEL, "unknown model `n`", Span::new(6, 7), "not defined")
            .with_help("did you mean `m`?");
        let text = render("a.nn", source, &[diagnostic]);
        assert!(text.contains("error[E0201]: unknown model `n`"), "{text}");
        assert!(text.contains("help: did you mean `m`?"), "{text}");
        assert!(text.contains("a.nn:1:7"), "{text}");
    }
}
