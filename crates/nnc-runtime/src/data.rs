//! Datasets: rows of input features and targets, as row-major `f32` matrices.

#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub input_names: Vec<String>,
    pub target_names: Vec<String>,
    /// `rows x input_names.len()`, row-major.
    pub inputs: Vec<f32>,
    /// `rows x target_names.len()`, row-major.
    pub targets: Vec<f32>,
    pub rows: usize,
}

impl Dataset {
    pub fn n_inputs(&self) -> usize {
        self.input_names.len()
    }

    pub fn n_targets(&self) -> usize {
        self.target_names.len()
    }

    pub fn input_row(&self, row: usize) -> &[f32] {
        &self.inputs[row * self.n_inputs()..(row + 1) * self.n_inputs()]
    }

    pub fn target_row(&self, row: usize) -> &[f32] {
        &self.targets[row * self.n_targets()..(row + 1) * self.n_targets()]
    }

    /// Copies `rows` (by index) into contiguous batch buffers.
    pub fn gather(&self, rows: &[usize], inputs: &mut Vec<f32>, targets: &mut Vec<f32>) {
        inputs.clear();
        targets.clear();
        for &row in rows {
            inputs.extend_from_slice(self.input_row(row));
            targets.extend_from_slice(self.target_row(row));
        }
    }
}
