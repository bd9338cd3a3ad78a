//! The spanned abstract syntax tree.
//!
//! The AST keeps what the user wrote, with a span on every node; meaning (which settings
//! exist, which names resolve) is decided later by `nnc-lower`.

use nnc_diagnostics::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Data(DataBlock),
    Model(ModelBlock),
    Train(TrainBlock),
    Minimize(MinimizeBlock),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataBlock {
    pub name: Ident,
    pub body: DataBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DataBody {
    Table(Table),
    Settings(Vec<Setting>),
}

/// An inline table: column names, then rows of numbers. The numbers of every row are one
/// flat list (a table is data: millions of rows cost four bytes a number and 32 a row).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub inputs: Vec<Ident>,
    pub targets: Vec<Ident>,
    /// Each row's inputs then its targets, row after row, as the 32-bit floats they become.
    pub values: Vec<f32>,
    pub rows: Vec<Row>,
    pub span: Span,
}

/// Where one row's numbers are in [`Table::values`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub first: usize,
    pub inputs: u32,
    pub targets: u32,
    pub span: Span,
}

impl Table {
    pub fn row_inputs(&self, row: &Row) -> &[f32] {
        &self.values[row.first..row.first + row.inputs as usize]
    }

    pub fn row_targets(&self, row: &Row) -> &[f32] {
        let start = row.first + row.inputs as usize;
        &self.values[start..start + row.targets as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number {
    pub value: f64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelBlock {
    pub name: Ident,
    pub stmts: Vec<ModelStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ModelStmt {
    /// `input N` or `input HxWxC`; `None` for `input auto` (the data's column count).
    Input {
        dims: Option<Vec<Integer>>,
        span: Span,
    },
    Layer(Layer),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Integer {
    pub value: u64,
    pub span: Span,
}

/// `dense 4 relu (key = value, ...)`, `maxpool`, `dropout 0.5`, `add dense1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub kind: Ident,
    /// Units, filters or a rate, as written.
    pub size: Option<Number>,
    /// The names after the size: an activation; for `add` and `concat`, the layer they
    /// join, then an activation.
    pub words: Vec<Ident>,
    pub options: Vec<KeyValue>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    pub key: Ident,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Number(f64),
    Str(String),
    Ident(String),
    /// `from..to`, inclusive, in column order.
    Range(Ident, Ident),
    List(Vec<Value>),
    Call(Ident, Vec<Arg>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Named(KeyValue),
    Positional(Value),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainBlock {
    pub model: Ident,
    pub data: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `key value value ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: Ident,
    pub values: Vec<Value>,
    pub span: Span,
}

/// Gradient descent on a formula: free parameters, an objective, settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimizeBlock {
    pub name: Ident,
    pub params: Vec<ParamDecl>,
    pub objective: Option<Expr>,
    pub settings: Vec<Setting>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    pub init: Number,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Var(String),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Ident, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }
}

impl Program {
    pub fn data_blocks(&self) -> impl Iterator<Item = &DataBlock> {
        self.items.iter().filter_map(|item| match item {
            Item::Data(block) => Some(block),
            Item::Model(_) | Item::Train(_) | Item::Minimize(_) => None,
        })
    }

    pub fn model_blocks(&self) -> impl Iterator<Item = &ModelBlock> {
        self.items.iter().filter_map(|item| match item {
            Item::Model(block) => Some(block),
            Item::Data(_) | Item::Train(_) | Item::Minimize(_) => None,
        })
    }

    pub fn train_blocks(&self) -> impl Iterator<Item = &TrainBlock> {
        self.items.iter().filter_map(|item| match item {
            Item::Train(block) => Some(block),
            Item::Data(_) | Item::Model(_) | Item::Minimize(_) => None,
        })
    }

    pub fn minimize_blocks(&self) -> impl Iterator<Item = &MinimizeBlock> {
        self.items.iter().filter_map(|item| match item {
            Item::Minimize(block) => Some(block),
            Item::Data(_) | Item::Model(_) | Item::Train(_) => None,
        })
    }
}
