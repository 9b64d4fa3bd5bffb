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
//! Non-goals (not yet): raw PCM streams, encoding other than WAV, Opus.
//!
//! ```no_run
//! use remotemedia_io::AudioFileSource;
//! let mut source = AudioFileSource::open("talk.flac".as_ref(), 100)?;
//! while let Some(chunk) = source.next_chunk()? {
//!     println!("{} frames at {} Hz", chunk.frames(), chunk.sample_rate());
//! }
//! # Ok::<(), remotemedia_io::IoError>(())
//! ```

mod source;

pub use source::{AudioFileSource, IoError, head_of, looks_like_audio};
