//! Piper text to speech: a Piper voice (a VITS model exported to ONNX, with its `.onnx.json`)
//! run through onnxruntime, with phonemes from `espeak-ng`. The steps, as Piper takes them:
//!
//! 1. [`text`]: the text cut into sentences of clauses (at `. ? !` and `, : ;`);
//! 2. [`espeak`]: each clause's IPA phonemes, from a long-lived `espeak-ng` process;
//! 3. [`ids`]: a sentence's phonemes as the voice's ids (`^ _ p _ p _ … $`);
//! 4. [`voice`]: the model turns the ids of a sentence into audio at the voice's rate.
//!
//! [`node`] is `PiperTTSNode`, which streams the audio sentence by sentence.

pub mod espeak;
pub mod ids;
pub mod node;
pub mod split;
pub mod text;
pub mod voice;
