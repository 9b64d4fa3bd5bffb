//! Speech detection as a pipeline node: [`SpeechNode`] runs any [`SpeechDetector`] (the integer
//! [`Vad`] here as `VADNode`; Silero in `remotemedia-models` as `SileroVADNode`) and emits what the
//! `emit` param asks for:
//! - `segments` (default): one map per speech segment, when it ends: `{"start": s, "end": s}` in
//!   seconds from the start of the stream.
//! - `frames`: one map per input that completed at least one frame:
//!   `{"start": s, "frame_ms": n, "speech": [bool, ...]}`, `start` being the first frame's time
//!   (detectors that score frames add `"probability": [p, ...]`).
//! - `speech`: the audio of each speech segment (the input samples, unchanged), when it ends.
//!
//! With `events: true` it also emits `{"event": "speech_started", "time": s}` when the detector
//! enters speech and `{"event": "speech_ended", "start": s, "end": s}` when a segment ends; with
//! `interrupt: true` the start of speech interrupts the session ([`Outputs::interrupt`]): a voice
//! loop stops talking when the user talks over it.

use std::sync::Arc;

use remotemedia_core::{
    AudioBuffer, Map, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params,
    SampleFormat, Value,
};

use super::chunker::Pending;
use super::samples::{StreamLayout, convert, expect_audio};
use super::vad::{Segment, Vad, VadConfig, VadOutput};

/// The params every speech node shares: `min_speech_ms`, `min_silence_ms`, `padding_ms` (with
/// the node's defaults) and `emit`.
pub fn shared_params(
    descriptor: NodeDescriptor,
    min_speech_ms: i64,
    min_silence_ms: i64,
    padding_ms: i64,
) -> NodeDescriptor {
    descriptor
        .param(ms_param(
            "min_speech_ms",
            min_speech_ms,
            "shorter speech is not a segment",
        ))
        .param(ms_param(
            "min_silence_ms",
            min_silence_ms,
            "shorter pauses do not end a segment",
        ))
        .param(ms_param(
            "padding_ms",
            padding_ms,
            "added before and after each segment",
        ))
        .param(
            ParamSpec::choice("emit", &["segments", "frames", "speech"])
                .default("segments")
                .describe("what is emitted: segment times, per-frame decisions, or the speech audio"),
        )
        .param(
            ParamSpec::boolean("events")
                .default(false)
                .describe("also emit {\"event\": \"speech_started\", \"time\": s} when speech starts and {\"event\": \"speech_ended\", \"start\": s, \"end\": s} when a segment ends"),
        )
        .param(
            ParamSpec::boolean("interrupt")
                .default(false)
                .describe("the start of speech interrupts the session: what is downstream and not yet taken is dropped, and the reader is told (barge-in)"),
        )
}

fn ms_param(name: &str, default: i64, text: &str) -> ParamSpec {
    ParamSpec::integer(name)
        .default(default)
        .min(0.0)
        .max(60_000.0)
        .describe(text)
}

/// A duration param in milliseconds (validated to 0..=60000).
pub fn ms(params: &Params, name: &str) -> Result<u32, NodeError> {
    let v = params.int(name)?;
    u32::try_from(v).map_err(|_| NodeError::InvalidParams(format!("`{name}` must be >= 0, found {v}")))
}

pub(crate) fn descriptor() -> NodeDescriptor {
    let d = NodeDescriptor::new("VADNode")
        .describe("voice activity detection on 8 or 16 kHz mono audio (fast integer detector): speech segments, per-frame decisions, or the speech audio")
        .param(
            ParamSpec::integer("frame_duration_ms")
                .default(10)
                .min(10.0)
                .max(30.0)
                .describe("frame length: 10, 20 or 30 ms"),
        )
        .param(
            ParamSpec::integer("mode")
                .default(2)
                .min(0.0)
                .max(3.0)
                .describe("aggressiveness, 0 (most frames are speech) to 3 (fewest)"),
        )
        .param(ms_param(
            "hangover_ms",
            200,
            "a frame stays speech this long after raw speech (per-frame output)",
        ));
    shared_params(d, 100, 300, 30)
}

/// What a speech node emits (param `emit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// Segment times.
    Segments,
    /// Per-frame decisions.
    Frames,
    /// The audio of each segment.
    Speech,
}

