//! The emitter: CLIF for one kernel program inside one function. It knows where each
//! buffer starts, turns views into addresses (64-bit arithmetic throughout), emits counted
//! loops (unrolled when short), evaluates kernel bodies on one lane or four, and, when
//! checking, guards every load and store with a bounds check.

use crate::math;
use cranelift::prelude::*;
use cranelift_codegen::ir::{BlockArg, FuncRef, MemFlagsData};
use nnc_kernels::{Binary, Body, BufferId, Combine, Node, Store, Unary, View};
use std::collections::HashMap;

/// Host functions generated code calls.
#[derive(Clone, Copy)]
pub(crate) struct Helpers {
    pub gemm: FuncRef,
    pub out_of_bounds: FuncRef,
    /// The profiling hook and this function's unit index, when profiling.
    pub profile: Option<(FuncRef, usize)>,
}

/// Where one buffer is for the code being emitted.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    /// Address of element 0 (an i64 value).
    pub base: Value,
    /// Elements, for bounds checks.
    pub len: usize,
    /// Whether any kernel of the function writes it (else its loads may move freely).
    pub written: bool,
}

pub(crate) struct Emitter<'a, 'b, 's> {
    pub b: &'a mut FunctionBuilder<'b>,
    pub helpers: Helpers,
    pub places: Vec<Place>,
    /// The batch's row table (u32 row numbers) for gathered views; `None`: row `i` is `i`.
    pub rows: Option<Value>,
    pub checked: bool,
    /// The CPU class has fused multiply-adds ([`Emitter::mul_add`]).
    pub fma: bool,
    /// The kernel being emitted, for bounds-check reports.
    pub kernel: usize,
    /// Data rows already looked up, valid where the code being emitted runs.
    pub known_rows: Vec<(Option<Value>, i64, Value)>,
    /// Builds the functions of loop kernels split between threads (`None`: every kernel
    /// is emitted inline, as in the loop around the steps).
    pub split: Option<&'s mut dyn crate::parallel::LoopFunctions>,
    /// Constants, addresses and read-only loads already emitted in the current block.
    pub reuse: Reuse,
}

/// A value the emitter may reuse rather than compute again.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Expr {
    Int(i64),
    Int32(i32, usize),
    /// An f32's bits, on one lane or splat to four.
    Float(u32, usize),
    Mul(Value, i64),
    Shl(Value, i64),
    AddImm(Value, i64),
    Add(Value, Value),
    Splat(Value),
    /// A load of a buffer no kernel of the function writes: address, offset, lanes.
    Load(Value, i32, usize),
}

/// Values computed in the block being emitted, by what they compute. An unrolled register
/// tile repeats the same constants, element offsets and addresses for every accumulator,
/// which costs compile time in every tier (the optimiser merges them only after building
/// and checking each) and run time in the quick one (which does not merge them). A value
/// is reused only in the block that computed it, where it always dominates its new uses:
/// the map empties whenever the builder has moved on to another block.
#[derive(Default)]
pub(crate) struct Reuse {
    block: Option<Block>,
    values: HashMap<Expr, Value>,
}

/// A loop index: a runtime value (in a loop) plus a constant (unrolled, or an offset).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ix {
    pub var: Option<Value>,
    pub add: i64,
}

impl Ix {
    pub fn constant(n: usize) -> Ix {
        Ix { var: None, add: n as i64 }
    }

    pub fn plus(self, n: i64) -> Ix {
        Ix { var: self.var, add: self.add + n }
    }
}

/// An element offset: a runtime part (if any) plus a constant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Element {
    var: Option<Value>,
    add: i64,
}

