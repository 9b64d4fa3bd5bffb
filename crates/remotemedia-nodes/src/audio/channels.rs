//! `ChannelMixNode`: downmix to mono, upmix mono to several channels, or pick one channel.

use std::sync::Arc;

use remotemedia_core::{
    AudioBuffer, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value,
};

use super::samples::{StreamLayout, expect_audio, round_i16, round_i32};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("ChannelMixNode")
        .describe("`downmix` averages every channel into mono, `upmix` copies mono into `channels` channels, `select` keeps channel `channel`")
        .param(
            ParamSpec::choice("mode", &["downmix", "upmix", "select"])
                .default("downmix")
                .describe("what to do with the channels"),
        )
        .param(
            ParamSpec::integer("channels")
                .default(2)
                .min(1.0)
                .max(64.0)
                .describe("output channel count for `upmix`"),
        )
        .param(
            ParamSpec::integer("channel")
                .default(0)
                .min(0.0)
                .max(63.0)
                .describe("the channel `select` keeps (0 is the first)"),
        )
}

#[derive(Debug, Clone, Copy)]
enum Mix {
    Downmix,
    Upmix(u16),
    Select(u16),
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let small = |name: &str| -> Result<u16, NodeError> {
        let v = params.int(name)?;
        u16::try_from(v).map_err(|_| NodeError::InvalidParams(format!("`{name}` is out of range: {v}")))
    };
    let mix = match params.text("mode")? {
        "upmix" => Mix::Upmix(small("channels")?),
        "select" => Mix::Select(small("channel")?),
        _ => Mix::Downmix,
    };
    Ok(NodeInstance::sync(ChannelMix { mix, layout: None }))
}

struct ChannelMix {
    mix: Mix,
    layout: Option<StreamLayout>,
}

/// Applies `pick` to every frame (a slice of one sample per channel).
fn per_frame<T: Copy, U>(samples: &[T], channels: usize, pick: impl Fn(&[T]) -> U) -> Vec<U> {
    pulp::Arch::new().dispatch(|| samples.chunks_exact(channels).map(pick).collect())
}

fn mean_f32(frame: &[f32]) -> f32 {
    let mut sum = 0.0f32;
    for &x in frame {
        sum += x;
    }
    sum / frame.len() as f32
}

fn mean_int(frame: impl Iterator<Item = i64>, n: usize) -> f64 {
    frame.sum::<i64>() as f64 / n as f64
}

/// Stereo frames averaged: the same values as [`mean_f32`] and `round_i16(mean_int(..))`, in
/// loops over fixed-size frames that compile to SIMD (the common case: 48 kHz stereo input).
fn downmix_stereo(audio: &AudioBuffer) -> Option<Result<AudioBuffer, remotemedia_core::Error>> {
    let rate = audio.sample_rate();
    if let Some(s) = audio.samples_f32() {
        let (frames, _) = s.as_chunks::<2>();
        let mono = pulp::Arch::new().dispatch(|| frames.iter().map(|&[a, b]| (0.0 + a + b) / 2.0).collect());
        return Some(AudioBuffer::from_f32(rate, 1, mono));
    }
    let s = audio.samples_i16()?;
    let (frames, _) = s.as_chunks::<2>();
    // (a + b) / 2 rounded half to even, in integers: floor, plus one when the halving dropped a
    // half and the floor is odd. Always within i16.
    let mono = pulp::Arch::new().dispatch(|| {
        frames
            .iter()
            .map(|&[a, b]| {
                let sum = i32::from(a) + i32::from(b);
                let floor = sum >> 1;
                (floor + (sum & floor & 1)) as i16
            })
            .collect()
    });
    Some(AudioBuffer::from_i16(rate, 1, mono))
}

fn downmix(audio: &AudioBuffer) -> Result<AudioBuffer, NodeError> {
    let (rate, n) = (audio.sample_rate(), usize::from(audio.channels()));
    if n == 2
        && let Some(built) = downmix_stereo(audio)
    {
        return built.map_err(|e| NodeError::failed(e.to_string()));
    }
    let built = if let Some(s) = audio.samples_f32() {
        AudioBuffer::from_f32(rate, 1, per_frame(s, n, mean_f32))
    } else if let Some(s) = audio.samples_i16() {
        AudioBuffer::from_i16(
            rate,
            1,
            per_frame(s, n, |f| round_i16(mean_int(f.iter().map(|&x| i64::from(x)), n))),
        )
    } else {
        let s = audio.samples_i32().unwrap_or_default();
        AudioBuffer::from_i32(
            rate,
            1,
            per_frame(s, n, |f| round_i32(mean_int(f.iter().map(|&x| i64::from(x)), n))),
        )
    };
    built.map_err(|e| NodeError::failed(e.to_string()))
}

