//! Audio outputs written as they are produced: a WAV file, WAV on a pipe, or raw PCM.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use remotemedia_core::{AudioBuffer, Value};

use crate::raw::{RawFormat, encode, natural_format};
use crate::source::IoError;
use crate::wav::{WavEncoding, WavFileWriter};

/// How audio outputs are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputEncoding {
    /// A WAV file in the first audio output's own sample format (16-bit, 32-bit or float).
    Wav,
    /// Raw interleaved PCM, no header.
    Raw(RawFormat),
}

impl OutputEncoding {
    /// The file extension for this encoding (`wav`, or the raw format's name).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Raw(format) => format.name(),
        }
    }
}

/// Where audio outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkTarget {
    /// A file, created (or truncated) by the first audio output.
    File(PathBuf),
    /// Standard output.
    Stdout,
}

impl SinkTarget {
    /// `-` is stdout; anything else a file.
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdout
        } else {
            Self::File(PathBuf::from(arg))
        }
    }

    fn label(&self) -> PathBuf {
        match self {
            Self::File(path) => path.clone(),
            Self::Stdout => PathBuf::from("stdout"),
        }
    }
}

enum Writer {
    /// A seekable WAV file: its header's sizes are written at the end.
    WavFile(WavFileWriter),
    /// WAV on a stream that cannot seek: the header says "length unknown" (sizes 0xFFFFFFFF, as
    /// ffmpeg and sox write on a pipe), followed by the samples.
    WavStream {
        out: Box<dyn Write + Send>,
        raw: RawFormat,
    },
    /// Headerless samples.
    Raw {
        out: Box<dyn Write + Send>,
        raw: RawFormat,
    },
}

/// Audio outputs written, in order, as they come; other values are handed back. Every audio output
/// must have the first one's rate and channel count (a WAV file or a raw stream has one layout).
pub struct AudioSink {
    target: SinkTarget,
    encoding: OutputEncoding,
    writer: Option<Writer>,
    layout: (u32, u16),
    bytes: Vec<u8>,
    frames: u64,
}

impl AudioSink {
    /// A sink writing `encoding` to `target`; nothing is created before the first audio output.
    pub fn new(target: SinkTarget, encoding: OutputEncoding) -> Self {
        Self {
            target,
            encoding,
            writer: None,
            layout: (0, 0),
            bytes: Vec::new(),
            frames: 0,
        }
    }

    /// Where this sink writes.
    pub fn target(&self) -> &SinkTarget {
        &self.target
    }

    /// Audio frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    fn error(&self, message: impl std::fmt::Display) -> IoError {
        IoError::Write {
            path: self.target.label(),
            message: message.to_string(),
        }
    }

    /// Writes `value` if it is audio; otherwise gives it back.
    pub fn take(&mut self, value: Value) -> Result<Option<Value>, IoError> {
        let Value::Audio(audio) = value else {
            return Ok(Some(value));
        };
        self.write(&audio)?;
        Ok(None)
    }

    /// Writes one audio output.
    pub fn write(&mut self, audio: &AudioBuffer) -> Result<(), IoError> {
        let layout = (audio.sample_rate(), audio.channels());
        if self.writer.is_none() {
            self.writer = Some(self.open(audio)?);
            self.layout = layout;
        } else if layout != self.layout {
            return Err(self.error(format!(
                "it holds {} Hz {}-channel audio; cannot append {} Hz {}-channel audio",
                self.layout.0, self.layout.1, layout.0, layout.1
            )));
        }
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        let written = match self.writer.as_mut() {
            Some(Writer::WavFile(w)) => w.write(audio).map_err(|e| e.to_string()),
            Some(Writer::WavStream { out, raw } | Writer::Raw { out, raw }) => {
                encode(audio, *raw, &mut bytes);
                // On stdout each output goes out as it is produced (a live stream).
                let live = self.target == SinkTarget::Stdout;
                out.write_all(&bytes)
                    .and_then(|()| if live { out.flush() } else { Ok(()) })
                    .map_err(|e| e.to_string())
            }
            None => Ok(()),
        };
        self.bytes = bytes;
        written.map_err(|e| self.error(e))?;
        self.frames += audio.frames() as u64;
        Ok(())
    }

    fn open(&self, first: &AudioBuffer) -> Result<Writer, IoError> {
        let natural = natural_format(first.format());
        let stream = || -> Result<Box<dyn Write + Send>, IoError> {
            Ok(match &self.target {
                SinkTarget::Stdout => Box::new(std::io::stdout()),
                SinkTarget::File(path) => Box::new(BufWriter::new(create(path).map_err(|e| self.error(e))?)),
            })
        };
        Ok(match (self.encoding, &self.target) {
            (OutputEncoding::Wav, SinkTarget::File(path)) => {
                ensure_parent(path).map_err(|e| self.error(e))?;
                Writer::WavFile(
                    WavFileWriter::create(
                        path,
                        first.sample_rate(),
                        first.channels(),
                        WavEncoding::natural(first.format()),
                    )
                    .map_err(|e| self.error(e))?,
                )
            }
            (OutputEncoding::Wav, SinkTarget::Stdout) => {
                let mut out = stream()?;
                out.write_all(&streaming_wav_header(
                    first.sample_rate(),
                    first.channels(),
                    natural,
                ))
                .map_err(|e| self.error(e))?;
                Writer::WavStream { out, raw: natural }
            }
            (OutputEncoding::Raw(raw), _) => Writer::Raw { out: stream()?, raw },
        })
    }

    /// Completes the output (a WAV file's header; flushes a stream). Returns whether any audio
    /// came (with none, nothing was created).
    pub fn finish(self) -> Result<bool, IoError> {
        let error = |e: String| IoError::Write {
            path: self.target.label(),
            message: e,
        };
        match self.writer {
            None => Ok(false),
            Some(Writer::WavFile(w)) => w.finalize().map(|()| true).map_err(error),
            Some(Writer::WavStream { mut out, .. } | Writer::Raw { mut out, .. }) => {
                out.flush().map(|()| true).map_err(|e| error(e.to_string()))
            }
        }
    }
}

