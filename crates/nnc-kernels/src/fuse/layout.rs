//! Layout roots: values whose elements are their operands' rearranged (`window`,
//! `window_sum`, `concat`), each computed into a buffer of its own by plain loop kernels
//! with affine views — no kernel kind of their own, so the code generator needs nothing
//! new and every later pass (arena plan, verifier) sees ordinary loops.
//!
//! - `window` (im2col): for each kernel offset `(u, v)`, one loop over the batch and the
//!   output positions whose source pixel lies inside the image copies a channel vector;
//!   with padding, a first kernel zeroes the buffer so positions in the padding read 0.
//! - `window_sum` (col2im): a kernel zeroes the images, then for each `(u, v)` one loop
//!   adds the window elements back onto their pixels (`Combine::Add`: each kernel adds
//!   onto what the earlier ones left).
//! - `concat`: one loop per operand storing it into its part of the result.
//!
//! Operands are computed inline where the copies read them (an activation feeding a
//! convolution is not stored twice).

use super::{Fuser, IndexMap};
use crate::ir::*;
use nnc_ir::{Op, Shape, ValueId, Window};

/// Builds the kernels that compute layout value `value` into its buffer.
pub(super) fn place(fuser: &mut Fuser, value: ValueId) {
    let inst = fuser.graph.inst(value).clone();
    let shape = inst.shape.clone();
    let buffer = fuser.new_buffer(format!("{value}"), shape.numel(), Storage::Arena(0));
    let first = fuser.drafts.len();
    match inst.op {
        Op::Window(window) => windows(fuser, &window, inst.args[0], buffer),
        Op::WindowSum(window) => window_sum(fuser, &window, inst.args[0], &shape, buffer),
        Op::Concat { axis } => concat(fuser, axis, [inst.args[0], inst.args[1]], &shape, buffer),
        ref op => unreachable!("{} is not a layout op", op.name()),
    }
    // Even a layout with nothing to copy (all padding) has its zeroing kernel.
    let last = fuser.drafts.len() - 1;
    debug_assert!(last >= first, "internal error: a layout without kernels");
    fuser.drafts[last].covers.push(value);
    fuser.buffer_of[value.index()] = Some(buffer);
    fuser.kernel_of[value.index()] = Some(last);
    for destination in fuser.destinations.get(&value).cloned().unwrap_or_default() {
        copy(fuser, buffer, destination, &shape);
    }
}

/// The output positions `i0..i1` along `axis` whose source for kernel offset `u` lies
/// inside the image of `size` rows (or columns), and that first source.
fn inside(window: &Window, axis: usize, u: usize, size: usize, out: usize) -> Option<(usize, usize, usize)> {
    let first = (0..out).find(|&i| window.source(axis, i, u, size).is_some())?;
    let last = (first..out).take_while(|&i| window.source(axis, i, u, size).is_some()).last()?;
    Some((first, last + 1, window.source(axis, first, u, size)?))
}

/// A kernel offset (u, v) and the output rows and columns whose source it reaches inside
/// the image: `(first, end, first source)` of each.
struct Offset {
    u: usize,
    v: usize,
    rows: (usize, usize, usize),
    columns: (usize, usize, usize),
}

/// Every kernel offset that reaches inside an image of `size` for some output position.
fn offsets(window: &Window, size: [usize; 2], out: [usize; 2]) -> Vec<Offset> {
    let [kh, kw] = window.kernel;
    let mut found = Vec::new();
    for u in 0..kh {
        for v in 0..kw {
            if let (Some(rows), Some(columns)) =
                (inside(window, 0, u, size[0], out[0]), inside(window, 1, v, size[1], out[1]))
            {
                found.push(Offset { u, v, rows, columns });
            }
        }
    }
    found
}

/// Row-major strides of `dims` as view strides.
fn strides(dims: &[usize]) -> Vec<isize> {
    Shape(dims.to_vec()).strides().into_iter().map(|s| s as isize).collect()
}

fn windows(fuser: &mut Fuser, window: &Window, images: ValueId, buffer: BufferId) {
    let [n, h, w, c] = image_dims(fuser, images);
    let [oh, ow] = window.output([h, w]).expect("checked by the typing rule");
    let [kh, kw] = window.kernel;
    let out = [n, oh, ow, kh, kw, c];
    if window.before.iter().chain(&window.after).any(|&p| p > 0) {
        zero(fuser, buffer, out.iter().product());
    }
    let into = strides(&out);
    for Offset { u, v, rows: (i0, i1, y0), columns: (j0, j1, x0) } in offsets(window, [h, w], [oh, ow]) {
        let kernel = fuser.open_loop(vec![n, i1 - i0, j1 - j0, c]);
        // Pixel (b, y0 + i·sh, x0 + j·sw, ch) at loop point (b, i, j, ch).
        let (sh, sw) = (window.stride[0] as i64, window.stride[1] as i64);
        let map = IndexMap::new(
            vec![vec![1, 0, 0, 0], vec![0, sh, 0, 0], vec![0, 0, sw, 0], vec![0, 0, 0, 1]],
            vec![0, y0 as i64, x0 as i64, 0],
            4,
        );
        let node = fuser.expr(kernel, images, &map);
        let offset = ((i0 * ow + j0) * kh * kw + u * kw + v) * c;
        let view = View { buffer, offset, strides: vec![into[0], into[1], into[2], into[5]], gather: None };
        fuser.drafts[kernel].body.stores.push(Store { view, value: node, combine: Combine::Write });
    }
}

