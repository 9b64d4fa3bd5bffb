//! A Piper voice: the model (`VOICE.onnx`) and its configuration (`VOICE.onnx.json`, beside it):
//! the sample rate, the espeak voice, the default scales, the speakers and the phoneme ids. The
//! model takes `input` (ids), `input_lengths`, `scales` (`[noise_scale, length_scale, noise_w]`)
//! and, for a voice of several speakers, `sid`; it gives `output`, the sentence's audio.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;
use serde_json::Value as Json;

use super::ids::PhonemeIds;
use crate::onnx::{self, OnnxError};

/// A voice's configuration.
#[derive(Debug, Clone)]
pub struct VoiceConfig {
    /// Output rate in Hz.
    pub sample_rate: u32,
    /// The espeak-ng voice for its phonemes (`en-us`).
    pub espeak_voice: String,
    /// Default variation of the voice.
    pub noise_scale: f32,
    /// Default speaking rate (greater is slower).
    pub length_scale: f32,
    /// Default variation of phoneme durations.
    pub noise_w: f32,
    /// How many speakers the model has.
    pub num_speakers: u32,
    /// Speaker names → ids.
    pub speakers: HashMap<String, i64>,
    /// Phoneme → ids.
    pub phoneme_ids: PhonemeIds,
}

/// The configuration file of model `model`: `model.json` (Piper's naming), else `model` itself
/// when it is the `.onnx.json`.
pub fn config_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

impl VoiceConfig {
    /// Reads `VOICE.onnx.json`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the voice's configuration `{shown}`: {e}"))?;
        let json: Json = serde_json::from_str(&text).map_err(|e| format!("`{shown}` is not JSON: {e}"))?;
        let field = |pointer: &str| json.pointer(pointer);
        let number =
            |pointer: &str, default: f64| field(pointer).and_then(Json::as_f64).unwrap_or(default) as f32;
        let sample_rate = field("/audio/sample_rate")
            .and_then(Json::as_u64)
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| format!("`{shown}` has no audio.sample_rate"))?;
        let espeak_voice = field("/espeak/voice")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("`{shown}` has no espeak.voice"))?
            .to_string();
        if let Some(kind) = field("/phoneme_type").and_then(Json::as_str)
            && kind != "espeak"
        {
            return Err(format!(
                "`{shown}`: phoneme_type \"{kind}\" is not supported yet (\"espeak\" is)"
            ));
        }
        let mut phoneme_ids = PhonemeIds::new();
        for (symbol, ids) in field("/phoneme_id_map")
            .and_then(Json::as_object)
            .ok_or_else(|| format!("`{shown}` has no phoneme_id_map"))?
        {
            let mut chars = symbol.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                continue; // Piper maps single code points only.
            };
            let ids = ids
                .as_array()
                .map(|a| a.iter().filter_map(Json::as_i64).collect())
                .unwrap_or_default();
            phoneme_ids.insert(c, ids);
        }
        let speakers = field("/speaker_id_map")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            sample_rate,
            espeak_voice,
            noise_scale: number("/inference/noise_scale", 0.667),
            length_scale: number("/inference/length_scale", 1.0),
            noise_w: number("/inference/noise_w", 0.8),
            num_speakers: field("/num_speakers").and_then(Json::as_u64).unwrap_or(1) as u32,
            speakers,
            phoneme_ids,
        })
    }
}

/// How a sentence is spoken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// Variation of the voice (0: the same audio every time).
    pub noise_scale: f32,
    /// Speaking rate (greater is slower).
    pub length_scale: f32,
    /// Variation of phoneme durations (0: the same every time).
    pub noise_w: f32,
}

/// Samples per latent frame (HiFi-GAN's upsampling).
pub const FRAME_SAMPLES: usize = 256;

/// Latent frames of context decoded on each side of a window: the decoder's receptive field, so
/// that windows join into the whole sentence's audio (within 1e-4).
pub const CONTEXT_FRAMES: usize = 12;

/// A sentence's latent frames (`[channels, frames]`), decoded a window at a time; for a voice that
/// is not cut, the sentence's audio, taken whole.
pub struct Latent {
    values: Vec<f32>,
    channels: usize,
    frames: usize,
    /// The first frame not decoded yet.
    next: usize,
    /// Windows decoded so far.
    windows: u32,
}

impl Latent {
    /// Whether every frame was decoded.
    pub fn done(&self) -> bool {
        self.next >= self.frames
    }

    /// The length of the next window for a first window of `first` frames: each window twice
    /// the one before, up to 16 times the first, so that the first leaves early and the decoding
    /// of the context around windows stays a small share of the work.
    pub fn next_window(&self, first: usize) -> usize {
        first.saturating_mul(1 << self.windows.min(4))
    }
}

/// A loaded voice model: whole, or cut at its decoder ([`super::split`]) to voice a sentence in
/// windows.
pub enum VoiceModel {
    /// The model in one session.
    Whole {
        /// The session.
        session: Session,
        /// Whether it takes `sid`.
        multi_speaker: bool,
    },
    /// The encoder half and the decoder half.
    Cut {
        /// Ids → latent.
        encoder: Session,
        /// Latent → audio.
        decoder: Session,
        /// The latent's name.
        latent: String,
        /// Whether it takes `sid`.
        multi_speaker: bool,
    },
}

