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

/// A loaded voice model.
pub struct VoiceModel {
    session: Session,
    multi_speaker: bool,
}

impl VoiceModel {
    /// Loads the model at `path`.
    pub fn load(path: &Path) -> Result<Self, OnnxError> {
        let session = onnx::session(path)?;
        let multi_speaker = session.inputs().iter().any(|i| i.name() == "sid");
        Ok(Self {
            session,
            multi_speaker,
        })
    }

    /// The audio of one sentence's ids (mono, at the voice's rate, as the model makes it).
    pub fn speak(&mut self, ids: &[i64], scales: Scales, speaker: i64) -> Result<Vec<f32>, OnnxError> {
        let model = |e: ort::Error| OnnxError::Model(format!("the voice failed: {e}"));
        let n = ids.len();
        let mut inputs = ort::inputs![
            "input" => Tensor::from_array(([1usize, n], ids.to_vec())).map_err(model)?,
            "input_lengths" => Tensor::from_array(([1usize], vec![n as i64])).map_err(model)?,
            "scales" => Tensor::from_array(([3usize], vec![scales.noise_scale, scales.length_scale, scales.noise_w])).map_err(model)?,
        ];
        if self.multi_speaker {
            inputs.push((
                "sid".into(),
                Tensor::from_array(([1usize], vec![speaker]))
                    .map_err(model)?
                    .into(),
            ));
        }
        let outputs = self.session.run(inputs).map_err(model)?;
        let (_, samples) = outputs["output"].try_extract_tensor::<f32>().map_err(model)?;
        Ok(samples.to_vec())
    }
}
