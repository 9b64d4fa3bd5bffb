//! Sample conversions shared by the audio nodes, with the rounding and clipping rules every node
//! (and its Python twin) follows:
//!
//! - float → integer: scale by the integer's full scale (2^15 or 2^31), round half to even, clip to
//!   the integer's range; NaN becomes 0.
//! - integer → float: divide by the full scale (`i16::MIN` maps to exactly -1.0).
//! - i16 → i32 shifts left by 16 bits (exact); i32 → i16 rounds half to even after dividing by 2^16
//!   and clips.

use std::borrow::Cow;
use std::sync::Arc;

use remotemedia_core::params::describe_value;
use remotemedia_core::{AudioBuffer, DType, NdArray, NodeError, SampleFormat, Value};

const I16_SCALE: f32 = 32768.0;
const I32_SCALE: f64 = 2_147_483_648.0;

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

// Rounding half to even without a libm call (SSE2 has no rounding instruction, so
// `round_ties_even` would call `rint` per sample): adding 1.5·2^23 (f32) or 1.5·2^52 (f64) leaves
// the nearest integer, ties to even, in the low mantissa bits, exactly, for |x| ≤ 2^22 (2^51).
// Clipping first gives the same result as clipping after (the limits are integers); NaN is mapped
// to 0 before. Pure arithmetic and integer operations, so slices of samples vectorise.
const MAGIC_F32: f32 = 12_582_912.0;
const MAGIC_F64: f64 = 6_755_399_441_055_744.0;

fn rint_to_i32(x: f32) -> i32 {
    let x = if x.is_nan() { 0.0 } else { x };
    ((x + MAGIC_F32).to_bits() as i32).wrapping_sub(MAGIC_F32.to_bits() as i32)
}

fn rint_to_i64(x: f64) -> i64 {
    let x = if x.is_nan() { 0.0 } else { x };
    ((x + MAGIC_F64).to_bits() as i64).wrapping_sub(MAGIC_F64.to_bits() as i64)
}

/// `x` as an `i16` sample (see the module docs).
#[inline(always)]
pub fn f32_to_i16(x: f32) -> i16 {
    rint_to_i32((x * I16_SCALE).clamp(-32768.0, 32767.0)) as i16
}

/// `x` as an `i32` sample (see the module docs).
#[inline(always)]
pub fn f32_to_i32(x: f32) -> i32 {
    rint_to_i64((f64::from(x) * I32_SCALE).clamp(-I32_SCALE, I32_SCALE - 1.0)) as i32
}

/// `x` (an `f64` on the `i16` scale) rounded half to even and clipped.
#[inline(always)]
pub fn round_i16(x: f64) -> i16 {
    rint_to_i64(x.clamp(-32768.0, 32767.0)) as i16
}

/// `x` (an `f64` on the `i32` scale) rounded half to even and clipped.
#[inline(always)]
pub fn round_i32(x: f64) -> i32 {
    rint_to_i64(x.clamp(-I32_SCALE, I32_SCALE - 1.0)) as i32
}

/// `f` applied to every sample, compiled for the widest SIMD the CPU has (see [`pulp`]).
#[inline(always)]
pub fn map_samples<T: Copy, U>(samples: &[T], f: impl Fn(T) -> U) -> Vec<U> {
    pulp::Arch::new().dispatch(|| samples.iter().map(|&x| f(x)).collect())
}

/// An `i16` sample as a float in -1..1.
#[inline(always)]
pub fn i16_to_f32(x: i16) -> f32 {
    f32::from(x) / I16_SCALE
}

/// An `i32` sample as a float in -1..1.
#[inline(always)]
pub fn i32_to_f32(x: i32) -> f32 {
    (f64::from(x) / I32_SCALE) as f32
}

/// Every sample of `audio` as `f32` (interleaved), borrowed when the audio already is `f32`.
pub fn to_f32(audio: &AudioBuffer) -> Cow<'_, [f32]> {
    if let Some(s) = audio.samples_f32() {
        return Cow::Borrowed(s);
    }
    if let Some(s) = audio.samples_i16() {
        return Cow::Owned(map_samples(s, i16_to_f32));
    }
    Cow::Owned(
        audio
            .samples_i32()
            .map(|s| map_samples(s, i32_to_f32))
            .unwrap_or_default(),
    )
}

/// Interleaved `f32` samples stored as `format` (no copy when it is `f32`).
pub fn from_f32(
    rate: u32,
    channels: u16,
    format: SampleFormat,
    samples: Cow<'_, [f32]>,
) -> Result<AudioBuffer, NodeError> {
    let built = match format {
        SampleFormat::F32 => AudioBuffer::from_f32(rate, channels, samples.into_owned()),
        SampleFormat::I16 => AudioBuffer::from_i16(rate, channels, map_samples(&samples, f32_to_i16)),
        SampleFormat::I32 => AudioBuffer::from_i32(rate, channels, map_samples(&samples, f32_to_i32)),
    };
    built.map_err(|e| NodeError::failed(e.to_string()))
}

/// `audio` stored as `format` (no copy when it already is).
pub fn convert(audio: &Arc<AudioBuffer>, format: SampleFormat) -> Result<Arc<AudioBuffer>, NodeError> {
    if audio.format() == format {
        return Ok(Arc::clone(audio));
    }
    let (rate, ch) = (audio.sample_rate(), audio.channels());
    let built = match (audio.samples_i16(), audio.samples_i32(), format) {
        (Some(s), _, SampleFormat::I32) => {
            AudioBuffer::from_i32(rate, ch, map_samples(s, |x| i32::from(x) << 16))
        }
        (_, Some(s), SampleFormat::I16) => AudioBuffer::from_i16(
            rate,
            ch,
            s.iter().map(|&x| round_i16(f64::from(x) / 65536.0)).collect(),
        ),
        _ => return from_f32(rate, ch, format, to_f32(audio)).map(Arc::new),
    };
    built.map(Arc::new).map_err(|e| NodeError::failed(e.to_string()))
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
