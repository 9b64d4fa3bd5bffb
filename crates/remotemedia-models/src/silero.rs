//! Silero VAD, streamed: each chunk (512 samples at 16 kHz, 256 at 8 kHz: 32 ms) goes to the model
//! after the last samples of the chunk before it (the model's context, 64 or 32 samples; without
//! it the model hears no speech), and the model's recurrent state is fed back, exactly as
//! silero-vad's own `OnnxWrapper` does. The probabilities match onnxruntime's on the same model
//! within 1e-4 (`tests/silero.rs`).

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tract_onnx::prelude::*;

/// The shipped 16 kHz model: Silero VAD v6 (MIT; see `models/README.md`).
pub const SILERO_VAD_16K: &[u8] = include_bytes!("../models/silero_vad_16k.onnx");
/// The shipped 8 kHz model: Silero VAD v6 with the rate fixed at 8 kHz (MIT; see `models/README.md`).
pub const SILERO_VAD_8K: &[u8] = include_bytes!("../models/silero_vad_8k.onnx");

/// Samples per chunk at 16 kHz (the 8 kHz model takes half as many).
pub const CHUNK: usize = 512;
/// Samples of the previous chunk the 16 kHz model sees before each chunk (half at 8 kHz).
pub const CONTEXT: usize = 64;
/// The rates the model runs at.
pub const SAMPLE_RATES: [u32; 2] = [8_000, 16_000];
const STATE: [usize; 3] = [2, 1, 128];

/// Why a model cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum SileroError {
    /// The model file is not a Silero VAD model tract can run.
    #[error("cannot load the Silero VAD model: {0}")]
    Load(String),
    /// A rate the model does not run at.
    #[error(
        "Silero VAD runs on 8000 or 16000 Hz audio, found {0} Hz; put an AudioResampleNode (target_sample_rate: 16000) before it"
    )]
    Rate(u32),
    /// A chunk of the wrong length.
    #[error("Silero VAD takes chunks of {expected} samples at this rate, found {found}")]
    ChunkLength {
        /// Samples the model takes.
        expected: usize,
        /// Samples given.
        found: usize,
    },
    /// Inference failed.
    #[error("Silero VAD inference failed: {0}")]
    Run(String),
}

type Plan = TypedRunnableModel;
/// Planned model files, by path and rate.
type PlanCache = HashMap<(PathBuf, u32), Arc<Plan>>;

/// A planned Silero model for one sample rate; cheap to clone and shared by every stream on it.
#[derive(Clone)]
pub struct SileroModel {
    plan: Arc<Plan>,
    rate: u32,
}

impl std::fmt::Debug for SileroModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroModel").field("rate", &self.rate).finish()
    }
}

impl SileroModel {
    /// The shipped model for `rate` (8000 or 16000), planned once per process.
    pub fn shipped(rate: u32) -> Result<Self, SileroError> {
        static PLANS: [OnceLock<Arc<Plan>>; 2] = [OnceLock::new(), OnceLock::new()];
        let (slot, onnx) = match rate {
            8_000 => (&PLANS[0], SILERO_VAD_8K),
            16_000 => (&PLANS[1], SILERO_VAD_16K),
            other => return Err(SileroError::Rate(other)),
        };
        let plan = match slot.get() {
            Some(plan) => Arc::clone(plan),
            None => Arc::clone(slot.get_or_init(|| plan_or_panic(onnx, rate))),
        };
        Ok(Self { plan, rate })
    }

    /// A model from ONNX bytes, for audio at `rate`: an `If`-free Silero export with the shipped
    /// models' inputs (`input` f32[1, context + chunk], `state` f32[2,1,128]).
    pub fn from_onnx(onnx: &[u8], rate: u32) -> Result<Self, SileroError> {
        Ok(Self {
            plan: plan(onnx, rate)?,
            rate,
        })
    }

