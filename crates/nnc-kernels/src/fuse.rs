//! `fuse`: a graph to kernels. The one pass from the graph IR to the kernel IR.
//!
//! Every graph value ends up in one of three places:
//! - **inlined**: computed inside each kernel that reads it (elementwise ops and chains of
//!   movement ops, unpadded windows no product reads whole, constants), through an index
//!   map, never stored;
//! - a **root**: computed once by one kernel (products, reductions, outputs, parameter
//!   updates, matmul operands, and values read more than once whose computation is costly)
//!   and stored only when a later kernel reads it;
//! - a **leaf** buffer: inputs and parameters.
//!
//! Roots are visited in graph order. A matrix product opens a [`Matmul`] kernel; any other
//! root joins the earliest kernel at or after the kernels it depends on that has its
//! iteration space and no hazard (reading a buffer the kernel writes through another view,
//! updating a parameter some later kernel still reads), else opens a loop kernel. So bias,
//! activation, loss terms, their derivatives, column sums and the optimizer update become
//! epilogues of the products that produce their operands, elementwise chains become one
//! loop, and a reduction joins the loop that produces what it reduces.

mod layout;

use crate::index::IndexMap;
use crate::ir::*;
use nnc_diagnostics::Span;
use nnc_ir::{Graph, Op, OpClass, Shape, ValueId};
use std::collections::HashMap;

/// Choices the code generator's measurements make for the fuser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Products of at least this many multiply-adds call the GEMM library (nnc's product
    /// kernel for the CPU class, for all but the largest); smaller ones are register
    /// tiles of generated code.
    pub library_macs: usize,
    /// The same for a narrow product, one of whose sides is below [`NARROW_SIDE`]: its
    /// vectors would be mostly empty lanes in the library's kernels, while the tiles put
    /// a narrow side across their rows.
    pub narrow_library_macs: usize,
    /// Products of at least this many multiply-adds run on `threads` threads.
    pub parallel_macs: usize,
    pub threads: usize,
    /// The code generator splits loop kernels of at least this many points between the
    /// threads (`threads.rs` puts the products that read their halves on both threads).
    pub split_loop_points: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            library_macs: 2048,
            narrow_library_macs: 16384,
            parallel_macs: 1 << 21,
            threads: 2,
            split_loop_points: usize::MAX,
        }
    }
}

/// A product with a side (rows, columns or reduction) shorter than this is narrow
/// ([`Options::narrow_library_macs`]).
pub const NARROW_SIDE: usize = 4;

/// Lowers `graph` to kernels. `row_inputs` are the inputs whose first axis is the
/// batch's rows (gathered through a row table by the training loop).
pub fn fuse(graph: &Graph, row_inputs: &[u32], options: &Options) -> Program {
    let mut fuser = Fuser::new(graph, row_inputs, options);
    for value in graph.values() {
        fuser.visit(value);
    }
    fuser.finish()
}

/// Whether `op` is a window without padding (each window element is one pixel).
fn is_unpadded_window(op: &Op) -> bool {
    matches!(op, Op::Window(window) if window.before.iter().chain(&window.after).all(|&p| p == 0))
}

/// A kernel under construction.
struct Draft {
    kind: DraftKind,
    body: Body,
    /// The node of a value at an index map, so each is built once per kernel.
    memo: HashMap<(ValueId, IndexMap), NodeId>,
    /// Structural CSE of nodes.
    nodes: HashMap<NodeKey, NodeId>,
    covers: Vec<ValueId>,
}

enum DraftKind {
    Loop(Vec<usize>),
    Matmul { m: usize, n: usize, k: usize, a: View, b: View, strategy: Strategy },
}

impl Draft {
    fn dims(&self) -> Vec<usize> {
        match &self.kind {
            DraftKind::Loop(dims) => dims.clone(),
            DraftKind::Matmul { m, n, .. } => vec![*m, *n],
        }
    }

    fn push(&mut self, node: Node) -> NodeId {
        let key = NodeKey::of(&node);
        if let Some(&id) = self.nodes.get(&key) {
            return id;
        }
        let id = NodeId(self.body.nodes.len() as u32);
        self.body.nodes.push(node);
        self.nodes.insert(key, id);
        id
    }

    fn writes(&self, buffer: BufferId) -> bool {
        self.body.stores.iter().any(|s| s.view.buffer == buffer)
    }

