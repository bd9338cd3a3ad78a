//! The runtime: datasets, parameter initialisation, and the training and evaluation loops
//! that drive compiled kernels. The only stage besides the CLI that touches data files.

pub mod data;
mod graphs;
mod init;
mod train;

pub use data::{Dataset, load};
pub use graphs::{Graphs, build};
pub use init::initial_params;
pub use train::{Diverged, Training, evaluate, train};
