//! A deterministic tree printer for the AST (`nnc ir --stage ast`).

use crate::ast::*;
use std::fmt::Write;

/// Prints one node per line, children indented by two spaces.
pub fn print_program(program: &Program) -> String {
    let mut out = Printer { out: String::new(), depth: 0 };
    out.line("Program");
    out.nested(|p| program.items.iter().for_each(|item| p.item(item)));
    out.out
}

struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{:indent$}{text}", "", indent = self.depth * 2);
    }

    fn nested(&mut self, body: impl FnOnce(&mut Printer)) {
        self.depth += 1;
        body(self);
        self.depth -= 1;
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Data(block) => {
                self.line(&format!("Data {}", block.name.name));
                self.nested(|p| match &block.body {
                    DataBody::Table(table) => p.table(table),
                    DataBody::Settings(settings) => settings.iter().for_each(|s| p.setting(s)),
                });
            }
            Item::Model(block) => {
                self.line(&format!("Model {}", block.name.name));
                self.nested(|p| block.stmts.iter().for_each(|s| p.model_stmt(s)));
            }
            Item::Train(block) => {
                self.line(&format!("Train model={} data={}", block.model.name, block.data.name));
                self.nested(|p| block.settings.iter().for_each(|s| p.setting(s)));
            }
            Item::Minimize(block) => {
                self.line(&format!("Minimize {}", block.name.name));
                self.nested(|p| {
                    for param in &block.params {
                        p.line(&format!("Param {} = {}", param.name.name, param.init.value));
                    }
                    if let Some(objective) = &block.objective {
                        p.line(&format!("Objective {}", expr_text(objective)));
                    }
                    block.settings.iter().for_each(|s| p.setting(s));
                });
            }
        }
    }

    fn table(&mut self, table: &Table) {
        let names = |idents: &[Ident]| idents.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
        self.line(&format!("Table inputs=[{}] targets=[{}]", names(&table.inputs), names(&table.targets)));
        let numbers = |ns: &[f32]| ns.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
        self.nested(|p| {
            for row in &table.rows {
                p.line(&format!("Row [{}] -> [{}]", numbers(table.row_inputs(row)), numbers(table.row_targets(row))));
            }
        });
    }

    fn model_stmt(&mut self, stmt: &ModelStmt) {
        match stmt {
            ModelStmt::Input { dims: Some(dims), .. } => {
                let dims: Vec<String> = dims.iter().map(|d| d.value.to_string()).collect();
                self.line(&format!("Input {}", dims.join("x")))
            }
            ModelStmt::Input { dims: None, .. } => self.line("Input auto"),
            ModelStmt::Layer(layer) => {
                let size = layer.size.as_ref().map_or(String::new(), |n| format!(" size={}", n.value));
                let words: String = layer.words.iter().map(|w| format!(" {}", w.name)).collect();
                self.line(&format!("Layer {}{size}{words}", layer.kind.name));
                self.nested(|p| {
                    for option in &layer.options {
                        p.line(&format!("Option {} = {}", option.key.name, value_text(&option.value)));
                    }
                });
            }
        }
    }

    fn setting(&mut self, setting: &Setting) {
        let values: Vec<String> = setting.values.iter().map(value_text).collect();
        self.line(&format!("Setting {} [{}]", setting.key.name, values.join(", ")));
    }
}

fn value_text(value: &Value) -> String {
    match &value.kind {
        ValueKind::Number(n) => n.to_string(),
        ValueKind::Str(s) => format!("{s:?}"),
        ValueKind::Ident(name) => name.clone(),
        ValueKind::Range(from, to) => format!("{}..{}", from.name, to.name),
        ValueKind::List(items) => format!("[{}]", items.iter().map(value_text).collect::<Vec<_>>().join(", ")),
        ValueKind::Call(callee, args) => {
            let args: Vec<String> = args
                .iter()
                .map(|arg| match arg {
                    Arg::Named(kv) => format!("{} = {}", kv.key.name, value_text(&kv.value)),
                    Arg::Positional(v) => value_text(v),
                })
                .collect();
            format!("{}({})", callee.name, args.join(", "))
        }
    }
}

/// An expression fully parenthesised, so the printed form shows precedence.
pub fn expr_text(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Number(n) => n.to_string(),
        ExprKind::Var(name) => name.clone(),
        ExprKind::Neg(inner) => format!("(-{})", expr_text(inner)),
        ExprKind::Binary(op, lhs, rhs) => format!("({} {} {})", expr_text(lhs), op.symbol(), expr_text(rhs)),
        ExprKind::Call(callee, arg) => format!("{}({})", callee.name, expr_text(arg)),
    }
}