/// Output channel `c` of every frame copies input channel `source(c)`.
fn remap(
    audio: &AudioBuffer,
    out_channels: u16,
    source: impl Fn(usize) -> usize,
) -> Result<AudioBuffer, NodeError> {
    let (rate, n) = (audio.sample_rate(), usize::from(audio.channels()));
    let sources: Vec<usize> = (0..usize::from(out_channels)).map(source).collect();
    let idx: Vec<usize> = (0..audio.frames())
        .flat_map(|f| sources.iter().map(move |c| f * n + c))
        .collect();
    let built = if let Some(s) = audio.samples_f32() {
        AudioBuffer::from_f32(rate, out_channels, idx.iter().map(|&i| s[i]).collect())
    } else if let Some(s) = audio.samples_i16() {
        AudioBuffer::from_i16(rate, out_channels, idx.iter().map(|&i| s[i]).collect())
    } else {
        let s = audio.samples_i32().unwrap_or_default();
        AudioBuffer::from_i32(rate, out_channels, idx.iter().map(|&i| s[i]).collect())
    };
    built.map_err(|e| NodeError::failed(e.to_string()))
}

impl Node for ChannelMix {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        StreamLayout::check(&mut self.layout, audio)?;
        let have = audio.channels();
        match self.mix {
            Mix::Downmix if have == 1 => out.emit(Value::Audio(Arc::clone(audio))),
            Mix::Upmix(want) if have == want => out.emit(Value::Audio(Arc::clone(audio))),
            Mix::Select(0) if have == 1 => out.emit(Value::Audio(Arc::clone(audio))),
            Mix::Downmix => out.emit(downmix(audio)?),
            Mix::Upmix(want) if have == 1 => out.emit(remap(audio, want, |_| 0)?),
            Mix::Upmix(want) => {
                return Err(NodeError::invalid_input(format!(
                    "upmix copies mono audio into {want} channels, found {have}-channel audio; downmix it first"
                )));
            }
            Mix::Select(c) if c < have => out.emit(remap(audio, 1, |_| usize::from(c))?),
            Mix::Select(c) => {
                return Err(NodeError::invalid_input(format!(
                    "channel {c} does not exist in {have}-channel audio (channels count from 0)"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The generic per-frame mean, the definition the stereo loops must reproduce.
    fn generic(audio: &AudioBuffer) -> AudioBuffer {
        let rate = audio.sample_rate();
        if let Some(s) = audio.samples_f32() {
            AudioBuffer::from_f32(rate, 1, per_frame(s, 2, mean_f32)).unwrap()
        } else {
            let s = audio.samples_i16().unwrap();
            let mono = per_frame(s, 2, |f| round_i16(mean_int(f.iter().map(|&x| i64::from(x)), 2)));
            AudioBuffer::from_i16(rate, 1, mono).unwrap()
        }
    }

    #[test]
    fn the_stereo_downmix_is_the_generic_mean_exactly() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ints: Vec<i16> = vec![
            i16::MIN,
            i16::MIN,
            i16::MAX,
            i16::MAX,
            i16::MIN,
            i16::MAX,
            -1,
            0,
            1,
            0,
            -3,
            0,
            3,
            0,
        ];
        ints.extend((0..20_000).map(|_| next() as i16));
        let stereo = AudioBuffer::from_i16(48000, 2, ints).unwrap();
        let fast = downmix_stereo(&stereo).unwrap().unwrap();
        assert_eq!(fast.samples_i16(), generic(&stereo).samples_i16());
        assert_eq!(
            &fast.samples_i16().unwrap()[..7],
            &[-32768, 32767, 0, 0, 0, -2, 2]
        );

        let floats: Vec<f32> = (0..20_000)
            .map(|_| (next() as i32) as f32 / 3.0e9)
            .chain([-0.0, -0.0, f32::MAX, f32::MAX])
            .collect();
        let stereo = AudioBuffer::from_f32(48000, 2, floats).unwrap();
        let fast = downmix_stereo(&stereo).unwrap().unwrap();
        let (a, b) = (fast.samples_f32().unwrap(), generic(&stereo));
        let bits = |s: &[f32]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b.samples_f32().unwrap()));
    }
}
