//! The runtime: datasets, parameter initialisation, and the training and evaluation loops
//! that drive compiled kernels. The only stage besides the CLI that touches data files.

pub mod data;
mod descend;
mod graphs;
mod init;
mod prepare;
mod train;
mod window;

pub use data::Dataset;
pub use descend::{DescentGraphs, Point, descend, descent_graphs};
pub use graphs::{Graphs, STEP_KERNEL, build};
pub use init::initial_params;
pub use prepare::{Prepared, Task, prepare};
pub use train::{Diverged, TrainSettings, Training, evaluate, train};
