//! `VADNode`: the streaming [`Vad`] as a pipeline node.
//!
//! Output (param `emit`):
//! - `segments` (default): one map per speech segment, when it ends: `{"start": s, "end": s}` in
//!   seconds from the start of the stream.
//! - `frames`: one map per input that completed at least one frame:
//!   `{"start": s, "frame_ms": n, "speech": [bool, ...]}`, `start` being the first frame's time.
//! - `speech`: the audio of each speech segment (the input samples, unchanged), when it ends.

use remotemedia_core::{
    Map, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, SampleFormat, Value,
};

use super::chunker::Pending;
use super::samples::{StreamLayout, convert, expect_audio};
use super::vad::{Segment, Vad, VadConfig};

pub(crate) fn descriptor() -> NodeDescriptor {
    let ms = |name: &str, default: i64, text: &str| {
        ParamSpec::integer(name)
            .default(default)
            .min(0.0)
            .max(60_000.0)
            .describe(text)
    };
    NodeDescriptor::new("VADNode")
        .describe("voice activity detection on 8 or 16 kHz mono audio: speech segments, per-frame decisions, or the speech audio")
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
        .param(ms("hangover_ms", 200, "a frame stays speech this long after raw speech (per-frame output)"))
        .param(ms("min_speech_ms", 100, "shorter speech is not a segment"))
        .param(ms("min_silence_ms", 300, "shorter pauses do not end a segment"))
        .param(ms("padding_ms", 30, "added before and after each segment"))
        .param(
            ParamSpec::choice("emit", &["segments", "frames", "speech"])
                .default("segments")
                .describe("what is emitted: segment times, per-frame decisions, or the speech audio"),
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Emit {
    Segments,
    Frames,
    Speech,
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
    let ms = |name: &str| -> Result<u32, NodeError> {
        let v = params.int(name)?;
        u32::try_from(v).map_err(|_| NodeError::InvalidParams(format!("`{name}` must be >= 0, found {v}")))
    };
    let frame_ms = ms("frame_duration_ms")?;
    let config = VadConfig {
        mode: u8::try_from(params.int("mode")?).unwrap_or(2),
        frame_ms,
        hangover_ms: ms("hangover_ms")?,
        min_speech_ms: ms("min_speech_ms")?,
        min_silence_ms: ms("min_silence_ms")?,
        padding_ms: ms("padding_ms")?,
    };
    let emit = match params.text("emit")? {
        "frames" => Emit::Frames,
        "speech" => Emit::Speech,
        _ => Emit::Segments,
    };
    Ok(NodeInstance::sync(VadNode {
        config,
        emit,
        layout: None,
        vad: None,
        held: Pending::default(),
        held_start: 0,
    }))
}

struct VadNode {
    config: VadConfig,
    emit: Emit,
    layout: Option<StreamLayout>,
    vad: Option<Vad>,
    /// `speech` output: the input samples from `held_start` on.
    held: Pending,
    held_start: u64,
}

impl VadNode {
    fn emit_segments(
        &mut self,
        layout: StreamLayout,
        segments: &[Segment],
        out: &mut Outputs,
    ) -> Result<(), NodeError> {
        let rate = f64::from(layout.rate);
        for seg in segments {
            match self.emit {
                Emit::Segments => {
                    let mut map = Map::new();
                    map.insert("start".into(), Value::Float(seg.start as f64 / rate));
                    map.insert("end".into(), Value::Float(seg.end as f64 / rate));
                    out.emit(Value::Map(map.into()));
                }
                Emit::Speech => {
                    let from = (seg.start - self.held_start) as usize;
                    let to = (seg.end - self.held_start) as usize;
                    out.emit(self.held.slice(layout, from, to.min(self.held.len()))?);
                }
                Emit::Frames => {}
            }
        }
        Ok(())
    }
}

impl Node for VadNode {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        let layout = StreamLayout::check(&mut self.layout, audio)?;
        if layout.channels != 1 {
            return Err(NodeError::invalid_input(format!(
                "VADNode needs mono audio, found {} channels; put a ChannelMixNode (mode: downmix) before it",
                layout.channels
            )));
        }
        let vad = match &mut self.vad {
            Some(v) => v,
            slot @ None => slot.insert(Vad::new(layout.rate, self.config).map_err(NodeError::invalid_input)?),
        };
        let pcm = convert(audio, SampleFormat::I16)?;
        let decided = vad.push(pcm.samples_i16().unwrap_or_default());
        let keep_from = vad.keep_from();
        let frame_len = vad.frame_len() as f64;
        match self.emit {
            Emit::Frames if !decided.speech.is_empty() => {
                let mut map = Map::new();
                map.insert(
                    "start".into(),
                    Value::Float(decided.first_frame as f64 * frame_len / f64::from(layout.rate)),
                );
                map.insert("frame_ms".into(), Value::Int(i64::from(self.config.frame_ms)));
                map.insert(
                    "speech".into(),
                    Value::list(decided.speech.iter().map(|&b| Value::Bool(b))),
                );
                out.emit(Value::Map(map.into()));
            }
            Emit::Speech => self.held.extend(audio),
            _ => {}
        }
        self.emit_segments(layout, &decided.segments, out)?;
        if self.emit == Emit::Speech && keep_from > self.held_start {
            let drop = ((keep_from - self.held_start) as usize).min(self.held.len());
            self.held.drop_front(drop);
            self.held_start += drop as u64;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        if let (Some(layout), Some(vad)) = (self.layout, self.vad.as_mut()) {
            let segments = vad.finish();
            self.emit_segments(layout, &segments, out)?;
        }
        Ok(())
    }
}
