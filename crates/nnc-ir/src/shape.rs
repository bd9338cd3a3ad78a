//! Static tensor shapes and the index arithmetic shared by the interpreter and codegen.

use std::fmt;

/// A row-major static shape; `[]` is a scalar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    pub fn scalar() -> Shape {
        Shape(Vec::new())
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of elements (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Row-major strides of this shape.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.rank()];
        for axis in (0..self.rank().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * self.0[axis + 1];
        }
        strides
    }

    /// Whether `self` broadcasts to `target` under right-aligned (numpy) rules.
    pub fn broadcasts_to(&self, target: &Shape) -> bool {
        self.rank() <= target.rank()
            && self.0.iter().rev().zip(target.0.iter().rev()).all(|(&from, &to)| from == to || from == 1)
    }

    /// For each axis of `target`, the stride to step through `self` when broadcasting to it
    /// (0 on axes that are repeated).
    pub fn broadcast_strides(&self, target: &Shape) -> Vec<usize> {
        debug_assert!(self.broadcasts_to(target));
        let own = self.strides();
        let offset = target.rank() - self.rank();
        (0..target.rank())
            .map(|axis| match axis.checked_sub(offset) {
                Some(source_axis) if self.0[source_axis] != 1 => own[source_axis],
                Some(_) | None => 0,
            })
            .collect()
    }

    /// The axes of `target` that a broadcast from `self` repeats.
    pub fn broadcast_axes(&self, target: &Shape) -> Vec<usize> {
        let offset = target.rank() - self.rank();
        (0..target.rank())
            .filter(|&axis| match axis.checked_sub(offset) {
                Some(source_axis) => self.0[source_axis] == 1 && target.0[axis] != 1,
                None => true,
            })
            .collect()
    }

    /// The shape left after summing over `axes` (which are removed).
    pub fn reduce(&self, axes: &[usize]) -> Shape {
        Shape(self.0.iter().enumerate().filter(|(axis, _)| !axes.contains(axis)).map(|(_, &d)| d).collect())
    }

    /// The shape after reducing `axes` but keeping them as size 1.
    pub fn reduce_keepdims(&self, axes: &[usize]) -> Shape {
        Shape(self.0.iter().enumerate().map(|(axis, &d)| if axes.contains(&axis) { 1 } else { d }).collect())
    }

    /// For each axis of `self`, the stride into the reduced output (0 on reduced axes).
    pub fn reduce_strides(&self, axes: &[usize]) -> Vec<usize> {
        let out = self.reduce(axes).strides();
        let mut out_axis = 0;
        (0..self.rank())
            .map(|axis| {
                if axes.contains(&axis) {
                    0
                } else {
                    out_axis += 1;
                    out[out_axis - 1]
                }
            })
            .collect()
    }

    /// Swaps the two axes of a matrix.
    pub fn transposed(&self) -> Shape {
        Shape(self.0.iter().rev().copied().collect())
    }

    /// For each axis of the transposed shape, the stride into `self`.
    pub fn transpose_strides(&self) -> Vec<usize> {
        self.strides().into_iter().rev().collect()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "f32[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

/// Visits every multi-index of `shape` in row-major order, giving the offsets
/// `sum(index[axis] * strides[k][axis])` for each stride vector.
pub fn for_each_offset<const K: usize>(shape: &Shape, strides: [&[usize]; K], mut visit: impl FnMut([usize; K])) {
    let rank = shape.rank();
    let mut index = vec![0usize; rank];
    for _ in 0..shape.numel() {
        let mut offsets = [0usize; K];
        for (k, stride) in strides.iter().enumerate() {
            offsets[k] = index.iter().zip(stride.iter()).map(|(i, s)| i * s).sum();
        }
        visit(offsets);
        for axis in (0..rank).rev() {
            index[axis] += 1;
            if index[axis] < shape.0[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_broadcast_repeats_rows() {
        let bias = Shape(vec![3]);
        let target = Shape(vec![2, 3]);
        assert!(bias.broadcasts_to(&target));
        assert_eq!(bias.broadcast_strides(&target), vec![0, 1]);
        assert_eq!(bias.broadcast_axes(&target), vec![0]);
        assert!(!Shape(vec![2]).broadcasts_to(&target));
    }

    #[test]
    fn reduce_strides_skip_reduced_axes() {
        let shape = Shape(vec![2, 3]);
        assert_eq!(shape.reduce(&[1]), Shape(vec![2]));
        assert_eq!(shape.reduce_strides(&[1]), vec![1, 0]);
        assert_eq!(shape.reduce_strides(&[0]), vec![0, 1]);
    }

    #[test]
    fn offsets_visit_row_major() {
        let mut seen = Vec::new();
        let shape = Shape(vec![2, 3]);
        for_each_offset(&shape, [&shape.strides(), &shape.transposed().transpose_strides()], |o| seen.push(o));
        assert_eq!(seen[1], [1, 2]);
        assert_eq!(seen.len(), 6);
    }
}
