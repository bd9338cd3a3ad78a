//! Index maps: how a value's element index follows from a kernel's loop indices.
//!
//! A value of rank `r` read inside a kernel with `d` loop axes is read at
//! `value_index = M · loop_index + c`, `M` an `r × d` integer matrix and `c` a constant
//! (non-zero below a slice). Elementwise ops keep the
//! map of their result; movement ops transform it (broadcast drops or zeroes rows,
//! transpose swaps them, a reshape that only adds or removes size-1 axes inserts or drops
//! rows, a slice adds its start), so a whole chain of them inlines into a consumer. At a buffer the map becomes a
//! [`View`](crate::View)'s strides.

use nnc_ir::Shape;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IndexMap {
    /// One row per value axis, one column per loop axis.
    rows: Vec<Vec<i64>>,
    /// One constant per value axis.
    offsets: Vec<i64>,
    loop_rank: usize,
}

impl IndexMap {
    /// The map of a value read at the kernel's own point (its shape is the loop space).
    pub fn identity(rank: usize) -> IndexMap {
        let rows = (0..rank).map(|a| (0..rank).map(|l| i64::from(a == l)).collect()).collect();
        IndexMap { rows, offsets: vec![0; rank], loop_rank: rank }
    }

    /// The map of a scalar (rank 0) read anywhere in a kernel of `loop_rank` axes.
    pub fn scalar(loop_rank: usize) -> IndexMap {
        IndexMap { rows: Vec::new(), offsets: Vec::new(), loop_rank }
    }

    /// A map from explicit rows and offsets (one per value axis).
    pub fn new(rows: Vec<Vec<i64>>, offsets: Vec<i64>, loop_rank: usize) -> IndexMap {
        debug_assert!(rows.len() == offsets.len() && rows.iter().all(|r| r.len() == loop_rank));
        IndexMap { rows, offsets, loop_rank }
    }

    pub fn loop_rank(&self) -> usize {
        self.loop_rank
    }

    pub fn is_identity(&self) -> bool {
        *self == IndexMap::identity(self.loop_rank) && self.rows.len() == self.loop_rank
    }

    /// The map of the source of `broadcast(source) -> target` (numpy alignment).
    pub fn through_broadcast(&self, source: &Shape, target: &Shape) -> IndexMap {
        let skip = target.rank() - source.rank();
        let (rows, offsets) = (0..source.rank())
            .map(|a| match source.dims()[a] {
                1 => (vec![0; self.loop_rank], 0),
                _ => (self.rows[a + skip].clone(), self.offsets[a + skip]),
            })
            .unzip();
        IndexMap { rows, offsets, loop_rank: self.loop_rank }
    }

    /// The map of the source of a matrix transpose.
    pub fn through_transpose(&self) -> IndexMap {
        IndexMap {
            rows: self.rows.iter().rev().cloned().collect(),
            offsets: self.offsets.iter().rev().copied().collect(),
            loop_rank: self.loop_rank,
        }
    }

    /// The map of the source of a slice starting at `start` along `axis`.
    pub fn through_slice(&self, axis: usize, start: usize) -> IndexMap {
        let mut map = self.clone();
        map.offsets[axis] += start as i64;
        map
    }

    /// The map of the images `[n, h, w, c]` of an unpadded `window` read at this map of its
    /// windows `[n, oh, ow, kh, kw, c]`: pixel (b, i·sh + u, j·sw + v, ch).
    pub fn through_window(&self, stride: [usize; 2]) -> IndexMap {
        let combine = |outer: usize, inner: usize, s: usize| -> (Vec<i64>, i64) {
            let s = s as i64;
            let row = self.rows[outer].iter().zip(&self.rows[inner]).map(|(&o, &i)| s * o + i).collect();
            (row, s * self.offsets[outer] + self.offsets[inner])
        };
        let (h, h_offset) = combine(1, 3, stride[0]);
        let (w, w_offset) = combine(2, 4, stride[1]);
        IndexMap {
            rows: vec![self.rows[0].clone(), h, w, self.rows[5].clone()],
            offsets: vec![self.offsets[0], h_offset, w_offset, self.offsets[5]],
            loop_rank: self.loop_rank,
        }
    }

    /// The map of the source of `reshape(source) -> target` when the reshape only adds or
    /// removes axes of size 1; `None` otherwise.
    pub fn through_reshape(&self, source: &Shape, target: &Shape) -> Option<IndexMap> {
        let kept = |shape: &Shape| -> Vec<(usize, usize)> {
            shape.dims().iter().copied().enumerate().filter(|&(_, d)| d != 1).collect()
        };
        let (from, to) = (kept(source), kept(target));
        if from.iter().map(|p| p.1).ne(to.iter().map(|p| p.1)) {
            return None;
        }
        let mut rows = vec![vec![0; self.loop_rank]; source.rank()];
        let mut offsets = vec![0; source.rank()];
        // A first axis of one on both sides (a batch of one row) is the same axis: it keeps
        // its loop axis, so that data rows read through the reshape are still gathered.
        if source.dims().first() == Some(&1) && target.dims().first() == Some(&1) {
            rows[0] = self.rows[0].clone();
            offsets[0] = self.offsets[0];
        }
        for (&(source_axis, _), &(target_axis, _)) in from.iter().zip(&to) {
            rows[source_axis] = self.rows[target_axis].clone();
            offsets[source_axis] = self.offsets[target_axis];
        }
        // A unit axis dropped here was read at its only index, 0.
        Some(IndexMap { rows, offsets, loop_rank: self.loop_rank })
    }

