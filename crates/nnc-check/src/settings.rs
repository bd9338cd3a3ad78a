//! Reading `key value` settings with diagnostics for unknown keys and wrong values.

use nnc_diagnostics::{Diagnostic, Span, codes, did_you_mean};
use nnc_syntax::ast::{self, ValueKind};

/// The settings of one block, checked against the keys it accepts.
pub(crate) struct Settings<'a, 'e> {
    settings: Vec<&'a ast::Setting>,
    pub errors: &'e mut Vec<Diagnostic>,
}

/// The largest count a setting takes: far beyond any run (10^15 one-microsecond epochs
/// are 30 years), and exact in the f64 the parser reads numbers as.
const MAX_COUNT: f64 = 1e15;

impl<'a, 'e> Settings<'a, 'e> {
    /// Reports unknown and repeated keys right away.
    pub fn new(settings: &'a [ast::Setting], known: &[&str], errors: &'e mut Vec<Diagnostic>) -> Self {
        let mut kept: Vec<&ast::Setting> = Vec::new();
        for setting in settings {
            let key = setting.key.name.as_str();
            if !known.contains(&key) {
                errors.push(unknown_key("setting", key, setting.key.span, known));
            } else if let Some(first) = kept.iter().find(|s| s.key.name == key) {
                errors.push(
                    Diagnostic::error(
                        codes::DUPLICATE_SETTING,
                        format!("`{key}` is set twice"),
                        setting.key.span,
                        "set again here",
                    )
                    .with_secondary(first.key.span, "first set here")
                    .with_help("remove one of them"),
                );
            } else {
                kept.push(setting);
            }
        }
        Settings { settings: kept, errors }
    }

    pub fn take(&mut self, key: &str) -> Option<&'a ast::Setting> {
        self.settings.iter().find(|s| s.key.name == key).copied()
    }

    /// A whole number at least `min` and at most [`MAX_COUNT`].
    pub fn count(&mut self, setting: &ast::Setting, min: u64) -> Option<u64> {
        let value = single_value(setting, self.errors)?;
        let number = expect_number(value, self.errors)?;
        let name = &setting.key.name;
        if number.fract() != 0.0 || number < min as f64 || number > MAX_COUNT {
            let message = if number > MAX_COUNT {
                format!("`{name}` must be at most 10^15, got {number}")
            } else {
                format!("`{name}` must be a whole number >= {min}, got {number}")
            };
            self.errors.push(
                Diagnostic::error(codes::VALUE_RANGE, message, value.span, "invalid value")
                    .with_help(format!("write `{name} N` with a whole number N from {min} to 10^15")),
            );
            return None;
        }
        Some(number as u64)
    }

    /// One name out of a fixed list.
    pub fn ident_choice<T: Copy>(&mut self, setting: &ast::Setting, kind: &str, choices: &[(&str, T)]) -> Option<T> {
        let value = single_value(setting, self.errors)?;
        let ValueKind::Ident(name) = &value.kind else {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            self.errors.push(
                Diagnostic::error(codes::VALUE_FORM, format!("expected a {kind} name"), value.span, "not a name")
                    .with_help(format!("one of: {}", names.join(", "))),
            );
            return None;
        };
        lookup(kind, &ast::Ident { name: name.clone(), span: value.span }, choices, self.errors)
    }
}

/// The one value of a setting, or an error.
pub(crate) fn single_value<'a>(setting: &'a ast::Setting, errors: &mut Vec<Diagnostic>) -> Option<&'a ast::Value> {
    match setting.values.as_slice() {
        [value] => Some(value),
        [] => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    format!("`{}` needs a value", setting.key.name),
                    setting.span,
                    "missing value",
                )
                .with_help(format!("write `{} VALUE`", setting.key.name)),
            );
            None
        }
        [_, extra, ..] => {
            errors.push(
                Diagnostic::error(
                    codes::VALUE_FORM,
                    format!("`{}` takes one value", setting.key.name),
                    extra.span,
                    "unexpected extra value",
                )
                .with_help("put one setting per line, or separate them with `;`"),
            );
            None
        }
    }
}

pub(crate) fn expect_number(value: &ast::Value, errors: &mut Vec<Diagnostic>) -> Option<f64> {
    match value.kind {
        ValueKind::Number(n) => Some(n),
        _ => {
            errors.push(
                Diagnostic::error(codes::VALUE_FORM, "expected a number", value.span, "not a number")
                    .with_help("numbers are written like `0.1`, `20` or `1e-3`"),
            );
            None
        }
    }
}

/// Resolves a name among fixed choices, with a did-you-mean hint.
pub(crate) fn lookup<T: Copy>(
    kind: &str,
    ident: &ast::Ident,
    choices: &[(&str, T)],
    errors: &mut Vec<Diagnostic>,
) -> Option<T> {
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == ident.name) {
        return Some(*value);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let diagnostic = Diagnostic::error(
        codes::UNKNOWN_CHOICE,
        format!("unknown {kind} `{}`", ident.name),
        ident.span,
        format!("not a known {kind}"),
    );
    errors.push(match did_you_mean(&ident.name, names.iter().copied()) {
        Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(ident.span, close),
        None => diagnostic.with_help(format!("known: {}", names.join(", "))),
    });
    None
}

/// An unknown setting, option or argument, with the known ones or the nearest.
pub(crate) fn unknown_key(kind: &str, key: &str, span: Span, known: &[&str]) -> Diagnostic {
    let diagnostic = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown {kind} `{key}`"), span, "unknown name");
    match did_you_mean(key, known.iter().copied()) {
        Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_fix(span, close),
        None => diagnostic.with_help(format!("known: {}", known.join(", "))),
    }
}
