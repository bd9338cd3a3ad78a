//! `nnc explain`: the equations the compiler derived, in the course's notation.
//!
//! The forward graph is lowered, differentiated and given its optimizer update exactly as
//! for training, then optimised; every named value (layer outputs, the loss, each δ, each
//! parameter gradient and update) is printed as the expression the optimised graph
//! computes for it. Nothing is written per example: another program gets its own
//! equations. The simplifications listed are the ones the passes made.

use crate::expr::{Builder, Expr, Over, Style, per_row, print};
use crate::names::{is_scalar_model, layer_values, param_name};
use nnc_autodiff::{adjoints, append_updates};
use nnc_check::{Activation, LayerKind, Loss};
use nnc_driver::{Checked, JobPlan, MinimizePlan};
use nnc_ir::{Graph, Op, ValueId};
use nnc_lower::{Mode, lower_forward};
use std::collections::HashMap;
use std::fmt::Write;

/// Which part of a step an equation belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Forward,
    Backward,
    Update,
}

/// One line: `name = expression [shape]`, or `name ← expression` for an update.
#[derive(Clone, Debug)]
pub struct Equation {
    pub part: Part,
    pub name: String,
    /// Other names of the same value (`∂L/∂ŷ` for `δ2`).
    pub aliases: Vec<String>,
    pub expr: Expr,
    pub shape: Vec<usize>,
    /// The element-wise form, for one-feature linear models: `(1/N) Σᵢ 2(w·xᵢ + b − yᵢ)·xᵢ`.
    pub indexed: Option<Expr>,
}

/// Everything `nnc explain` prints for one block.
#[derive(Clone, Debug)]
pub struct Explanation {
    pub title: String,
    pub rows: usize,
    pub equations: Vec<Equation>,
    /// Convolutions and pools written element by element, in the course's index notation.
    pub index_forms: Vec<String>,
    /// What lowering and the passes changed, in words.
    pub simplifications: Vec<String>,
}

/// Every block of a checked program.
pub fn explain_program(checked: &Checked) -> Vec<Explanation> {
    let minimizations = checked.minimizations.iter().map(explain_minimization);
    minimizations.chain(checked.jobs.iter().map(explain_job)).collect()
}

/// A training step as `explain` and `trace` see it: the optimised graph (forward, backward,
/// update) for a batch of `rows` rows, the course name of each value that has one, and
/// the equations in order: `(part, value, name and aliases)`.
pub struct Derived {
    pub graph: Graph,
    pub names: HashMap<ValueId, String>,
    pub equations: Vec<(Part, ValueId, Vec<String>)>,
    pub changes: Vec<nnc_opt::Change>,
    pub rows: usize,
}

pub fn explain_job(plan: &JobPlan) -> Explanation {
    let derived = derive_job(plan, plan.batch);
    let (job, model, rows) = (&plan.job, &plan.job.model, plan.batch);
    let builder = Builder { graph: &derived.graph, names: derived.names.clone(), rows };
    let mut built: Vec<Equation> = derived
        .equations
        .iter()
        .map(|(part, v, names)| Equation {
            part: *part,
            name: names[0].clone(),
            aliases: names[1..].to_vec(),
            expr: per_row(builder.define(*v), rows, &[model.output_width().unwrap_or(1)]),
            shape: derived.graph.shape(*v).dims().to_vec(),
            indexed: None,
        })
        .collect();
    if is_scalar_model(model) {
        add_indexed_forms(&mut built, &builder, &derived.names);
    }
    Explanation {
        title: title(plan),
        rows,
        equations: built,
        index_forms: index_forms(model),
        simplifications: simplifications(job.train.loss, &derived.changes, model),
    }
}

