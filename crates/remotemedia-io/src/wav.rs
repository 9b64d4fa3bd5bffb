//! WAV files in and out (through [`hound`]): 8/16/24/32-bit integer and 32-bit float PCM, any
//! channel count.
//!
//! Reading maps 8- and 16-bit files to `i16` audio (8-bit shifted up by 8 bits), 24- and 32-bit
//! integer files to `i32` (24-bit shifted up by 8 bits) and float files to `f32`, so no precision
//! is lost. Writing stores `f32` audio as 32-bit float, `i16` as 16-bit and `i32` as 32-bit, unless
//! a [`WavEncoding`] says otherwise (then samples are converted with the rules in
//! [`samples`](remotemedia_core::samples), narrowing by rounding half to even and clipping).

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;
use std::sync::Arc;

use hound::{SampleFormat as WavFormat, WavReader, WavSpec, WavWriter};
use remotemedia_core::{AudioBuffer, SampleFormat};

use remotemedia_core::samples::{convert, round_i16, round_i32};

/// How samples are stored in a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavEncoding {
    /// 8-bit unsigned integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 24-bit signed integer.
    Int24,
    /// 32-bit signed integer.
    Int32,
    /// 32-bit IEEE float.
    Float32,
}

impl WavEncoding {
    /// Every encoding's name (`i8`, `i16`, `i24`, `i32`, `f32`).
    pub const NAMES: [&'static str; 5] = ["i8", "i16", "i24", "i32", "f32"];

    /// Parses a name from [`WavEncoding::NAMES`].
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "i8" => Self::Int8,
            "i16" => Self::Int16,
            "i24" => Self::Int24,
            "i32" => Self::Int32,
            "f32" => Self::Float32,
            _ => return None,
        })
    }

    /// The encoding that stores `format` exactly.
    pub fn natural(format: SampleFormat) -> Self {
        match format {
            SampleFormat::F32 => Self::Float32,
            SampleFormat::I16 => Self::Int16,
            SampleFormat::I32 => Self::Int32,
        }
    }

    fn spec(self, rate: u32, channels: u16) -> WavSpec {
        let (bits, sample_format) = match self {
            Self::Int8 => (8, WavFormat::Int),
            Self::Int16 => (16, WavFormat::Int),
            Self::Int24 => (24, WavFormat::Int),
            Self::Int32 => (32, WavFormat::Int),
            Self::Float32 => (32, WavFormat::Float),
        };
        WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format,
        }
    }
}

/// Reads a WAV file into one audio value.
pub fn read_wav(path: &Path) -> Result<AudioBuffer, String> {
    let file = File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    read_wav_from(std::io::BufReader::new(file)).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Reads WAV data from `reader` into one audio value.
pub fn read_wav_from(reader: impl Read) -> Result<AudioBuffer, String> {
    let mut wav = WavReader::new(reader).map_err(|e| format!("not a readable WAV file: {e}"))?;
    let spec = wav.spec();
    let bad = |e: hound::Error| format!("corrupt WAV data: {e}");
    let (rate, ch) = (spec.sample_rate, spec.channels);
    remotemedia_core::check_input_sample_rate(rate)?;
    let built = match (spec.sample_format, spec.bits_per_sample) {
        (WavFormat::Float, 32) => AudioBuffer::from_f32(
            rate,
            ch,
            wav.samples::<f32>().collect::<Result<_, _>>().map_err(bad)?,
        ),
        (WavFormat::Int, 8) => AudioBuffer::from_i16(
            rate,
            ch,
            wav.samples::<i8>()
                .map(|s| s.map(|x| i16::from(x) << 8))
                .collect::<Result<_, _>>()
                .map_err(bad)?,
        ),
        (WavFormat::Int, 16) => AudioBuffer::from_i16(
            rate,
            ch,
            wav.samples::<i16>().collect::<Result<_, _>>().map_err(bad)?,
        ),
        (WavFormat::Int, 24) => AudioBuffer::from_i32(
            rate,
            ch,
            wav.samples::<i32>()
                .map(|s| s.map(|x| x << 8))
                .collect::<Result<_, _>>()
                .map_err(bad)?,
        ),
        (WavFormat::Int, 32) => AudioBuffer::from_i32(
            rate,
            ch,
            wav.samples::<i32>().collect::<Result<_, _>>().map_err(bad)?,
        ),
        (format, bits) => {
            return Err(format!(
                "{bits}-bit {} WAV data is not supported yet (8/16/24/32-bit integer and 32-bit float are)",
                if format == WavFormat::Float {
                    "float"
                } else {
                    "integer"
                }
            ));
        }
    };
    built.map_err(|e| format!("invalid WAV layout: {e}"))
}

/// Writes `audio` to a WAV file (the encoding defaults to the audio's own format).
pub fn write_wav(path: &Path, audio: &AudioBuffer, encoding: Option<WavEncoding>) -> Result<(), String> {
    let encoding = encoding.unwrap_or(WavEncoding::natural(audio.format()));
    let mut writer = WavFileWriter::create(path, audio.sample_rate(), audio.channels(), encoding)?;
    writer.write(audio)?;
    writer.finalize()
}

/// A WAV file written chunk by chunk (all chunks must share the first one's rate and channels).
pub struct WavFileWriter {
    writer: WavWriter<BufWriter<File>>,
    encoding: WavEncoding,
    rate: u32,
    channels: u16,
    path: String,
}

impl WavFileWriter {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path, rate: u32, channels: u16, encoding: WavEncoding) -> Result<Self, String> {
        let writer = WavWriter::create(path, encoding.spec(rate, channels))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        Ok(Self {
            writer,
            encoding,
            rate,
            channels,
            path: path.display().to_string(),
        })
    }

    /// Appends the samples of `audio`.
    pub fn write(&mut self, audio: &AudioBuffer) -> Result<(), String> {
        if audio.sample_rate() != self.rate || audio.channels() != self.channels {
            return Err(format!(
                "`{}` holds {} Hz {}-channel audio; cannot append {} Hz {}-channel audio",
                self.path,
                self.rate,
                self.channels,
                audio.sample_rate(),
                audio.channels()
            ));
        }
        write_samples(&mut self.writer, audio, self.encoding)
            .map_err(|e| format!("cannot write `{}`: {e}", self.path))
    }

    /// Writes the header sizes and closes the file.
    pub fn finalize(self) -> Result<(), String> {
        let path = self.path;
        self.writer
            .finalize()
            .map_err(|e| format!("cannot write `{path}`: {e}"))
    }
}

