//! `AudioChunkerNode`: re-cuts an audio stream into chunks of a fixed number of frames.

use std::sync::Arc;

use remotemedia_core::{
    AudioBuffer, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, SampleFormat,
    Value,
};

use super::samples::{StreamLayout, expect_audio};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("AudioChunkerNode")
        .describe(
            "re-cuts audio into chunks of `chunk_samples` frames (or `chunk_ms`); the remainder is emitted at end of stream",
        )
        .param(
            ParamSpec::number("chunk_ms")
                .min(0.001)
                .describe("chunk length in milliseconds (default 20 when `chunk_samples` is not given); rounded to whole frames"),
        )
        .param(
            ParamSpec::integer("chunk_samples")
                .min(1.0)
                .describe("chunk length in frames (samples per channel); give this or `chunk_ms`"),
        )
}

/// How long each chunk is.
#[derive(Debug, Clone, Copy)]
enum ChunkLength {
    Ms(f64),
    Frames(usize),
}

/// `chunk_ms` and `chunk_samples` exclude each other.
pub(crate) fn check(params: &Params) -> Result<(), NodeError> {
    if given(params, "chunk_ms") && given(params, "chunk_samples") {
        return Err(NodeError::InvalidParams(
            "give either `chunk_ms` or `chunk_samples`, not both".into(),
        ));
    }
    Ok(())
}

fn given(params: &Params, name: &str) -> bool {
    params.get(name).is_some_and(|v| !matches!(v, Value::Null))
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let length = if given(params, "chunk_samples") {
        ChunkLength::Frames(usize::try_from(params.int("chunk_samples")?).unwrap_or(1).max(1))
    } else if given(params, "chunk_ms") {
        ChunkLength::Ms(params.float("chunk_ms")?)
    } else {
        ChunkLength::Ms(20.0)
    };
    Ok(NodeInstance::sync(Chunker {
        length,
        layout: None,
        pending: Pending::default(),
    }))
}

/// Frames per chunk at `rate`: `chunk_ms` rounded to the nearest frame (at least one).
fn frames_per_chunk(length: ChunkLength, rate: u32) -> usize {
    match length {
        ChunkLength::Frames(n) => n,
        ChunkLength::Ms(ms) => ((ms * f64::from(rate) / 1000.0).round() as usize).max(1),
    }
}

struct Chunker {
    length: ChunkLength,
    layout: Option<StreamLayout>,
    pending: Pending,
}

impl Node for Chunker {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        let layout = StreamLayout::check(&mut self.layout, audio)?;
        let frames = frames_per_chunk(self.length, layout.rate);
        let per_chunk = frames * usize::from(layout.channels);
        if self.pending.is_empty() && audio.frames() == frames {
            out.emit(Value::Audio(Arc::clone(audio)));
            return Ok(());
        }
        self.pending.extend(audio);
        let mut start = 0;
        while self.pending.len() - start >= per_chunk {
            out.emit(self.pending.slice(layout, start, start + per_chunk)?);
            start += per_chunk;
        }
        self.pending.drop_front(start);
        Ok(())
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        if let Some(layout) = self.layout
            && !self.pending.is_empty()
        {
            out.emit(self.pending.slice(layout, 0, self.pending.len())?);
            self.pending.drop_front(self.pending.len());
        }
        Ok(())
    }
}

/// Samples held by a node (waiting to be emitted), in the stream's format.
#[derive(Debug, Default)]
pub enum Pending {
    /// Nothing yet.
    #[default]
    Empty,
    /// f32 samples.
    F32(Vec<f32>),
    /// i16 samples.
    I16(Vec<i16>),
    /// i32 samples.
    I32(Vec<i32>),
}

impl Pending {
    /// Samples held (interleaved).
    pub fn len(&self) -> usize {
        match self {
            Pending::Empty => 0,
            Pending::F32(v) => v.len(),
            Pending::I16(v) => v.len(),
            Pending::I32(v) => v.len(),
        }
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `audio`'s samples (its format must be the stream's, which the caller checked).
    pub fn extend(&mut self, audio: &AudioBuffer) {
        match (&mut *self, audio.format()) {
            (Pending::F32(v), _) => v.extend_from_slice(audio.samples_f32().unwrap_or_default()),
            (Pending::I16(v), _) => v.extend_from_slice(audio.samples_i16().unwrap_or_default()),
            (Pending::I32(v), _) => v.extend_from_slice(audio.samples_i32().unwrap_or_default()),
            (Pending::Empty, SampleFormat::F32) => {
                *self = Pending::F32(audio.samples_f32().unwrap_or_default().to_vec())
            }
            (Pending::Empty, SampleFormat::I16) => {
                *self = Pending::I16(audio.samples_i16().unwrap_or_default().to_vec())
            }
            (Pending::Empty, SampleFormat::I32) => {
                *self = Pending::I32(audio.samples_i32().unwrap_or_default().to_vec())
            }
        }
    }

    /// Samples `start..end` (interleaved indices) as audio.
    pub fn slice(&self, layout: StreamLayout, start: usize, end: usize) -> Result<AudioBuffer, NodeError> {
        let (rate, ch) = (layout.rate, layout.channels);
        let built = match self {
            Pending::F32(v) => AudioBuffer::from_f32(rate, ch, v[start..end].to_vec()),
            Pending::I16(v) => AudioBuffer::from_i16(rate, ch, v[start..end].to_vec()),
            Pending::I32(v) => AudioBuffer::from_i32(rate, ch, v[start..end].to_vec()),
            Pending::Empty => AudioBuffer::new(
                rate,
                ch,
                layout.format,
                remotemedia_core::Buffer::from_vec(Vec::<u8>::new()),
            ),
        };
        built.map_err(|e| NodeError::failed(e.to_string()))
    }

    /// Drops the first `n` samples (interleaved).
    pub fn drop_front(&mut self, n: usize) {
        match self {
            Pending::Empty => {}
            Pending::F32(v) => drop(v.drain(..n)),
            Pending::I16(v) => drop(v.drain(..n)),
            Pending::I32(v) => drop(v.drain(..n)),
        }
    }
}

/// The chunks of one stream joined into one audio value (no copy for a single chunk).
pub(crate) fn concat(layout: StreamLayout, chunks: &[Arc<AudioBuffer>]) -> Result<AudioBuffer, NodeError> {
    if let [only] = chunks {
        return Ok(AudioBuffer::clone(only));
    }
    let mut pending = Pending::default();
    for chunk in chunks {
        pending.extend(chunk);
    }
    pending.slice(layout, 0, pending.len())
}