/// `z1_{i,j,f} = Σ_{u,v,c} X_{i+u−1, j+v−1, c} · W1_{u,v,c,f} + b1_f` for each convolution,
/// and the max or mean of each pool's windows: what `windows(·)` in the equations means.
fn index_forms(model: &nnc_check::Model) -> Vec<String> {
    let name_of = |source: nnc_check::Source| match source {
        nnc_check::Source::Input => "X".to_string(),
        nnc_check::Source::Layer(i) if model.layers[i].activation != Activation::Identity => format!("h{}", i + 1),
        nnc_check::Source::Layer(i) => format!("z{}", i + 1),
    };
    let mut out = Vec::new();
    for (index, layer) in model.layers.iter().enumerate() {
        let k = index + 1;
        let input = name_of(layer.from);
        let size = model.features(layer.from).dims();
        match layer.kind {
            LayerKind::Conv { kernel, stride, padding, series, .. } => {
                let spatial = if series { [1, size[0]] } else { [size[0], size[1]] };
                let (before, _) = nnc_check::conv_padding(kernel, stride, padding, spatial);
                let at = |axis: usize, i: &str, u: &str| window_index(i, u, stride[axis], before[axis]);
                let (out_index, window, place) = if series {
                    ("t,f", "u,c", format!("{}, c", at(1, "t", "u")))
                } else {
                    ("i,j,f", "u,v,c", format!("{}, {}, c", at(0, "i", "u"), at(1, "j", "v")))
                };
                let border = if before.iter().any(|&p| p > 0) { "; 0 outside the input" } else { "" };
                let w_index = if series { "u,c,f" } else { "u,v,c,f" };
                let ranges =
                    if series { format!("u < {}", kernel[1]) } else { format!("u < {}, v < {}", kernel[0], kernel[1]) };
                out.push(format!(
                    "z{k}_{{{out_index}}} = Σ_{{{window}}} {input}_{{{place}}} · W{k}_{{{w_index}}} + b{k}_f    ({ranges}{border})"
                ));
            }
            LayerKind::Pool { max, size: window, stride, series, .. } => {
                let at = |axis: usize, i: &str, u: &str| window_index(i, u, stride[axis], 0);
                let (out_index, over, place, count) = if series {
                    ("t,c", "u", format!("{}, c", at(1, "t", "u")), window[1])
                } else {
                    ("i,j,c", "u,v", format!("{}, {}, c", at(0, "i", "u"), at(1, "j", "v")), window[0] * window[1])
                };
                let reduce = if max { format!("max_{{{over}}}") } else { format!("(1/{count}) Σ_{{{over}}}") };
                out.push(format!("z{k}_{{{out_index}}} = {reduce} {input}_{{{place}}}"));
            }
            _ => {}
        }
    }
    out
}

/// `2i+u−1`: where window `i`'s offset `u` falls in the input, with `stride` and a zero
/// border of `before`.
fn window_index(i: &str, u: &str, stride: usize, before: usize) -> String {
    let step = if stride == 1 { i.to_string() } else { format!("{stride}{i}") };
    let border = if before == 0 { String::new() } else { format!("−{before}") };
    format!("{step}+{u}{border}")
}

