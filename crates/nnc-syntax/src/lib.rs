//! The surface language: the pest grammar (`grammar/nn.pest`), the spanned AST and its printer.

pub mod ast;
mod fmt;
mod parse;
mod print;
mod table;

pub use fmt::format;
pub use parse::parse;
pub use print::{expr_text, print_program};