    /// Views through which the kernel reads `buffer`.
    fn reads(&self, buffer: BufferId) -> Vec<&View> {
        let mut views: Vec<&View> = self
            .body
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Load(view) if view.buffer == buffer => Some(view),
                _ => None,
            })
            .collect();
        if let DraftKind::Matmul { a, b, .. } = &self.kind {
            views.extend([a, b].into_iter().filter(|v| v.buffer == buffer));
        }
        views
    }
}

/// A hashable node (constants by their bits).
#[derive(Clone, PartialEq, Eq, Hash)]
enum NodeKey {
    Load(View),
    Const(u32),
    Acc,
    Unary(Unary, NodeId),
    Binary(Binary, NodeId, NodeId),
    Random(u32, NodeId, usize, Vec<isize>),
}

impl NodeKey {
    fn of(node: &Node) -> NodeKey {
        match node {
            Node::Load(view) => NodeKey::Load(view.clone()),
            Node::Const(c) => NodeKey::Const(c.to_bits()),
            Node::Acc => NodeKey::Acc,
            Node::Unary(op, a) => NodeKey::Unary(*op, *a),
            Node::Binary(op, a, b) => NodeKey::Binary(*op, *a, *b),
            Node::Random { salt, seed, offset, strides } => NodeKey::Random(*salt, *seed, *offset, strides.clone()),
        }
    }
}

/// One thing a root reads, found before building it.
struct Read {
    /// The kernel computing it, when it is a root or a product.
    kernel: Option<usize>,
    /// Whether it is read at that kernel's own point (so it can be computed there instead).
    at_point: bool,
    /// The view it is loaded through, when it already has a buffer.
    view: Option<View>,
    /// The parameter it is (its value before this step's update).
    param: Option<u32>,
}

struct Fuser<'g> {
    graph: &'g Graph,
    options: &'g Options,
    row_inputs: Vec<u32>,
    buffers: Vec<Buffer>,
    /// The buffer holding each value, once it has one.
    buffer_of: Vec<Option<BufferId>>,
    /// The kernel computing each root and product.
    kernel_of: Vec<Option<usize>>,
    root: Vec<bool>,
    drafts: Vec<Draft>,
    /// Where each output and update goes: value → destinations.
    destinations: HashMap<ValueId, Vec<BufferId>>,
    /// Contiguous copies of gathered data inputs: (input buffer, copy).
    copies: Vec<(BufferId, BufferId)>,
    notes: Vec<String>,
}

