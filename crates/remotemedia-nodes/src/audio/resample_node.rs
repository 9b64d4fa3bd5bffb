//! `AudioResampleNode`: the streaming [`Resampler`] as a pipeline node.

use std::sync::Arc;

use remotemedia_core::{Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value};

use super::resample::{DEFAULT_MAX_LATENCY_MS, ResampleQuality, Resampler};
use super::samples::{StreamLayout, expect_audio, from_f32, i16_to_f32, i32_to_f32};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("AudioResampleNode")
        .describe("resamples audio to `target_sample_rate` (polyphase windowed sinc; output time-aligned with the input)")
        .param(
            ParamSpec::integer("target_sample_rate")
                .default(16000)
                .min(1.0)
                .max(f64::from(remotemedia_core::MAX_INPUT_SAMPLE_RATE))
                .describe("output sample rate in Hz"),
        )
        .param(
            ParamSpec::choice("quality", &ResampleQuality::NAMES)
                .default("high")
                .describe("filter length: `low` (80 dB), `medium` (100 dB) or `high` (130 dB stopband)"),
        )
        .param(
            ParamSpec::integer("max_latency_ms")
                .default(i64::from(DEFAULT_MAX_LATENCY_MS))
                .min(0.0)
                .max(1000.0)
                .describe(
                    "the most the node may hold a stream back, in ms: FFT blocks (fastest) where \
                     they fit, else the filter summed directly (latency: half the filter, 1–4 ms \
                     at `high`; 0 always does that)",
                ),
        )
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let rate = params.int("target_sample_rate")?;
    let target = u32::try_from(rate).ok().filter(|r| *r > 0).ok_or_else(|| {
        NodeError::InvalidParams(format!(
            "`target_sample_rate` must be a positive rate, found {rate}"
        ))
    })?;
    let name = params.text("quality")?;
    let quality = ResampleQuality::from_name(name)
        .ok_or_else(|| NodeError::InvalidParams(format!("unknown quality `{name}`")))?;
    let latency = params.int("max_latency_ms")?;
    let max_latency_ms = u32::try_from(latency)
        .ok()
        .filter(|ms| *ms <= 1000)
        .ok_or_else(|| {
            NodeError::InvalidParams(format!(
                "`max_latency_ms` must be between 0 and 1000, found {latency}"
            ))
        })?;
    Ok(NodeInstance::sync(ResampleNode {
        target,
        quality,
        max_latency_ms,
        layout: None,
        resampler: None,
    }))
}

struct ResampleNode {
    target: u32,
    quality: ResampleQuality,
    max_latency_ms: u32,
    layout: Option<StreamLayout>,
    resampler: Option<Resampler>,
}

impl ResampleNode {
    fn emit(&self, samples: Vec<f32>, out: &mut Outputs) -> Result<(), NodeError> {
        if let Some(layout) = self.layout
            && !samples.is_empty()
        {
            out.emit(from_f32(
                self.target,
                layout.channels,
                layout.format,
                samples.into(),
            )?);
        }
        Ok(())
    }
}

impl Node for ResampleNode {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        let layout = StreamLayout::check(&mut self.layout, audio)?;
        if layout.rate == self.target {
            out.emit(Value::Audio(Arc::clone(audio)));
            return Ok(());
        }
        let resampler = match &mut self.resampler {
            Some(r) => r,
            slot @ None => slot.insert(
                Resampler::within(
                    layout.rate,
                    self.target,
                    usize::from(layout.channels),
                    self.quality,
                    self.max_latency_ms,
                )
                .map_err(NodeError::invalid_input)?,
            ),
        };
        let samples = if let Some(s) = audio.samples_i16() {
            resampler.process_converted(s, i16_to_f32)
        } else if let Some(s) = audio.samples_i32() {
            resampler.process_converted(s, i32_to_f32)
        } else {
            resampler.process(audio.samples_f32().unwrap_or_default())
        };
        self.emit(samples, out)
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        let samples = self.resampler.as_mut().map(Resampler::flush).unwrap_or_default();
        self.emit(samples, out)
    }
}
