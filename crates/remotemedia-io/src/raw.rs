//! Raw interleaved PCM: read from any reader (a file, a pipe, stdin) in chunks as it arrives, and
//! encoded for writing.

use std::io::Read;
use std::sync::Arc;

use remotemedia_core::samples::convert;
use remotemedia_core::{AudioBuffer, SampleFormat};

use crate::source::IoError;

/// Sample encodings of raw PCM streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// 16-bit signed little-endian.
    S16le,
    /// 32-bit signed little-endian.
    S32le,
    /// 32-bit float little-endian.
    F32le,
    /// G.711 µ-law (8 bits per sample; decoded to 16-bit).
    Mulaw,
    /// G.711 A-law (8 bits per sample; decoded to 16-bit).
    Alaw,
}

impl RawFormat {
    /// Every format's name, as the CLI takes it.
    pub const NAMES: [&'static str; 5] = ["s16le", "s32le", "f32le", "mulaw", "alaw"];

    /// Parses a name from [`RawFormat::NAMES`].
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "s16le" => Self::S16le,
            "s32le" => Self::S32le,
            "f32le" => Self::F32le,
            "mulaw" => Self::Mulaw,
            "alaw" => Self::Alaw,
            _ => return None,
        })
    }

    /// The format's name (see [`RawFormat::NAMES`]).
    pub fn name(self) -> &'static str {
        match self {
            Self::S16le => "s16le",
            Self::S32le => "s32le",
            Self::F32le => "f32le",
            Self::Mulaw => "mulaw",
            Self::Alaw => "alaw",
        }
    }

    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            Self::S16le => 2,
            Self::S32le | Self::F32le => 4,
            Self::Mulaw | Self::Alaw => 1,
        }
    }
}

/// A 16-bit sample to a G.711 µ-law byte: the classic g711.c `linear2ulaw` on the sample's top
/// 14 bits (as CPython's `audioop.lin2ulaw` and Sun's reference code do).
pub fn i16_to_mulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84 >> 2;
    const CLIP: i32 = 8159;
    // Segment ends of the biased 14-bit magnitude.
    const ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    let value = i32::from(sample) >> 2;
    let (magnitude, mask) = if value < 0 { (-value, 0x7F) } else { (value, 0xFF) };
    let magnitude = magnitude.min(CLIP) + BIAS;
    let Some(segment) = ENDS.iter().position(|&end| magnitude <= end) else {
        return 0x7F ^ mask;
    };
    let code = ((segment as i32) << 4) | ((magnitude >> (segment + 1)) & 0x0F);
    (code as u8) ^ mask
}

/// A 16-bit sample to a G.711 A-law byte (the classic g711.c `linear2alaw`).
pub fn i16_to_alaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 3;
    let mask: u8 = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    // Segment ends of the 13-bit magnitude.
    const ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let Some(segment) = ENDS.iter().position(|&end| value <= end) else {
        return 0x7F ^ mask;
    };
    let shift = if segment < 2 { 1 } else { segment };
    let code = ((segment as i32) << 4) | ((value >> shift) & 0x0F);
    (code as u8) ^ mask
}

/// Appends `audio`'s samples to `out` as raw `format` bytes, converting the sample type with the
/// audio nodes' rules (round half to even, clip) where it differs.
pub fn encode(audio: &AudioBuffer, format: RawFormat, out: &mut Vec<u8>) {
    let target = match format {
        RawFormat::S16le | RawFormat::Mulaw | RawFormat::Alaw => SampleFormat::I16,
        RawFormat::S32le => SampleFormat::I32,
        RawFormat::F32le => SampleFormat::F32,
    };
    let converted;
    let audio = if audio.format() == target {
        audio
    } else {
        converted = convert(&Arc::new(audio.clone()), target).unwrap_or_else(|_| Arc::new(audio.clone()));
        &*converted
    };
    out.reserve(audio.frames() * usize::from(audio.channels()) * format.bytes());
    match format {
        RawFormat::S16le => out.extend(
            audio
                .samples_i16()
                .unwrap_or_default()
                .iter()
                .flat_map(|s| s.to_le_bytes()),
        ),
        RawFormat::S32le => out.extend(
            audio
                .samples_i32()
                .unwrap_or_default()
                .iter()
                .flat_map(|s| s.to_le_bytes()),
        ),
        RawFormat::F32le => out.extend(
            audio
                .samples_f32()
                .unwrap_or_default()
                .iter()
                .flat_map(|s| s.to_le_bytes()),
        ),
        RawFormat::Mulaw => out.extend(
            audio
                .samples_i16()
                .unwrap_or_default()
                .iter()
                .map(|&s| i16_to_mulaw(s)),
        ),
        RawFormat::Alaw => out.extend(
            audio
                .samples_i16()
                .unwrap_or_default()
                .iter()
                .map(|&s| i16_to_alaw(s)),
        ),
    }
}

