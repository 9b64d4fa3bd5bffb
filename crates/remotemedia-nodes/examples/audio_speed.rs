//! Native audio-node timings, printed as JSON for `benches/audio.py` (which measures the Python
//! libraries in the same run and writes the tables in benches/RESULTS.md).
//!
//! `cargo run --release -p remotemedia-nodes --example audio_speed -- SPEECH.wav`
//!
//! Every node is created from the registry and driven through its `Node` interface (what the
//! executor calls), best of several repeats.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;

use remotemedia_core::{AudioBuffer, Manifest, NodeInstance, Outputs, Params, SampleFormat, Value};
use remotemedia_nodes::audio::samples::from_f32;
use remotemedia_nodes::builtin_registry;

fn node(node_type: &str, params: &str) -> Box<dyn remotemedia_core::Node> {
    let yaml = format!("version: v1\nnodes:\n  - {{id: n, node_type: {node_type}, params: {params}}}\n");
    let manifest = Manifest::parse(&yaml).unwrap();
    let registry = builtin_registry();
    let spec = &manifest.nodes[0];
    let entry = registry.get(&spec.node_type).unwrap();
    let mut values = remotemedia_core::Map::new();
    for p in &entry.descriptor.params {
        let given = spec
            .params
            .get(&p.name)
            .map(|v| Value::from_json(v.clone()).unwrap());
        if let Some(v) = given.or_else(|| p.default.clone()) {
            values.insert(p.name.clone(), v);
        }
    }
    match entry.factory.create(&Params::new(values)).unwrap() {
        NodeInstance::Sync(n) => n,
        NodeInstance::Async(_) => panic!("audio nodes are synchronous"),
    }
}

