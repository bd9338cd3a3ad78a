//! Trained models to other tools: [`onnx`] writes the inference graph (with the numeric
//! preprocessing) as ONNX; [`pytorch`] writes a PyTorch project that trains the same
//! network the same way, ready for data-parallel training.

pub mod onnx;
mod protobuf;
pub mod pytorch;