fn write_samples<W: Write + Seek>(
    w: &mut WavWriter<W>,
    audio: &AudioBuffer,
    encoding: WavEncoding,
) -> hound::Result<()> {
    let audio = Arc::new(audio.clone());
    let as_format = |format| convert(&audio, format).ok();
    match encoding {
        WavEncoding::Float32 => {
            for &x in as_format(SampleFormat::F32)
                .as_deref()
                .and_then(AudioBuffer::samples_f32)
                .unwrap_or_default()
            {
                w.write_sample(x)?;
            }
        }
        WavEncoding::Int16 | WavEncoding::Int8 => {
            let pcm = as_format(SampleFormat::I16);
            for &x in pcm
                .as_deref()
                .and_then(AudioBuffer::samples_i16)
                .unwrap_or_default()
            {
                if encoding == WavEncoding::Int8 {
                    w.write_sample((round_i16(f64::from(x) / 256.0).clamp(-128, 127)) as i8)?;
                } else {
                    w.write_sample(x)?;
                }
            }
        }
        WavEncoding::Int24 | WavEncoding::Int32 => {
            let pcm = as_format(SampleFormat::I32);
            for &x in pcm
                .as_deref()
                .and_then(AudioBuffer::samples_i32)
                .unwrap_or_default()
            {
                if encoding == WavEncoding::Int24 {
                    w.write_sample(round_i32(f64::from(x) / 256.0).clamp(-(1 << 23), (1 << 23) - 1))?;
                } else {
                    w.write_sample(x)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audio = AudioBuffer::from_i16(22050, 2, vec![0, 256, -32768, 32767, 512, -512]).expect("audio");
        for name in WavEncoding::NAMES {
            let path = dir.path().join(format!("{name}.wav"));
            let encoding = WavEncoding::from_name(name);
            write_wav(&path, &audio, encoding).expect("written");
            let back = read_wav(&path).expect("read");
            assert_eq!(
                (back.sample_rate(), back.channels(), back.frames()),
                (22050, 2, 3),
                "{name}"
            );
            let as_i16 = convert(&Arc::new(back), SampleFormat::I16).expect("i16");
            let want: Vec<i16> = if name == "i8" {
                vec![0, 256, -32768, 32512, 512, -512]
            } else {
                vec![0, 256, -32768, 32767, 512, -512]
            };
            assert_eq!(as_i16.samples_i16(), Some(&want[..]), "{name}");
        }
    }

    #[test]
    fn unreadable_files_say_why() {
        let err = read_wav_from(&b"RIFF\0\0\0\0WAVEjunk"[..]).expect_err("junk");
        assert!(err.starts_with("not a readable WAV file"), "{err}");
    }
}