/// Derives the training step of `plan` for a batch of `rows` rows.
pub fn derive_job(plan: &JobPlan, rows: usize) -> Derived {
    let (job, model) = (&plan.job, &plan.job.model);
    let forward = lower_forward(model, job.train.loss, Some(job.train.loss_span), rows, Mode::Train);
    let mut graph = forward.graph.clone();
    graph.outputs = vec![("loss".to_string(), forward.loss)];
    let adjoint = adjoints(&mut graph, forward.loss);
    let param_grads: Vec<Option<ValueId>> =
        param_values(&forward.graph).into_iter().map(|v| adjoint[v.index()]).collect();
    append_updates(&mut graph, &param_grads, &job.train.optimizer);
    let optimized = nnc_opt::optimize_traced(&graph);
    let at = |v: ValueId| optimized.map.get(v.index()).copied().flatten();

    let mut named = Named::default();
    let scalar = is_scalar_model(model);
    for (slot, decl) in optimized.graph.params.iter().enumerate() {
        if let Some(v) = param_value(&optimized.graph, slot) {
            named.add(v, param_name(model, &decl.name));
        }
    }
    for (slot, decl) in optimized.graph.inputs.iter().enumerate() {
        let name = match decl.name.as_str() {
            "x" if scalar => "x",
            "x" => "X",
            "lr" => "η",
            other => other,
        };
        if let Some(v) = input_value(&optimized.graph, slot) {
            named.add(v, name.to_string());
        }
    }
    let layers = layer_values(&forward.graph, model);
    let last = layers.len().saturating_sub(1);
    let index = |k: usize| if layers.len() == 1 { String::new() } else { (k + 1).to_string() };
    let regression = matches!(job.train.loss, Loss::Mse | Loss::Mae);
    let mut forward_lines = Vec::new();
    for (k, &(z, h)) in layers.iter().enumerate().filter_map(|(k, l)| Some((k, l.as_ref()?))) {
        let output_is_z = k == last && h.is_none() && regression;
        let z_name = if output_is_z { "ŷ".to_string() } else { format!("z{}", index(k)) };
        forward_lines.push((z, z_name));
        if let Some(h) = h {
            let h_name = if k == last { "ŷ".to_string() } else { format!("h{}", index(k)) };
            forward_lines.push((h, h_name));
        }
    }
    forward_lines.push((forward.loss, "L".to_string()));
    let mut backward_lines = Vec::new();
    for (k, &(z, h)) in layers.iter().enumerate().rev().filter_map(|(k, l)| Some((k, l.as_ref()?))) {
        if k == last
            && let Some(h) = h
            && regression
        {
            backward_lines.push((adjoint[h.index()], "∂L/∂ŷ".to_string()));
        }
        let delta = if k == last && h.is_none() && regression {
            vec![format!("δ{}", index(k)), "∂L/∂ŷ".to_string()]
        } else {
            vec![format!("δ{}", index(k))]
        };
        backward_lines.push((adjoint[z.index()], delta.join("=")));
        for decl in layer_params(&forward.graph, &model.layers[k]) {
            let v = param_value_named(&forward.graph, &decl).expect("a declared parameter has a value");
            backward_lines.push((adjoint[v.index()], format!("∂L/∂{}", param_name(model, &decl))));
        }
    }
    let mut equations = Vec::new();
    for (v, name) in forward_lines {
        if let Some(v) = at(v) {
            named.add(v, name.clone());
            equations.push((Part::Forward, v, name));
        }
    }
    for (v, name) in backward_lines {
        if let Some(v) = v.and_then(at) {
            let mut names = name.split('=').map(str::to_string);
            let first = names.next().unwrap_or_default();
            named.add(v, first.clone());
            let aliases: Vec<String> = names.collect();
            equations.push((Part::Backward, v, [vec![first], aliases].concat().join("=")));
        }
    }
    for &(slot, v) in &optimized.graph.updates {
        let name = param_name(model, &optimized.graph.params[slot as usize].name);
        // Another update that reads this new value (momentum's velocity) says so: v(w)′.
        named.add(v, format!("{name}′"));
        equations.push((Part::Update, v, name));
    }
    let equations =
        equations.into_iter().map(|(part, v, name)| (part, v, name.split('=').map(str::to_string).collect())).collect();
    Derived { graph: optimized.graph, names: named.names, equations, changes: optimized.changes, rows }
}

#[derive(Default)]
struct Named {
    names: HashMap<ValueId, String>,
}

impl Named {
    /// Names `v` unless it already has a name (the first name of a value is its name).
    fn add(&mut self, v: ValueId, name: String) {
        self.names.entry(v).or_insert(name);
    }
}

fn param_values(graph: &Graph) -> Vec<ValueId> {
    (0..graph.params.len()).filter_map(|slot| param_value(graph, slot)).collect()
}

fn param_value(graph: &Graph, slot: usize) -> Option<ValueId> {
    graph.values().find(|&v| graph.inst(v).op == Op::Param(slot as u32))
}

