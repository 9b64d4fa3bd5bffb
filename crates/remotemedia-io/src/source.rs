//! Audio files decoded chunk by chunk.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use remotemedia_core::AudioBuffer;
use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::audio::sample::SampleFormat;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::opus::OpusTrack;

/// What can go wrong reading an audio file; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file cannot be opened or read.
    #[error("cannot read `{}`: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The content is not an audio format this build decodes (or has no audio track).
    #[error("`{}`: {message}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },
    /// An output cannot be written.
    #[error("cannot write `{}`: {message}", path.display())]
    Write {
        /// The file (or `stdout`).
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file is an audio file, but its data is damaged.
    #[error("`{}`: corrupt audio data: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the decoder found.
        message: String,
    },
}

/// The formats this build reads, for messages.
pub const FORMATS: &str = "WAV, AIFF, FLAC, MP3, Ogg Vorbis, Ogg Opus, AAC and ALAC in MP4/M4A, CAF";

/// What is said of an empty file (after its `` `path`: `` prefix).
pub const EMPTY_FILE: &str = "the file is empty";

/// What is said of a file whose content is no audio format this build reads (after its
/// `` `path`: `` prefix).
pub fn not_audio_reason() -> String {
    format!("not an audio file this build reads ({FORMATS})")
}

/// The audio container `head` (the first bytes of a file) starts like, if any: RIFF/WAVE, AIFF,
/// FLAC, Ogg, CAF, MP4/M4A (`ftyp`), or an MP3 (an ID3 tag) or MPEG/ADTS frame header.
pub fn container_of(head: &[u8]) -> Option<&'static str> {
    let at = |range: std::ops::Range<usize>| head.get(range);
    if head.starts_with(b"RIFF") && at(8..12) == Some(b"WAVE") {
        return Some("WAV");
    }
    if head.starts_with(b"FORM") && matches!(at(8..12), Some(b"AIFF" | b"AIFC")) {
        return Some("AIFF");
    }
    if at(4..8) == Some(b"ftyp") {
        return Some("MP4");
    }
    for (magic, name) in [
        (&b"fLaC"[..], "FLAC"),
        (b"OggS", "Ogg"),
        (b"ID3", "MP3"),
        (b"caff", "CAF"),
    ] {
        if head.starts_with(magic) {
            return Some(name);
        }
    }
    // An MPEG audio frame (MP3) or an ADTS (AAC) header: 12 sync bits.
    if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 {
        return Some("MPEG audio");
    }
    None
}

/// Whether `head` (the first bytes of a file) starts like an audio container this crate reads
/// (see [`container_of`]).
pub fn looks_like_audio(head: &[u8]) -> bool {
    container_of(head).is_some()
}

/// Whether `path`'s extension is an audio one ([`crate::AUDIO_EXTENSIONS`]): such a file is read
/// as audio whatever it holds, so that a damaged one is reported as audio.
pub fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| crate::AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// A decoder's failure in words for people: an OS error code from a seek or read on data that is
/// in memory or whole on disk means the file's structure points outside its data.
fn describe(e: &DecodeError) -> String {
    match e {
        DecodeError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the data ends inside a header or packet".into()
        }
        DecodeError::IoError(io)
            if io.raw_os_error().is_some() || io.kind() == std::io::ErrorKind::InvalidInput =>
        {
            "its structure points outside the data (a damaged header or index)".into()
        }
        other => other.to_string(),
    }
}

/// How many frames short of the announced length a stream may end without an error (encoder
/// padding and rounding in containers' length fields stay well below this).
const TRUNCATION_TOLERANCE: u64 = 4608;

/// The decoder of the audio track.
enum TrackDecoder {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(Box<OpusTrack>),
}

/// The sample type a source's audio is handed over in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    I16,
    I32,
    F32,
}

/// An audio file, decoded on demand and handed over in chunks of a fixed duration (the last one
/// shorter). Memory holds one decoded packet and one chunk, whatever the file's length.
pub struct AudioFileSource {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: TrackDecoder,
    track_id: u32,
    /// The track's length in frames, when the container says.
    frames: Option<u64>,
    /// Opus frames still to drop at the start (the stream's pre-skip).
    opus_pre_skip: u64,
    /// Samples decoded so far (all channels).
    decoded_samples: u64,
    rate: u32,
    channels: u16,
    kind: Option<Kind>,
    chunk_frames: usize,
    /// Decoded, interleaved samples not handed over yet (one of these is in use).
    pending_i16: Vec<i16>,
    pending_i32: Vec<i32>,
    pending_f32: Vec<f32>,
    ended: bool,
}