/// G.711 µ-law byte to a 16-bit sample.
pub fn mulaw_to_i16(byte: u8) -> i16 {
    let u = !byte;
    let magnitude = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    let sample = if u & 0x80 != 0 {
        0x84 - magnitude
    } else {
        magnitude - 0x84
    };
    // The largest magnitude is 32124: always in range.
    i16::try_from(sample).unwrap_or(i16::MAX)
}

/// G.711 A-law byte to a 16-bit sample.
pub fn alaw_to_i16(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut magnitude = i32::from(a & 0x0F) << 4;
    let segment = (a & 0x70) >> 4;
    match segment {
        0 => magnitude += 8,
        _ => {
            magnitude += 0x108;
            magnitude <<= segment - 1;
        }
    }
    let sample = if a & 0x80 != 0 { magnitude } else { -magnitude };
    i16::try_from(sample).unwrap_or(i16::MAX)
}

/// Raw PCM read from `reader` and handed over in chunks of a fixed duration (the last one shorter).
/// A chunk is handed over as soon as it is complete, so a live pipe is processed as it arrives.
pub struct RawPcmSource<R> {
    reader: R,
    name: String,
    format: RawFormat,
    rate: u32,
    channels: u16,
    chunk_bytes: usize,
    ended: bool,
}

impl<R: Read> RawPcmSource<R> {
    /// A source over `reader` (`name` labels it in errors: a path, or `stdin`).
    pub fn new(reader: R, name: &str, format: RawFormat, rate: u32, channels: u16, chunk_ms: u32) -> Self {
        let frame = format.bytes() * usize::from(channels.max(1));
        let frames = (u64::from(rate) * u64::from(chunk_ms) / 1000).max(1);
        Self {
            reader,
            name: name.to_string(),
            format,
            rate,
            channels: channels.max(1),
            chunk_bytes: usize::try_from(frames).unwrap_or(usize::MAX / frame) * frame,
            ended: false,
        }
    }

    fn error(&self, message: String) -> IoError {
        IoError::Corrupt {
            path: self.name.clone().into(),
            message,
        }
    }

    /// The next chunk, or `None` at the end of the input. Input that ends inside a frame is an
    /// error (its last bytes would be lost).
    pub fn next_chunk(&mut self) -> Result<Option<AudioBuffer>, IoError> {
        if self.ended {
            return Ok(None);
        }
        let mut bytes = vec![0u8; self.chunk_bytes];
        let mut filled = 0;
        while filled < bytes.len() {
            match self.reader.read(&mut bytes[filled..]) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.error(format!("cannot read: {e}"))),
            }
        }
        bytes.truncate(filled);
        let frame = self.format.bytes() * usize::from(self.channels);
        if filled % frame != 0 {
            return Err(self.error(format!(
                "the input ended inside a frame ({} stray bytes; a frame is {frame} bytes: {} × {} channels)",
                filled % frame,
                self.format.bytes(),
                self.channels
            )));
        }
        if filled == 0 {
            return Ok(None);
        }
        decode(&bytes, self.format, self.rate, self.channels)
            .map(Some)
            .map_err(|e| self.error(e))
    }
}

/// Raw interleaved PCM bytes as audio; an error for bytes that are not a whole number of frames.
pub fn decode(bytes: &[u8], format: RawFormat, rate: u32, channels: u16) -> Result<AudioBuffer, String> {
    remotemedia_core::check_input_sample_rate(rate)?;
    let frame = format.bytes() * usize::from(channels.max(1));
    if !bytes.len().is_multiple_of(frame) {
        return Err(format!(
            "{} bytes is not a whole number of frames (a frame is {frame} bytes: {} × {} channels)",
            bytes.len(),
            format.bytes(),
            channels
        ));
    }
    let built = match format {
        RawFormat::S16le => AudioBuffer::from_i16(rate, channels, little_endian(bytes, i16::from_le_bytes)),
        RawFormat::S32le => AudioBuffer::from_i32(rate, channels, little_endian(bytes, i32::from_le_bytes)),
        RawFormat::F32le => AudioBuffer::from_f32(rate, channels, little_endian(bytes, f32::from_le_bytes)),
        RawFormat::Mulaw => {
            AudioBuffer::from_i16(rate, channels, bytes.iter().map(|&b| mulaw_to_i16(b)).collect())
        }
        RawFormat::Alaw => {
            AudioBuffer::from_i16(rate, channels, bytes.iter().map(|&b| alaw_to_i16(b)).collect())
        }
    };
    built.map_err(|e| e.to_string())
}