fn input_value(graph: &Graph, slot: usize) -> Option<ValueId> {
    graph.values().find(|&v| graph.inst(v).op == Op::Input(slot as u32))
}

fn param_value_named(graph: &Graph, name: &str) -> Option<ValueId> {
    let slot = graph.params.iter().position(|d| d.name == name)?;
    param_value(graph, slot)
}

/// A layer's trained parameters, last first (the order the backward pass derives them
/// in: a dense layer's bias, then its weights).
fn layer_params(graph: &Graph, layer: &nnc_check::Layer) -> Vec<String> {
    let names = layer.params().into_iter().filter(|p| p.trained).map(|p| format!("{}.{}", layer.name, p.suffix));
    let mut names: Vec<String> = names.filter(|n| graph.params.iter().any(|d| &d.name == n)).collect();
    names.reverse();
    names
}

fn title(plan: &JobPlan) -> String {
    let job = &plan.job;
    let mut widths = vec![job.model.input.describe()];
    for layer in &job.model.layers {
        let size = match layer.kind {
            LayerKind::Dense { units } => units.to_string(),
            ref kind => format!("{} {}", kind.name(), layer.output.describe()),
        };
        match layer.activation {
            Activation::Identity => widths.push(size),
            other => widths.push(format!("{size} ({})", other.name())),
        }
    }
    format!(
        "train {} on {}: {}, loss {}, batch of N = {} rows",
        job.model.name,
        job.data.name.name,
        widths.join(" → "),
        job.train.loss.name(),
        plan.batch
    )
}

/// A metric loss in the course's notation: f(x_i) is row i's embedding, D its squared
/// distances within the batch.
fn metric_loss_in_words(metric: nnc_check::Metric) -> String {
    let distances = "with D_ij = ‖f(x_i) − f(x_j)‖² = ‖f(x_i)‖² + ‖f(x_j)‖² − 2 f(x_i)·f(x_j) for every pair of the batch \
                     (one product F Fᵀ), and S = Y Yᵀ marking the pairs of one class";
    match metric.kind {
        nnc_check::MetricKind::Triplet => format!(
            "triplet loss with batch-hard mining: L = (1/N) Σᵢ max(0, max_{{p: yₚ = yᵢ}} D_ip − min_{{n: yₙ ≠ yᵢ}} D_in + α), \
             α = {}, {distances}; each row's hardest positive and hardest negative are found in the batch, and the \
             gradient flows only through those two distances",
            metric.margin
        ),
        nnc_check::MetricKind::Contrastive => format!(
            "contrastive loss: L = (1/N²) Σᵢⱼ ½ [S_ij D_ij + (1 − S_ij) max(0, α − √D_ij)²], α = {}, {distances}; \
             pairs of one class are pulled together, pairs of different classes pushed apart until they are α apart",
            metric.margin
        ),
    }
}

