//! The kernel IR: what a graph becomes before Cranelift sees it.
//!
//! A [`Program`] is a list of [`Kernel`]s in the order they run, over [`Buffer`]s. A kernel
//! is a loop nest ([`KernelKind::Loop`]) or a matrix product with an epilogue
//! ([`KernelKind::Matmul`]); its body is a small SSA list of scalar [`Node`]s evaluated at
//! every point of its iteration space. Tensors are read and written through [`View`]s,
//! affine index maps from the loop indices to buffer elements, so broadcasts, transposes
//! and reshapes are strides, never copies. A store whose view has stride 0 on a loop axis
//! reduces over that axis.

use nnc_diagnostics::Span;
use nnc_ir::ValueId;
use std::fmt;

/// A buffer of the program, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferId(pub u32);

impl BufferId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for BufferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}", self.0)
    }
}

/// Where a buffer's elements live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The caller's buffer for graph input `n` (data, the learning rate).
    Input(u32),
    /// The caller's buffer for parameter `n`, read and updated in place.
    Param(u32),
    /// The caller's buffer for graph output `n`.
    Output(u32),
    /// Scratch at this element offset of the arena, decided by the buffer plan.
    Arena(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    pub name: String,
    /// Elements.
    pub len: usize,
    pub storage: Storage,
}

/// An affine map from a kernel's loop indices to elements of a buffer:
/// `offset + Σ index[axis] · strides[axis]`. When `gather` names an axis, that axis's
/// index is first mapped through the batch's row table (`rows[index]`): data rows read
/// in a shuffled order without copying them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct View {
    pub buffer: BufferId,
    pub offset: usize,
    pub strides: Vec<isize>,
    pub gather: Option<usize>,
}

impl View {
    /// Whether every axis but the last is stride 0 (or absent) and the last is 1: the same
    /// element at every point but consecutive along the innermost axis.
    pub fn is_contiguous_inner(&self) -> bool {
        self.strides.last() == Some(&1)
    }
}

/// Elementwise operations of kernel bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    Neg,
    Exp,
    Log,
    Log1p,
    Tanh,
    Sqrt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    /// `1.0` where `a > b`, else `0.0`.
    CmpGt,
}

impl Unary {
    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Log1p => "log1p",
            Unary::Tanh => "tanh",
            Unary::Sqrt => "sqrt",
        }
    }

    /// Ops costly enough that a value computed with them is stored once rather than
    /// recomputed in each consumer.
    pub fn is_expensive(self) -> bool {
        !matches!(self, Unary::Neg)
    }
}

impl Binary {
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Max => "max",
            Binary::CmpGt => "cmp_gt",
        }
    }
}

/// A node of a kernel body, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// One scalar computation at a point of the iteration space.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Load(View),
    Const(f32),
    /// In a matmul epilogue: the product's element at the current point.
    Acc,
    Unary(Unary, NodeId),
    Binary(Binary, NodeId, NodeId),
    /// A uniform number in [0, 1) from the seed in scalar node `seed` and the element
    /// `offset + Σ index · strides` of the value it is part of, as `nnc_ir::random_uniform`
    /// computes it.
    Random {
        salt: u32,
        seed: NodeId,
        offset: usize,
        strides: Vec<isize>,
    },
}

/// How a store combines with what the buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Overwrites the element.
    Write,
    /// Adds into it; the buffer starts at 0 when the kernel starts.
    Sum,
    /// Keeps the maximum; the buffer starts at -inf when the kernel starts.
    Max,
    /// Adds into what the buffer already holds (an earlier kernel filled it): several
    /// kernels summing into one buffer, as a convolution's input gradient does.
    Add,
}

impl Combine {
    /// The value a register accumulating for this store starts from.
    pub fn identity(self) -> Option<f32> {
        match self {
            Combine::Write => None,
            Combine::Sum | Combine::Add => Some(0.0),
            Combine::Max => Some(f32::NEG_INFINITY),
        }
    }

    /// The value the whole buffer is set to before the kernel runs, if any.
    pub fn initial(self) -> Option<f32> {
        match self {
            Combine::Add => None,
            other => other.identity(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    pub view: View,
    pub value: NodeId,
    pub combine: Combine,
}

/// A kernel body: nodes in definition order, then stores.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub nodes: Vec<Node>,
    pub stores: Vec<Store>,
}

/// Whether points of a loop kernel over `dims` that differ along the first axis never
/// store to the same element through `strides`: the kernel's halves along that axis may
/// then run on two threads.
pub fn first_axis_parts_disjoint(dims: &[usize], strides: &[isize]) -> bool {
    let span: isize = strides[1..].iter().zip(&dims[1..]).map(|(s, &d)| s.abs() * (d as isize - 1)).sum();
    strides[0].abs() > span
}

/// How a matrix product is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Register tiles of generated code, the epilogue applied to the accumulators.
    Tiled,
    /// A call into a rustc-compiled GEMM (on `threads` threads) writing the product to
    /// `acc`; the epilogue then runs as a loop over it. With `halves`, each thread sums
    /// its half of the reduction and the second half is then added to the first (else
    /// the threads take blocks of C).
    Library { threads: usize, halves: bool },
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Strategy::Tiled => write!(f, "tiled"),
            Strategy::Library { threads: 1, .. } => write!(f, "library"),
            Strategy::Library { threads, halves: false } => write!(f, "library, {threads} threads"),
            Strategy::Library { threads, halves: true } => write!(f, "library, {threads} threads, halves of the sum"),
        }
    }
}

