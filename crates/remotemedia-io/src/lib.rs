//! # remotemedia-io
//!
//! Audio in and out for the engine.
//!
//! - **Sources.** A file is decoded and handed over in chunks ([`AudioFileSource`]), so a recording
//!   of any length runs in memory that does not depend on its length. Decoding is symphonia's:
//!   WAV (PCM integer and float, A-law, µ-law, ADPCM, WAVE_FORMAT_EXTENSIBLE), AIFF, FLAC, MP3,
//!   Ogg Vorbis, AAC and ALAC (in MP4/M4A), CAF; Ogg Opus is decoded by `opus-rs` (pure Rust).
//!   The format is detected from the content, never from the file name. Raw PCM (`s16le`,
//!   `s32le`, `f32le`, G.711 µ-law and A-law) comes from any reader, a pipe included, chunk by
//!   chunk as it arrives ([`RawPcmSource`]).
//! - **Feeding.** [`run_source`] feeds a source to a pipeline's session through its bounded input
//!   (a slow pipeline holds the decoder back) and hands each output over as it is produced.
//! - **Sinks.** [`AudioSink`] writes audio outputs as they are produced: a WAV file (header fixed
//!   up at the end), WAV on a pipe (header with "unknown length" sizes), or raw PCM.
//! - **Many files.** [`expand_inputs`] turns files, folders and glob patterns into audio files;
//!   [`run_files`] runs each as its own session, `jobs` at a time, one result per file.
//! - **Progress.** [`Progress`] counts the work; [`ProgressDisplay`] draws it on stderr.
//!
//! Samples keep their precision: 8- and 16-bit sources become `i16` audio (8-bit shifted up by 8
//! bits), 24- and 32-bit integer sources `i32` (24-bit shifted up by 8 bits), float and lossy
//! sources `f32`, exactly as [`wav::read_wav`] maps them.
//!
//! ```no_run
//! use remotemedia_io::AudioFileSource;
//! let mut source = AudioFileSource::open("talk.flac".as_ref(), 100)?;
//! while let Some(chunk) = source.next_chunk()? {
//!     println!("{} frames at {} Hz", chunk.frames(), chunk.sample_rate());
//! }
//! # Ok::<(), remotemedia_io::IoError>(())
//! ```

mod batch;
mod feed;
mod opus;
mod progress;
mod raw;
mod sink;
mod source;
pub mod wav;

pub use batch::{
    AUDIO_EXTENSIONS, BatchEnd, BatchOptions, FileResult, InputError, InputFile, expand_inputs, is_pattern,
    open_file, output_paths, run_bytes, run_files, run_files_shown,
};
pub use feed::{AudioChunks, Collected, RunError, run_source, run_to_report, spawn_source};
pub use progress::{Progress, ProgressDisplay, ProgressMode};
pub use raw::{
    RawFormat, RawPcmSource, alaw_to_i16, decode, encode, i16_to_alaw, i16_to_mulaw, mulaw_to_i16,
    natural_format,
};
pub use sink::{AudioSink, OutputEncoding, SinkTarget};
pub use source::{
    AudioFileSource, EMPTY_FILE, FORMATS, IoError, container_of, has_audio_extension, head_of,
    looks_like_audio, not_audio_reason,
};
