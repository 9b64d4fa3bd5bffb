//! # remotemedia-io
//!
//! Audio in for the engine: a file is a *source* that is decoded and handed over in chunks, so a
//! recording of any length runs in memory that does not depend on its length, and a pipeline's
//! bounded input keeps backpressure. Decoding is symphonia's: WAV (PCM integer and float, A-law,
//! µ-law, ADPCM, WAVE_FORMAT_EXTENSIBLE), FLAC, MP3 and Ogg Vorbis; the format is detected from the
//! content, never from the file name.
//!
//! Samples keep their precision: 8- and 16-bit sources become `i16` audio (8-bit shifted up by 8
//! bits), 24- and 32-bit integer sources `i32` (24-bit shifted up by 8 bits), float and lossy
//! sources `f32`, exactly as the WAV reader of `remotemedia-nodes` maps them.
//!
//! Raw PCM (`s16le`, `s32le`, `f32le`, G.711 µ-law and A-law) comes from any reader, a pipe
//! included, chunk by chunk as it arrives ([`RawPcmSource`]).
//!
//! Not yet: encoding other than WAV, Opus, AAC/ALAC/AIFF.
//!
//! ```no_run
//! use remotemedia_io::AudioFileSource;
//! let mut source = AudioFileSource::open("talk.flac".as_ref(), 100)?;
//! while let Some(chunk) = source.next_chunk()? {
//!     println!("{} frames at {} Hz", chunk.frames(), chunk.sample_rate());
//! }
//! # Ok::<(), remotemedia_io::IoError>(())
//! ```

mod raw;
mod source;

pub use raw::{RawFormat, RawPcmSource, alaw_to_i16, mulaw_to_i16};
pub use source::{AudioFileSource, IoError, head_of, looks_like_audio};
