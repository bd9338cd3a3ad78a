//! A loop kernel that only sums a buffer which the loop kernel just before it wrote, each
//! element once, is folded into that kernel as one more store: the sum is taken as the
//! values are computed, not by a second pass over them.
//!
//! The case it is for is a convolution's bias gradient: the column sums of `δ`, which the
//! ReLU's derivative writes in the pool's window order (W5: `loop [128, 4, 2, 2, 16]`
//! writing `δ[256·i + 32·j + 128·l + 16·m + q]`, then `loop [2048, 16]` summing
//! `δ[16·i + j]` into `b[j]`). The folded store is `b[q] += v`, and the code generator
//! splits the kernel between the threads with a partial sum on each (`nnc_codegen`'s
//! `parallel.rs`). The sums then run in the writer's order: their last bits change.
//!
//! The pattern: the summing kernel's body is one load, read row-major over its whole loop
//! (the element index `e` runs over `offset .. offset + n`), summed into a buffer the
//! writer neither reads nor writes. The writer stores those `n` elements once each, from
//! the same offset, through a view whose every axis moves exactly one digit of `e` in the
//! summing loop's mixed radix, without carrying into the next. Each loop index of the
//! summing kernel is then a sum of the writer's, so the store's view is affine in them.
//!
//! It runs before `merge.rs`: a writer that walks its buffer contiguously (a ReLU
//! derivative over `[rows, 8]`) would otherwise be one axis of `rows · 8` points, which
//! moves both digits of the summing loop `[rows, 8]` and does not fold.

use crate::ir::*;

pub(crate) fn sum_where_written(program: &mut Program) {
    let mut consumer = 1;
    while consumer < program.kernels.len() {
        match folded_store(program, consumer) {
            Some(store) => fold(program, consumer, store),
            None => consumer += 1,
        }
    }
}

/// The store that computes kernel `consumer`'s sums in the kernel before it, when the
/// pair is the pattern.
fn folded_store(program: &Program, consumer: usize) -> Option<Store> {
    let KernelKind::Loop { dims: sum_dims, body: sum } = &program.kernels[consumer].kind else { return None };
    let KernelKind::Loop { dims, body } = &program.kernels[consumer - 1].kind else { return None };
    let ([Node::Load(read)], [total]) = (sum.nodes.as_slice(), sum.stores.as_slice()) else { return None };
    let into = total.view.buffer;
    let plain = total.combine == Combine::Sum && read.gather.is_none() && total.view.gather.is_none();
    if !plain || into == read.buffer || !row_major(&read.strides, sum_dims) {
        return None;
    }
    let reads_into = body.nodes.iter().any(|node| matches!(node, Node::Load(view) if view.buffer == into));
    let writes: Vec<&Store> =
        body.stores.iter().filter(|s| s.view.buffer == read.buffer || s.view.buffer == into).collect();
    let [written] = writes.as_slice() else { return None };
    let whole = written.view.buffer == read.buffer
        && written.combine == Combine::Write
        && written.view.gather.is_none()
        && written.view.offset == read.offset
        && each_once(dims, &written.view.strides, sum_dims.iter().product());
    if reads_into || !whole {
        return None;
    }
    let strides = digit_strides(dims, &written.view.strides, sum_dims, &total.view.strides)?;
    let view = View { buffer: into, offset: total.view.offset, strides, gather: None };
    Some(Store { view, value: written.value, combine: Combine::Sum })
}

/// Whether `strides` walk `dims` row-major and densely (axes of extent 1 aside).
fn row_major(strides: &[isize], dims: &[usize]) -> bool {
    let mut block = 1;
    for (&stride, &dim) in strides.iter().zip(dims).rev() {
        if dim > 1 && stride != block as isize {
            return false;
        }
        block *= dim;
    }
    true
}

/// Whether the points of `dims` reach the elements `0..n` through `strides`, each once:
/// axes sorted by stride, each stride exceeds the span of those below it, and the last
/// element is `n - 1`.
fn each_once(dims: &[usize], strides: &[isize], n: usize) -> bool {
    let mut axes: Vec<(usize, usize)> = Vec::new();
    for (&stride, &dim) in strides.iter().zip(dims) {
        match usize::try_from(stride) {
            _ if dim == 1 => {}
            Ok(stride) => axes.push((stride, dim)),
            Err(_) => return false,
        }
    }
    axes.sort_unstable();
    let mut span = 0;
    for (stride, dim) in axes {
        if stride <= span {
            return false;
        }
        span += stride * (dim - 1);
    }
    dims.iter().product::<usize>() == n && span + 1 == n
}

/// The writer's strides into the sums: each writer axis of stride `s` moves digit `a` of
/// the summing loop (of weight `B_a`, the product of the summing dims after `a`) by
/// `s / B_a`, which must divide exactly; the digit then moves the sums by its own stride.
/// `None` when an axis moves no single digit, or a digit could carry.
fn digit_strides(dims: &[usize], strides: &[isize], sum_dims: &[usize], sum_strides: &[isize]) -> Option<Vec<isize>> {
    let weights: Vec<usize> = (0..sum_dims.len()).map(|a| sum_dims[a + 1..].iter().product()).collect();
    let mut reach = vec![0; sum_dims.len()];
    let mut folded = Vec::with_capacity(dims.len());
    for (&stride, &dim) in strides.iter().zip(dims) {
        if dim == 1 {
            folded.push(0);
            continue;
        }
        let stride = usize::try_from(stride).ok()?;
        let digit = (0..sum_dims.len())
            .find(|&a| sum_dims[a] > 1 && stride.is_multiple_of(weights[a]) && stride / weights[a] < sum_dims[a])?;
        let step = stride / weights[digit];
        reach[digit] += step * (dim - 1);
        folded.push(sum_strides[digit] * step as isize);
    }
    reach.iter().zip(sum_dims).all(|(&r, &d)| r < d).then_some(folded)
}