/// `C[m, n] = Σ_k A[m, k] · B[k, n]`, then the epilogue at every `(i, j)` with
/// [`Node::Acc`] = `C[i, j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matmul {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// Strides over `(i, p)`.
    pub a: View,
    /// Strides over `(p, j)`.
    pub b: View,
    pub epilogue: Body,
    pub strategy: Strategy,
    /// For [`Strategy::Library`]: the buffer the product is written to before the epilogue.
    pub acc: Option<BufferId>,
    /// For [`Strategy::Library`] instead of `acc`: the GEMM updates a buffer in place.
    pub accumulate: Option<Accumulate>,
    /// For [`Strategy::Library`] with `acc`: the epilogue the GEMM kernel applies to each
    /// register block before storing it. The epilogue body then stores nothing, unless the
    /// finish has a softmax: then it runs over the finished product afterwards (its `Acc`
    /// is the finished element).
    pub finish: Option<Box<Finish>>,
}

/// `acc = relu?(A·B + bias[j]) · (mask[i, j] > 0)`, then `sums[j] += acc[i, j]`: a
/// layer's bias and ReLU, or a gradient's ReLU-derivative mask and column sums, applied
/// while the product's block is still in registers instead of by a pass over the stored
/// product.
#[derive(Clone, Debug, PartialEq)]
pub struct Finish {
    /// A row of `n` values added to every row of the product (strides `[0, 1]`).
    pub bias: Option<View>,
    pub relu: bool,
    /// A matrix laid out as the output (strides `[n, 1]`): each result is kept where the
    /// mask's element is above 0 and multiplied by 0 elsewhere (`x · (m > 0)`, as the
    /// interpreter's `mul` of a `cmp_gt`: an infinite or NaN result stays NaN).
    pub mask: Option<View>,
    /// `n` sums, set to 0 and then given every row of the result in row order.
    pub sums: Option<BufferId>,
    /// The softmax of each finished row (then there are no sums, and each thread's block
    /// holds whole rows).
    pub softmax: Option<Softmax>,
}

/// The softmax of each row of a finished product `out`, computed by the GEMM kernel on the
/// rows it has just stored: `max[i]` = the row's largest element (a NaN skipped, as a
/// `Combine::Max` store skips it), `exps[i, j] = exp(out[i, j] − max[i])` laid out as
/// the product, and `total[i] = Σ_j exps[i, j]`. What a softmax (or a softmax
/// cross-entropy) lowers to, before its normalisation, in one pass instead of a loop
/// kernel that reads the product back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    pub max: BufferId,
    pub exps: BufferId,
    pub total: BufferId,
}

impl Finish {
    /// The buffers the finish writes besides the product.
    pub fn writes(&self) -> Vec<BufferId> {
        let softmax = self.softmax.iter().flat_map(|s| [s.max, s.exps, s.total]);
        self.sums.into_iter().chain(softmax).collect()
    }
}

/// `into = alpha·into + beta·A·B`, computed by the GEMM library without a separate pass
/// (a plain SGD update: alpha 1, beta -lr). `alpha` and `beta` are scalar nodes of the
/// epilogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accumulate {
    pub into: BufferId,
    pub alpha: NodeId,
    pub beta: NodeId,
}

#[derive(Clone, Debug, PartialEq)]
pub enum KernelKind {
    /// Loops over `dims` (row-major); stores with stride 0 on an axis reduce over it.
    Loop {
        dims: Vec<usize>,
        body: Body,
    },
    Matmul(Matmul),
}

/// One kernel: what it computes and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub kind: KernelKind,
    /// The graph values it computes (stored or kept in registers), in graph order.
    pub covers: Vec<ValueId>,
    /// The source constructs (layers, losses, updates) of those values.
    pub origins: Vec<String>,
    /// Where in the source those constructs are (for the layers).
    pub spans: Vec<Span>,
}

impl Kernel {
    /// One line: its kind, shape and strategy, and the source constructs it computes.
    pub fn summary(&self) -> String {
        let what = match &self.kind {
            KernelKind::Loop { dims, .. } => format!("loop {dims:?}"),
            KernelKind::Matmul(mm) => {
                format!("matmul {}x{}x{} {}", mm.m, mm.n, mm.k, mm.strategy)
            }
        };
        if self.origins.is_empty() { what } else { format!("{what}: {}", self.origins.join(", ")) }
    }

    /// Takes on the graph values and source constructs of `other`, whose work this kernel
    /// now does (a pass folded it in).
    pub fn absorb(&mut self, other: Kernel) {
        for covered in other.covers {
            if !self.covers.contains(&covered) {
                self.covers.push(covered);
            }
        }
        self.covers.sort_unstable();
        for (origin, span) in other.origins.into_iter().zip(other.spans) {
            if !self.origins.contains(&origin) {
                self.origins.push(origin);
                self.spans.push(span);
            }
        }
    }

