//! Silero VAD, streamed: each 512-sample chunk (32 ms at 16 kHz) goes to the model after the last
//! 64 samples of the chunk before it (the model's context; without it the model hears no speech),
//! and the model's recurrent state is fed back, exactly as silero-vad's own `OnnxWrapper` does.
//! The probabilities match onnxruntime's on the same model within 1e-4 (`tests/silero.rs`).

use std::io::Cursor;

use tract_onnx::prelude::*;

/// The shipped model: Silero VAD v6 at 16 kHz (MIT; see `models/README.md`).
pub const SILERO_VAD_16K: &[u8] = include_bytes!("../models/silero_vad_16k.onnx");

/// Samples per chunk at 16 kHz.
pub const CHUNK: usize = 512;
/// Samples of the previous chunk the model sees before each chunk.
pub const CONTEXT: usize = 64;
/// The sample rate the shipped model runs at.
pub const SAMPLE_RATE: u32 = 16_000;
const STATE: [usize; 3] = [2, 1, 128];

/// Why a model cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum SileroError {
    /// The model file is not a Silero VAD model tract can run.
    #[error("cannot load the Silero VAD model: {0}")]
    Load(String),
    /// A chunk of the wrong length.
    #[error("Silero VAD takes chunks of {CHUNK} samples at 16 kHz, found {0}")]
    ChunkLength(usize),
    /// Inference failed.
    #[error("Silero VAD inference failed: {0}")]
    Run(String),
}

type Plan = TypedRunnableModel;

/// One stream's detector: the planned model, its state and its context.
pub struct SileroVad {
    plan: Arc<Plan>,
    state: Tensor,
    context: [f32; CONTEXT],
}

impl SileroVad {
    /// The shipped model, planned.
    pub fn new() -> Result<Self, SileroError> {
        Self::from_onnx(SILERO_VAD_16K)
    }

    /// A model from ONNX bytes (an `If`-free 16 kHz export with the shipped model's inputs:
    /// `input` f32[1,576], `state` f32[2,1,128]).
    pub fn from_onnx(onnx: &[u8]) -> Result<Self, SileroError> {
        Ok(Self::with_plan(plan(onnx)?))
    }

    /// A fresh stream on an already planned model (planning once serves many streams).
    pub fn with_plan(plan: Arc<Plan>) -> Self {
        Self {
            plan,
            state: zero_state(),
            context: [0.0; CONTEXT],
        }
    }

    /// The planned model, to share with other streams ([`SileroVad::with_plan`]).
    pub fn plan(&self) -> Arc<Plan> {
        Arc::clone(&self.plan)
    }

    /// The probability of speech in `chunk` (512 samples in -1..1 at 16 kHz), given every chunk
    /// before it.
    pub fn probability(&mut self, chunk: &[f32]) -> Result<f32, SileroError> {
        if chunk.len() != CHUNK {
            return Err(SileroError::ChunkLength(chunk.len()));
        }
        let mut input = Vec::with_capacity(CONTEXT + CHUNK);
        input.extend_from_slice(&self.context);
        input.extend_from_slice(chunk);
        let input = Tensor::from_shape(&[1, CONTEXT + CHUNK], &input).map_err(run_error)?;
        let state = std::mem::take(&mut self.state);
        let mut outputs = self
            .plan
            .run(tvec!(input.into(), state.into()))
            .map_err(run_error)?;
        if outputs.len() != 2 {
            return Err(SileroError::Run(format!(
                "expected 2 outputs, found {}",
                outputs.len()
            )));
        }
        self.state = outputs.remove(1).into_tensor();
        let probability = outputs[0]
            .to_plain_array_view::<f32>()
            .map_err(run_error)?
            .iter()
            .next()
            .copied()
            .ok_or_else(|| SileroError::Run("an empty output".into()))?;
        self.context.copy_from_slice(&chunk[CHUNK - CONTEXT..]);
        Ok(probability)
    }

    /// Back to the start of a stream (state and context zeroed).
    pub fn reset(&mut self) {
        self.state = zero_state();
        self.context = [0.0; CONTEXT];
    }
}

/// The model's recurrent state at the start of a stream.
fn zero_state() -> Tensor {
    Tensor::zero::<f32>(&STATE).unwrap_or_default()
}

fn run_error(e: impl std::fmt::Display) -> SileroError {
    SileroError::Run(e.to_string())
}

/// Loads and optimises the model for tract.
pub fn plan(onnx: &[u8]) -> Result<Arc<Plan>, SileroError> {
    let load = |e: TractError| SileroError::Load(format!("{e:#}"));
    tract_onnx::onnx()
        .model_for_read(&mut Cursor::new(onnx))
        .map_err(load)?
        .into_optimized()
        .map_err(load)?
        .into_runnable()
        .map_err(load)
}