/// The raw format that holds `format`'s samples exactly (`i16` → `s16le`, `i32` → `s32le`, `f32` →
/// `f32le`).
pub fn natural_format(format: SampleFormat) -> RawFormat {
    match format {
        SampleFormat::I16 => RawFormat::S16le,
        SampleFormat::I32 => RawFormat::S32le,
        SampleFormat::F32 => RawFormat::F32le,
    }
}

/// Samples of `N` little-endian bytes each (`bytes` holds whole samples).
fn little_endian<T, const N: usize>(bytes: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|b| from(b.try_into().unwrap_or([0; N])))
        .collect()
}

impl<R: Read> Iterator for RawPcmSource<R> {
    type Item = Result<AudioBuffer, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_decodes_as_the_reference_tables() {
        // Expected values from CPython's `audioop.ulaw2lin` / `alaw2lin` (the classic g711.c).
        let mulaw: Vec<i16> = [0x00, 0x7f, 0x80, 0xff, 0x0f, 0x9a].map(mulaw_to_i16).to_vec();
        assert_eq!(mulaw, vec![-32124, 0, 32124, 0, -16764, 10876]);
        let alaw: Vec<i16> = [0x00, 0x55, 0xd5, 0x2a, 0xaa, 0x80, 0x13]
            .map(alaw_to_i16)
            .to_vec();
        assert_eq!(alaw, vec![-5504, -8, 8, -32256, 32256, 5504, -2880]);
    }

    #[test]
    fn g711_encoding_inverts_decoding() {
        for byte in 0..=255u8 {
            // µ-law has two zeros (0x7f and 0xff); zero encodes as 0xff.
            let want = if byte == 0x7f { 0xff } else { byte };
            assert_eq!(i16_to_mulaw(mulaw_to_i16(byte)), want, "mu-law {byte:#04x}");
            assert_eq!(i16_to_alaw(alaw_to_i16(byte)), byte, "A-law {byte:#04x}");
        }
        // Values from CPython's `audioop.lin2ulaw` / `lin2alaw` (the classic g711.c).
        let samples: [i16; 8] = [0, 1, -1, 1000, -1000, 12345, i16::MAX, i16::MIN];
        assert_eq!(
            samples.map(i16_to_mulaw),
            [0xff, 0xff, 0x7e, 0xce, 0x4e, 0x97, 0x80, 0x00]
        );
        assert_eq!(
            samples.map(i16_to_alaw),
            [0xd5, 0xd5, 0x55, 0xfa, 0x7a, 0xbd, 0xaa, 0x2a]
        );
    }

    #[test]
    fn encoding_converts_the_sample_type() {
        let audio = AudioBuffer::from_f32(8000, 1, vec![0.5, -1.0, 2.0]).expect("audio");
        let mut bytes = Vec::new();
        encode(&audio, RawFormat::S16le, &mut bytes);
        assert_eq!(
            bytes,
            [16384i16, -32768, 32767]
                .iter()
                .flat_map(|s| s.to_le_bytes())
                .collect::<Vec<_>>()
        );
        let ints = AudioBuffer::from_i16(8000, 1, vec![3, -3]).expect("audio");
        bytes.clear();
        encode(&ints, RawFormat::S16le, &mut bytes);
        assert_eq!(bytes, vec![3, 0, 0xfd, 0xff]);
    }

    #[test]
    fn s16le_comes_in_chunks_and_a_broken_frame_is_an_error() {
        let samples: Vec<i16> = (0..1000).map(|i| i * 7 - 3000).collect();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let source = RawPcmSource::new(bytes.as_slice(), "stdin", RawFormat::S16le, 8000, 2, 20);
        let chunks: Vec<AudioBuffer> = source.collect::<Result<_, _>>().expect("decode");
        // 20 ms at 8 kHz = 160 frames = 320 samples per chunk: 320, 320, 320, 40.
        assert_eq!(
            chunks.iter().map(AudioBuffer::frames).collect::<Vec<_>>(),
            vec![160, 160, 160, 20]
        );
        let all: Vec<i16> = chunks
            .iter()
            .flat_map(|c| c.samples_i16().expect("i16").to_vec())
            .collect();
        assert_eq!(all, samples);
        let mut broken = RawPcmSource::new(&bytes[..7], "stdin", RawFormat::S16le, 8000, 2, 20);
        let err = broken.next_chunk().expect_err("stray bytes").to_string();
        assert!(
            err.contains("the input ended inside a frame (3 stray bytes"),
            "{err}"
        );
    }
}
