//! What the audio nodes share about their input: audio (or the seeds' `(samples, sample_rate)`
//! pair) and a stream's fixed layout. The sample conversions are core's
//! ([`remotemedia_core::samples`], re-exported here).

use std::sync::Arc;

use remotemedia_core::params::describe_value;
pub use remotemedia_core::samples::{
    convert, f32_to_i16, f32_to_i32, from_f32, i16_to_f32, i32_to_f32, map_samples, round_i16, round_i32,
    to_f32,
};
use remotemedia_core::{AudioBuffer, DType, NdArray, NodeError, SampleFormat, Value};

/// The audio carried by `input`, or the node's "expected audio" error.
///
/// Besides audio values, the seeds' `(samples, sample_rate)` pair is accepted: a two-item list of
/// a 1-D (mono) or 2-D `(frames, channels)` array and an integer rate. `float32`, `int16` and
/// `int32` arrays keep their format (no copy); `float64` arrays become `float32`.
pub fn expect_audio(input: &Value) -> Result<Arc<AudioBuffer>, NodeError> {
    match input {
        Value::Audio(audio) => Ok(Arc::clone(audio)),
        Value::List(items) if items.len() == 2 => match (&items[0], &items[1]) {
            (Value::Array(array), Value::Int(rate)) => pair_to_audio(array, *rate).map(Arc::new),
            _ => Err(not_audio(input)),
        },
        other => Err(not_audio(other)),
    }
}

fn not_audio(value: &Value) -> NodeError {
    NodeError::invalid_input(format!(
        "expected audio (or a (samples, sample_rate) pair), found {}",
        describe_value(value)
    ))
}

fn pair_to_audio(array: &NdArray, rate: i64) -> Result<AudioBuffer, NodeError> {
    let rate = u32::try_from(rate).ok().filter(|r| *r > 0).ok_or_else(|| {
        NodeError::invalid_input(format!("sample rate must be a positive integer, found {rate}"))
    })?;
    let channels = match array.shape() {
        [_] => 1,
        [_, c] => {
            u16::try_from(*c).map_err(|_| NodeError::invalid_input(format!("{c} channels is too many")))?
        }
        other => {
            return Err(NodeError::invalid_input(format!(
                "audio samples must have shape (frames,) or (frames, channels), found {other:?}"
            )));
        }
    };
    let built = match array.dtype() {
        DType::F32 => AudioBuffer::new(rate, channels, SampleFormat::F32, array.data().clone()),
        DType::I16 => AudioBuffer::new(rate, channels, SampleFormat::I16, array.data().clone()),
        DType::I32 => AudioBuffer::new(rate, channels, SampleFormat::I32, array.data().clone()),
        DType::F64 => AudioBuffer::from_f32(
            rate,
            channels,
            array.to_f64_vec().iter().map(|&x| x as f32).collect(),
        ),
        other => {
            return Err(NodeError::invalid_input(format!(
                "audio samples must be float32, float64, int16 or int32, found {}",
                other.name()
            )));
        }
    };
    built.map_err(|e| NodeError::invalid_input(e.to_string()))
}

/// Builds audio, mapping a (never expected) layout error onto a node error.
pub fn audio_i16(rate: u32, channels: u16, samples: Vec<i16>) -> Result<AudioBuffer, NodeError> {
    AudioBuffer::from_i16(rate, channels, samples).map_err(|e| NodeError::failed(e.to_string()))
}

/// The stream's fixed layout: every chunk must keep the first chunk's rate, channels and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLayout {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Sample format.
    pub format: SampleFormat,
}

impl StreamLayout {
    /// The layout of `audio`.
    pub fn of(audio: &AudioBuffer) -> Self {
        Self {
            rate: audio.sample_rate(),
            channels: audio.channels(),
            format: audio.format(),
        }
    }

    /// Records the first chunk's layout, and rejects a later chunk whose layout differs.
    pub fn check(slot: &mut Option<Self>, audio: &AudioBuffer) -> Result<Self, NodeError> {
        let now = Self::of(audio);
        match slot {
            None => {
                *slot = Some(now);
                Ok(now)
            }
            Some(first) if *first == now => Ok(now),
            Some(first) => Err(NodeError::invalid_input(format!(
                "the audio stream changed from {} to {} mid-stream; a node's state holds one layout",
                first.describe(),
                now.describe()
            ))),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} Hz {}-channel {}",
            self.rate,
            self.channels,
            self.format.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_to_int_rounds_half_to_even_and_clips() {
        assert_eq!(f32_to_i16(0.5 / 32768.0), 0);
        assert_eq!(f32_to_i16(1.5 / 32768.0), 2);
        assert_eq!(f32_to_i16(-1.5 / 32768.0), -2);
        assert_eq!(f32_to_i16(1.0), 32767);
        assert_eq!(f32_to_i16(-1.0), -32768);
        assert_eq!(f32_to_i16(-3.0), -32768);
        assert_eq!(f32_to_i16(f32::NAN), 0);
        assert_eq!(f32_to_i32(1.0), i32::MAX);
        assert_eq!(f32_to_i32(-1.0), i32::MIN);
        assert_eq!(f32_to_i32(0.25), 1 << 29);
        assert_eq!(f32_to_i16(2.5 / 32768.0), 2);
        assert_eq!(f32_to_i16(-2.5 / 32768.0), -2);
        assert_eq!(f32_to_i16(32767.5 / 32768.0), 32767);
        assert_eq!(round_i16(-0.5), 0);
        assert_eq!(round_i16(f64::NAN), 0);
        assert_eq!(round_i32(2_147_483_647.5), i32::MAX);
        assert_eq!(round_i32(-3.5), -4);
        assert_eq!(f32_to_i32(f32::NAN), 0);
    }

    #[test]
    fn int_to_float_is_exact_at_full_scale() {
        assert_eq!(i16_to_f32(-32768), -1.0);
        assert_eq!(i16_to_f32(16384), 0.5);
        assert_eq!(i32_to_f32(i32::MIN), -1.0);
    }

    #[test]
    fn int_to_int() {
        let a = Arc::new(AudioBuffer::from_i16(8000, 1, vec![1, -32768, 32767]).expect("audio"));
        let b = convert(&a, SampleFormat::I32).expect("i32");
        assert_eq!(b.samples_i32(), Some(&[65536, i32::MIN, 32767 << 16][..]));
        let c =
            Arc::new(AudioBuffer::from_i32(8000, 1, vec![98304, 32768, i32::MAX, -163840]).expect("audio"));
        let d = convert(&c, SampleFormat::I16).expect("i16");
        // 1.5 → 2, 0.5 → 0, 32767.99 → clipped, -2.5 → -2
        assert_eq!(d.samples_i16(), Some(&[2, 0, 32767, -2][..]));
    }
}
