//! `GainNode` (a fixed gain in dB) and `NormalizeNode` (peak or RMS normalisation of a whole stream).

use std::sync::Arc;

use remotemedia_core::{
    AudioBuffer, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value,
};

use super::samples::{StreamLayout, expect_audio, round_i16, round_i32, to_f32};

pub(crate) fn gain_descriptor() -> NodeDescriptor {
    NodeDescriptor::new("GainNode")
        .describe("multiplies audio by `db` decibels of gain (integer samples saturate)")
        .param(
            ParamSpec::number("db")
                .default(0.0)
                .min(-200.0)
                .max(200.0)
                .describe("gain in decibels (negative attenuates)"),
        )
}

pub(crate) fn create_gain(params: &Params) -> Result<NodeInstance, NodeError> {
    let factor = db_to_factor(params.float("db")?);
    Ok(NodeInstance::sync(Gain { factor, layout: None }))
}

/// `10^(db/20)`.
pub(crate) fn db_to_factor(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// `audio` multiplied by `factor`: `f32` samples in `f32` (no clipping: floats keep headroom),
/// integer samples in `f64`, rounded half to even and saturated.
pub(crate) fn apply_gain(audio: &AudioBuffer, factor: f64) -> Result<AudioBuffer, NodeError> {
    let (rate, ch) = (audio.sample_rate(), audio.channels());
    let built = if let Some(s) = audio.samples_f32() {
        let g = factor as f32;
        // A copy scaled in place: 197 ns per 48 kHz stereo chunk, against 450 ns for collecting a
        // mapped iterator (examples/audio_speed.rs).
        let mut scaled = s.to_vec();
        scaled.iter_mut().for_each(|x| *x *= g);
        AudioBuffer::from_f32(rate, ch, scaled)
    } else if let Some(s) = audio.samples_i16() {
        let mut scaled = s.to_vec();
        scaled
            .iter_mut()
            .for_each(|x| *x = round_i16(f64::from(*x) * factor));
        AudioBuffer::from_i16(rate, ch, scaled)
    } else {
        let s = audio.samples_i32().unwrap_or_default();
        AudioBuffer::from_i32(
            rate,
            ch,
            s.iter().map(|&x| round_i32(f64::from(x) * factor)).collect(),
        )
    };
    built.map_err(|e| NodeError::failed(e.to_string()))
}

struct Gain {
    factor: f64,
    layout: Option<StreamLayout>,
}

impl Node for Gain {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        StreamLayout::check(&mut self.layout, audio)?;
        if self.factor == 1.0 {
            out.emit(Value::Audio(Arc::clone(audio)));
        } else {
            out.emit(apply_gain(audio, self.factor)?);
        }
        Ok(())
    }
}

pub(crate) fn normalize_descriptor() -> NodeDescriptor {
    NodeDescriptor::new("NormalizeNode")
        .describe(
            "scales a whole stream so its peak (or RMS) level is `target_db` dBFS; emits one audio value at end of stream",
        )
        .param(
            ParamSpec::choice("mode", &["peak", "rms"])
                .default("peak")
                .describe("the level that is normalised"),
        )
        .param(
            ParamSpec::number("target_db")
                .default(-1.0)
                .min(-200.0)
                .max(0.0)
                .describe("target level in dBFS (full scale = 0 dB)"),
        )
}

pub(crate) fn create_normalize(params: &Params) -> Result<NodeInstance, NodeError> {
    Ok(NodeInstance::sync(Normalize {
        rms: params.text("mode")? == "rms",
        target: db_to_factor(params.float("target_db")?),
        layout: None,
        held: Vec::new(),
    }))
}

/// Buffers the stream (the level of the whole signal is needed before the first sample can be
/// scaled) and emits it, scaled, when the stream ends.
struct Normalize {
    rms: bool,
    target: f64,
    layout: Option<StreamLayout>,
    held: Vec<Arc<AudioBuffer>>,
}

impl Node for Normalize {
    fn process(&mut self, input: Value, _out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        StreamLayout::check(&mut self.layout, audio)?;
        self.held.push(Arc::clone(audio));
        Ok(())
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        let Some(layout) = self.layout else {
            return Ok(());
        };
        let whole = super::chunker::concat(layout, &std::mem::take(&mut self.held))?;
        // Sequential sums in f64, in sample order (the Python twin sums in the same order).
        let (mut peak, mut squares) = (0.0f64, 0.0f64);
        for x in to_f32(&whole).iter().map(|&x| f64::from(x)) {
            peak = peak.max(x.abs());
            squares += x * x;
        }
        let level = if self.rms {
            (squares / (whole.frames() as f64 * f64::from(layout.channels)).max(1.0)).sqrt()
        } else {
            peak
        };
        if level > 0.0 && level.is_finite() {
            out.emit(apply_gain(&whole, self.target / level)?);
        } else {
            out.emit(whole);
        }
        Ok(())
    }
}