impl Emit {
    /// The `emit` param.
    pub fn from_params(params: &Params) -> Result<Self, NodeError> {
        Ok(match params.text("emit")? {
            "frames" => Emit::Frames,
            "speech" => Emit::Speech,
            _ => Emit::Segments,
        })
    }
}

/// `frame_duration_ms` is 10, 20 or 30.
pub(crate) fn check(params: &Params) -> Result<(), NodeError> {
    let frame_ms = params.int("frame_duration_ms")?;
    if ![10, 20, 30].contains(&frame_ms) {
        return Err(NodeError::InvalidParams(format!(
            "`frame_duration_ms` must be 10, 20 or 30, found {frame_ms}"
        )));
    }
    Ok(())
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let config = VadConfig {
        mode: u8::try_from(params.int("mode")?).unwrap_or(2),
        frame_ms: ms(params, "frame_duration_ms")?,
        hangover_ms: ms(params, "hangover_ms")?,
        min_speech_ms: ms(params, "min_speech_ms")?,
        min_silence_ms: ms(params, "min_silence_ms")?,
        padding_ms: ms(params, "padding_ms")?,
    };
    let make = move |rate: u32| Vad::new(rate, config).map_err(NodeError::invalid_input);
    Ok(NodeInstance::sync(
        SpeechNode::new("VADNode", Emit::from_params(params)?, make).with_signals(params)?,
    ))
}

/// A streaming speech detector on mono audio, as [`SpeechNode`] drives it.
pub trait SpeechDetector: Send + 'static {
    /// Samples per frame.
    fn frame_len(&self) -> usize;
    /// Frame length in milliseconds (for the `frames` output).
    fn frame_ms(&self) -> u32;
    /// Feeds one chunk; returns the frames it completed and the segments that ended.
    fn detect(&mut self, audio: &Arc<AudioBuffer>) -> Result<VadOutput, NodeError>;
    /// Ends the stream: the last frames and segments.
    fn end(&mut self) -> Result<VadOutput, NodeError>;
    /// The first sample a future segment can include (audio before it is no longer needed).
    fn keep_from(&self) -> u64;
}

impl SpeechDetector for Vad {
    fn frame_len(&self) -> usize {
        Vad::frame_len(self)
    }

    fn frame_ms(&self) -> u32 {
        (self.frame_len() as u64 * 1000 / u64::from(self.rate())) as u32
    }

    fn detect(&mut self, audio: &Arc<AudioBuffer>) -> Result<VadOutput, NodeError> {
        let pcm = convert(audio, SampleFormat::I16)?;
        Ok(self.push(pcm.samples_i16().unwrap_or_default()))
    }

    fn end(&mut self) -> Result<VadOutput, NodeError> {
        Ok(VadOutput {
            segments: self.finish(),
            ..VadOutput::default()
        })
    }

    fn keep_from(&self) -> u64 {
        Vad::keep_from(self)
    }
}

/// A speech detector as a node: the detector is made for the stream's rate from its first chunk;
/// the stream must be mono.
pub struct SpeechNode<D, F> {
    node_type: &'static str,
    make: F,
    emit: Emit,
    layout: Option<StreamLayout>,
    detector: Option<D>,
    /// `speech` output: the input samples from `held_start` on.
    held: Pending,
    held_start: u64,
    /// Emit speech_started / speech_ended events.
    events: bool,
    /// Interrupt the session when speech starts.
    interrupt: bool,
    /// Whether the last frame was speech.
    speaking: bool,
}

