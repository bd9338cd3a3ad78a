//! Lowering: a checked job's model and loss to a forward graph of IR primitives
//! (`forward.rs`, each layer kind in `layers.rs`), and a checked `minimize` block's objective to a scalar graph
//! (`objective.rs`). The input has been checked (`nnc-check`): lowering cannot fail.

mod forward;
mod layers;
mod objective;

pub use forward::{Forward, Mode, lower_forward};
pub use objective::{Minimization, lower_minimization};
