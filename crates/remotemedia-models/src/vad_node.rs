//! `SileroVADNode`: the Silero VAD model as a pipeline node, with `VADNode`'s outputs (see
//! [`remotemedia_nodes::audio::vad_node`]) and silero-vad's segment rules
//! ([`crate::silero_segments`]). Input: 8 or 16 kHz mono audio, any format, in chunks of any size
//! (the model takes 32 ms at a time; the rest waits for the next chunk, so the chunking never
//! changes a result). A last partial chunk is zero-padded, as silero-vad does.

use std::path::PathBuf;
use std::sync::Arc;

use remotemedia_core::samples::to_f32;
use remotemedia_core::{AudioBuffer, NodeDescriptor, NodeError, NodeInstance, ParamSpec, Params};
use remotemedia_nodes::audio::vad::VadOutput;
use remotemedia_nodes::audio::vad_node::{Emit, SpeechDetector, SpeechNode, ms, shared_params};

use crate::silero::{SileroError, SileroModel, SileroVad};
use crate::silero_segments::{SegmentRules, Segmenter};

pub(crate) const NODE_TYPE: &str = "SileroVADNode";

pub(crate) fn descriptor() -> NodeDescriptor {
    let d = NodeDescriptor::new(NODE_TYPE)
        .describe("voice activity detection with the Silero VAD model (v6, run natively) on 8 or 16 kHz mono audio: speech segments, per-frame decisions and probabilities, or the speech audio; silero-vad's segment rules")
        .param(
            ParamSpec::number("threshold")
                .default(0.5)
                .min(0.0)
                .max(1.0)
                .describe("speech starts at this probability; it ends below threshold - 0.15"),
        )
        .param(ParamSpec::path("model").describe(
            "an ONNX Silero VAD model without If nodes for the stream's rate (relative to the manifest); default: the shipped v6 models",
        ))
        .param(
            ParamSpec::choice("execution", &["blocking", "inline"])
                .default("blocking")
                .describe("where inference runs: on the engine's compute threads (blocking: other sessions never wait behind it), or on the async worker (inline)"),
        );
    shared_params(d, 250, 100, 30)
}

/// A custom model must load at one of the rates (checked when the manifest is validated).
pub(crate) fn check(params: &Params) -> Result<(), NodeError> {
    let Some(path) = model_path(params)? else {
        return Ok(());
    };
    let mut last = None;
    for rate in crate::silero::SAMPLE_RATES {
        match SileroModel::from_file(&path, rate) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(NodeError::InvalidParams(
        last.map_or_else(String::new, |e| e.to_string()),
    ))
}

fn model_path(params: &Params) -> Result<Option<PathBuf>, NodeError> {
    Ok(match params.get("model") {
        Some(_) => Some(PathBuf::from(params.text("model")?)),
        None => None,
    })
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let threshold = params.float("threshold")? as f32;
    let (min_speech, min_silence, pad) = (
        ms(params, "min_speech_ms")?,
        ms(params, "min_silence_ms")?,
        ms(params, "padding_ms")?,
    );
    let path = model_path(params)?;
    let make = move |rate: u32| {
        let model = match &path {
            Some(path) => SileroModel::from_file(path, rate),
            None => SileroModel::shipped(rate),
        }
        .map_err(node_error)?;
        let rules = SegmentRules::new(threshold, rate, min_speech, min_silence, pad);
        Ok(SileroDetector::new(model, rules))
    };
    let node = SpeechNode::new(NODE_TYPE, Emit::from_params(params)?, make).with_signals(params)?;
    Ok(match params.text("execution")? {
        "inline" => NodeInstance::sync(node),
        _ => NodeInstance::blocking(node),
    })
}

fn node_error(e: SileroError) -> NodeError {
    match e {
        SileroError::Rate(_) | SileroError::ChunkLength { .. } => NodeError::invalid_input(e.to_string()),
        SileroError::Load(_) | SileroError::Run(_) => NodeError::failed(e.to_string()),
    }
}

/// One stream: the model, silero-vad's segment rules, and the samples of an unfinished chunk.
pub struct SileroDetector {
    vad: SileroVad,
    segmenter: Segmenter,
    chunk: usize,
    partial: Vec<f32>,
    chunks: u64,
    samples: u64,
}

impl SileroDetector {
    /// A detector on `model` with `rules`.
    pub fn new(model: SileroModel, rules: SegmentRules) -> Self {
        let chunk = model.chunk_len();
        Self {
            vad: SileroVad::with_model(model),
            segmenter: Segmenter::new(rules, chunk),
            chunk,
            partial: Vec::with_capacity(chunk),
            chunks: 0,
            samples: 0,
        }
    }

    fn score(&mut self, chunk: &[f32], out: &mut VadOutput) -> Result<(), NodeError> {
        let p = self.vad.probability(chunk).map_err(node_error)?;
        self.chunks += 1;
        self.segmenter.push(p, &mut out.segments);
        out.speech.push(self.segmenter.in_speech());
        out.probability.push(p);
        Ok(())
    }

    /// Feeds samples in -1..1; returns the chunks scored and the segments that ended.
    pub fn push(&mut self, samples: &[f32]) -> Result<VadOutput, NodeError> {
        let mut out = VadOutput {
            first_frame: self.chunks,
            ..VadOutput::default()
        };
        self.samples += samples.len() as u64;
        let mut rest = samples;
        if !self.partial.is_empty() {
            let take = (self.chunk - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() < self.chunk {
                return Ok(out);
            }
            let chunk = std::mem::take(&mut self.partial);
            self.score(&chunk, &mut out)?;
            self.partial = chunk;
            self.partial.clear();
        }
        let mut whole = rest.chunks_exact(self.chunk);
        for chunk in whole.by_ref() {
            self.score(chunk, &mut out)?;
        }
        self.partial.extend_from_slice(whole.remainder());
        Ok(out)
    }

    /// Ends the stream: scores a last partial chunk (zero-padded) and closes the segments.
    pub fn finish(&mut self) -> Result<VadOutput, NodeError> {
        let mut out = VadOutput {
            first_frame: self.chunks,
            ..VadOutput::default()
        };
        if !self.partial.is_empty() {
            let mut chunk = std::mem::take(&mut self.partial);
            chunk.resize(self.chunk, 0.0);
            self.score(&chunk, &mut out)?;
        }
        self.segmenter.finish(self.samples, &mut out.segments);
        Ok(out)
    }
}

impl SpeechDetector for SileroDetector {
    fn frame_len(&self) -> usize {
        self.chunk
    }

    fn frame_ms(&self) -> u32 {
        32
    }

    fn detect(&mut self, audio: &Arc<AudioBuffer>) -> Result<VadOutput, NodeError> {
        self.push(&to_f32(audio))
    }

    fn end(&mut self) -> Result<VadOutput, NodeError> {
        self.finish()
    }

    fn keep_from(&self) -> u64 {
        self.segmenter.keep_from()
    }
}
