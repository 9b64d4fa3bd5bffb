//! # remotemedia-models
//!
//! Model inference for remotemedia's nodes, kept apart from the DSP crate so that it alone
//! carries the inference engine. Models run natively through [tract](https://crates.io/crates/tract-onnx)
//! (pure Rust: nothing to download or install), and the default models ship inside the crate.
//!
//! - [`silero::SileroVad`]: the Silero VAD model (v6, 16 kHz), streamed chunk by chunk with its
//!   context and state, as silero-vad streams it.

pub mod silero;

pub use silero::{SileroError, SileroVad};