/// Moves the store into the writer and removes the summing kernel, whose graph values
/// and source constructs the writer now covers.
fn fold(program: &mut Program, consumer: usize, store: Store) {
    let summing = program.kernels.remove(consumer);
    let writer = &mut program.kernels[consumer - 1];
    if let KernelKind::Loop { body, .. } = &mut writer.kind {
        body.stores.push(store);
    }
    writer.absorb(summing);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(buffer: u32, strides: Vec<isize>) -> View {
        View { buffer: BufferId(buffer), offset: 0, strides, gather: None }
    }

    fn lp(dims: Vec<usize>, nodes: Vec<Node>, stores: Vec<Store>) -> Kernel {
        let kind = KernelKind::Loop { dims, body: Body { nodes, stores } };
        Kernel { kind, covers: Vec::new(), origins: Vec::new(), spans: Vec::new() }
    }

    fn store(buffer: u32, strides: Vec<isize>, combine: Combine) -> Store {
        Store { view: view(buffer, strides), value: NodeId(0), combine }
    }

    /// W5's pair: `δ` (buffer 1) written in the pool's window order from buffer 0, then
    /// summed over its rows into buffer 2.
    fn w5(writer_strides: Vec<isize>) -> Program {
        pair(vec![128, 4, 2, 2, 16], writer_strides)
    }

    /// A writer over `dims` storing `δ` through `strides`, then the sum of `δ` as W5's.
    fn pair(dims: Vec<usize>, writer_strides: Vec<isize>) -> Program {
        let writer =
            lp(dims, vec![Node::Load(view(0, writer_strides.clone()))], vec![store(1, writer_strides, Combine::Write)]);
        let sum = lp(vec![2048, 16], vec![Node::Load(view(1, vec![16, 1]))], vec![store(2, vec![0, 1], Combine::Sum)]);
        Program { kernels: vec![writer, sum], ..Program::default() }
    }

    #[test]
    fn a_bias_gradient_is_summed_where_its_delta_is_written() {
        let mut program = w5(vec![256, 32, 128, 16, 1]);
        sum_where_written(&mut program);
        assert_eq!(program.kernels.len(), 1);
        let stores = &program.kernels[0].body().stores;
        assert_eq!(stores[1], store(2, vec![0, 0, 0, 0, 1], Combine::Sum));
    }

    #[test]
    fn a_writer_with_channels_outermost_folds_too() {
        // `e = 16·i + 4·j + 2·l + m + 2048·q`: the summed column `e mod 16` is `4·j + 2·l + m`.
        let mut program = w5(vec![16, 4, 2, 1, 2048]);
        sum_where_written(&mut program);
        assert_eq!(program.kernels[0].body().stores[1], store(2, vec![0, 4, 2, 1, 0], Combine::Sum));
    }

    #[test]
    fn sums_whose_columns_the_writer_does_not_move_digit_by_digit_stay_apart() {
        // Rows of 512 in one axis: the column `e mod 16` is not affine in it.
        let mut program = pair(vec![64, 512], vec![512, 1]);
        sum_where_written(&mut program);
        assert_eq!(program.kernels.len(), 2);
        // Elements written twice, or some never.
        for strides in [vec![256, 32, 128, 8, 1], vec![256, 64, 128, 16, 1]] {
            let mut program = w5(strides.clone());
            sum_where_written(&mut program);
            assert_eq!(program.kernels.len(), 2, "{strides:?}");
        }
    }

    #[test]
    fn a_sum_that_reads_rows_the_writer_does_not_write_whole_stays_apart() {
        let mut program = w5(vec![256, 32, 128, 16, 1]);
        let KernelKind::Loop { dims, .. } = &mut program.kernels[0].kind else { unreachable!() };
        dims[0] = 127;
        sum_where_written(&mut program);
        assert_eq!(program.kernels.len(), 2);
    }

    #[test]
    fn the_digits_of_a_mixed_radix_index() {
        assert_eq!(digit_strides(&[4, 8], &[8, 1], &[32], &[1]), Some(vec![8, 1]));
        assert_eq!(digit_strides(&[4, 8], &[8, 1], &[4, 8], &[0, 1]), Some(vec![0, 1]));
        assert_eq!(digit_strides(&[2, 4, 8], &[32, 8, 1], &[8, 8], &[1, 0]), Some(vec![4, 1, 0]));
        // Stride 4 moves the column digit by 4: two such steps carry.
        assert_eq!(digit_strides(&[3, 8], &[4, 8], &[8, 8], &[0, 1]), None);
        assert!(each_once(&[2, 3], &[1, 2], 6) && !each_once(&[2, 3], &[2, 1], 6));
    }
}
