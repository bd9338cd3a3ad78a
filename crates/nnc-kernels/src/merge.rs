//! Adjacent loop axes that every access walks as one are merged into one axis: a loop
//! over `[32, 4, 4, 16]` whose loads and stores are all contiguous becomes `[8192]`, and
//! a pool's window loop `[32, 4, 4, 2, 2, 16]` becomes `[128, 4, 2, 32]`. Fewer loop
//! levels are fewer Cranelift instructions to compile (each level is a counter, a
//! compare and its address arithmetic) and a longer innermost axis for the four-lane
//! vector code; the points visited and their order are unchanged.
//!
//! Axes `a` and `a + 1` merge when, for every view and every random node of the body,
//! `stride[a] == stride[a + 1] · dims[a + 1]` (or either extent is 1), and neither is an
//! axis read through the row table (a data row's index is not affine in the loop index).

use crate::ir::*;

pub(crate) fn merge_loop_axes(program: &mut Program) {
    for kernel in &mut program.kernels {
        let KernelKind::Loop { dims, body } = &mut kernel.kind else { continue };
        for outer in (0..dims.len().saturating_sub(1)).rev() {
            if mergeable(body, dims, outer) {
                merge(body, dims, outer);
            }
        }
    }
}

/// Whether axes `outer` and `outer + 1` can become one.
fn mergeable(body: &Body, dims: &[usize], outer: usize) -> bool {
    let inner = outer + 1;
    let walks_as_one = |strides: &[isize]| {
        dims[outer] == 1 || dims[inner] == 1 || strides[outer] == strides[inner] * dims[inner] as isize
    };
    let gathered = |view: &View| view.gather.is_some_and(|axis| axis == outer || axis == inner);
    let views = body.nodes.iter().filter_map(|node| match node {
        Node::Load(view) => Some(view),
        _ => None,
    });
    let randoms = body.nodes.iter().filter_map(|node| match node {
        Node::Random { strides, .. } => Some(strides.as_slice()),
        _ => None,
    });
    let mut views = views.chain(body.stores.iter().map(|store| &store.view));
    views.all(|view| !gathered(view) && walks_as_one(&view.strides)) && randoms.into_iter().all(walks_as_one)
}

/// Makes axes `outer` and `outer + 1` one axis of their extents' product, strided as the
/// inner one was (as the outer one, when the inner has extent 1).
fn merge(body: &mut Body, dims: &mut Vec<usize>, outer: usize) {
    let inner = outer + 1;
    let dropped = if dims[inner] == 1 { inner } else { outer };
    dims[outer] *= dims[inner];
    dims.remove(inner);
    let renumber = |axis: usize| if axis > outer { axis - 1 } else { axis };
    for node in &mut body.nodes {
        match node {
            Node::Load(view) => {
                view.strides.remove(dropped);
                view.gather = view.gather.map(renumber);
            }
            Node::Random { strides, .. } => {
                strides.remove(dropped);
            }
            _ => {}
        }
    }
    for store in &mut body.stores {
        store.view.strides.remove(dropped);
        store.view.gather = store.view.gather.map(renumber);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(strides: Vec<isize>, gather: Option<usize>) -> View {
        View { buffer: BufferId(0), offset: 0, strides, gather }
    }

    /// A copy loop over `dims` from a view of `from` strides into a contiguous one.
    fn copy(dims: &[usize], from: View) -> (Vec<usize>, Body) {
        let into = Shape(dims.to_vec()).strides().into_iter().map(|s| s as isize).collect();
        let body = Body {
            nodes: vec![Node::Load(from)],
            stores: vec![Store { view: view(into, None), value: NodeId(0), combine: Combine::Write }],
        };
        (dims.to_vec(), body)
    }

    fn merged(dims: Vec<usize>, body: Body) -> (Vec<usize>, Body) {
        let kernel = Kernel {
            kind: KernelKind::Loop { dims, body },
            covers: Vec::new(),
            origins: Vec::new(),
            spans: Vec::new(),
        };
        let mut program = Program { kernels: vec![kernel], ..Program::default() };
        merge_loop_axes(&mut program);
        match program.kernels.remove(0).kind {
            KernelKind::Loop { dims, body } => (dims, body),
            KernelKind::Matmul(_) => unreachable!(),
        }
    }

    use nnc_ir::Shape;

    #[test]
    fn contiguous_axes_become_one() {
        let (dims, body) = copy(&[32, 4, 4, 16], view(vec![256, 64, 16, 1], None));
        let (dims, body) = merged(dims, body);
        assert_eq!(dims, [8192]);
        assert_eq!(body.stores[0].view.strides, [1]);
        assert_eq!(body.nodes[0], Node::Load(view(vec![1], None)));
    }

    #[test]
    fn a_window_read_merges_only_where_it_is_contiguous() {
        // A 2x2 pool's window: pixel (b, 2i + u, 2j + v, c) of 8x8x16 images.
        let (dims, body) = copy(&[32, 4, 4, 2, 2, 16], view(vec![1024, 256, 32, 128, 16, 1], None));
        let (dims, body) = merged(dims, body);
        assert_eq!(dims, [128, 4, 2, 32]);
        assert_eq!(body.nodes[0], Node::Load(view(vec![256, 32, 128, 1], None)));
    }

    #[test]
    fn a_broadcast_or_a_gathered_axis_stays_apart_and_extent_one_goes() {
        // A bias read along the columns: stride 0 on the rows.
        let (dims, body) = copy(&[32, 10], view(vec![0, 1], None));
        assert_eq!(merged(dims, body).0, [32, 10]);
        // Data rows through the row table, and a channel axis of one; the 7x7 window of
        // an 8-wide image is not contiguous.
        let (dims, body) = copy(&[32, 7, 7, 1], view(vec![64, 8, 1, 1], Some(0)));
        let (dims, body) = merged(dims, body);
        assert_eq!(dims, [32, 7, 7]);
        assert_eq!(body.nodes[0], Node::Load(view(vec![64, 8, 1], Some(0))));
        let (dims, body) = copy(&[32, 8, 8], view(vec![64, 8, 1], Some(0)));
        assert_eq!(merged(dims, body).0, [32, 64]);
    }
}
