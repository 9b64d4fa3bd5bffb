//! [`AudioBuffer`]: interleaved PCM audio with its sample rate and channel count.

use super::Buffer;
use crate::error::{Error, Result};

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// 32-bit float, nominal range -1.0..=1.0.
    F32,
    /// 16-bit signed integer, full scale ±32768.
    I16,
    /// 32-bit signed integer, full scale ±2^31.
    I32,
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleFormat::F32 | SampleFormat::I32 => 4,
            SampleFormat::I16 => 2,
        }
    }

    /// The name used in manifests and JSON (`f32`, `i16`, `i32`).
    pub fn name(self) -> &'static str {
        match self {
            SampleFormat::F32 => "f32",
            SampleFormat::I16 => "i16",
            SampleFormat::I32 => "i32",
        }
    }

    /// Parses a name produced by [`SampleFormat::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "f32" => Some(SampleFormat::F32),
            "i16" => Some(SampleFormat::I16),
            "i32" => Some(SampleFormat::I32),
            _ => None,
        }
    }
}

/// The lowest sample rate an audio *input* may declare (a file, raw PCM, tagged JSON, a server
/// stream), in Hz. Without a floor a small input stands for hours of audio: a 48 KB WAV declaring
/// 1 Hz is 6.7 hours, and costs minutes of CPU once resampled. Nodes may produce any positive rate.
pub const MIN_INPUT_SAMPLE_RATE: u32 = 1_000;
/// The highest sample rate an audio input may declare, in Hz (8 × 192 kHz).
pub const MAX_INPUT_SAMPLE_RATE: u32 = 1_536_000;
/// The most interleaved channels raw PCM input may declare (the CLI's `--channels`, a server
/// stream's `channels`).
pub const MAX_INPUT_CHANNELS: u16 = 64;

/// Checks a sample rate an input declares against [`MIN_INPUT_SAMPLE_RATE`] and
/// [`MAX_INPUT_SAMPLE_RATE`]; the error says what was found and what is accepted.
pub fn check_input_sample_rate(rate: u32) -> std::result::Result<(), String> {
    if (MIN_INPUT_SAMPLE_RATE..=MAX_INPUT_SAMPLE_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(input_sample_rate_reason(rate))
    }
}

/// Why an input's sample rate `rate` is refused (the contract renders it with `{rate}`).
pub fn input_sample_rate_reason(rate: impl std::fmt::Display) -> String {
    format!(
        "a sample rate of {rate} Hz is outside the range audio inputs may declare \
         ({MIN_INPUT_SAMPLE_RATE} to {MAX_INPUT_SAMPLE_RATE} Hz)"
    )
}

/// A block of PCM audio.
///
/// **Layout: interleaved.** Samples are stored frame after frame, each frame holding one sample per
/// channel (`L R L R ...` for stereo), which is the layout of WAV files, of most codecs and sound
/// APIs, and of a C-ordered numpy array of shape `(frames, channels)`. Mono audio is simply one
/// sample per frame. The samples live in a shared [`Buffer`], so cloning an `AudioBuffer` (fan-out)
/// never copies them.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBuffer {
    sample_rate: u32,
    channels: u16,
    format: SampleFormat,
    data: Buffer,
}

impl AudioBuffer {
    /// Builds audio from raw interleaved samples, checking that they form whole frames.
    pub fn new(sample_rate: u32, channels: u16, format: SampleFormat, data: Buffer) -> Result<Self> {
        if sample_rate == 0 {
            return Err(Error::invalid_value(
                "audio sample rate must be positive, found 0",
            ));
        }
        if channels == 0 {
            return Err(Error::invalid_value(
                "audio channel count must be positive, found 0",
            ));
        }
        let frame_bytes = format.size() * channels as usize;
        if !data.len().is_multiple_of(frame_bytes) {
            return Err(Error::invalid_value(format!(
                "audio data of {} bytes is not a whole number of {}-channel `{}` frames",
                data.len(),
                channels,
                format.name()
            )));
        }
        Ok(Self {
            sample_rate,
            channels,
            format,
            data,
        })
    }

    /// 32-bit float audio from interleaved samples (no copy).
    pub fn from_f32(sample_rate: u32, channels: u16, samples: Vec<f32>) -> Result<Self> {
        Self::new(
            sample_rate,
            channels,
            SampleFormat::F32,
            Buffer::from_vec(samples),
        )
    }

    /// 16-bit integer audio from interleaved samples (no copy).
    pub fn from_i16(sample_rate: u32, channels: u16, samples: Vec<i16>) -> Result<Self> {
        Self::new(
            sample_rate,
            channels,
            SampleFormat::I16,
            Buffer::from_vec(samples),
        )
    }

    /// 32-bit integer audio from interleaved samples (no copy).
    pub fn from_i32(sample_rate: u32, channels: u16, samples: Vec<i32>) -> Result<Self> {
        Self::new(
            sample_rate,
            channels,
            SampleFormat::I32,
            Buffer::from_vec(samples),
        )
    }

    /// Samples per second per channel.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Number of interleaved channels.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Storage format of each sample.
    pub fn format(&self) -> SampleFormat {
        self.format
    }

    /// The shared sample memory.
    pub fn data(&self) -> &Buffer {
        &self.data
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.data.len() / (self.format.size() * self.channels as usize)
    }

    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }

    /// Interleaved `f32` samples without copying, when the format is `f32`.
    pub fn samples_f32(&self) -> Option<&[f32]> {
        (self.format == SampleFormat::F32)
            .then(|| self.data.as_slice())
            .flatten()
    }

    /// Interleaved `i16` samples without copying, when the format is `i16`.
    pub fn samples_i16(&self) -> Option<&[i16]> {
        (self.format == SampleFormat::I16)
            .then(|| self.data.as_slice())
            .flatten()
    }

    /// Interleaved `i32` samples without copying, when the format is `i32`.
    pub fn samples_i32(&self) -> Option<&[i32]> {
        (self.format == SampleFormat::I32)
            .then(|| self.data.as_slice())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_duration() {
        let a = AudioBuffer::from_f32(4, 2, vec![0.0; 16]).expect("valid audio");
        assert_eq!(a.frames(), 8);
        assert_eq!(a.duration_secs(), 2.0);
        assert_eq!(a.samples_f32().map(<[f32]>::len), Some(16));
        assert_eq!(a.samples_i16(), None);
    }

    #[test]
    fn partial_frames_are_rejected() {
        let err = AudioBuffer::from_i16(16000, 2, vec![1, 2, 3]).expect_err("3 samples, 2 channels");
        assert!(
            err.to_string()
                .contains("not a whole number of 2-channel `i16` frames"),
            "{err}"
        );
    }
}