/// What lowering chose and the passes changed, in words.
fn simplifications(loss: Loss, changes: &[nnc_opt::Change], model: &nnc_check::Model) -> Vec<String> {
    let mut out = Vec::new();
    match loss {
        Loss::SoftmaxCe => out.push(
            "softmax + cross-entropy: the loss is lowered as mean(logsumexp(z) − Σⱼ y ⊙ z), equal to \
             −mean(Σⱼ y ⊙ log softmax(z)) for one-hot y, so autodiff derives δ = (softmax(z) − y)/N; \
             the row maximum subtracted for stability carries no gradient"
                .to_string(),
        ),
        Loss::Bce => out.push(
            "sigmoid + binary cross-entropy: the loss is computed from the logits as \
             max(z, 0) − z ⊙ y + log1p(exp(−|z|)), finite for every z and precise where the loss is tiny"
                .to_string(),
        ),
        Loss::Metric(metric) => out.push(metric_loss_in_words(metric)),
        Loss::Mse | Loss::Mae => {}
    }
    if model.layers.iter().any(|l| l.activation == Activation::Relu) {
        let masks = changes.iter().filter(|c| c.pass == "mask-from-output").count();
        if masks > 0 {
            out.push(format!(
                "ReLU's derivative 1[z > 0] is computed as 1[h > 0] from the activation the forward pass keeps \
                 ({masks} mask{})",
                if masks == 1 { "" } else { "s" }
            ));
        }
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for change in changes.iter().filter(|c| c.pass != "mask-from-output") {
        match counts.iter_mut().find(|(rule, _)| *rule == change.rule) {
            Some((_, n)) => *n += 1,
            None => counts.push((change.rule, 1)),
        }
    }
    for (rule, n) in counts {
        let what = match rule {
            "unused" => "instructions nothing reads, removed".to_string(),
            "computed before" => "repeated computations, merged".to_string(),
            "folded constant" => "constant expressions, folded".to_string(),
            rule if rule.starts_with("f(window_sum") => {
                "derivatives applied inside a pool's gradient (its windows tile the image)".to_string()
            }
            other => format!("`{other}`"),
        };
        out.push(format!("{what}: {n}"));
    }
    out
}

/// Element-wise forms of the loss and the gradients of a one-feature linear model.
fn add_indexed_forms(equations: &mut [Equation], builder: &Builder, names: &HashMap<ValueId, String>) {
    let definitions: HashMap<String, Expr> =
        equations.iter().filter(|e| e.part != Part::Update).map(|e| (e.name.clone(), e.expr.clone())).collect();
    let row_valued: Vec<String> = names
        .iter()
        .filter(|(v, _)| builder.graph.shape(**v).numel() == builder.rows && builder.rows > 1)
        .map(|(_, n)| n.clone())
        .collect();
    for equation in equations.iter_mut().filter(|e| e.part != Part::Update) {
        if equation.name == "x" || row_valued.contains(&equation.name) {
            continue;
        }
        let indexed = Indexer { definitions: &definitions, row_valued: &row_valued }.index(equation.expr.clone());
        equation.indexed = Some(pull_rows(indexed));
    }
}

struct Indexer<'a> {
    definitions: &'a HashMap<String, Expr>,
    row_valued: &'a [String],
}

impl Indexer<'_> {
    fn rows(&self, e: &Expr) -> bool {
        match e {
            Expr::Sym(name) => self.row_valued.contains(name),
            Expr::Transpose(x) => self.rows(x),
            _ => false,
        }
    }

    fn index(&self, e: Expr) -> Expr {
        let b = |x: Expr| Box::new(self.index(x));
        match e {
            Expr::Sym(name) if self.row_valued.contains(&name) => match self.definitions.get(&name) {
                Some(definition) => self.index(definition.clone()),
                None => Expr::Sym(format!("{name}ᵢ")),
            },
            Expr::MatMul(a, w) if self.rows(&a) && !matches!(*a, Expr::Transpose(_)) => Expr::Scale(b(*w), b(*a)),
            Expr::MatMul(a, d) => match *a {
                Expr::Transpose(x) => Expr::Sum(Over::Rows, Box::new(Expr::Scale(b(*d), b(*x)))),
                a => Expr::MatMul(b(a), b(*d)),
            },
            Expr::Sum(_, x) => Expr::Sum(Over::Rows, b(*x)),
            Expr::Call("mean", args) => {
                let inner = args.into_iter().next().map(|a| self.index(a)).unwrap_or(Expr::Num(0.0));
                Expr::Div(Box::new(Expr::Sum(Over::Rows, Box::new(inner))), Box::new(Expr::Rows))
            }
            Expr::Neg(x) => Expr::Neg(b(*x)),
            Expr::Add(x, y) => Expr::Add(b(*x), b(*y)),
            Expr::Sub(x, y) => Expr::Sub(b(*x), b(*y)),
            Expr::Scale(x, y) => Expr::Scale(b(*x), b(*y)),
            Expr::Hadamard(x, y) => Expr::Scale(b(*x), b(*y)),
            Expr::Div(x, y) => Expr::Div(b(*x), b(*y)),
            Expr::Square(x) => Expr::Square(b(*x)),
            Expr::Transpose(x) => self.index(*x),
            Expr::Call(name, args) => Expr::Call(name, args.into_iter().map(|a| self.index(a)).collect()),
            Expr::Indicator(x, y) => Expr::Indicator(b(*x), b(*y)),
            leaf @ (Expr::Sym(_) | Expr::Num(_) | Expr::Rows) => leaf,
        }
    }
}