impl AudioFileSource {
    /// Opens `path` and prepares to hand over chunks of `chunk_ms` milliseconds (at least one frame).
    pub fn open(path: &Path, chunk_ms: u32) -> Result<Self, IoError> {
        let file = File::open(path).map_err(|source| IoError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let unsupported = |message: String| IoError::Unsupported {
            path: path.to_path_buf(),
            message,
        };
        if file.metadata().is_ok_and(|m| m.len() == 0) {
            return Err(unsupported(EMPTY_FILE.into()));
        }
        let container = head_of(path).ok().and_then(|head| container_of(&head));
        Self::from_media(Box::new(file), path, container, chunk_ms)
    }

    /// Decodes audio held in memory (an uploaded file, say); `label` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, label: &str, chunk_ms: u32) -> Result<Self, IoError> {
        if bytes.is_empty() {
            return Err(IoError::Unsupported {
                path: PathBuf::from(label),
                message: EMPTY_FILE.into(),
            });
        }
        let container = container_of(&bytes[..bytes.len().min(16)]);
        Self::from_media(
            Box::new(std::io::Cursor::new(bytes)),
            Path::new(label),
            container,
            chunk_ms,
        )
    }

    /// Opens `media`; `container` is the format its first bytes announce. Once the content is
    /// recognised as a container, every failure to read it is corrupt data.
    fn from_media(
        media: Box<dyn symphonia::core::io::MediaSource>,
        path: &Path,
        container: Option<&'static str>,
        chunk_ms: u32,
    ) -> Result<Self, IoError> {
        let corrupt = |message: String| IoError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        let unsupported = |message: String| IoError::Unsupported {
            path: path.to_path_buf(),
            message,
        };
        let stream = MediaSourceStream::new(media, Default::default());
        // Symphonia's header parsers can panic on absurd fields in debug builds (a WAV of 65,535
        // channels overflows its block-align product): such a header is corrupt data too.
        let probed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            symphonia::default::get_probe().probe(
                &Hint::new(),
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
        }))
        .map_err(|_| match container {
            Some(name) => corrupt(format!(
                "the {name} header cannot be read: its fields are out of range"
            )),
            None => unsupported(not_audio_reason()),
        })?;
        let format = probed.map_err(|e| match (container, e) {
            // A read that fails on the device, not on the data.
            (_, DecodeError::IoError(source))
                if !matches!(
                    source.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidInput
                ) && source.raw_os_error().is_some_and(|code| code != 22) =>
            {
                IoError::Open {
                    path: path.to_path_buf(),
                    source,
                }
            }
            (Some(name), e) => corrupt(format!("the {name} header cannot be read: {}", describe(&e))),
            (None, _) => unsupported(not_audio_reason()),
        })?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported("the file has no audio track".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| unsupported("the audio track has no codec parameters".into()))?;
        let decoder = if params.codec == CODEC_ID_OPUS {
            let channels = params.channels.as_ref().map_or(0, |c| c.count());
            TrackDecoder::Opus(Box::new(OpusTrack::new(channels).map_err(unsupported)?))
        } else {
            TrackDecoder::Symphonia(
                symphonia::default::get_codecs()
                    .make_audio_decoder(params, &AudioDecoderOptions::default())
                    .map_err(|e| unsupported(format!("its audio codec is not supported yet: {e}")))?,
            )
        };
        let frames = track.num_frames;
        let opus_pre_skip = match decoder {
            TrackDecoder::Opus(_) => u64::from(track.delay.unwrap_or(0)),
            TrackDecoder::Symphonia(_) => 0,
        };
        let rate = params
            .sample_rate
            .ok_or_else(|| unsupported("the audio track has no sample rate".into()))?;
        remotemedia_core::check_input_sample_rate(rate).map_err(unsupported)?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .ok_or_else(|| unsupported("the audio track has no channel layout".into()))?;
        let channels = u16::try_from(channels).map_err(|_| unsupported(format!("{channels} channels")))?;
        let chunk_frames = (u64::from(rate) * u64::from(chunk_ms) / 1000).max(1);
        // The source's own precision decides the sample type (decoders may hand over wider
        // buffers: a 16-bit FLAC as full-scale 32-bit, say).
        let float = matches!(params.sample_format, Some(SampleFormat::F32 | SampleFormat::F64));
        let kind = match params.bits_per_sample {
            _ if float => None,
            Some(bits) if bits <= 16 => Some(Kind::I16),
            Some(bits) if bits <= 32 => Some(Kind::I32),
            _ => None,
        };
        Ok(Self {
            path: path.to_path_buf(),
            track_id: track.id,
            frames,
            opus_pre_skip,
            decoded_samples: 0,
            format,
            decoder,
            rate,
            channels,
            kind,
            chunk_frames: usize::try_from(chunk_frames).unwrap_or(usize::MAX),
            pending_i16: Vec::new(),
            pending_i32: Vec::new(),
            pending_f32: Vec::new(),
            ended: false,
        })
    }

    /// The sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// The channel count.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// The track's length in seconds, when the container states it.
    pub fn duration_secs(&self) -> Option<f64> {
        self.frames.map(|f| f as f64 / f64::from(self.rate))
    }

    /// The next chunk, or `None` after the last one.
    pub fn next_chunk(&mut self) -> Result<Option<AudioBuffer>, IoError> {
        let want = self.chunk_frames * usize::from(self.channels);
        while !self.ended && self.pending_len() < want {
            self.decode_packet()?;
        }
        let take = want.min(self.pending_len());
        if take == 0 {
            return Ok(None);
        }
        let (rate, ch) = (self.rate, self.channels);
        let built = match self.kind {
            Some(Kind::I16) => AudioBuffer::from_i16(rate, ch, self.pending_i16.drain(..take).collect()),
            Some(Kind::I32) => AudioBuffer::from_i32(rate, ch, self.pending_i32.drain(..take).collect()),
            _ => AudioBuffer::from_f32(rate, ch, self.pending_f32.drain(..take).collect()),
        };
        built.map(Some).map_err(|e| self.corrupt(e.to_string()))
    }

    fn pending_len(&self) -> usize {
        self.pending_i16.len() + self.pending_i32.len() + self.pending_f32.len()
    }

    fn corrupt(&self, message: String) -> IoError {
        IoError::Corrupt {
            path: self.path.clone(),
            message,
        }
    }

    /// Marks the end of the stream; an error if it came well before the length the container
    /// announced (a truncated or damaged file: its audio would be silently lost otherwise).
    fn end(&mut self) -> Result<(), IoError> {
        self.ended = true;
        let decoded = self.decoded_samples / u64::from(self.channels.max(1));
        match self.frames {
            Some(expected) if decoded + TRUNCATION_TOLERANCE < expected => Err(self.corrupt(format!(
                "the audio ends early: {decoded} of the {expected} frames its header announces (a truncated or damaged file)"
            ))),
            _ => Ok(()),
        }
    }

    /// Decodes one packet of the audio track into the pending samples.
    fn decode_packet(&mut self) -> Result<(), IoError> {
        let packet = match self.format.next_packet() {
            Ok(Some(packet)) => packet,
            // A truncated last packet ends the stream as other decoders do, unless much less
            // audio came than the header announced.
            Ok(None) => return self.end(),
            Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return self.end();
            }
            Err(e) => return Err(self.corrupt(describe(&e))),
        };
        if packet.track_id != self.track_id {
            return Ok(());
        }
        let decoded = match &mut self.decoder {
            TrackDecoder::Opus(opus) => {
                // symphonia's own decoders hand over trimmed audio; for Opus, the pre-skip and the
                // end trim the container marks are ours to drop (what ffmpeg drops too).
                let skip = packet.trim_start.get() + std::mem::take(&mut self.opus_pre_skip);
                let channels = usize::from(self.channels);
                let pcm = opus.decode(&packet.data).map_err(|e| IoError::Corrupt {
                    path: self.path.clone(),
                    message: e,
                })?;
                let pcm = trimmed(pcm, channels, skip, packet.trim_end.get());
                self.decoded_samples += pcm.len() as u64;
                self.kind = Some(Kind::F32);
                self.pending_f32.extend_from_slice(pcm);
                return Ok(());
            }
            TrackDecoder::Symphonia(decoder) => match decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(e) => {
                    return Err(IoError::Corrupt {
                        path: self.path.clone(),
                        message: e.to_string(),
                    });
                }
            },
        };
        // Without a stated bit depth (lossy codecs), the first buffer's type decides.
        let kind = *self.kind.get_or_insert(match decoded {
            GenericAudioBufferRef::U8(_)
            | GenericAudioBufferRef::S8(_)
            | GenericAudioBufferRef::U16(_)
            | GenericAudioBufferRef::S16(_) => Kind::I16,
            GenericAudioBufferRef::U24(_)
            | GenericAudioBufferRef::S24(_)
            | GenericAudioBufferRef::U32(_)
            | GenericAudioBufferRef::S32(_) => Kind::I32,
            _ => Kind::F32,
        });
        let n = decoded.samples_interleaved();
        self.decoded_samples += n as u64;
        match kind {
            Kind::I16 => append(&mut self.pending_i16, n, |dst| {
                decoded.copy_to_slice_interleaved::<i16, _>(dst)
            }),
            Kind::I32 => append(&mut self.pending_i32, n, |dst| {
                decoded.copy_to_slice_interleaved::<i32, _>(dst)
            }),
            Kind::F32 => append(&mut self.pending_f32, n, |dst| {
                decoded.copy_to_slice_interleaved::<f32, _>(dst)
            }),
        }
        Ok(())
    }
}

