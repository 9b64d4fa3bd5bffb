//! Sample conversions of audio values, with the rounding and clipping rules every node, every
//! audio file reader and writer (and the Python twins) follow:
//!
//! - float → integer: scale by the integer's full scale (2^15 or 2^31), round half to even, clip to
//!   the integer's range; NaN becomes 0.
//! - integer → float: divide by the full scale (`i16::MIN` maps to exactly -1.0).
//! - i16 → i32 shifts left by 16 bits (exact); i32 → i16 rounds half to even after dividing by 2^16
//!   and clips.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::NodeError;
use crate::value::{AudioBuffer, SampleFormat};

const I16_SCALE: f32 = 32768.0;
const I32_SCALE: f64 = 2_147_483_648.0;

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
