//! Native audio nodes, and the DSP they are built on (usable on their own: [`Resampler`],
//! [`vad::Vad`]). Reading and writing audio files is `remotemedia-io`'s job.
//!
//! | node type | params | behaviour |
//! |---|---|---|
//! | `AudioResampleNode` | `target_sample_rate` (16000), `quality` (`low`/`medium`/`high`) | band-limited resampling, any integer rates, stateful across chunks |
//! | `VADNode` | see [`vad`] and [`vad_node`] | per-frame speech decisions and speech segments (fast integer detector; `SileroVADNode`, in `remotemedia-models`, is the accurate one) |
//! | `FormatConverterNode` | `target_format` (`f32`/`i16`/`i32`) | converts samples (round half to even, clip) |
//! | `ChannelMixNode` | `mode` (`downmix`/`upmix`/`select`), `channels`, `channel` | channel layout changes |
//! | `AudioChunkerNode` | `chunk_ms` or `chunk_samples` | fixed-size chunks; the remainder at end of stream |
//! | `GainNode` | `db` | fixed gain (integer samples saturate) |
//! | `NormalizeNode` | `mode` (`peak`/`rms`), `target_db` | scales the whole stream to a level; emits at end of stream |
//!
//! Every audio node takes [`Value::Audio`](remotemedia_core::Value::Audio) inputs, keeps the input's sample format
//! (except the format converter), and refuses a stream whose rate, channel count or format changes
//! midway. The rounding and clipping rules are in [`samples`].

mod channels;
mod chunker;
mod format;
mod gain;
pub mod resample;
mod resample_fft;
mod resample_node;
pub mod samples;
pub mod vad;
pub mod vad_node;

pub use resample::{DEFAULT_MAX_LATENCY_MS, PolyphaseFilter, ResampleQuality, Resampler};
pub use vad_node::{Emit, SpeechDetector, SpeechNode};

use remotemedia_core::{CheckedFactory, Registry, Result};

pub(crate) fn register(registry: &mut Registry) -> Result<()> {
    registry.register(resample_node::descriptor(), resample_node::create)?;
    registry.register(format::descriptor(), format::create)?;
    registry.register(channels::descriptor(), channels::create)?;
    registry.register(
        chunker::descriptor(),
        CheckedFactory {
            create: chunker::create,
            check: chunker::check,
        },
    )?;
    registry.register(gain::gain_descriptor(), gain::create_gain)?;
    registry.register(gain::normalize_descriptor(), gain::create_normalize)?;
    registry.register(
        vad_node::descriptor(),
        CheckedFactory {
            create: vad_node::create,
            check: vad_node::check,
        },
    )?;
    Ok(())
}