fn window_sum(fuser: &mut Fuser, window: &Window, gradient: ValueId, images: &Shape, buffer: BufferId) {
    let [n, h, w, c] = *images.dims() else { unreachable!("checked by the typing rule") };
    let [oh, ow] = window.output([h, w]).expect("checked by the typing rule");
    let [kh, kw] = window.kernel;
    // Windows that tile the image exactly (a 2x2 pool of stride 2 over an even size) put
    // every pixel in one window: each offset's kernel writes its pixels, and nothing needs
    // zeroing first.
    let unpadded = window.before.iter().chain(&window.after).all(|&p| p == 0);
    let tiles = unpadded && window.stride == window.kernel && [oh * kh, ow * kw] == [h, w];
    if !tiles {
        zero(fuser, buffer, images.numel());
    }
    let combine = if tiles { Combine::Write } else { Combine::Add };
    let (sh, sw) = (window.stride[0] as isize, window.stride[1] as isize);
    let pixel = strides(&[n, h, w, c]);
    for Offset { u, v, rows: (i0, i1, y0), columns: (j0, j1, x0) } in offsets(window, [h, w], [oh, ow]) {
        let kernel = fuser.open_loop(vec![n, i1 - i0, j1 - j0, c]);
        // Window element (b, i0 + i, j0 + j, u, v, ch) at loop point (b, i, j, ch).
        let map = IndexMap::new(
            vec![vec![1, 0, 0, 0], vec![0, 1, 0, 0], vec![0, 0, 1, 0], vec![0; 4], vec![0; 4], vec![0, 0, 0, 1]],
            vec![0, i0 as i64, j0 as i64, u as i64, v as i64, 0],
            4,
        );
        let node = fuser.expr(kernel, gradient, &map);
        let offset = (y0 * w + x0) * c;
        let view = View { buffer, offset, strides: vec![pixel[0], sh * pixel[1], sw * pixel[2], 1], gather: None };
        fuser.drafts[kernel].body.stores.push(Store { view, value: node, combine });
    }
}

fn concat(fuser: &mut Fuser, axis: usize, parts: [ValueId; 2], shape: &Shape, buffer: BufferId) {
    let into = strides(shape.dims());
    let mut start = 0;
    for part in parts {
        let dims = fuser.graph.shape(part).dims().to_vec();
        let kernel = fuser.open_loop(dims.clone());
        let node = fuser.expr(kernel, part, &IndexMap::identity(dims.len()));
        let view = View { buffer, offset: start * into[axis] as usize, strides: into.clone(), gather: None };
        fuser.drafts[kernel].body.stores.push(Store { view, value: node, combine: Combine::Write });
        start += dims[axis];
    }
}

/// A kernel setting `len` elements of `buffer` to 0.
fn zero(fuser: &mut Fuser, buffer: BufferId, len: usize) {
    let kernel = fuser.open_loop(vec![len]);
    let node = fuser.drafts[kernel].push(Node::Const(0.0));
    let view = View { buffer, offset: 0, strides: vec![1], gather: None };
    fuser.drafts[kernel].body.stores.push(Store { view, value: node, combine: Combine::Write });
}

/// A kernel copying a layout's buffer to an output.
/// A loop kernel copying `from` into `to` whole.
pub(super) fn copy(fuser: &mut Fuser, from: BufferId, to: BufferId, shape: &Shape) {
    let kernel = fuser.open_loop(vec![shape.numel()]);
    let load = fuser.drafts[kernel].push(Node::Load(View { buffer: from, offset: 0, strides: vec![1], gather: None }));
    let view = View { buffer: to, offset: 0, strides: vec![1], gather: None };
    fuser.drafts[kernel].body.stores.push(Store { view, value: load, combine: Combine::Write });
}

fn image_dims(fuser: &Fuser, images: ValueId) -> [usize; 4] {
    let [n, h, w, c] = *fuser.graph.shape(images).dims() else { unreachable!("checked by the typing rule") };
    [n, h, w, c]
}