impl<'g> Fuser<'g> {
    fn new(graph: &'g Graph, row_inputs: &[u32], options: &'g Options) -> Fuser<'g> {
        let mut fuser = Fuser {
            graph,
            options,
            row_inputs: row_inputs.to_vec(),
            buffers: Vec::new(),
            buffer_of: vec![None; graph.insts.len()],
            kernel_of: vec![None; graph.insts.len()],
            root: vec![false; graph.insts.len()],
            drafts: Vec::new(),
            destinations: HashMap::new(),
            copies: Vec::new(),
            notes: Vec::new(),
        };
        fuser.bind_slots();
        fuser.choose_roots();
        fuser
    }

    fn new_buffer(&mut self, name: String, len: usize, storage: Storage) -> BufferId {
        let id = BufferId(self.buffers.len() as u32);
        self.buffers.push(Buffer { name, len, storage });
        id
    }

    /// Inputs and parameters are leaf buffers; outputs and updates are destinations.
    fn bind_slots(&mut self) {
        let graph = self.graph;
        for (index, decl) in graph.inputs.iter().enumerate() {
            self.new_buffer(decl.name.clone(), decl.shape.numel(), Storage::Input(index as u32));
        }
        for (index, decl) in graph.params.iter().enumerate() {
            self.new_buffer(decl.name.clone(), decl.shape.numel(), Storage::Param(index as u32));
        }
        let param_base = graph.inputs.len();
        for value in graph.values() {
            self.buffer_of[value.index()] = match graph.inst(value).op {
                Op::Input(slot) => Some(BufferId(slot)),
                Op::Param(slot) => Some(BufferId((param_base + slot as usize) as u32)),
                _ => None,
            };
        }
        for (index, (name, value)) in graph.outputs.iter().enumerate() {
            let len = graph.shape(*value).numel();
            let buffer = self.new_buffer(name.clone(), len, Storage::Output(index as u32));
            self.destinations.entry(*value).or_default().push(buffer);
        }
        for (param, value) in &graph.updates {
            let buffer = BufferId((param_base + *param as usize) as u32);
            self.destinations.entry(*value).or_default().push(buffer);
        }
    }

    /// Decides which values are computed once (roots) instead of inlined where read.
    fn choose_roots(&mut self) {
        let graph = self.graph;
        let uses = graph.use_counts();
        let mut operand = vec![false; graph.insts.len()];
        for inst in &graph.insts {
            if inst.op == Op::MatMul {
                for &arg in &inst.args {
                    operand[self.through_movement(arg).index()] = true;
                }
            }
            if inst.op == Op::Reshape
                && IndexMap::identity(inst.shape.rank())
                    .through_reshape(graph.shape(inst.args[0]), &inst.shape)
                    .is_none()
            {
                // The reshape reads its source as a contiguous buffer: a slice (a
                // concat's gradient) is copied into one first.
                let source = inst.args[0];
                let contiguous = if matches!(graph.inst(source).op, Op::Slice { .. }) {
                    source
                } else {
                    self.through_movement(source)
                };
                operand[contiguous.index()] = true;
            }
        }
        for value in graph.values() {
            let inst = graph.inst(value);
            self.root[value.index()] = match inst.op.class() {
                OpClass::Reduce | OpClass::Contraction => true,
                // An unpadded window is a view of its images: stored only when a product
                // reads it whole (im2col) or it is an output.
                OpClass::Layout => {
                    !is_unpadded_window(&inst.op) || self.destinations.contains_key(&value) || operand[value.index()]
                }
                OpClass::Unary | OpClass::Binary => {
                    self.destinations.contains_key(&value)
                        || operand[value.index()]
                        || (uses[value.index()] >= 2 && self.costly(value))
                }
                // Outputs that are leaves or views of them need a kernel that copies them,
                // as does a slice that a reshape reads whole.
                OpClass::Movement => self.destinations.contains_key(&value) || operand[value.index()],
                OpClass::Leaf | OpClass::Generator => self.destinations.contains_key(&value),
            };
        }
    }

    /// The op class of `value` as the fuser treats it: an unpadded window that is not a
    /// root is read through its index map, like a movement op, so that a pool or a
    /// pool's gradient reads the activation itself rather than a copy of it in window
    /// order (W5 stored each pooled activation twice).
    fn class(&self, value: ValueId) -> OpClass {
        let op = &self.graph.inst(value).op;
        match op.class() {
            OpClass::Layout if is_unpadded_window(op) && !self.root[value.index()] => OpClass::Movement,
            class => class,
        }
    }

    /// Follows movement ops back to the value they view.
    fn through_movement(&self, mut value: ValueId) -> ValueId {
        while self.graph.inst(value).op.class() == OpClass::Movement {
            value = self.graph.inst(value).args[0];
        }
        value
    }

    /// Whether recomputing `value` where it is read costs more than loading it: its inlined
    /// computation holds an expensive op or many nodes.
    fn costly(&self, value: ValueId) -> bool {
        let (mut expensive, mut count, mut stack) = (false, 0, vec![value]);
        while let Some(v) = stack.pop() {
            let inst = self.graph.inst(v);
            if v != value && self.root[v.index()] {
                continue;
            }
            count += 1;
            expensive |= matches!(inst.op, Op::Exp | Op::Log | Op::Log1p | Op::Tanh | Op::Sqrt | Op::Div);
            if matches!(self.class(v), OpClass::Unary | OpClass::Binary | OpClass::Movement) {
                stack.extend(inst.args.iter().copied());
            }
        }
        expensive || count > 16
    }

    fn visit(&mut self, value: ValueId) {
        let inst = self.graph.inst(value);
        if inst.op == Op::MatMul {
            self.open_matmul(value);
        } else if inst.op.class() == OpClass::Layout && self.root[value.index()] {
            layout::place(self, value);
        } else if self.root[value.index()] {
            self.place_root(value);
        }
    }

    /// A view of a buffered value at `map`, with the row gather of data inputs.
    fn view_of(&self, value: ValueId, buffer: BufferId, map: &IndexMap) -> View {
        let shape = self.graph.shape(value);
        let gather = match self.buffers[buffer.index()].storage {
            Storage::Input(slot) if self.row_inputs.contains(&slot) => {
                let axis = map.sole_axis(0);
                debug_assert!(axis.is_some(), "internal error: data rows read off a loop axis");
                axis
            }
            _ => None,
        };
        View { buffer, offset: map.offset(shape), strides: map.strides(shape), gather }
    }

    /// The buffer and view of a matmul operand (a leaf or root read through movement ops).
    fn operand_view(&mut self, value: ValueId, dims: [usize; 2]) -> View {
        let mut map = IndexMap::identity(2);
        let mut current = value;
        loop {
            let inst = self.graph.inst(current);
            match inst.op {
                Op::Broadcast => map = map.through_broadcast(self.graph.shape(inst.args[0]), &inst.shape),
                Op::Transpose => map = map.through_transpose(),
                Op::StopGradient => {}
                Op::Slice { axis, start } => map = map.through_slice(axis, start),
                Op::Reshape => {
                    let view = self.reshaped_view(current, &map);
                    debug_assert_eq!(dims.len(), view.strides.len());
                    return view;
                }
                _ => break,
            }
            current = inst.args[0];
        }
        let buffer = self.materialise(current);
        self.view_of(current, buffer, &map)
    }

    /// The view of reshape `value`'s source read at the reshape's row-major offsets (a
    /// reshape keeps the element order). Data rows stay gathered when the batch axis is
    /// kept.
    fn reshaped_view(&mut self, value: ValueId, map: &IndexMap) -> View {
        let buffer = self.materialise(self.graph.inst(value).args[0]);
        self.reshaped_view_of(value, buffer, map)
    }

    fn reshaped_view_of(&self, value: ValueId, buffer: BufferId, map: &IndexMap) -> View {
        let inst = self.graph.inst(value);
        let source = inst.args[0];
        let keeps_rows = self.graph.shape(source).dims().first() == inst.shape.dims().first();
        let gather = match self.buffers[buffer.index()].storage {
            Storage::Input(slot) if self.row_inputs.contains(&slot) => {
                debug_assert!(keeps_rows, "internal error: a reshape of data rows across the batch axis");
                map.sole_axis(0).filter(|_| keeps_rows)
            }
            _ => None,
        };
        View { buffer, offset: map.offset(&inst.shape), strides: map.strides(&inst.shape), gather }
    }

    fn open_matmul(&mut self, value: ValueId) {
        let inst = self.graph.inst(value).clone();
        let (m, k) = (self.graph.shape(inst.args[0]).dims()[0], self.graph.shape(inst.args[0]).dims()[1]);
        let n = inst.shape.dims()[1];
        let mut a = self.operand_view(inst.args[0], [m, k]);
        let mut b = self.operand_view(inst.args[1], [k, n]);
        let macs = m * n * k;
        let narrow = m.min(n).min(k) < NARROW_SIDE;
        let library_macs = if narrow { self.options.narrow_library_macs } else { self.options.library_macs };
        let strategy = if macs >= library_macs {
            let threads = if macs >= self.options.parallel_macs { self.options.threads.max(1) } else { 1 };
            Strategy::Library { threads, halves: false }
        } else {
            Strategy::Tiled
        };
        if matches!(strategy, Strategy::Library { .. }) {
            // The library reads strided matrices, not gathered rows: copy the batch first.
            if a.gather.is_some() {
                a = self.gathered_copy(&a);
            }
            if b.gather.is_some() {
                b = self.gathered_copy(&b);
            }
        }
        let draft = Draft {
            kind: DraftKind::Matmul { m, n, k, a, b, strategy },
            body: Body::default(),
            memo: HashMap::new(),
            nodes: HashMap::new(),
            covers: vec![value],
        };
        self.drafts.push(draft);
        let kernel = self.drafts.len() - 1;
        self.kernel_of[value.index()] = Some(kernel);
        for destination in self.destinations.get(&value).cloned().unwrap_or_default() {
            let acc = self.drafts[kernel].push(Node::Acc);
            self.store(kernel, destination, acc, Combine::Write, None);
        }
    }

    /// The same view of a contiguous copy of the batch's rows of the data input it gathers:
    /// one copy per input, made by a loop kernel the first time a product needs it.
    fn gathered_copy(&mut self, view: &View) -> View {
        let copy = match self.copies.iter().find(|(source, _)| *source == view.buffer) {
            Some(&(_, copy)) => copy,
            None => {
                let Storage::Input(slot) = self.buffers[view.buffer.index()].storage else {
                    unreachable!("only data inputs are gathered")
                };
                let shape = self.graph.inputs[slot as usize].shape.clone();
                let name = format!("{} rows", self.buffers[view.buffer.index()].name);
                let copy = self.new_buffer(name, shape.numel(), Storage::Arena(0));
                let strides: Vec<isize> = shape.strides().into_iter().map(|s| s as isize).collect();
                let mut draft = Draft {
                    kind: DraftKind::Loop(shape.dims().to_vec()),
                    body: Body::default(),
                    memo: HashMap::new(),
                    nodes: HashMap::new(),
                    covers: Vec::new(),
                };
                let source = View { buffer: view.buffer, offset: 0, strides: strides.clone(), gather: Some(0) };
                let load = draft.push(Node::Load(source));
                let target = View { buffer: copy, offset: 0, strides, gather: None };
                draft.body.stores.push(Store { view: target, value: load, combine: Combine::Write });
                self.drafts.push(draft);
                self.copies.push((view.buffer, copy));
                let name = &self.buffers[view.buffer.index()].name;
                self.notes.push(format!("the GEMM library reads `{name}` through a copy of the batch's rows"));
                copy
            }
        };
        View { buffer: copy, gather: None, ..view.clone() }
    }

    /// The buffer holding `value`, giving it one (and the store that fills it) if needed.
    fn materialise(&mut self, value: ValueId) -> BufferId {
        if let Some(buffer) = self.buffer_of[value.index()] {
            return buffer;
        }
        if let Some(&first) = self.destinations.get(&value).and_then(|d| d.first())
            && matches!(self.buffers[first.index()].storage, Storage::Output(_))
        {
            self.buffer_of[value.index()] = Some(first);
            return first;
        }
        let shape = self.graph.shape(value).clone();
        let buffer = self.new_buffer(format!("{value}"), shape.numel(), Storage::Arena(0));
        self.buffer_of[value.index()] = Some(buffer);
        let kernel = self.kernel_of[value.index()].expect("internal error: a value read before it is computed");
        let node = if self.graph.inst(value).op == Op::MatMul {
            self.drafts[kernel].push(Node::Acc)
        } else {
            let key = (value, IndexMap::identity(self.drafts[kernel].dims().len()));
            *self.drafts[kernel].memo.get(&key).expect("internal error: a root without its node")
        };
        let strides = shape.strides().into_iter().map(|s| s as isize).collect();
        self.drafts[kernel].body.stores.push(Store {
            view: View { buffer, offset: 0, strides, gather: None },
            value: node,
            combine: Combine::Write,
        });
        buffer
    }

    /// What computing `value` at `map` would read, without building anything.
    fn reads(&self, value: ValueId, map: &IndexMap, top: bool, out: &mut Vec<Read>) {
        let inst = self.graph.inst(value);
        if !top {
            let view = self.buffer_of[value.index()].map(|buffer| self.view_of(value, buffer, map));
            if let Some(kernel) = self.kernel_of[value.index()] {
                // A reduction's result is complete only after its kernel, a layout's after
                // its kernels: never at point.
                let at_point = map.is_identity() && !matches!(inst.op.class(), OpClass::Reduce | OpClass::Layout);
                out.push(Read { kernel: Some(kernel), at_point, view, param: None });
                return;
            }
            if view.is_some() {
                let param = match inst.op {
                    Op::Param(slot) => Some(slot),
                    _ => None,
                };
                out.push(Read { kernel: None, at_point: false, view, param });
                return;
            }
        }
        match self.class(value) {
            OpClass::Leaf | OpClass::Contraction | OpClass::Layout => {}
            OpClass::Generator => self.reads(inst.args[0], &IndexMap::scalar(map.loop_rank()), false, out),
            OpClass::Unary | OpClass::Binary => {
                for &arg in &inst.args {
                    self.reads(arg, map, false, out);
                }
            }
            OpClass::Movement => match self.movement_map(value, map) {
                Some(inner) => self.reads(inst.args[0], &inner, false, out),
                None => {
                    // Read through a reshape: the source's buffer at the reshape's offsets.
                    let source = inst.args[0];
                    let view = self.buffer_of[source.index()].map(|b| self.reshaped_view_of(value, b, map));
                    let param = match self.graph.inst(source).op {
                        Op::Param(slot) => Some(slot),
                        _ => None,
                    };
                    out.push(Read { kernel: self.kernel_of[source.index()], at_point: false, view, param });
                }
            },
            OpClass::Reduce => self.reads(inst.args[0], map, false, out),
        }
    }

    /// The index map of a movement op's source, when the source can be inlined through it.
    fn movement_map(&self, value: ValueId, map: &IndexMap) -> Option<IndexMap> {
        let inst = self.graph.inst(value);
        let source = self.graph.shape(inst.args[0]);
        match inst.op {
            Op::Broadcast => Some(map.through_broadcast(source, &inst.shape)),
            Op::Transpose => Some(map.through_transpose()),
            Op::StopGradient => Some(map.clone()),
            Op::Reshape => map.through_reshape(source, &inst.shape),
            Op::Slice { axis, start } => Some(map.through_slice(axis, start)),
            Op::Window(window) if !self.root[value.index()] => Some(map.through_window(window.stride)),
            _ => None,
        }
    }

    /// The iteration space of a root: its source's shape for a reduction, else its own.
    fn space(&self, value: ValueId) -> Vec<usize> {
        let inst = self.graph.inst(value);
        match inst.op.class() {
            OpClass::Reduce => self.graph.shape(inst.args[0]).dims().to_vec(),
            _ => inst.shape.dims().to_vec(),
        }
    }

    fn place_root(&mut self, value: ValueId) {
        let dims = self.space(value);
        let map = IndexMap::identity(dims.len());
        let mut reads = Vec::new();
        self.reads(value, &map, true, &mut reads);
        let stores = self.root_stores(value);
        // The earliest kernel that comes after everything this root reads, or is the
        // kernel that computes it at this very point.
        let start = reads
            .iter()
            .filter_map(|r| r.kernel.map(|k| if r.at_point && self.drafts[k].dims() == dims { k } else { k + 1 }))
            .max()
            .unwrap_or(0);
        let chosen = (start..self.drafts.len()).find(|&k| self.can_join(k, &dims, &reads, &stores));
        let kernel = chosen.unwrap_or_else(|| self.open_loop(dims));
        self.build_root(kernel, value, &stores);
        // A reduction accumulates in one buffer; its other destinations (the same pooled
        // value as two layers' outputs, say) copy it once it is complete.
        if let [(accumulator, combine)] = stores[..]
            && combine != Combine::Write
        {
            let shape = self.graph.shape(value).clone();
            for destination in self.destinations.get(&value).cloned().unwrap_or_default() {
                if destination != accumulator {
                    layout::copy(self, accumulator, destination, &shape);
                }
            }
        }
    }

    /// A new loop kernel over `dims`, last so far; returns its index.
    fn open_loop(&mut self, dims: Vec<usize>) -> usize {
        self.drafts.push(Draft {
            kind: DraftKind::Loop(dims),
            body: Body::default(),
            memo: HashMap::new(),
            nodes: HashMap::new(),
            covers: Vec::new(),
        });
        self.drafts.len() - 1
    }

    /// Where a root's value goes: its output and update buffers, and for a reduction the
    /// buffer it accumulates in.
    fn root_stores(&mut self, value: ValueId) -> Vec<(BufferId, Combine)> {
        let mut stores: Vec<(BufferId, Combine)> = Vec::new();
        let combine = match self.graph.inst(value).op {
            Op::ReduceSum { .. } => Combine::Sum,
            Op::ReduceMax { .. } => Combine::Max,
            _ => Combine::Write,
        };
        let destinations = self.destinations.get(&value).cloned().unwrap_or_default();
        if combine != Combine::Write {
            // A reduction accumulates in one buffer; `place_root` copies it to the others.
            let buffer = match destinations.first() {
                Some(&first) if matches!(self.buffers[first.index()].storage, Storage::Output(_)) => first,
                _ => {
                    let len = self.graph.shape(value).numel();
                    self.new_buffer(format!("{value}"), len, Storage::Arena(0))
                }
            };
            self.buffer_of[value.index()] = Some(buffer);
            stores.push((buffer, combine));
            return stores;
        }
        if let Some(&first) =
            destinations.iter().find(|d| matches!(self.buffers[d.index()].storage, Storage::Output(_)))
        {
            self.buffer_of[value.index()] = Some(first);
        }
        stores.extend(destinations.into_iter().map(|d| (d, Combine::Write)));
        stores
    }

    /// Whether a root of space `dims` reading `reads` and storing to `stores` may join
    /// kernel `k` without a hazard.
    fn can_join(&self, k: usize, dims: &[usize], reads: &[Read], stores: &[(BufferId, Combine)]) -> bool {
        let draft = &self.drafts[k];
        if draft.dims() != dims {
            return false;
        }
        for read in reads {
            match (read.kernel, &read.view) {
                // Its own result, elsewhere than at the point: not finished yet.
                (Some(kernel), _) if kernel == k && !read.at_point => return false,
                (Some(kernel), _) if kernel == k => {}
                // A buffer this kernel writes, read through some other view.
                (_, Some(view)) if draft.writes(view.buffer) => return false,
                _ => {}
            }
            // The old value of a parameter that this or an earlier kernel updates is gone.
            if let Some(slot) = read.param {
                let buffer = self.param_buffer(slot);
                if self.drafts[..=k].iter().any(|d| d.writes(buffer)) {
                    return false;
                }
            }
        }
        for &(buffer, combine) in stores {
            let whole = self.identity_view(buffer, dims);
            for read in draft.reads(buffer) {
                let in_place = read.strides == whole.strides && read.gather.is_none() && !self.is_operand(k, buffer);
                if combine != Combine::Write || !in_place {
                    return false;
                }
            }
            // An update may not run before a kernel that still reads the old value.
            if matches!(self.buffers[buffer.index()].storage, Storage::Param(_))
                && self.drafts[k + 1..].iter().any(|later| !later.reads(buffer).is_empty())
            {
                return false;
            }
        }
        true
    }

    fn is_operand(&self, k: usize, buffer: BufferId) -> bool {
        matches!(&self.drafts[k].kind, DraftKind::Matmul { a, b, .. } if a.buffer == buffer || b.buffer == buffer)
    }

    fn param_buffer(&self, slot: u32) -> BufferId {
        BufferId((self.graph.inputs.len() + slot as usize) as u32)
    }

    /// The row-major view of a whole buffer of this space.
    fn identity_view(&self, buffer: BufferId, dims: &[usize]) -> View {
        let strides = Shape(dims.to_vec()).strides().into_iter().map(|s| s as isize).collect();
        View { buffer, offset: 0, strides, gather: None }
    }

    fn build_root(&mut self, kernel: usize, value: ValueId, stores: &[(BufferId, Combine)]) {
        let dims = self.drafts[kernel].dims();
        let map = IndexMap::identity(dims.len());
        let inst = self.graph.inst(value).clone();
        let node = match inst.op.class() {
            OpClass::Reduce => self.expr(kernel, inst.args[0], &map),
            _ => self.expr_top(kernel, value, &map),
        };
        self.kernel_of[value.index()] = Some(kernel);
        self.drafts[kernel].covers.push(value);
        let reduce_axes = match &inst.op {
            Op::ReduceSum { axes } | Op::ReduceMax { axes } => Some(axes.clone()),
            _ => None,
        };
        for &(buffer, combine) in stores {
            self.store(kernel, buffer, node, combine, reduce_axes.as_deref());
        }
    }

    /// Stores `node` into `buffer`: the whole buffer at the kernel's point, or reduced over
    /// `axes` (stride 0 on them).
    fn store(&mut self, kernel: usize, buffer: BufferId, node: NodeId, combine: Combine, axes: Option<&[usize]>) {
        let dims = Shape(self.drafts[kernel].dims());
        let strides = match axes {
            Some(axes) => dims.reduce_strides(axes).into_iter().map(|s| s as isize).collect(),
            None => dims.strides().into_iter().map(|s| s as isize).collect(),
        };
        self.drafts[kernel].body.stores.push(Store {
            view: View { buffer, offset: 0, strides, gather: None },
            value: node,
            combine,
        });
    }

    /// The node of a root computed at its own point (its op, not a load of itself).
    fn expr_top(&mut self, kernel: usize, value: ValueId, map: &IndexMap) -> NodeId {
        let inst = self.graph.inst(value).clone();
        let node = match inst.op.class() {
            OpClass::Unary | OpClass::Binary => self.elementwise(kernel, &inst.op, &inst.args, map),
            _ => self.expr_inline(kernel, value, map),
        };
        self.drafts[kernel].memo.insert((value, map.clone()), node);
        node
    }

    /// The node of `value` at `map` in `kernel`: reused, computed inline, or loaded.
    fn expr(&mut self, kernel: usize, value: ValueId, map: &IndexMap) -> NodeId {
        if let Some(&node) = self.drafts[kernel].memo.get(&(value, map.clone())) {
            return node;
        }
        let node = match self.kernel_of[value.index()] {
            Some(k) if k == kernel && self.graph.inst(value).op == Op::MatMul && map.is_identity() => {
                self.drafts[kernel].push(Node::Acc)
            }
            Some(_) => {
                let buffer = self.materialise(value);
                let view = self.view_of(value, buffer, map);
                self.drafts[kernel].push(Node::Load(view))
            }
            None => self.expr_inline(kernel, value, map),
        };
        self.drafts[kernel].memo.insert((value, map.clone()), node);
        node
    }

    fn expr_inline(&mut self, kernel: usize, value: ValueId, map: &IndexMap) -> NodeId {
        let inst = self.graph.inst(value).clone();
        if let Some(buffer) = self.buffer_of[value.index()]
            && matches!(inst.op, Op::Input(_) | Op::Param(_))
        {
            let view = self.view_of(value, buffer, map);
            return self.drafts[kernel].push(Node::Load(view));
        }
        match self.class(value) {
            OpClass::Leaf => match inst.op {
                Op::Const(c) => self.drafts[kernel].push(Node::Const(c)),
                ref op => unreachable!("{} has a buffer", op.name()),
            },
            OpClass::Unary | OpClass::Binary => self.elementwise(kernel, &inst.op, &inst.args, map),
            OpClass::Movement => match self.movement_map(value, map) {
                Some(inner) => self.expr(kernel, inst.args[0], &inner),
                None => {
                    let view = self.reshaped_view(value, map);
                    self.drafts[kernel].push(Node::Load(view))
                }
            },
            OpClass::Generator => {
                let Op::Random { salt } = inst.op else { unreachable!("random is the only generator") };
                let seed = self.expr(kernel, inst.args[0], &IndexMap::scalar(map.loop_rank()));
                let (offset, strides) = (map.offset(&inst.shape), map.strides(&inst.shape));
                self.drafts[kernel].push(Node::Random { salt, seed, offset, strides })
            }
            OpClass::Reduce | OpClass::Contraction | OpClass::Layout => unreachable!("{value} is a root"),
        }
    }

    fn elementwise(&mut self, kernel: usize, op: &Op, args: &[ValueId], map: &IndexMap) -> NodeId {
        let operands: Vec<NodeId> = args.iter().map(|&a| self.expr(kernel, a, map)).collect();
        let node = match op {
            Op::Neg => Node::Unary(Unary::Neg, operands[0]),
            Op::Exp => Node::Unary(Unary::Exp, operands[0]),
            Op::Log => Node::Unary(Unary::Log, operands[0]),
            Op::Log1p => Node::Unary(Unary::Log1p, operands[0]),
            Op::Tanh => Node::Unary(Unary::Tanh, operands[0]),
            Op::Sqrt => Node::Unary(Unary::Sqrt, operands[0]),
            Op::Add => Node::Binary(Binary::Add, operands[0], operands[1]),
            Op::Sub => Node::Binary(Binary::Sub, operands[0], operands[1]),
            Op::Mul => Node::Binary(Binary::Mul, operands[0], operands[1]),
            Op::Div => Node::Binary(Binary::Div, operands[0], operands[1]),
            Op::Max => Node::Binary(Binary::Max, operands[0], operands[1]),
            Op::CmpGt => Node::Binary(Binary::CmpGt, operands[0], operands[1]),
            other => unreachable!("{} is not elementwise", other.name()),
        };
        self.drafts[kernel].push(node)
    }

    fn finish(self) -> Program {
        let (graph, options) = (self.graph, self.options);
        let origin = |v: &ValueId| graph.inst(*v).origin.label.to_string();
        let kernels = self
            .drafts
            .into_iter()
            .map(|draft| {
                let mut origins: Vec<String> = draft.covers.iter().map(origin).filter(|l| !l.is_empty()).collect();
                origins.dedup();
                let mut spans: Vec<Span> = draft.covers.iter().filter_map(|v| graph.inst(*v).origin.span).collect();
                spans.sort_unstable();
                spans.dedup();
                let kind = match draft.kind {
                    DraftKind::Loop(dims) => KernelKind::Loop { dims, body: draft.body },
                    DraftKind::Matmul { m, n, k, a, b, strategy } => KernelKind::Matmul(Matmul {
                        m,
                        n,
                        k,
                        a,
                        b,
                        epilogue: draft.body,
                        strategy,
                        acc: None,
                        accumulate: None,
                        finish: None,
                    }),
                };
                Kernel { kind, covers: draft.covers, origins, spans }
            })
            .collect();
        let mut program = Program {
            name: graph.name.clone(),
            buffers: self.buffers,
            kernels,
            arena_len: 0,
            row_inputs: self.row_inputs,
            input_lens: graph.inputs.iter().map(|d| d.shape.numel()).collect(),
            param_lens: graph.params.iter().map(|d| d.shape.numel()).collect(),
            outputs: graph.outputs.iter().map(|(name, v)| (name.clone(), graph.shape(*v).numel())).collect(),
            notes: self.notes,
        };
        crate::rows_reduced::reduce_in_producer(&mut program);
        crate::sum_in_writer::sum_where_written(&mut program);
        crate::merge::merge_loop_axes(&mut program);
        crate::accumulate::accumulate_in_place(&mut program);
        crate::finish::finish_in_registers(&mut program);
        crate::softmax::softmax_in_registers(&mut program);
        crate::plan::give_library_products_an_accumulator(&mut program);
        crate::threads::follow_the_data(&mut program, options.split_loop_points, options.threads);
        crate::plan::place_arena(&mut program);
        program
    }
}
