//! Graph IR to CLIF: one loop nest per instruction, all in one function.

use crate::plan::{Location, Plan};
use cranelift::prelude::*;
use cranelift_codegen::ir::{FuncRef, MemFlagsData};
use nnc_ir::{Graph, Op, OpClass, Shape, ValueId};

/// Host functions the translated code may call, as declared in the function.
pub(crate) struct Libcalls {
    pub exp: FuncRef,
    pub log: FuncRef,
    pub tanh: FuncRef,
}

/// Emits the body of one compiled graph into `builder`, whose entry block has one
/// parameter: the pointer to the slot array.
pub(crate) struct Translator<'a, 'b> {
    pub builder: &'a mut FunctionBuilder<'b>,
    pub graph: &'a Graph,
    pub plan: &'a Plan,
    pub libcalls: Libcalls,
    /// The base pointer of every slot, loaded once at entry.
    pub bases: Vec<Value>,
}

/// Buffers are f32-aligned and in bounds by construction of the plan.
fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl Translator<'_, '_> {
    /// Loads every slot pointer from the slot array.
    pub fn load_bases(&mut self, slots: Value) {
        for slot in 0..self.plan.n_slots() {
            let base = self.builder.ins().load(types::I64, flags(), slots, (slot * 8) as i32);
            self.bases.push(base);
        }
    }

    pub fn translate(&mut self) {
        for value in self.graph.values() {
            self.translate_inst(value);
        }
        self.copy_results();
        self.builder.ins().return_(&[]);
    }

    fn translate_inst(&mut self, value: ValueId) {
        let inst = self.graph.inst(value).clone();
        match &inst.op {
            Op::Input(_) | Op::Param(_) | Op::Reshape => {}
            Op::Const(c) => {
                let c = self.builder.ins().f32const(*c);
                let zero = self.builder.ins().iconst(types::I64, 0);
                self.store(self.plan.locations[value.index()], zero, c);
            }
            op if op.class() == OpClass::Unary || op.class() == OpClass::Binary => self.elementwise(value, &inst.args),
            Op::ReduceSum { axes } => self.reduce(value, inst.args[0], axes, 0.0, |b, acc, x| b.ins().fadd(acc, x)),
            Op::ReduceMax { axes } => self.reduce(value, inst.args[0], axes, f32::NEG_INFINITY, |b, acc, x| {
                let greater = b.ins().fcmp(FloatCC::GreaterThan, x, acc);
                b.ins().select(greater, x, acc)
            }),
            Op::Broadcast => {
                let strides = self.graph.shape(inst.args[0]).broadcast_strides(&inst.shape);
                self.gather(value, inst.args[0], &strides);
            }
            Op::Transpose => {
                let strides = self.graph.shape(inst.args[0]).transpose_strides();
                self.gather(value, inst.args[0], &strides);
            }
            Op::MatMul => self.matmul(value, inst.args[0], inst.args[1]),
            op => unreachable!("codegen: unhandled {}", op.name()),
        }
    }

    /// `out[i] = op(a[i], b[i])` over the flat buffers.
    fn elementwise(&mut self, value: ValueId, args: &[ValueId]) {
        let op = self.graph.inst(value).op.clone();
        let n = self.graph.shape(value).numel();
        let out = self.plan.locations[value.index()];
        let locations: Vec<Location> = args.iter().map(|a| self.plan.locations[a.index()]).collect();
        self.for_range(n, |t, i| {
            let operands: Vec<Value> = locations.iter().map(|&l| t.load(l, i)).collect();
            let result = t.scalar_op(&op, &operands);
            t.store(out, i, result);
        });
    }

    fn scalar_op(&mut self, op: &Op, x: &[Value]) -> Value {
        match op {
            Op::Neg => self.builder.ins().fneg(x[0]),
            Op::Sqrt => self.builder.ins().sqrt(x[0]),
            Op::Exp => self.call(self.libcalls.exp, x[0]),
            Op::Log => self.call(self.libcalls.log, x[0]),
            Op::Tanh => self.call(self.libcalls.tanh, x[0]),
            Op::Add => self.builder.ins().fadd(x[0], x[1]),
            Op::Sub => self.builder.ins().fsub(x[0], x[1]),
            Op::Mul => self.builder.ins().fmul(x[0], x[1]),
            Op::Div => self.builder.ins().fdiv(x[0], x[1]),
            Op::Max => {
                let greater = self.builder.ins().fcmp(FloatCC::GreaterThan, x[0], x[1]);
                self.builder.ins().select(greater, x[0], x[1])
            }
            Op::CmpGt => {
                let greater = self.builder.ins().fcmp(FloatCC::GreaterThan, x[0], x[1]);
                let (one, zero) = (self.builder.ins().f32const(1.0), self.builder.ins().f32const(0.0));
                self.builder.ins().select(greater, one, zero)
            }
            other => unreachable!("{} is not elementwise", other.name()),
        }
    }

    fn call(&mut self, func: FuncRef, x: Value) -> Value {
        let call = self.builder.ins().call(func, &[x]);
        self.builder.inst_results(call)[0]
    }

    /// `out[idx] = source[sum(idx * strides)]` over the result's index space.
    fn gather(&mut self, value: ValueId, source: ValueId, strides: &[usize]) {
        let shape = self.graph.shape(value).clone();
        let out_strides = shape.strides();
        let (out, from) = (self.plan.locations[value.index()], self.plan.locations[source.index()]);
        self.for_each_index(&shape, &mut |t, index| {
            let dst = t.offset(index, &out_strides);
            let src = t.offset(index, strides);
            let x = t.load(from, src);
            t.store(out, dst, x);
        });
    }

    /// Fills the result with `init`, then folds every source element into its slot.
    fn reduce(
        &mut self,
        value: ValueId,
        source: ValueId,
        axes: &[usize],
        init: f32,
        combine: fn(&mut FunctionBuilder, Value, Value) -> Value,
    ) {
        let out = self.plan.locations[value.index()];
        let from = self.plan.locations[source.index()];
        self.for_range(self.graph.shape(value).numel(), |t, i| {
            let init = t.builder.ins().f32const(init);
            t.store(out, i, init);
        });
        let source_shape: Shape = self.graph.shape(source).clone();
        let (src_strides, dst_strides) = (source_shape.strides(), source_shape.reduce_strides(axes));
        self.for_each_index(&source_shape, &mut |t, index| {
            let src = t.offset(index, &src_strides);
            let dst = t.offset(index, &dst_strides);
            let (acc, x) = (t.load(out, dst), t.load(from, src));
            let combined = combine(t.builder, acc, x);
            t.store(out, dst, combined);
        });
    }

    /// `C[i, j] = sum_k A[i, k] B[k, j]`, accumulating in k order like the interpreter.
    fn matmul(&mut self, value: ValueId, a: ValueId, b: ValueId) {
        let (m, k) = (self.graph.shape(a).dims()[0], self.graph.shape(a).dims()[1]);
        let n = self.graph.shape(value).dims()[1];
        let (la, lb, lc) =
            (self.plan.locations[a.index()], self.plan.locations[b.index()], self.plan.locations[value.index()]);
        self.for_range(m, |t, i| {
            t.for_range(n, |t, j| {
                let acc = t.builder.declare_var(types::F32);
                let zero = t.builder.ins().f32const(0.0);
                t.builder.def_var(acc, zero);
                t.for_range(k, |t, p| {
                    let a_index = t.affine(i, k, p);
                    let b_index = t.affine(p, n, j);
                    let (x, y) = (t.load(la, a_index), t.load(lb, b_index));
                    let product = t.builder.ins().fmul(x, y);
                    let sum = t.builder.use_var(acc);
                    let sum = t.builder.ins().fadd(sum, product);
                    t.builder.def_var(acc, sum);
                });
                let c_index = t.affine(i, n, j);
                let sum = t.builder.use_var(acc);
                t.store(lc, c_index, sum);
            });
        });
    }

    /// Copies outputs into their slots, then new parameter values into theirs.
    fn copy_results(&mut self) {
        let mut copies: Vec<(Location, ValueId)> = Vec::new();
        for (index, (_, value)) in self.graph.outputs.iter().enumerate() {
            copies.push((Location::Slot(self.plan.output_slot(index)), *value));
        }
        for (param, value) in &self.graph.updates {
            copies.push((Location::Slot(self.plan.n_inputs + *param as usize), *value));
        }
        for (dst, value) in copies {
            let src = self.plan.locations[value.index()];
            if src != dst {
                self.for_range(self.graph.shape(value).numel(), |t, i| {
                    let x = t.load(src, i);
                    t.store(dst, i, x);
                });
            }
        }
    }

    /// `row * width + col` as an i64.
    fn affine(&mut self, row: Value, width: usize, col: Value) -> Value {
        let scaled = self.builder.ins().imul_imm_s(row, width as i64);
        self.builder.ins().iadd(scaled, col)
    }

    /// `sum(index[axis] * strides[axis])` as an i64.
    fn offset(&mut self, index: &[Value], strides: &[usize]) -> Value {
        let mut total = self.builder.ins().iconst(types::I64, 0);
        for (&i, &stride) in index.iter().zip(strides) {
            if stride != 0 {
                let scaled = self.builder.ins().imul_imm_s(i, stride as i64);
                total = self.builder.ins().iadd(total, scaled);
            }
        }
        total
    }

    fn address(&mut self, location: Location, index: Value) -> (Value, i32) {
        let (slot, offset) = match location {
            Location::Slot(slot) => (slot, 0),
            Location::Scratch(offset) => (self.plan.scratch_slot(), offset),
        };
        let bytes = self.builder.ins().imul_imm_s(index, 4);
        let address = self.builder.ins().iadd(self.bases[slot], bytes);
        (address, (offset * 4) as i32)
    }

    fn load(&mut self, location: Location, index: Value) -> Value {
        let (address, offset) = self.address(location, index);
        self.builder.ins().load(types::F32, flags(), address, offset)
    }

    fn store(&mut self, location: Location, index: Value, x: Value) {
        let (address, offset) = self.address(location, index);
        self.builder.ins().store(flags(), x, address, offset);
    }

    /// Emits `for i in 0..count { body(i) }` (count >= 1, so a do-while loop).
    fn for_range(&mut self, count: usize, mut body: impl FnMut(&mut Self, Value)) {
        let counter = self.builder.declare_var(types::I64);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.def_var(counter, zero);
        let (loop_block, exit) = (self.builder.create_block(), self.builder.create_block());
        self.builder.ins().jump(loop_block, &[]);
        self.builder.switch_to_block(loop_block);
        let i = self.builder.use_var(counter);
        body(self, i);
        let next = self.builder.ins().iadd_imm_s(i, 1);
        self.builder.def_var(counter, next);
        let more = self.builder.ins().icmp_imm_s(IntCC::SignedLessThan, next, count as i64);
        self.builder.ins().brif(more, loop_block, &[], exit, &[]);
        self.builder.switch_to_block(exit);
    }

    /// Nested loops over every multi-index of `shape`, row-major.
    fn for_each_index(&mut self, shape: &Shape, body: &mut dyn FnMut(&mut Self, &[Value])) {
        self.nest(shape.dims(), &mut Vec::new(), body);
    }

    fn nest(&mut self, dims: &[usize], prefix: &mut Vec<Value>, body: &mut dyn FnMut(&mut Self, &[Value])) {
        match dims.split_first() {
            None => body(self, prefix),
            Some((&count, rest)) => self.for_range(count, |t, i| {
                prefix.push(i);
                t.nest(rest, prefix, body);
                prefix.pop();
            }),
        }
    }
}
