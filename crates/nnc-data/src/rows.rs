//! Rows of equal width stored as one flat list: a million rows of predictions cost four
//! bytes a number, not an allocation a row.

/// Rows of `width` numbers each, row after row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows {
    pub width: usize,
    pub values: Vec<f32>,
}

impl Rows {
    /// `values` as rows of `width` (a width of 0 is taken as 1).
    pub fn new(values: Vec<f32>, width: usize) -> Rows {
        Rows { width: width.max(1), values }
    }

    /// `values` as `rows` rows (the width follows; 1 for no rows).
    pub fn with_rows(values: Vec<f32>, rows: usize) -> Rows {
        let width = values.len().checked_div(rows).unwrap_or(1);
        Rows::new(values, width)
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.width.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn row(&self, index: usize) -> &[f32] {
        &self.values[index * self.width..(index + 1) * self.width]
    }

    pub fn iter(&self) -> std::slice::ChunksExact<'_, f32> {
        self.values.chunks_exact(self.width.max(1))
    }

    /// Each value mapped by its column: `(value, column)`.
    pub fn map_columns(&self, f: impl Fn(f32, usize) -> f32) -> Rows {
        let values = self.values.iter().enumerate().map(|(i, &v)| f(v, i % self.width)).collect();
        Rows { width: self.width, values }
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a [f32];
    type IntoIter = std::slice::ChunksExact<'a, f32>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// As JSON: a list of rows, each a list of numbers.
impl serde::Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}
