//! What `compile` checks before it makes code: every program verifies, and a training
//! loop's shape fits the step programs it runs, so that the code reads and writes only
//! the buffers its entry points check (`boundary.rs`).

use crate::train_loop::LoopShape;
use crate::{CodegenError, Unit};
use nnc_kernels::{DataBound, Program, Storage, verify_with};

pub(crate) fn unit(unit: &Unit<'_>) -> Result<(), CodegenError> {
    match unit {
        Unit::Program { name, program, .. } => verified(name, program, None),
        Unit::TrainLoop { name, step, tail, shape, .. } => {
            fits_shape(name, step, *shape, shape.batch)?;
            match (tail, shape.tail_rows()) {
                (Some(tail), rows) if rows > 0 => {
                    fits_shape(name, tail, *shape, rows)?;
                    if tail.param_lens != step.param_lens {
                        return Err(invalid(name, "its last step's parameters differ from its steps'"));
                    }
                }
                (None, 0) => {}
                (Some(_), _) => return Err(invalid(name, "a last step for a run with no smaller last batch")),
                (None, _) => return Err(invalid(name, "no last step for the smaller last batch")),
            }
            Ok(())
        }
    }
}

/// A step program run by a loop of `shape` over batches of `rows` rows: its inputs are the
/// batch's inputs and targets, the seed when the loop is seeded, and the learning rate; its outputs the loss, and its
/// gathered reads stay inside the whole data set.
fn fits_shape(name: &str, program: &Program, shape: LoopShape, rows: usize) -> Result<(), CodegenError> {
    let sizes_fit = shape.batch >= 1
        && shape.batch <= shape.rows
        && rows <= shape.batch
        && shape.rows.checked_mul(shape.x_width.max(shape.y_width)).is_some()
        && u32::try_from(shape.rows).is_ok();
    if !sizes_fit {
        return Err(invalid(name, &format!("an impossible shape {shape:?}")));
    }
    let mut expected = vec![rows * shape.x_width, rows * shape.y_width];
    expected.extend(std::iter::repeat_n(1, shape.step_inputs()));
    if program.input_lens != expected {
        return Err(invalid(name, &format!("inputs {:?}, the shape needs {expected:?}", program.input_lens)));
    }
    if program.outputs.iter().any(|(_, len)| *len != 1) {
        return Err(invalid(name, "a step output other than the scalar loss"));
    }
    if program.row_inputs.iter().any(|&n| n > 1) {
        return Err(invalid(name, "rows gathered from an input other than the data"));
    }
    // Only the loss is written out: every output buffer is the one loss slot.
    if program.buffers.iter().any(|b| matches!(b.storage, Storage::Output(_)) && b.len > 1) {
        return Err(invalid(name, "an output buffer wider than the loss"));
    }
    let bound =
        DataBound { rows: shape.rows, lens: vec![(0, shape.rows * shape.x_width), (1, shape.rows * shape.y_width)] };
    verified(name, program, Some(&bound))
}

fn verified(name: &str, program: &Program, bound: Option<&DataBound>) -> Result<(), CodegenError> {
    verify_with(program, bound).map_err(|errors| invalid(name, &errors.join("; ")))
}

fn invalid(name: &str, why: &str) -> CodegenError {
    CodegenError(format!("internal error: `{name}` cannot be compiled: {why}"))
}