fn model_error(e: ort::Error) -> OnnxError {
    OnnxError::Model(format!("the voice failed: {e}"))
}

fn takes_sid(session: &Session) -> bool {
    session.inputs().iter().any(|i| i.name() == "sid")
}

/// The model's inputs for one sentence.
fn inputs(
    ids: &[i64],
    scales: Scales,
    speaker: Option<i64>,
) -> Result<
    Vec<(
        std::borrow::Cow<'static, str>,
        ort::session::SessionInputValue<'static>,
    )>,
    OnnxError,
> {
    let n = ids.len();
    let mut inputs = ort::inputs![
        "input" => Tensor::from_array(([1usize, n], ids.to_vec())).map_err(model_error)?,
        "input_lengths" => Tensor::from_array(([1usize], vec![n as i64])).map_err(model_error)?,
        "scales" => Tensor::from_array(([3usize], vec![scales.noise_scale, scales.length_scale, scales.noise_w])).map_err(model_error)?,
    ];
    if let Some(speaker) = speaker {
        inputs.push((
            "sid".into(),
            Tensor::from_array(([1usize], vec![speaker]))
                .map_err(model_error)?
                .into(),
        ));
    }
    Ok(inputs)
}

impl VoiceModel {
    /// Loads the model at `path`, cut at its decoder when `windows` (an error when it cannot be).
    pub fn load(path: &Path, windows: bool) -> Result<Self, OnnxError> {
        if !windows {
            let session = onnx::session(path)?;
            let multi_speaker = takes_sid(&session);
            return Ok(Self::Whole {
                session,
                multi_speaker,
            });
        }
        let bytes = std::fs::read(path)
            .map_err(|e| OnnxError::Model(format!("cannot read `{}`: {e}", path.display())))?;
        let halves = super::split::split(&bytes).map_err(|why| {
            OnnxError::Model(format!(
                "`{}` cannot be voiced in windows ({why}); use window_ms: 0",
                path.display()
            ))
        })?;
        let encoder = onnx::session_from_bytes(&halves.encoder, "the voice's encoder")?;
        let decoder = onnx::session_from_bytes(&halves.decoder, "the voice's decoder")?;
        let multi_speaker = takes_sid(&encoder);
        Ok(Self::Cut {
            encoder,
            decoder,
            latent: halves.latent,
            multi_speaker,
        })
    }

    /// A sentence's latent frames (for a whole model: its audio, as one window).
    pub fn encode(&mut self, ids: &[i64], scales: Scales, speaker: i64) -> Result<Latent, OnnxError> {
        match self {
            Self::Whole {
                session,
                multi_speaker,
            } => {
                let outputs = session
                    .run(inputs(ids, scales, multi_speaker.then_some(speaker))?)
                    .map_err(model_error)?;
                let (_, samples) = outputs["output"]
                    .try_extract_tensor::<f32>()
                    .map_err(model_error)?;
                let values = samples.to_vec();
                let frames = values.len();
                Ok(Latent {
                    values,
                    channels: 0,
                    frames,
                    next: 0,
                    windows: 0,
                })
            }
            Self::Cut {
                encoder,
                latent,
                multi_speaker,
                ..
            } => {
                let outputs = encoder
                    .run(inputs(ids, scales, multi_speaker.then_some(speaker))?)
                    .map_err(model_error)?;
                let (shape, values) = outputs[latent.as_str()]
                    .try_extract_tensor::<f32>()
                    .map_err(model_error)?;
                let (channels, frames) = match **shape {
                    [1, c, f] => (c as usize, f as usize),
                    ref other => {
                        return Err(OnnxError::Model(format!(
                            "the voice's latent has shape {other:?}"
                        )));
                    }
                };
                Ok(Latent {
                    values: values.to_vec(),
                    channels,
                    frames,
                    next: 0,
                    windows: 0,
                })
            }
        }
    }

    /// The audio of the next `frames` latent frames (all that is left, for a whole model).
    pub fn decode(&mut self, latent: &mut Latent, frames: usize) -> Result<Vec<f32>, OnnxError> {
        let Self::Cut {
            decoder,
            latent: name,
            ..
        } = self
        else {
            latent.next = latent.frames;
            return Ok(std::mem::take(&mut latent.values));
        };
        let start = latent.next;
        let end = start.saturating_add(frames).min(latent.frames);
        let (from, to) = (
            start.saturating_sub(CONTEXT_FRAMES),
            (end + CONTEXT_FRAMES).min(latent.frames),
        );
        let window: Vec<f32> = (0..latent.channels)
            .flat_map(|c| {
                latent.values[c * latent.frames + from..c * latent.frames + to]
                    .iter()
                    .copied()
            })
            .collect();
        let input =
            Tensor::from_array(([1usize, latent.channels, to - from], window)).map_err(model_error)?;
        let outputs = decoder
            .run(ort::inputs![name.as_str() => input])
            .map_err(model_error)?;
        let (_, audio) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(model_error)?;
        latent.next = end;
        latent.windows += 1;
        let (a, b) = ((start - from) * FRAME_SAMPLES, (end - from) * FRAME_SAMPLES);
        Ok(audio.get(a..b.min(audio.len())).unwrap_or_default().to_vec())
    }
}
