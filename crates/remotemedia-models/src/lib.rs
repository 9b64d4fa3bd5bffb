//! # remotemedia-models
//!
//! Model inference for remotemedia's nodes, kept apart from the DSP crate so that it alone
//! carries the inference engine. Models run natively through [tract](https://crates.io/crates/tract-onnx)
//! (pure Rust: nothing to download or install), and the default models ship inside the crate.
//!
//! - [`silero::SileroVad`]: the Silero VAD model (v6, 8 and 16 kHz), streamed chunk by chunk with
//!   its context and state, as silero-vad streams it.
//! - [`silero_segments`]: silero-vad's rules from probabilities to speech segments, streamed.
//! - `SileroVADNode` ([`register`]): both as a pipeline node.
//!
//! ```
//! let mut registry = remotemedia_core::Registry::new();
//! remotemedia_models::register(&mut registry).unwrap();
//! assert!(registry.get("SileroVADNode").is_some());
//! ```

pub mod silero;
pub mod silero_segments;
pub mod vad_node;

pub use silero::{SileroError, SileroModel, SileroVad};

use remotemedia_core::{CheckedFactory, Registry, Result};

/// Registers the model nodes (`SileroVADNode`).
pub fn register(registry: &mut Registry) -> Result<()> {
    registry.register(
        vad_node::descriptor(),
        CheckedFactory {
            create: vad_node::create,
            check: vad_node::check,
        },
    )?;
    Ok(())
}
