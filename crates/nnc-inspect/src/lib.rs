//! What a network computes, shown to the people learning from it: the equations the
//! compiler derived (`explain`), every matrix of one step with real numbers (`trace`),
//! compiled gradients against finite differences (`gradcheck`), what went wrong in
//! training (`diagnosis`), plots as data (`plots`) and learning-rate sweeps (`sweep`).
//! Every view is derived from the compiler's own graphs and runtime.

pub mod diagnosis;
pub mod explain;
pub mod expr;
pub mod filters;
pub mod gradcheck;
pub mod names;
pub mod network;
pub mod plots;
pub mod sweep;
pub mod trace;

pub use expr::Style;