/// Creates `path`'s folder if it does not exist yet.
fn ensure_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    }
}

fn create(path: &Path) -> std::io::Result<File> {
    ensure_parent(path)?;
    File::create(path)
}

/// A canonical 44-byte WAV header whose RIFF and data sizes say "unknown" (0xFFFFFFFF): what
/// ffmpeg and sox write when the output cannot seek. Readers take the data to the end of the
/// stream.
fn streaming_wav_header(rate: u32, channels: u16, raw: RawFormat) -> Vec<u8> {
    let bytes_per_sample = raw.bytes() as u16;
    let format_tag: u16 = if raw == RawFormat::F32le { 3 } else { 1 };
    let block_align = bytes_per_sample * channels;
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&format_tag.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&(bytes_per_sample * 8).to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav::read_wav;

    #[test]
    fn wav_files_raw_files_and_other_values() {
        let dir = tempfile::tempdir().expect("dir");
        let audio = AudioBuffer::from_i16(8000, 2, vec![1, -1, 300, -300]).expect("audio");
        let wav = dir.path().join("sub/out.wav");
        let mut sink = AudioSink::new(SinkTarget::File(wav.clone()), OutputEncoding::Wav);
        assert_eq!(sink.take(Value::Int(4)).expect("not audio"), Some(Value::Int(4)));
        sink.take(Value::Audio(audio.clone().into())).expect("written");
        sink.take(Value::Audio(audio.clone().into())).expect("written");
        let other = AudioBuffer::from_i16(16000, 2, vec![0, 0]).expect("audio");
        let err = sink.write(&other).expect_err("layout change").to_string();
        assert!(err.contains("cannot append 16000 Hz 2-channel audio"), "{err}");
        assert!(sink.finish().expect("finished"));
        let back = read_wav(&wav).expect("read");
        assert_eq!(
            back.samples_i16(),
            Some(&[1, -1, 300, -300, 1, -1, 300, -300][..])
        );

        let raw = dir.path().join("out.mulaw");
        let mut sink = AudioSink::new(
            SinkTarget::File(raw.clone()),
            OutputEncoding::Raw(RawFormat::Mulaw),
        );
        sink.write(&audio).expect("written");
        assert_eq!(sink.frames_written(), 2);
        sink.finish().expect("finished");
        let bytes = std::fs::read(&raw).expect("read");
        assert_eq!(
            bytes,
            [1i16, -1, 300, -300].map(crate::raw::i16_to_mulaw).to_vec()
        );

        let none = AudioSink::new(SinkTarget::File(dir.path().join("none.wav")), OutputEncoding::Wav);
        assert!(!none.finish().expect("nothing to finish"));
        assert!(!dir.path().join("none.wav").exists());
    }

    #[test]
    fn the_streaming_header_is_read_as_unknown_length_wav() {
        let header = streaming_wav_header(16000, 1, RawFormat::S16le);
        let mut data = header.clone();
        data.extend([5i16, -7, 9].iter().flat_map(|s| s.to_le_bytes()));
        assert_eq!(header.len(), 44);
        assert_eq!(&header[..4], b"RIFF");
        assert_eq!(&header[40..44], &[0xff; 4]);
        // Our own reader (symphonia) takes the data to the end of the stream.
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("piped.wav");
        std::fs::write(&path, &data).expect("write");
        let chunk = crate::AudioFileSource::open(&path, 1000)
            .expect("open")
            .next_chunk()
            .expect("decode")
            .expect("a chunk");
        assert_eq!(chunk.samples_i16(), Some(&[5, -7, 9][..]));
    }
}