/// Best wall time of `repeats` runs of `f`, in seconds.
fn best(repeats: usize, mut f: impl FnMut()) -> f64 {
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn tone_f32(rate: u32, channels: u16, seconds: f64) -> Value {
    let frames = (f64::from(rate) * seconds) as usize;
    let samples: Vec<f32> = (0..frames * usize::from(channels))
        .map(|i| {
            let t = (i / usize::from(channels)) as f64 / f64::from(rate);
            (0.3 * (2.0 * std::f64::consts::PI * 997.0 * t).sin()
                + 0.1 * (2.0 * std::f64::consts::PI * 5003.0 * t).sin()) as f32
        })
        .collect();
    Value::Audio(AudioBuffer::from_f32(rate, channels, samples).unwrap().into())
}

fn to_i16(input: &Value) -> Value {
    let Value::Audio(audio) = input else {
        panic!("audio input")
    };
    let samples = Cow::Borrowed(audio.samples_f32().unwrap());
    Value::Audio(
        from_f32(audio.sample_rate(), audio.channels(), SampleFormat::I16, samples)
            .unwrap()
            .into(),
    )
}

fn run_whole(node_type: &str, params: &str, input: &Value) -> f64 {
    best(3, || {
        let mut n = node(node_type, params);
        let mut out = Outputs::default();
        n.process(input.clone(), &mut out).unwrap();
        n.flush(&mut out).unwrap();
        assert!(!out.is_empty());
    })
}

/// Nanoseconds per call of `process` on 10 ms chunks.
fn per_chunk(node_type: &str, params: &str, chunk: &Value) -> f64 {
    let calls = 20_000;
    let mut n = node(node_type, params);
    let secs = best(5, || {
        for _ in 0..calls {
            let mut out = Outputs::default();
            n.process(chunk.clone(), &mut out).unwrap();
            std::hint::black_box(&out);
        }
    });
    secs / calls as f64 * 1e9
}

fn main() {
    let speech_path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "manifests/data/arctic_a0007.wav".into());
    let clip = read_speech(Path::new(&speech_path));
    let mut json = serde_json::Map::new();

    for (rate_in, rate_out) in [
        (48000u32, 16000u32),
        (16000, 48000),
        (44100, 48000),
        (48000, 44100),
    ] {
        for channels in [1u16, 2] {
            let input = tone_f32(rate_in, channels, 60.0);
            let params = format!("{{target_sample_rate: {rate_out}, quality: high}}");
            let secs = run_whole("AudioResampleNode", &params, &input);
            put(
                &mut json,
                &format!("resample_{rate_in}_{rate_out}_{channels}ch_s"),
                secs,
            );
            let params = format!("{{target_sample_rate: {rate_out}, quality: medium}}");
            let secs = run_whole("AudioResampleNode", &params, &input);
            put(
                &mut json,
                &format!("resample_medium_{rate_in}_{rate_out}_{channels}ch_s"),
                secs,
            );
            // The direct loop (`max_latency_ms: 0`, the lowest latency) on the same input.
            let params = format!("{{target_sample_rate: {rate_out}, quality: high, max_latency_ms: 0}}");
            let secs = run_whole("AudioResampleNode", &params, &input);
            put(
                &mut json,
                &format!("resample_direct_{rate_in}_{rate_out}_{channels}ch_s"),
                secs,
            );
            // i16 in and out (the node converts to f32 and back).
            let params = format!("{{target_sample_rate: {rate_out}, quality: high}}");
            let secs = run_whole("AudioResampleNode", &params, &to_i16(&input));
            put(
                &mut json,
                &format!("resample_i16_{rate_in}_{rate_out}_{channels}ch_s"),
                secs,
            );
        }
    }
    // Designing a filter (done once per rate pair and quality in a process, then shared).
    for (rate_in, rate_out) in [(48000u32, 16000u32), (44100, 48000), (48000, 44100)] {
        let secs = best(3, || {
            let filter = remotemedia_nodes::audio::PolyphaseFilter::design(
                rate_in,
                rate_out,
                remotemedia_nodes::audio::ResampleQuality::High,
            )
            .unwrap();
            std::hint::black_box(filter);
        });
        put(
            &mut json,
            &format!("resample_design_{rate_in}_{rate_out}_s"),
            secs,
        );
    }

    // VAD: the recording repeated to 60 s, 16 kHz mono i16.
    let pcm = clip.samples_i16().expect("16-bit clip");
    let long: Vec<i16> = pcm.iter().copied().cycle().take(16000 * 60).collect();
    let input = Value::Audio(AudioBuffer::from_i16(16000, 1, long.clone()).unwrap().into());
    let frames = 6000.0;
    put(
        &mut json,
        "vad_whole_frames_per_s",
        frames / run_whole("VADNode", "{emit: frames}", &input),
    );
    let chunks: Vec<Value> = long
        .chunks(160)
        .map(|c| Value::Audio(AudioBuffer::from_i16(16000, 1, c.to_vec()).unwrap().into()))
        .collect();
    for (key, params) in [
        ("vad_10ms_chunks_frames_per_s", "{emit: segments}"),
        ("vad_10ms_chunks_frame_output_frames_per_s", "{emit: frames}"),
    ] {
        let secs = best(3, || {
            let mut n = node("VADNode", params);
            for c in &chunks {
                let mut out = Outputs::default();
                n.process(c.clone(), &mut out).unwrap();
            }
        });
        put(&mut json, key, frames / secs);
    }

    for (rate, channels) in [(16000u32, 1u16), (48000, 2)] {
        let frames = (rate / 100) as usize;
        let i16_chunk = Value::Audio(
            AudioBuffer::from_i16(rate, channels, vec![1234; frames * usize::from(channels)])
                .unwrap()
                .into(),
        );
        let f32_chunk = Value::Audio(
            AudioBuffer::from_f32(rate, channels, vec![0.25; frames * usize::from(channels)])
                .unwrap()
                .into(),
        );
        let tag = format!("{rate}_{channels}ch");
        put(
            &mut json,
            &format!("format_i16_to_f32_{tag}_ns"),
            per_chunk("FormatConverterNode", "{target_format: f32}", &i16_chunk),
        );
        put(
            &mut json,
            &format!("format_f32_to_i16_{tag}_ns"),
            per_chunk("FormatConverterNode", "{target_format: i16}", &f32_chunk),
        );
        put(
            &mut json,
            &format!("gain_f32_{tag}_ns"),
            per_chunk("GainNode", "{db: -6}", &f32_chunk),
        );
        put(
            &mut json,
            &format!("gain_i16_{tag}_ns"),
            per_chunk("GainNode", "{db: -6}", &i16_chunk),
        );
        put(
            &mut json,
            &format!("downmix_i16_{tag}_ns"),
            per_chunk("ChannelMixNode", "{mode: downmix}", &i16_chunk),
        );
    }
    println!("{}", serde_json::Value::Object(json));
}

fn put(json: &mut serde_json::Map<String, serde_json::Value>, key: &str, value: f64) {
    eprintln!("{key}: {value:.6}");
    json.insert(key.into(), serde_json::json!(value));
}

/// The speech clip (16-bit PCM WAV) as one audio value.
fn read_speech(path: &Path) -> AudioBuffer {
    let mut reader = hound::WavReader::open(path).expect("speech WAV");
    let spec = reader.spec();
    let samples = reader
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .expect("16-bit PCM");
    AudioBuffer::from_i16(spec.sample_rate, spec.channels, samples).expect("audio")
}