    /// A model file, for audio at `rate`; each file and rate is planned once per process.
    pub fn from_file(path: &Path, rate: u32) -> Result<Self, SileroError> {
        static PLANS: OnceLock<Mutex<PlanCache>> = OnceLock::new();
        let key = (path.to_path_buf(), rate);
        let cache = PLANS.get_or_init(Mutex::default);
        if let Some(plan) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(Self {
                plan: Arc::clone(plan),
                rate,
            });
        }
        let onnx = std::fs::read(path)
            .map_err(|e| SileroError::Load(format!("cannot read {}: {e}", path.display())))?;
        let model = Self::from_onnx(&onnx, rate)
            .map_err(|e| SileroError::Load(format!("{}: {e}", path.display())))?;
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::clone(&model.plan));
        Ok(model)
    }

    /// The sample rate this model runs at.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Samples per chunk: 512 at 16 kHz, 256 at 8 kHz (32 ms).
    pub fn chunk_len(&self) -> usize {
        chunk_len(self.rate)
    }
}

fn chunk_len(rate: u32) -> usize {
    if rate == 8_000 { CHUNK / 2 } else { CHUNK }
}

fn context_len(rate: u32) -> usize {
    if rate == 8_000 { CONTEXT / 2 } else { CONTEXT }
}

/// One stream's detector: a shared model, its state and its context.
pub struct SileroVad {
    model: SileroModel,
    state: Tensor,
    /// The model's input: the context, then the chunk.
    input: Vec<f32>,
}

impl SileroVad {
    /// The shipped 16 kHz model.
    pub fn new() -> Result<Self, SileroError> {
        Ok(Self::with_model(SileroModel::shipped(16_000)?))
    }

    /// A fresh stream on a model (planning once serves many streams).
    pub fn with_model(model: SileroModel) -> Self {
        let len = context_len(model.rate) + chunk_len(model.rate);
        Self {
            model,
            state: zero_state(),
            input: vec![0.0; len],
        }
    }

    /// The model, to share with other streams ([`SileroVad::with_model`]).
    pub fn model(&self) -> &SileroModel {
        &self.model
    }

    /// The probability of speech in `chunk` ([`SileroModel::chunk_len`] samples in -1..1), given
    /// every chunk before it.
    pub fn probability(&mut self, chunk: &[f32]) -> Result<f32, SileroError> {
        let (len, context) = (self.model.chunk_len(), context_len(self.model.rate));
        if chunk.len() != len {
            return Err(SileroError::ChunkLength {
                expected: len,
                found: chunk.len(),
            });
        }
        self.input[context..].copy_from_slice(chunk);
        let input = Tensor::from_shape(&[1, context + len], &self.input).map_err(run_error)?;
        let state = std::mem::take(&mut self.state);
        let mut outputs = self
            .model
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
        self.input.copy_within(len.., 0);
        Ok(probability)
    }

    /// Back to the start of a stream (state and context zeroed).
    pub fn reset(&mut self) {
        self.state = zero_state();
        self.input.fill(0.0);
    }
}

/// The model's recurrent state at the start of a stream.
fn zero_state() -> Tensor {
    Tensor::zero::<f32>(&STATE).unwrap_or_default()
}

fn run_error(e: impl std::fmt::Display) -> SileroError {
    SileroError::Run(e.to_string())
}

/// A shipped model is tested to load; failing to would be a broken build, not bad input.
#[allow(clippy::expect_used)]
fn plan_or_panic(onnx: &[u8], rate: u32) -> Arc<Plan> {
    plan(onnx, rate).expect("the shipped Silero VAD model loads")
}

/// Loads and optimises a model for tract, checking it takes one chunk at `rate`.
fn plan(onnx: &[u8], rate: u32) -> Result<Arc<Plan>, SileroError> {
    if !SAMPLE_RATES.contains(&rate) {
        return Err(SileroError::Rate(rate));
    }
    let load = |e: TractError| SileroError::Load(format!("{e:#}"));
    let width = context_len(rate) + chunk_len(rate);
    let plan = tract_onnx::onnx()
        .model_for_read(&mut Cursor::new(onnx))
        .map_err(load)?
        .with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), tvec!(1, width)))
        .map_err(load)?
        .with_input_fact(
            1,
            InferenceFact::dt_shape(f32::datum_type(), tvec!(STATE[0], STATE[1], STATE[2])),
        )
        .map_err(load)?
        .into_optimized()
        .map_err(load)?
        .into_runnable()
        .map_err(load)?;
    Ok(plan)
}