    /// Floating-point operations of one run: `2mnk` for a product, plus one per body node
    /// and point.
    pub fn flops(&self) -> u64 {
        self.body_flops() + self.product_flops()
    }

    /// Floating-point operations of one run in generated code: [`Kernel::flops`] but for
    /// a product computed by a library call (its epilogue is generated code).
    pub fn generated_flops(&self) -> u64 {
        let tiled = matches!(&self.kind, KernelKind::Matmul(mm) if mm.strategy == Strategy::Tiled);
        self.body_flops() + if tiled { self.product_flops() } else { 0 }
    }

    /// One operation per body node and point (a product's epilogue over `[m, n]`).
    fn body_flops(&self) -> u64 {
        let points: u64 = self.dims().iter().map(|&d| d as u64).product();
        points * self.body().nodes.len() as u64
    }

    /// `2mnk` for a product, 0 for a loop.
    fn product_flops(&self) -> u64 {
        match &self.kind {
            KernelKind::Matmul(mm) => 2 * (mm.m * mm.n * mm.k) as u64,
            KernelKind::Loop { .. } => 0,
        }
    }

    /// The iteration space: the loop dims, or `[m, n]` for a product's epilogue.
    pub fn dims(&self) -> Vec<usize> {
        match &self.kind {
            KernelKind::Loop { dims, .. } => dims.clone(),
            KernelKind::Matmul(mm) => vec![mm.m, mm.n],
        }
    }

    pub fn body(&self) -> &Body {
        match &self.kind {
            KernelKind::Loop { body, .. } => body,
            KernelKind::Matmul(mm) => &mm.epilogue,
        }
    }

    /// Every view the kernel reads through (body loads, matmul operands).
    pub fn reads(&self) -> Vec<&View> {
        let mut views: Vec<&View> = self
            .body()
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Load(view) => Some(view),
                _ => None,
            })
            .collect();
        if let KernelKind::Matmul(mm) = &self.kind {
            views.push(&mm.a);
            views.push(&mm.b);
            if let Some(finish) = &mm.finish {
                views.extend(finish.bias.iter().chain(&finish.mask));
            }
        }
        views
    }

    /// Every buffer the kernel writes (stores, a library product's `acc` or the buffer it
    /// accumulates into).
    pub fn writes(&self) -> Vec<BufferId> {
        let mut buffers: Vec<BufferId> = self.body().stores.iter().map(|s| s.view.buffer).collect();
        if let KernelKind::Matmul(mm) = &self.kind {
            buffers.extend(mm.acc);
            buffers.extend(mm.accumulate.map(|a| a.into));
            buffers.extend(mm.finish.as_ref().map_or(Vec::new(), |f| f.writes()));
        }
        buffers
    }
}

/// A graph lowered to kernels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub name: String,
    pub buffers: Vec<Buffer>,
    pub kernels: Vec<Kernel>,
    /// Elements of scratch the program needs (buffers placed by liveness).
    pub arena_len: usize,
    /// Graph inputs whose first axis is the batch's rows (gathered through the row table
    /// when the training loop runs the program over shuffled data).
    pub row_inputs: Vec<u32>,
    /// Element counts of the graph's inputs, params and outputs, in declaration order.
    pub input_lens: Vec<usize>,
    pub param_lens: Vec<usize>,
    pub outputs: Vec<(String, usize)>,
    /// Why values were not fused where one might expect, for the printed stage.
    pub notes: Vec<String>,
}

impl Program {
    /// Whether `other` compiles to the same code: everything but the name is equal.
    pub fn same_code(&self, other: &Program) -> bool {
        let Program { name: _, buffers, kernels, arena_len, row_inputs, input_lens, param_lens, outputs, notes } =
            other;
        self.buffers == *buffers
            && self.kernels == *kernels
            && self.arena_len == *arena_len
            && self.row_inputs == *row_inputs
            && self.input_lens == *input_lens
            && self.param_lens == *param_lens
            && self.outputs == *outputs
            && self.notes == *notes
    }

    /// Floating-point operations of one run in generated code (the products a library call
    /// computes are not): what optimising the program's code could speed up.
    pub fn generated_flops(&self) -> u64 {
        self.kernels.iter().map(Kernel::generated_flops).fold(0, u64::saturating_add)
    }

    pub fn buffer(&self, id: BufferId) -> &Buffer {
        &self.buffers[id.index()]
    }

    /// The buffer bound to input `n`, if the program reads it.
    pub fn input_buffer(&self, n: u32) -> Option<BufferId> {
        self.find(|s| s == Storage::Input(n))
    }

    pub fn param_buffer(&self, n: u32) -> Option<BufferId> {
        self.find(|s| s == Storage::Param(n))
    }

    fn find(&self, wanted: impl Fn(Storage) -> bool) -> Option<BufferId> {
        self.buffers.iter().position(|b| wanted(b.storage)).map(|i| BufferId(i as u32))
    }
}