    /// Strides over the loop axes for reading a value of `shape`, stored row-major, at
    /// this map (the element offset of a reshape's target index is the same in its source).
    pub fn strides(&self, shape: &Shape) -> Vec<isize> {
        let own = shape.strides();
        (0..self.loop_rank)
            .map(|l| self.rows.iter().zip(&own).map(|(row, &s)| row[l] as isize * s as isize).sum())
            .collect()
    }

    /// The element offset of loop index 0 in a value of `shape`, stored row-major.
    pub fn offset(&self, shape: &Shape) -> usize {
        let offset: i64 = self.offsets.iter().zip(shape.strides()).map(|(&c, s)| c * s as i64).sum();
        usize::try_from(offset).expect("internal error: slices start inside their source")
    }

    /// The loop axis that alone gives value axis `axis` (coefficient 1, no other term).
    pub fn sole_axis(&self, axis: usize) -> Option<usize> {
        let row = self.rows.get(axis)?;
        if self.offsets[axis] != 0 {
            return None;
        }
        let nonzero: Vec<usize> = (0..self.loop_rank).filter(|&l| row[l] != 0).collect();
        match nonzero.as_slice() {
            [l] if row[*l] == 1 => Some(*l),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_broadcast_reads_one_row_again_and_again() {
        let map = IndexMap::identity(2).through_broadcast(&Shape(vec![8]), &Shape(vec![4, 8]));
        assert_eq!(map.strides(&Shape(vec![8])), vec![0, 1]);
    }

    #[test]
    fn transpose_swaps_strides() {
        let map = IndexMap::identity(2).through_transpose();
        assert_eq!(map.strides(&Shape(vec![3, 5])), vec![1, 5]);
    }

    #[test]
    fn row_sums_broadcast_back_through_a_reshape() {
        // broadcast(reshape(s: [4] -> [4, 1]) -> [4, 3]), read at (i, j): s[i].
        let at_reshape = IndexMap::identity(2).through_broadcast(&Shape(vec![4, 1]), &Shape(vec![4, 3]));
        let at_source = at_reshape.through_reshape(&Shape(vec![4]), &Shape(vec![4, 1])).expect("a unit axis reshapes");
        assert_eq!(at_source.strides(&Shape(vec![4])), vec![1, 0]);
        assert!(at_reshape.through_reshape(&Shape(vec![2, 2]), &Shape(vec![4, 1])).is_none());
    }

    #[test]
    fn a_batch_of_one_row_keeps_its_axis_through_a_reshape() {
        // A batch [1, 5] read as a series [1, 5, 1] at (i, j, c): row i is still loop axis 0,
        // so that a data input's row is gathered (not always the data's first row).
        let at_source = IndexMap::identity(3).through_reshape(&Shape(vec![1, 5]), &Shape(vec![1, 5, 1])).unwrap();
        assert_eq!(at_source.sole_axis(0), Some(0));
        assert_eq!(at_source.strides(&Shape(vec![1, 5])), vec![5, 1, 0]);
        // A larger batch, as before.
        let larger = IndexMap::identity(3).through_reshape(&Shape(vec![4, 5]), &Shape(vec![4, 5, 1])).unwrap();
        assert_eq!(larger.sole_axis(0), Some(0));
    }

    #[test]
    fn a_window_reads_its_pixel_at_stride_times_position_plus_offset() {
        // Windows [2, 3, 3, 2, 2, 4] of images [2, 6, 6, 4], stride 2: the window element
        // (b, i, j, u, v, c) is pixel (b, 2i + u, 2j + v, c).
        let map = IndexMap::identity(6).through_window([2, 2]);
        let images = Shape(vec![2, 6, 6, 4]);
        assert_eq!(map.strides(&images), vec![144, 48, 8, 24, 4, 1]);
        assert_eq!(map.offset(&images), 0);
    }

    #[test]
    fn a_slice_of_columns_starts_at_its_first_column() {
        // x: [4, 6]; slice(x, axis 1, start 2) -> [4, 3], read at (i, j): x[i, 2 + j].
        let map = IndexMap::identity(2).through_slice(1, 2);
        assert_eq!((map.offset(&Shape(vec![4, 6])), map.strides(&Shape(vec![4, 6]))), (2, vec![6, 1]));
        // Transposed first: read at (j, i).
        let map = IndexMap::identity(2).through_transpose().through_slice(0, 1);
        assert_eq!((map.offset(&Shape(vec![4, 6])), map.strides(&Shape(vec![4, 6]))), (6, vec![1, 6]));
    }
}