/// Grows `pending` by `n` samples that `fill` writes.
fn append<T: Default + Clone>(pending: &mut Vec<T>, n: usize, fill: impl FnOnce(&mut [T])) {
    let start = pending.len();
    pending.resize(start + n, T::default());
    fill(&mut pending[start..]);
}

/// `samples` (interleaved) without `skip` frames at the start and `cut` at the end.
fn trimmed<T>(samples: &[T], channels: usize, skip: u64, cut: u64) -> &[T] {
    let skip = frames_to_samples(skip, channels).min(samples.len());
    let cut = frames_to_samples(cut, channels).min(samples.len() - skip);
    &samples[skip..samples.len() - cut]
}

fn frames_to_samples(frames: u64, channels: usize) -> usize {
    usize::try_from(frames)
        .unwrap_or(usize::MAX)
        .saturating_mul(channels)
}

impl Iterator for AudioFileSource {
    type Item = Result<AudioBuffer, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// Reads the first bytes of `path` (for [`looks_like_audio`]).
pub fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; 16];
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    head.truncate(filled);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, bits: u16, samples: &[i32]) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for &s in samples {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn wav_chunks_carry_every_sample_exactly() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.wav");
        let samples: Vec<i32> = (0..2 * 1000).map(|i| (i * 37 % 65536) - 32768).collect();
        write_wav(&path, 16, &samples);
        let mut source = AudioFileSource::open(&path, 30).expect("open");
        assert_eq!((source.sample_rate(), source.channels()), (8000, 2));
        let chunks: Vec<AudioBuffer> = source.by_ref().collect::<Result<_, _>>().expect("decode");
        // 30 ms at 8 kHz = 240 frames per chunk; 1000 frames = 4 chunks of 240 and one of 40.
        let frames: Vec<usize> = chunks.iter().map(AudioBuffer::frames).collect();
        assert_eq!(frames, vec![240, 240, 240, 240, 40]);
        let all: Vec<i32> = chunks
            .iter()
            .flat_map(|c| c.samples_i16().expect("i16").iter().map(|&s| i32::from(s)))
            .collect();
        assert_eq!(all, samples);
        assert!(source.next_chunk().expect("end").is_none());
    }

    #[test]
    fn twenty_four_bit_wav_becomes_i32_shifted_as_the_wav_reader_does() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.wav");
        write_wav(&path, 24, &[1, -1, 8_388_607, -8_388_608]);
        let chunk = AudioFileSource::open(&path, 1000)
            .expect("open")
            .next_chunk()
            .expect("decode")
            .expect("a chunk");
        assert_eq!(
            chunk.samples_i32().expect("i32"),
            &[1 << 8, -1 << 8, 8_388_607 << 8, -8_388_608 << 8]
        );
    }

    #[test]
    fn content_decides_the_format_and_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let text = dir.path().join("notes.wav");
        std::fs::write(&text, "this is text, not audio").expect("write");
        assert!(!looks_like_audio(&head_of(&text).expect("head")));
        let err = AudioFileSource::open(&text, 100)
            .err()
            .expect("not audio")
            .to_string();
        assert!(
            err.starts_with(&format!("`{}`: not an audio file", text.display())),
            "{err}"
        );
        let missing = AudioFileSource::open(&dir.path().join("nope.flac"), 100)
            .err()
            .expect("missing")
            .to_string();
        assert!(missing.starts_with("cannot read `"), "{missing}");
        assert!(
            looks_like_audio(b"RIFF\0\0\0\0WAVEfmt ")
                && looks_like_audio(b"fLaC\0\0")
                && looks_like_audio(b"ID3\x04")
        );
    }
}
