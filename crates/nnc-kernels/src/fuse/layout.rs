//! Layout roots: values whose elements are their operands' rearranged (`window`,
//! `window_sum`, `concat`), each computed into a buffer of its own by plain loop kernels
//! with affine views — no kernel kind of their own, so the code generator needs nothing
//! new and every later pass (arena plan, verifier) sees ordinary loops.
//!
//! - `window` (im2col): one loop over `[n, oh, ow, kh, kw, c]` copies each window element
//!   from its pixel. With padding, the images are first copied into the interior of a
//!   zeroed padded buffer (their operand computed there once), which the loop reads.
//! - `window_sum` (col2im): one loop over the window elements adds each onto its pixel
//!   (`Combine::Add`) in a zeroed buffer (a padded one, whose interior is then copied out,
//!   for a padded window); windows that tile the image write their pixels instead.
//! - `concat`: one loop per operand storing it into its part of the result.
//!
//! Operands are computed inline where the copies read them (an activation feeding an
//! unpadded window is not stored twice). An unpadded window that no product reads whole
//! never comes here: the fuser reads it through its index map (`Fuser::class`).

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

/// Row-major strides of `dims` as view strides.
fn strides(dims: &[usize]) -> Vec<isize> {
    Shape(dims.to_vec()).strides().into_iter().map(|s| s as isize).collect()
}

fn is_padded(window: &Window) -> bool {
    window.before.iter().chain(&window.after).any(|&p| p > 0)
}

/// Strides over the loop `[n, oh, ow, kh, kw, c]` that read (or write) each window
/// element's pixel in images of `[n, h, w, c]` (padded ones, for a padded window).
fn pixel_strides(window: &Window, [_, h, w, c]: [usize; 4]) -> Vec<isize> {
    let pixel = strides(&[0, h, w, c]);
    let (sh, sw) = (window.stride[0] as isize, window.stride[1] as isize);
    vec![pixel[0], sh * pixel[1], sw * pixel[2], pixel[1], pixel[2], 1]
}

/// The dimensions of `window`'s images with its padding added, `[n, h', w', c]`.
fn padded_dims(window: &Window, [n, h, w, c]: [usize; 4]) -> [usize; 4] {
    [n, h + window.before[0] + window.after[0], w + window.before[1] + window.after[1], c]
}

/// Where pixel (0, 0) of an image lies in its padded copy (an element offset).
fn interior_offset(window: &Window, padded: [usize; 4]) -> usize {
    (window.before[0] * padded[2] + window.before[1]) * padded[3]
}

/// `window` (im2col) as one kernel over `[n, oh, ow, kh, kw, c]`, each window element
/// read from its pixel. A padded window first copies the images (their operand computed
/// once, inline) into the interior of a zeroed padded buffer, so that every window element
/// has a pixel to read, 0 in the padding: three kernels, where one per kernel offset with
/// its own range of output positions took kh·kw + 1 (W5 has 71 kernels in all, 46 of them
/// windows; the compile time follows the kernel count).
fn windows(fuser: &mut Fuser, window: &Window, images: ValueId, buffer: BufferId) {
    let dims = image_dims(fuser, images);
    let [n, h, w, c] = dims;
    let [oh, ow] = window.output([h, w]).expect("checked by the typing rule");
    let [kh, kw] = window.kernel;
    let out = vec![n, oh, ow, kh, kw, c];
    let into = View { buffer, offset: 0, strides: strides(&out), gather: None };
    if !is_padded(window) {
        let kernel = fuser.open_loop(out);
        // Pixel (b, i·sh + u, j·sw + v, ch) at loop point (b, i, j, u, v, ch).
        let (sh, sw) = (window.stride[0] as i64, window.stride[1] as i64);
        let map = IndexMap::new(
            vec![vec![1, 0, 0, 0, 0, 0], vec![0, sh, 0, 1, 0, 0], vec![0, 0, sw, 0, 1, 0], vec![0, 0, 0, 0, 0, 1]],
            vec![0; 4],
            6,
        );
        let node = fuser.expr(kernel, images, &map);
        fuser.drafts[kernel].body.stores.push(Store { view: into, value: node, combine: Combine::Write });
        return;
    }
    let padded = padded_dims(window, dims);
    let scratch = fuser.new_buffer(format!("{images}.padded"), padded.iter().product(), Storage::Arena(0));
    zero(fuser, scratch, padded.iter().product());
    let kernel = fuser.open_loop(dims.to_vec());
    let node = fuser.expr(kernel, images, &IndexMap::identity(4));
    let interior =
        View { buffer: scratch, offset: interior_offset(window, padded), strides: strides(&padded), gather: None };
    fuser.drafts[kernel].body.stores.push(Store { view: interior, value: node, combine: Combine::Write });
    let kernel = fuser.open_loop(out);
    let from = View { buffer: scratch, offset: 0, strides: pixel_strides(window, padded), gather: None };
    let node = fuser.drafts[kernel].push(Node::Load(from));
    fuser.drafts[kernel].body.stores.push(Store { view: into, value: node, combine: Combine::Write });
}

/// `window_sum` (col2im) as one kernel over `[n, oh, ow, kh, kw, c]` adding each window
/// element onto its pixel (in a zeroed padded buffer for a padded window, whose interior
/// is then copied out). Windows that tile the image exactly (a 2x2 pool of stride 2 over
/// an even size) put every pixel in one window: the kernel writes them, and nothing needs
/// zeroing first.
fn window_sum(fuser: &mut Fuser, window: &Window, gradient: ValueId, images: &Shape, buffer: BufferId) {
    let [n, h, w, c] = *images.dims() else { unreachable!("checked by the typing rule") };
    let [oh, ow] = window.output([h, w]).expect("checked by the typing rule");
    let [kh, kw] = window.kernel;
    let tiles = !is_padded(window) && window.stride == window.kernel && [oh * kh, ow * kw] == [h, w];
    let padded = padded_dims(window, [n, h, w, c]);
    let (target, len) = if is_padded(window) {
        let len = padded.iter().product();
        (fuser.new_buffer(format!("{gradient}.padded"), len, Storage::Arena(0)), len)
    } else {
        (buffer, images.numel())
    };
    if !tiles {
        zero(fuser, target, len);
    }
    let kernel = fuser.open_loop(vec![n, oh, ow, kh, kw, c]);
    let node = fuser.expr(kernel, gradient, &IndexMap::identity(6));
    let view = View { buffer: target, offset: 0, strides: pixel_strides(window, padded), gather: None };
    let combine = if tiles { Combine::Write } else { Combine::Add };
    fuser.drafts[kernel].body.stores.push(Store { view, value: node, combine });
    if is_padded(window) {
        let kernel = fuser.open_loop(vec![n, h, w, c]);
        let from =
            View { buffer: target, offset: interior_offset(window, padded), strides: strides(&padded), gather: None };
        let node = fuser.drafts[kernel].push(Node::Load(from));
        let view = View { buffer, offset: 0, strides: strides(&[n, h, w, c]), gather: None };
        fuser.drafts[kernel].body.stores.push(Store { view, value: node, combine: Combine::Write });
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
