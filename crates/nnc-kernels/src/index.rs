//! Index maps: how a value's element index follows from a kernel's loop indices.
//!
//! A value of rank `r` read inside a kernel with `d` loop axes is read at
//! `value_index = M · loop_index`, `M` an `r × d` integer matrix. Elementwise ops keep the
//! map of their result; movement ops transform it (broadcast drops or zeroes rows,
//! transpose swaps them, a reshape that only adds or removes size-1 axes inserts or drops
//! rows), so a whole chain of them inlines into a consumer. At a buffer the map becomes a
//! [`View`](crate::View)'s strides.

use nnc_ir::Shape;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IndexMap {
    /// One row per value axis, one column per loop axis.
    rows: Vec<Vec<i64>>,
    loop_rank: usize,
}

impl IndexMap {
    /// The map of a value read at the kernel's own point (its shape is the loop space).
    pub fn identity(rank: usize) -> IndexMap {
        let rows = (0..rank).map(|a| (0..rank).map(|l| i64::from(a == l)).collect()).collect();
        IndexMap { rows, loop_rank: rank }
    }

    pub fn is_identity(&self) -> bool {
        *self == IndexMap::identity(self.loop_rank) && self.rows.len() == self.loop_rank
    }

    /// The map of the source of `broadcast(source) -> target` (numpy alignment).
    pub fn through_broadcast(&self, source: &Shape, target: &Shape) -> IndexMap {
        let offset = target.rank() - source.rank();
        let rows = (0..source.rank())
            .map(|a| if source.dims()[a] == 1 { vec![0; self.loop_rank] } else { self.rows[a + offset].clone() })
            .collect();
        IndexMap { rows, loop_rank: self.loop_rank }
    }

    /// The map of the source of a matrix transpose.
    pub fn through_transpose(&self) -> IndexMap {
        IndexMap { rows: self.rows.iter().rev().cloned().collect(), loop_rank: self.loop_rank }
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
        for (&(source_axis, _), &(target_axis, _)) in from.iter().zip(&to) {
            rows[source_axis] = self.rows[target_axis].clone();
        }
        Some(IndexMap { rows, loop_rank: self.loop_rank })
    }

    /// Strides over the loop axes for reading a value of `shape`, stored row-major, at
    /// this map (the element offset of a reshape's target index is the same in its source).
    pub fn strides(&self, shape: &Shape) -> Vec<isize> {
        let own = shape.strides();
        (0..self.loop_rank)
            .map(|l| self.rows.iter().zip(&own).map(|(row, &s)| row[l] as isize * s as isize).sum())
            .collect()
    }

    /// The loop axis that alone gives value axis `axis` (coefficient 1, no other term).
    pub fn sole_axis(&self, axis: usize) -> Option<usize> {
        let row = self.rows.get(axis)?;
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
}