/// `Σᵢ (a/N)·x` → `(1/N) Σᵢ a·x`: the constant out of the sum.
fn pull_rows(e: Expr) -> Expr {
    match e {
        Expr::Sum(over, body) => match *body {
            Expr::Div(a, n) if *n == Expr::Rows => Expr::Div(Box::new(Expr::Sum(over, a)), n),
            Expr::Scale(c, x) => match *c {
                Expr::Div(a, n) if *n == Expr::Rows => {
                    Expr::Div(Box::new(Expr::Sum(over, Box::new(Expr::Scale(a, x)))), n)
                }
                c => Expr::Sum(over, Box::new(Expr::Scale(Box::new(c), x))),
            },
            body => Expr::Sum(over, Box::new(body)),
        },
        other => other,
    }
}

/// A `minimize` block's descent step as `explain` and `trace` see it.
pub fn derive_minimization(plan: &MinimizePlan) -> Derived {
    let minimization = &plan.minimization;
    let mut graph = minimization.graph.clone();
    graph.outputs = vec![("value".to_string(), minimization.objective)];
    let adjoint = adjoints(&mut graph, minimization.objective);
    let grads: Vec<Option<ValueId>> =
        param_values(&minimization.graph).into_iter().map(|v| adjoint[v.index()]).collect();
    append_updates(&mut graph, &grads, &nnc_autodiff::Optimizer::sgd());
    let optimized = nnc_opt::optimize_traced(&graph);
    let at = |v: ValueId| optimized.map.get(v.index()).copied().flatten();
    let mut named = Named::default();
    for (slot, decl) in optimized.graph.params.iter().enumerate() {
        if let Some(v) = param_value(&optimized.graph, slot) {
            named.add(v, decl.name.clone());
        }
    }
    if let Some(lr) = optimized.graph.inputs.iter().position(|d| d.name == "lr")
        && let Some(v) = input_value(&optimized.graph, lr)
    {
        named.add(v, "η".to_string());
    }
    let mut equations = Vec::new();
    if let Some(v) = at(minimization.objective) {
        named.add(v, "f".to_string());
        equations.push((Part::Forward, v, "f".to_string()));
    }
    for ((name, _), grad) in minimization.params.iter().zip(&grads) {
        if let Some(v) = grad.and_then(at) {
            named.add(v, format!("∂f/∂{name}"));
            equations.push((Part::Backward, v, format!("∂f/∂{name}")));
        }
    }
    for &(slot, v) in &optimized.graph.updates {
        equations.push((Part::Update, v, optimized.graph.params[slot as usize].name.clone()));
    }
    let equations = equations.into_iter().map(|(part, v, name)| (part, v, vec![name])).collect();
    Derived { graph: optimized.graph, names: named.names, equations, changes: optimized.changes, rows: 1 }
}

pub fn explain_minimization(plan: &MinimizePlan) -> Explanation {
    let minimization = &plan.minimization;
    let derived = derive_minimization(plan);
    let builder = Builder { graph: &derived.graph, names: derived.names.clone(), rows: 1 };
    let equations = derived
        .equations
        .iter()
        .map(|(part, v, names)| Equation {
            part: *part,
            name: names[0].clone(),
            aliases: Vec::new(),
            expr: builder.define(*v),
            shape: Vec::new(),
            indexed: None,
        })
        .collect();
    Explanation {
        title: format!(
            "minimize {}: f = {}, gradient descent with η = {}",
            minimization.name, minimization.formula, minimization.learning_rate
        ),
        rows: 1,
        equations,
        index_forms: Vec::new(),
        simplifications: simplifications(Loss::Mse, &derived.changes, &empty_model()),
    }
}