impl<D, F> SpeechNode<D, F>
where
    D: SpeechDetector,
    F: FnMut(u32) -> Result<D, NodeError> + Send + 'static,
{
    /// A node named `node_type` (for messages) making its detector with `make(rate)`.
    pub fn new(node_type: &'static str, emit: Emit, make: F) -> Self {
        Self {
            node_type,
            make,
            emit,
            layout: None,
            detector: None,
            held: Pending::default(),
            held_start: 0,
            events: false,
            interrupt: false,
            speaking: false,
        }
    }

    /// With the `events` and `interrupt` params.
    pub fn with_signals(mut self, params: &Params) -> Result<Self, NodeError> {
        self.events = params.bool("events")?;
        self.interrupt = params.bool("interrupt")?;
        Ok(self)
    }

    /// The start of speech: interrupts the session and emits the event, as asked.
    fn signal_starts(&mut self, decided: &VadOutput, frame_len: usize, rate: f64, out: &mut Outputs) {
        for (k, &speech) in decided.speech.iter().enumerate() {
            if speech && !self.speaking {
                if self.interrupt {
                    out.interrupt();
                }
                if self.events {
                    let mut map = Map::new();
                    map.insert("event".into(), Value::from("speech_started"));
                    let frame = decided.first_frame + k as u64;
                    map.insert(
                        "time".into(),
                        Value::Float(frame as f64 * frame_len as f64 / rate),
                    );
                    out.emit(Value::Map(map.into()));
                }
            }
            self.speaking = speech;
        }
    }

    fn emit_output(
        &mut self,
        layout: StreamLayout,
        decided: &VadOutput,
        out: &mut Outputs,
    ) -> Result<(), NodeError> {
        let Some(frame_len) = self.detector.as_ref().map(|d| d.frame_len()) else {
            return Ok(());
        };
        let rate = f64::from(layout.rate);
        self.signal_starts(decided, frame_len, rate, out);
        let Some(detector) = &self.detector else {
            return Ok(());
        };
        if self.emit == Emit::Frames && !decided.speech.is_empty() {
            let mut map = Map::new();
            let first = decided.first_frame as f64 * detector.frame_len() as f64 / rate;
            map.insert("start".into(), Value::Float(first));
            map.insert("frame_ms".into(), Value::Int(i64::from(detector.frame_ms())));
            map.insert(
                "speech".into(),
                Value::list(decided.speech.iter().map(|&b| Value::Bool(b))),
            );
            if !decided.probability.is_empty() {
                map.insert(
                    "probability".into(),
                    Value::list(decided.probability.iter().map(|&p| Value::Float(f64::from(p)))),
                );
            }
            out.emit(Value::Map(map.into()));
        }
        for seg in &decided.segments {
            self.emit_segment(layout, seg, out)?;
            if self.events {
                let mut map = Map::new();
                map.insert("event".into(), Value::from("speech_ended"));
                map.insert("start".into(), Value::Float(seg.start as f64 / rate));
                map.insert("end".into(), Value::Float(seg.end as f64 / rate));
                out.emit(Value::Map(map.into()));
            }
        }
        Ok(())
    }

    fn emit_segment(&self, layout: StreamLayout, seg: &Segment, out: &mut Outputs) -> Result<(), NodeError> {
        let rate = f64::from(layout.rate);
        match self.emit {
            Emit::Segments => {
                let mut map = Map::new();
                map.insert("start".into(), Value::Float(seg.start as f64 / rate));
                map.insert("end".into(), Value::Float(seg.end as f64 / rate));
                out.emit(Value::Map(map.into()));
            }
            Emit::Speech => {
                let from = (seg.start.saturating_sub(self.held_start) as usize).min(self.held.len());
                let to = (seg.end.saturating_sub(self.held_start) as usize).min(self.held.len());
                out.emit(self.held.slice(layout, from, to)?);
            }
            Emit::Frames => {}
        }
        Ok(())
    }
}

impl<D, F> Node for SpeechNode<D, F>
where
    D: SpeechDetector,
    F: FnMut(u32) -> Result<D, NodeError> + Send + 'static,
{
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        let layout = StreamLayout::check(&mut self.layout, audio)?;
        if layout.channels != 1 {
            return Err(NodeError::invalid_input(format!(
                "{} needs mono audio, found {} channels; put a ChannelMixNode (mode: downmix) before it",
                self.node_type, layout.channels
            )));
        }
        let detector = match &mut self.detector {
            Some(d) => d,
            slot @ None => slot.insert((self.make)(layout.rate)?),
        };
        let decided = detector.detect(audio)?;
        let keep_from = detector.keep_from();
        if self.emit == Emit::Speech {
            self.held.extend(audio);
        }
        self.emit_output(layout, &decided, out)?;
        if self.emit == Emit::Speech && keep_from > self.held_start {
            let drop = ((keep_from - self.held_start) as usize).min(self.held.len());
            self.held.drop_front(drop);
            self.held_start += drop as u64;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        if let (Some(layout), Some(detector)) = (self.layout, self.detector.as_mut()) {
            let decided = detector.end()?;
            self.emit_output(layout, &decided, out)?;
        }
        Ok(())
    }
}
