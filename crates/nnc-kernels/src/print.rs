//! The text form of the kernel IR (stage `kernels`), stable for golden tests.
//!
//! ```text
//! program @mlp.step: 8 kernels, arena 64 floats
//!   b0 x: 8 floats, input 0 (rows)
//!   b9 %9: 32 floats, arena [0, 32) live k0..k3
//! k0 matmul 4x8x2 tiled: dense1, dense1.relu  (%4 %6 %9)
//!   a = b0[2·rows(i) + p]  b = b2[8p + j]
//!   v0 = acc
//!   v1 = load b3[j]
//!   ...
//!   b9[8i + j] = v4
//! ```
//! Loop axes are named `i j l m ...` (a matmul's reduction axis is `p`); a gathered axis
//! reads `rows(axis)`; a store with `+=` or `max=` reduces.

use crate::ir::*;
use crate::plan::live_ranges;
use nnc_diagnostics::LineIndex;
use std::fmt::Write;

const AXES: [&str; 6] = ["i", "j", "l", "m", "q", "r"];

pub fn print_program(program: &Program) -> String {
    print_program_with(program, None)
}

/// [`print_program`], with each kernel's source lines.
pub fn print_program_with(program: &Program, lines: Option<&LineIndex>) -> String {
    let mut out =
        format!("program @{}: {} kernels, arena {} floats\n", program.name, program.kernels.len(), program.arena_len);
    let ranges = live_ranges(program);
    for (index, buffer) in program.buffers.iter().enumerate() {
        let place = match buffer.storage {
            Storage::Input(n) if program.row_inputs.contains(&n) => format!("input {n} (rows)"),
            Storage::Input(n) => format!("input {n}"),
            Storage::Param(n) => format!("param {n}"),
            Storage::Output(n) => format!("output {n}"),
            Storage::Arena(offset) => match ranges[index] {
                Some((first, last)) => format!("arena [{offset}, {}) live k{first}..k{last}", offset + buffer.len),
                None => "unused".to_string(),
            },
        };
        let _ = writeln!(out, "  b{index} {}: {} floats, {place}", buffer.name, buffer.len);
    }
    for (index, kernel) in program.kernels.iter().enumerate() {
        out.push_str(&print_kernel(index, kernel, lines));
    }
    for note in &program.notes {
        let _ = writeln!(out, "; {note}");
    }
    out
}

fn print_kernel(index: usize, kernel: &Kernel, lines: Option<&LineIndex>) -> String {
    let covers: Vec<String> = kernel.covers.iter().map(|v| v.to_string()).collect();
    let mut origins =
        if kernel.origins.is_empty() { String::new() } else { format!(": {}", kernel.origins.join(", ")) };
    if let Some(lines) = lines {
        let mut numbers: Vec<usize> = kernel.spans.iter().map(|&s| lines.line(s)).collect();
        numbers.dedup();
        let numbers: Vec<String> = numbers.iter().map(usize::to_string).collect();
        match numbers.len() {
            0 => {}
            1 => origins.push_str(&format!(" [line {}]", numbers[0])),
            _ => origins.push_str(&format!(" [lines {}]", numbers.join(", "))),
        }
    }
    let mut out = match &kernel.kind {
        KernelKind::Loop { dims, .. } => format!("k{index} loop {dims:?}{origins}  ({})\n", covers.join(" ")),
        KernelKind::Matmul(mm) => {
            let strategy = mm.strategy;
            let mut head =
                format!("k{index} matmul {}x{}x{} {strategy}{origins}  ({})\n", mm.m, mm.n, mm.k, covers.join(" "));
            let _ = writeln!(head, "  a = {}  b = {}", view_text(&mm.a, &["i", "p"]), view_text(&mm.b, &["p", "j"]));
            match (mm.acc, &mm.finish) {
                (Some(acc), Some(finish)) => {
                    let bias =
                        finish.bias.as_ref().map_or(String::new(), |b| format!(" + {}", view_text(b, &["i", "j"])));
                    let value = if finish.relu { format!("max(a·b{bias}, 0)") } else { format!("a·b{bias}") };
                    let value = match &finish.mask {
                        Some(mask) => format!("{value} · ({} > 0)", view_text(mask, &["i", "j"])),
                        None => value,
                    };
                    let _ = writeln!(head, "  {acc}[{}·i + j] = {value}  (in registers)", mm.n);
                    if let Some(sums) = finish.sums {
                        let _ = writeln!(head, "  {sums}[j] = Σ_i {acc}[{}·i + j]  (in registers)", mm.n);
                    }
                    if let Some(Softmax { max, exps, total }) = finish.softmax {
                        let n = mm.n;
                        let _ = writeln!(
                            head,
                            "  {max}[i] = max_j {acc}[{n}·i + j], {exps}[{n}·i + j] = exp({acc}[{n}·i + j] - {max}[i]), \
                             {total}[i] = Σ_j {exps}[{n}·i + j]  (rows, as stored)"
                        );
                    }
                }
                (Some(acc), None) => {
                    let _ = writeln!(head, "  {acc}[{}·i + j] = a·b", mm.n);
                }
                (None, _) => {}
            }
            if let Some(update) = mm.accumulate {
                let into = update.into;
                let _ = writeln!(
                    head,
                    "  {into}[{}·i + j] = {} · {into}[{}·i + j] + {} · a·b",
                    mm.n, update.alpha, mm.n, update.beta
                );
            }
            head
        }
    };
    let axes: Vec<&str> = AXES.iter().copied().take(kernel.dims().len()).collect();
    let body = kernel.body();
    for (i, node) in body.nodes.iter().enumerate() {
        let text = match node {
            Node::Load(view) => format!("load {}", view_text(view, &axes)),
            Node::Const(c) => format!("{c:?}"),
            Node::Acc => "acc".to_string(),
            Node::Random { salt, seed, offset, strides } => {
                let index = View { buffer: BufferId(0), offset: *offset, strides: strides.clone(), gather: None };
                let index = view_text(&index, &axes);
                format!("random {seed}, salt {salt}, element {}", &index[index.find('[').unwrap_or(0)..])
            }
            Node::Unary(op, a) => format!("{} {a}", op.name()),
            Node::Binary(op, a, b) => format!("{} {a}, {b}", op.name()),
        };
        let _ = writeln!(out, "  v{i} = {text}");
    }
    for store in &body.stores {
        let op = match store.combine {
            Combine::Write => "=",
            Combine::Sum => "+=",
            Combine::Add => "add=",
            Combine::Max => "max=",
        };
        let _ = writeln!(out, "  {} {op} {}", view_text(&store.view, &axes), store.value);
    }
    out
}

/// `b3[8i + j]`: the element a view reads at the loop indices.
fn view_text(view: &View, axes: &[&str]) -> String {
    let mut terms: Vec<String> = Vec::new();
    for (axis, &stride) in view.strides.iter().enumerate() {
        if stride == 0 {
            continue;
        }
        let name = axes.get(axis).copied().unwrap_or("?");
        let index = if view.gather == Some(axis) { format!("rows({name})") } else { name.to_string() };
        terms.push(if stride == 1 { index } else { format!("{stride}·{index}") });
    }
    if view.offset != 0 || terms.is_empty() {
        terms.push(view.offset.to_string());
    }
    format!("{}[{}]", view.buffer, terms.join(" + "))
}