fn empty_model() -> nnc_check::Model {
    nnc_check::Model {
        name: String::new(),
        input: nnc_check::Features::Flat(0),
        input_auto: false,
        layers: Vec::new(),
        input_span: nnc_diagnostics::Span::default(),
        settled: true,
    }
}

/// The text of `nnc explain` (Unicode) or `nnc explain --latex`.
pub fn render(explanations: &[Explanation], style: Style) -> String {
    let mut out = String::new();
    for (index, explanation) in explanations.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        match style {
            Style::Text => render_text(&mut out, explanation),
            Style::Latex => render_latex(&mut out, explanation),
        }
    }
    out
}

fn part_title(part: Part) -> &'static str {
    match part {
        Part::Forward => "forward",
        Part::Backward => "backward (reverse-mode autodiff, as compiled)",
        Part::Update => "update",
    }
}

fn shape_text(shape: &[usize]) -> String {
    if shape.is_empty() {
        String::new()
    } else {
        format!("[{}]", shape.iter().map(usize::to_string).collect::<Vec<_>>().join("×"))
    }
}

fn render_text(out: &mut String, explanation: &Explanation) {
    let _ = writeln!(out, "{}", explanation.title);
    let mut part = None;
    let lines: Vec<(String, String)> = explanation
        .equations
        .iter()
        .map(|e| {
            let arrow = if e.part == Part::Update { "←" } else { "=" };
            let names: Vec<&str> =
                std::iter::once(e.name.as_str()).chain(e.aliases.iter().map(String::as_str)).collect();
            (format!("{} {arrow} {}", names.join(" = "), print(&e.expr, Style::Text)), shape_text(&e.shape))
        })
        .collect();
    let width = lines.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    for (equation, (line, shape)) in explanation.equations.iter().zip(&lines) {
        if part != Some(equation.part) {
            part = Some(equation.part);
            let _ = writeln!(out, "\n{}", part_title(equation.part));
        }
        let pad = width - line.chars().count();
        let _ = writeln!(out, "  {line}{}  {shape}", " ".repeat(pad)).map(|_| ());
        if let Some(indexed) = &equation.indexed {
            let _ = writeln!(out, "      {} = {}", equation.name, print(indexed, Style::Text).replace("Σ_rows", "Σᵢ"));
        }
    }
    if !explanation.index_forms.is_empty() {
        let _ = writeln!(out, "\nwindows, element by element");
        for line in &explanation.index_forms {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !explanation.simplifications.is_empty() {
        let _ = writeln!(out, "\nsimplifications");
        for line in &explanation.simplifications {
            let _ = writeln!(out, "  - {line}");
        }
    }
    // Trailing spaces from the padding of shapeless lines.
    *out = out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n";
}

fn render_latex(out: &mut String, explanation: &Explanation) {
    let _ = writeln!(out, "% {}", explanation.title);
    let _ = writeln!(out, "\\begin{{align*}}");
    let mut part = None;
    for equation in &explanation.equations {
        if part != Some(equation.part) {
            part = Some(equation.part);
            let _ = writeln!(out, "&\\text{{{}}} \\\\", part_title(equation.part));
        }
        let arrow = if equation.part == Part::Update { "\\leftarrow" } else { "=" };
        let names: Vec<String> =
            std::iter::once(&equation.name).chain(&equation.aliases).map(|n| crate::expr::latex_name(n)).collect();
        let _ = writeln!(out, "{} &{arrow} {} \\\\", names.join(" = "), print(&equation.expr, Style::Latex));
        if let Some(indexed) = &equation.indexed {
            let text = print(indexed, Style::Latex).replace("\\sum_{\\text{rows}}", "\\sum_i");
            let _ = writeln!(out, "{} &= {text} \\\\", crate::expr::latex_name(&equation.name));
        }
    }
    let _ = writeln!(out, "\\end{{align*}}");
}