impl Emitter<'_, '_, '_> {
    /// `a·b + c`: one fused, singly rounded instruction where the CPU class has FMA.
    /// Without it (baseline x86-64) Cranelift calls `fmaf` for every lane, which made
    /// register tiles 10–20 × slower than the SSE2 product kernel; the product is then
    /// rounded before the sum, as that kernel and C compilers do there.
    pub fn mul_add(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.fma {
            self.b.ins().fma(a, b, c)
        } else {
            let product = self.b.ins().fmul(a, b);
            self.b.ins().fadd(product, c)
        }
    }

    /// `expr`'s value if the current block has computed it, else `make`'s, remembered.
    fn reused(&mut self, expr: Expr, make: impl FnOnce(&mut Self) -> Value) -> Value {
        let block = self.b.current_block();
        if self.reuse.block != block {
            self.reuse = Reuse { block, values: HashMap::new() };
        }
        if let Some(&value) = self.reuse.values.get(&expr) {
            return value;
        }
        let value = make(self);
        self.reuse.values.insert(expr, value);
        value
    }

    pub fn iconst(&mut self, n: i64) -> Value {
        self.reused(Expr::Int(n), |e| e.b.ins().iconst(types::I64, n))
    }

    pub fn fconst(&mut self, x: f32, lanes: usize) -> Value {
        let lanes = lanes.min(4);
        self.reused(Expr::Float(x.to_bits(), lanes), |e| {
            let scalar = e.b.ins().f32const(x);
            if lanes == 1 { scalar } else { e.b.ins().splat(types::F32X4, scalar) }
        })
    }

    /// An i32 constant, on one lane or splat to four (bit patterns for `math`).
    pub fn int32_const(&mut self, x: i32, lanes: usize) -> Value {
        let lanes = lanes.min(4);
        self.reused(Expr::Int32(x, lanes), |e| {
            let scalar = e.b.ins().iconst(types::I32, i64::from(x));
            if lanes == 1 { scalar } else { e.b.ins().splat(types::I32X4, scalar) }
        })
    }

    /// `x` on four lanes.
    pub fn splat(&mut self, x: Value) -> Value {
        self.reused(Expr::Splat(x), |e| e.b.ins().splat(types::F32X4, x))
    }

    fn mul_imm(&mut self, x: Value, n: i64) -> Value {
        self.reused(Expr::Mul(x, n), |e| {
            let n = e.iconst(n);
            e.b.ins().imul(x, n)
        })
    }

    fn shl_imm(&mut self, x: Value, n: i64) -> Value {
        self.reused(Expr::Shl(x, n), |e| {
            let n = e.iconst(n);
            e.b.ins().ishl(x, n)
        })
    }

    fn add_imm(&mut self, x: Value, n: i64) -> Value {
        self.reused(Expr::AddImm(x, n), |e| {
            let n = e.iconst(n);
            e.b.ins().iadd(x, n)
        })
    }

    fn add(&mut self, x: Value, y: Value) -> Value {
        self.reused(Expr::Add(x, y), |e| e.b.ins().iadd(x, y))
    }

    /// `for i in (0..count).step_by(step)`: unrolled when at most `unroll` iterations,
    /// else a loop. `body` gets the index.
    pub fn counted(&mut self, count: usize, step: usize, unroll: usize, body: &mut dyn FnMut(&mut Self, Ix)) {
        let iterations = count.div_ceil(step.max(1));
        if iterations == 0 {
            return;
        }
        if iterations <= unroll {
            for n in 0..iterations {
                body(self, Ix::constant(n * step));
            }
            return;
        }
        let (head, exit) = (self.b.create_block(), self.b.create_block());
        self.b.append_block_param(head, types::I64);
        let zero = self.iconst(0);
        self.b.ins().jump(head, &[BlockArg::Value(zero)]);
        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        body(self, Ix { var: Some(i), add: 0 });
        let next = self.b.ins().iadd_imm_s(i, step as i64);
        let more = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, next, (iterations * step) as i64);
        self.b.ins().brif(more, head, &[BlockArg::Value(next)], exit, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    /// `for i in start..end` over runtime bounds (nothing when `start >= end`).
    pub fn range(&mut self, start: Value, end: Value, body: &mut dyn FnMut(&mut Self, Ix)) {
        let (head, exit) = (self.b.create_block(), self.b.create_block());
        self.b.append_block_param(head, types::I64);
        let any = self.b.ins().icmp(IntCC::SignedLessThan, start, end);
        self.b.ins().brif(any, head, &[BlockArg::Value(start)], exit, &[]);
        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        body(self, Ix { var: Some(i), add: 0 });
        let next = self.b.ins().iadd_imm_s(i, 1);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, next, end);
        self.b.ins().brif(more, head, &[BlockArg::Value(next)], exit, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    /// Nested counted loops over `dims` (step 1), row-major. `unroll` bounds the copies of
    /// `body`: a level is unrolled when its count fits in what is left of it, and the
    /// levels inside share the rest (unrolling every short level of a
    /// [32, 4, 4, 2, 2, 16] window kernel would make 64 copies).
    pub fn nest(
        &mut self,
        dims: &[usize],
        unroll: usize,
        prefix: &mut Vec<Ix>,
        body: &mut dyn FnMut(&mut Self, &[Ix]),
    ) {
        match dims.split_first() {
            None => body(self, prefix),
            Some((&count, rest)) => {
                let inner = if count <= unroll { unroll / count.max(1) } else { unroll };
                self.counted(count, 1, unroll, &mut |e, i| {
                    prefix.push(i);
                    e.nest(rest, inner, prefix, body);
                    prefix.pop();
                })
            }
        }
    }

    /// The element a view reads at `index`, going through the row table on a gathered axis.
    fn element(&mut self, view: &View, index: &[Ix]) -> Element {
        let mut element = Element { var: None, add: view.offset as i64 };
        for (axis, (&stride, &i)) in view.strides.iter().zip(index).enumerate() {
            if stride == 0 {
                continue;
            }
            let i = if view.gather == Some(axis) { Ix { var: Some(self.row(i)), add: 0 } } else { i };
            element.add += stride as i64 * i.add;
            if let Some(var) = i.var {
                let term = if stride == 1 { var } else { self.mul_imm(var, stride as i64) };
                element.var = Some(match element.var {
                    Some(sum) => self.add(sum, term),
                    None => term,
                });
            }
        }
        element
    }

    /// The data row of batch row `i`.
    fn row(&mut self, i: Ix) -> Value {
        let Some(table) = self.rows else { return self.value(i) };
        if let Some(&(_, _, row)) = self.known_rows.iter().find(|(var, add, _)| *var == i.var && *add == i.add) {
            return row;
        }
        let address = match i.var {
            Some(var) => {
                let offset = self.shl_imm(var, 2);
                self.add(table, offset)
            }
            None => table,
        };
        let (address, offset) = self.split_offset(address, i.add * 4);
        self.b.ins().uload32(MemFlagsData::trusted(), address, offset)
    }

    /// Looks up the data rows of batch rows `indices` once, for the code emitted until
    /// [`Emitter::forget_rows`]; returns how many were known before.
    pub fn remember_rows(&mut self, indices: &[Ix]) -> usize {
        let before = self.known_rows.len();
        if self.rows.is_some() {
            for &i in indices {
                let row = self.row(i);
                self.known_rows.push((i.var, i.add, row));
            }
        }
        before
    }

    pub fn forget_rows(&mut self, before: usize) {
        self.known_rows.truncate(before);
    }

    /// An index as one value.
    pub fn value(&mut self, i: Ix) -> Value {
        match i.var {
            Some(var) if i.add == 0 => var,
            Some(var) => self.add_imm(var, i.add),
            None => self.iconst(i.add),
        }
    }

    /// `address + bytes` as an address and an immediate offset that fits 32 bits.
    fn split_offset(&mut self, address: Value, bytes: i64) -> (Value, i32) {
        match i32::try_from(bytes) {
            Ok(offset) => (address, offset),
            Err(_) => (self.add_imm(address, bytes), 0),
        }
    }

    fn flags(&self, buffer: BufferId) -> MemFlagsData {
        let flags = MemFlagsData::new().with_notrap();
        if self.places[buffer.index()].written { flags } else { flags.with_readonly().with_can_move() }
    }

    /// The address of an element of `buffer`, checked to hold `lanes` elements when
    /// checking: a base and an immediate offset.
    fn address(&mut self, buffer: BufferId, element: Element, lanes: usize) -> (Value, i32) {
        if self.checked {
            let full = match element.var {
                Some(var) => self.add_imm(var, element.add),
                None => self.iconst(element.add),
            };
            self.check(buffer, full, lanes);
        }
        let base = self.places[buffer.index()].base;
        let address = match element.var {
            Some(var) => {
                let bytes = self.shl_imm(var, 2);
                self.add(base, bytes)
            }
            None => base,
        };
        self.split_offset(address, element.add * 4)
    }

    /// The address of element `at` of `buffer` as one value.
    pub fn pointer(&mut self, buffer: BufferId, at: usize) -> Value {
        let (address, offset) = self.address(buffer, Element { var: None, add: at as i64 }, 1);
        self.b.ins().iadd_imm_s(address, i64::from(offset))
    }

    /// The address of element `first` of `buffer`, for a library call that reads or writes
    /// elements up to `last`: when checking, both ends are checked (strides are
    /// non-negative, so every element between lies inside too).
    pub fn pointer_to_range(&mut self, buffer: BufferId, first: usize, last: usize) -> Value {
        if self.checked {
            let last = self.iconst(last as i64);
            self.check(buffer, last, 1);
        }
        self.pointer(buffer, first)
    }

    /// Calls the out-of-bounds reporter (which aborts) unless `element..element + lanes`
    /// lies inside the buffer. A buffer shorter than `lanes` (empty, or three elements for
    /// a four-lane access) has no element that passes.
    fn check(&mut self, buffer: BufferId, element: Value, lanes: usize) {
        let limit = self.places[buffer.index()].len as i64 - lanes as i64;
        let outside = if limit < 0 {
            self.b.ins().iconst(types::I8, 1)
        } else {
            // Compared unsigned: a negative element is a huge one.
            self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, element, limit)
        };
        let (report, fine) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(outside, report, &[], fine, &[]);
        self.b.switch_to_block(report);
        self.b.seal_block(report);
        self.b.set_cold_block(report);
        let kernel = self.iconst(self.kernel as i64);
        let which = self.iconst(i64::from(buffer.0));
        let len = self.iconst(self.places[buffer.index()].len as i64);
        self.b.ins().call(self.helpers.out_of_bounds, &[kernel, which, element, len]);
        self.b.ins().jump(fine, &[]);
        self.b.switch_to_block(fine);
        self.b.seal_block(fine);
    }

    /// Loads a view at `index`, `lanes` consecutive points along the innermost axis.
    pub fn load(&mut self, view: &View, index: &[Ix], lanes: usize) -> Value {
        let inner = index.len().checked_sub(1);
        let inner_stride = inner.map_or(0, |a| view.strides[a]);
        // Without a row table (one batch of every row), gathered rows are consecutive.
        let gathered_inner = self.rows.is_some() && inner.is_some() && view.gather == inner;
        if lanes == 1 || (inner_stride == 0 && !gathered_inner) {
            let element = self.element(view, index);
            let (address, offset) = self.address(view.buffer, element, 1);
            let x = self.load_at(view.buffer, (address, offset), 1);
            return if lanes == 1 { x } else { self.splat(x) };
        }
        if inner_stride == 1 && !gathered_inner {
            let element = self.element(view, index);
            let (address, offset) = self.address(view.buffer, element, 4);
            return self.load_at(view.buffer, (address, offset), 4);
        }
        // Any other stride: four scalar loads.
        let mut vector = self.fconst(0.0, 4);
        for lane in 0..4u8 {
            let at = shifted(index, lane as i64);
            let x = self.load(view, &at, 1);
            vector = self.b.ins().insertlane(vector, x, lane);
        }
        vector
    }

    /// One f32 or four at an address; a buffer no kernel writes is loaded once a block.
    fn load_at(&mut self, buffer: BufferId, (address, offset): (Value, i32), lanes: usize) -> Value {
        let ty = if lanes == 1 { types::F32 } else { types::F32X4 };
        let flags = self.flags(buffer);
        if self.places[buffer.index()].written {
            return self.b.ins().load(ty, flags, address, offset);
        }
        self.reused(Expr::Load(address, offset, lanes), |e| e.b.ins().load(ty, flags, address, offset))
    }

    /// Stores `x` (`lanes` wide) through a view at `index`, combining as the store says.
    pub fn store(&mut self, store: &Store, index: &[Ix], x: Value, lanes: usize) {
        let view = &store.view;
        let inner_stride = index.len().checked_sub(1).map_or(0, |a| view.strides[a]);
        if lanes == 4 && inner_stride == 0 && store.combine != Combine::Write {
            // Four points reducing into one element: combine them first.
            let total = self.horizontal(store.combine, x);
            return self.store(store, index, total, 1);
        }
        if lanes == 4 && inner_stride != 1 {
            for lane in 0..4u8 {
                let at = shifted(index, lane as i64);
                let x = self.b.ins().extractlane(x, lane);
                self.store(store, &at, x, 1);
            }
            return;
        }
        let ty = if lanes == 1 { types::F32 } else { types::F32X4 };
        let element = self.element(view, index);
        let (address, offset) = self.address(view.buffer, element, lanes);
        let flags = MemFlagsData::new().with_notrap();
        let value = match store.combine {
            Combine::Write => x,
            combine => {
                let old = self.b.ins().load(ty, flags, address, offset);
                self.combine(combine, old, x, lanes)
            }
        };
        self.b.ins().store(flags, value, address, offset);
    }

    /// `a + b`, or for a maximum `b > a ? b : a`: the interpreter's reduction, which keeps
    /// the running maximum `a` when the new value `b` is NaN or a zero of either sign.
    pub fn combine(&mut self, combine: Combine, a: Value, b: Value, lanes: usize) -> Value {
        match combine {
            Combine::Sum | Combine::Add => self.b.ins().fadd(a, b),
            Combine::Max => math::max(self, b, a, lanes),
            Combine::Write => b,
        }
    }

    /// The sum or maximum of a vector's four lanes.
    pub fn horizontal(&mut self, combine: Combine, x: Value) -> Value {
        let lanes: Vec<Value> = (0..4u8).map(|l| self.b.ins().extractlane(x, l)).collect();
        let low = self.combine(combine, lanes[0], lanes[1], 1);
        let high = self.combine(combine, lanes[2], lanes[3], 1);
        self.combine(combine, low, high, 1)
    }

    /// Fills a whole buffer with `x`.
    pub fn fill(&mut self, buffer: BufferId, len: usize, x: f32) {
        let vectors = len / 4 * 4;
        let value = self.fconst(x, 4);
        let view = View { buffer, offset: 0, strides: vec![1], gather: None };
        self.counted(vectors, 4, UNROLL, &mut |e, i| {
            let element = e.element(&view, &[i]);
            let (address, offset) = e.address(buffer, element, 4);
            e.b.ins().store(MemFlagsData::new().with_notrap(), value, address, offset);
        });
        let scalar = self.fconst(x, 1);
        for tail in vectors..len {
            let element = Element { var: None, add: tail as i64 };
            let (address, offset) = self.address(buffer, element, 1);
            self.b.ins().store(MemFlagsData::new().with_notrap(), scalar, address, offset);
        }
    }

    /// Sets every reduction target of `body` to its identity before the kernel runs, all
    /// of its place (a program's buffer, or a split kernel's partial sums past them).
    pub fn init_reductions(&mut self, body: &Body) {
        let mut done: Vec<BufferId> = Vec::new();
        for store in &body.stores {
            let Some(identity) = store.combine.initial() else { continue };
            if !done.contains(&store.view.buffer) {
                done.push(store.view.buffer);
                let len = self.places[store.view.buffer.index()].len;
                self.fill(store.view.buffer, len, identity);
            }
        }
    }

    /// Evaluates the body's nodes at `index` (`lanes` wide). `values` holds nodes already
    /// known (hoisted scalars are splatted where a vector needs them); `acc` is the
    /// product's element for `Node::Acc`.
    pub fn eval(
        &mut self,
        body: &Body,
        index: &[Ix],
        lanes: usize,
        acc: Option<Value>,
        values: &mut [Option<(Value, usize)>],
    ) {
        for (n, node) in body.nodes.iter().enumerate() {
            if values[n].is_some() {
                continue;
            }
            let value = match node {
                Node::Load(view) => self.load(view, index, lanes),
                Node::Const(c) => self.fconst(*c, lanes),
                Node::Acc => acc.expect("internal error: `acc` outside a product"),
                Node::Unary(op, a) => {
                    let a = self.operand(values, *a, lanes);
                    self.unary(*op, a, lanes)
                }
                Node::Binary(op, a, b) => {
                    let (a, b) = (self.operand(values, *a, lanes), self.operand(values, *b, lanes));
                    self.binary(*op, a, b, lanes)
                }
                Node::Random { salt, seed, offset, strides } => {
                    let seed = self.scalar_operand(values, *seed);
                    self.random(*salt, seed, *offset, strides, index, lanes)
                }
            };
            values[n] = Some((value, lanes));
        }
    }

    /// A node's value at `lanes`, splatting a hoisted scalar.
    pub fn operand(&mut self, values: &[Option<(Value, usize)>], node: nnc_kernels::NodeId, lanes: usize) -> Value {
        let (value, width) = values[node.0 as usize].expect("internal error: a node used before it is defined");
        if width == lanes { value } else { self.splat(value) }
    }

    /// A node's value on one lane (lane 0 of a vector: the node is the same on all).
    pub fn scalar_operand(&mut self, values: &[Option<(Value, usize)>], node: nnc_kernels::NodeId) -> Value {
        let (value, width) = values[node.0 as usize].expect("internal error: a node used before it is defined");
        if width == 1 { value } else { self.b.ins().extractlane(value, 0) }
    }

    /// `Node::Random` at `index`, `lanes` consecutive points along the innermost axis.
    pub fn random(
        &mut self,
        salt: u32,
        seed: Value,
        offset: usize,
        strides: &[isize],
        index: &[Ix],
        lanes: usize,
    ) -> Value {
        let view = View { buffer: BufferId(0), offset, strides: strides.to_vec(), gather: None };
        let element = self.element(&view, index);
        let inner = strides.last().copied().unwrap_or(0) as i64;
        let draw = |e: &mut Self, lane: i64| {
            let at = match element.var {
                Some(var) => e.b.ins().iadd_imm_s(var, element.add + lane * inner),
                None => e.iconst(element.add + lane * inner),
            };
            math::random(e, seed, at, salt)
        };
        if lanes == 1 {
            return draw(self, 0);
        }
        let mut vector = self.fconst(0.0, 4);
        for lane in 0..4u8 {
            let x = draw(self, i64::from(lane));
            vector = self.b.ins().insertlane(vector, x, lane);
        }
        vector
    }

    pub fn unary(&mut self, op: Unary, a: Value, lanes: usize) -> Value {
        match op {
            Unary::Neg => self.b.ins().fneg(a),
            Unary::Sqrt => self.b.ins().sqrt(a),
            Unary::Exp => math::exp(self, a, lanes),
            Unary::Log => math::log(self, a, lanes),
            Unary::Log1p => math::log1p(self, a, lanes),
            Unary::Tanh => math::tanh(self, a, lanes),
        }
    }

    pub fn binary(&mut self, op: Binary, a: Value, b: Value, lanes: usize) -> Value {
        match op {
            Binary::Add => self.b.ins().fadd(a, b),
            Binary::Sub => self.b.ins().fsub(a, b),
            Binary::Mul => self.b.ins().fmul(a, b),
            Binary::Div => self.b.ins().fdiv(a, b),
            Binary::Max => math::max(self, a, b, lanes),
            Binary::CmpGt => math::greater(self, a, b, lanes),
        }
    }
}

/// `index` with the innermost axis moved on by `by`.
pub(crate) fn shifted(index: &[Ix], by: i64) -> Vec<Ix> {
    let mut at = index.to_vec();
    if let Some(last) = at.last_mut() {
        *last = last.plus(by);
    }
    at
}

/// Loops with at most this many iterations are unrolled.
pub(crate) const UNROLL: usize = 8;

/// Nodes whose value does not change along the innermost axis: constants, loads with
/// stride 0 there, and what is computed from them alone.
pub(crate) fn inner_invariant(body: &Body, inner: usize) -> Vec<bool> {
    let mut invariant = Vec::with_capacity(body.nodes.len());
    for node in &body.nodes {
        let i = match node {
            Node::Const(_) => true,
            Node::Load(view) => view.strides.get(inner) == Some(&0) && view.gather != Some(inner),
            Node::Acc => false,
            Node::Unary(_, a) => invariant[a.0 as usize],
            Node::Binary(_, a, b) => invariant[a.0 as usize] && invariant[b.0 as usize],
            Node::Random { seed, strides, .. } => strides.get(inner) == Some(&0) && invariant[seed.0 as usize],
        };
        invariant.push(i);
    }
    invariant
}
