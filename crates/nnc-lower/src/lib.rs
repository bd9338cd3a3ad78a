//! Lowering: a checked job's model and loss to a forward graph of IR primitives
//! (`forward.rs`), and a checked `minimize` block's objective to a scalar graph
//! (`objective.rs`). The input has been checked (`nnc-check`): lowering cannot fail.

mod forward;
mod objective;

pub use forward::{Forward, lower_forward};
pub use objective::{Minimization, lower_minimization};
