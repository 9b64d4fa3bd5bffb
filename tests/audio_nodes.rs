//! The audio nodes through the public crate API: chunked input gives the same output as the whole
//! signal (property tests over random signals and random chunkings), and exact values for the
//! cheap nodes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use remotemedia::{AudioBuffer, Manifest, Pipeline, Value, builtin_registry};

fn run(nodes: &str, inputs: Vec<Value>) -> Result<Vec<Value>, String> {
    let yaml = format!("version: v1\nnodes:\n{nodes}");
    let pipeline = Pipeline::new(&Manifest::parse(&yaml).unwrap(), &builtin_registry()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(pipeline.run(inputs)).map_err(|e| e.to_string())
}

fn audio(rate: u32, channels: u16, samples: Vec<i16>) -> Value {
    Value::Audio(AudioBuffer::from_i16(rate, channels, samples).unwrap().into())
}

fn audio_f32(rate: u32, channels: u16, samples: Vec<f32>) -> Value {
    Value::Audio(AudioBuffer::from_f32(rate, channels, samples).unwrap().into())
}

/// Cuts interleaved `samples` into chunks of the given frame counts (cycled), as audio values.
fn chunked(rate: u32, channels: u16, samples: &[i16], sizes: &[usize]) -> Vec<Value> {
    let mut out = Vec::new();
    let (mut at, mut i) = (0, 0);
    let ch = usize::from(channels);
    while at < samples.len() {
        let n = (sizes[i % sizes.len()].max(1) * ch).min(samples.len() - at);
        out.push(audio(rate, channels, samples[at..at + n].to_vec()));
        at += n;
        i += 1;
    }
    out
}

/// Every audio output's samples, joined (as f32), and every other output.
fn joined(outputs: &[Value]) -> (Vec<f32>, Vec<Value>) {
    let (mut samples, mut rest) = (Vec::new(), Vec::new());
    for v in outputs {
        match v {
            Value::Audio(a) => {
                if let Some(s) = a.samples_i16() {
                    samples.extend(s.iter().map(|&x| f32::from(x)));
                } else if let Some(s) = a.samples_f32() {
                    samples.extend_from_slice(s);
                } else {
                    samples.extend(a.samples_i32().unwrap().iter().map(|&x| x as f32));
                }
            }
            other => rest.push(other.clone()),
        }
    }
    (samples, rest)
}

/// A speech-like test signal: noise with bursts of a two-tone "vowel".
fn signal(len: usize, seed: u64, channels: usize) -> Vec<i16> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len * channels)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((state >> 33) as i64 % 200) as f64;
            let t = (i / channels) as f64 / 16000.0;
            let on = ((t * 3.0) as i64) % 2 == 1;
            let tone = if on {
                6000.0 * (2.0 * std::f64::consts::PI * 300.0 * t).sin()
                    + 3000.0 * (2.0 * std::f64::consts::PI * 1200.0 * t).sin()
            } else {
                0.0
            };
            (tone + noise) as i16
        })
        .collect()
}

const NODES: [&str; 8] = [
    "  - {id: n, node_type: AudioResampleNode, params: {target_sample_rate: 44100, quality: low}}\n",
    "  - {id: n, node_type: AudioResampleNode, params: {target_sample_rate: 8000}}\n",
    "  - {id: n, node_type: VADNode, params: {emit: frames}}\n",
    "  - {id: n, node_type: VADNode, params: {emit: segments, frame_duration_ms: 20, min_silence_ms: 100}}\n",
    "  - {id: n, node_type: VADNode, params: {emit: speech, padding_ms: 50}}\n",
    "  - {id: n, node_type: GainNode, params: {db: 6}}\n",
    "  - {id: n, node_type: FormatConverterNode, params: {target_format: f32}}\n",
    "  - {id: n, node_type: NormalizeNode, params: {mode: rms, target_db: -20}}\n",
];

/// For VAD frame output: every decision in order (the per-input grouping depends on the chunks).
fn decisions(rest: &[Value]) -> Vec<Value> {
    rest.iter()
        .flat_map(|v| match v {
            Value::Map(m) if m.contains_key("speech") => m["speech"].clone().into_list().unwrap_or_default(),
            other => vec![other.clone()],
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn chunking_never_changes_the_output(
        node in 0..NODES.len(),
        len in 1usize..12_000,
        seed in any::<u64>(),
        sizes in prop::collection::vec(prop_oneof![Just(1usize), Just(7), Just(160), Just(16_000), 1usize..3000], 1..6),
    ) {
        let x = signal(len, seed, 1);
        let whole = run(NODES[node], vec![audio(16000, 1, x.clone())]).unwrap();
        let parts = run(NODES[node], chunked(16000, 1, &x, &sizes)).unwrap();
        let (a, ra) = joined(&whole);
        let (b, rb) = joined(&parts);
        prop_assert_eq!(a, b);
        prop_assert_eq!(decisions(&ra), decisions(&rb));
    }

    #[test]
    fn chunker_output_does_not_depend_on_input_chunks(
        len in 1usize..5000,
        sizes in prop::collection::vec(1usize..700, 1..5),
        chunk in 1usize..500,
    ) {
        let x = signal(len, 3, 2);
        let node = format!("  - {{id: n, node_type: AudioChunkerNode, params: {{chunk_samples: {chunk}}}}}\n");
        let whole = run(&node, vec![audio(16000, 2, x.clone())]).unwrap();
        let parts = run(&node, chunked(16000, 2, &x, &sizes)).unwrap();
        prop_assert_eq!(&whole, &parts);
        prop_assert_eq!(whole.len(), len.div_ceil(chunk));
        for (i, v) in whole.iter().enumerate() {
            let Value::Audio(a) = v else { panic!("audio expected") };
            let want = if i + 1 < whole.len() { chunk } else { len - chunk * (whole.len() - 1) };
            prop_assert_eq!(a.frames(), want);
        }
    }
}

#[test]
fn resampler_is_time_aligned_with_its_input() {
    // A 440 Hz tone at 44.1 kHz comes out as the same tone at 16 kHz (away from the ends).
    let x: Vec<f32> = (0..44100)
        .map(|i| (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 44100.0).sin() as f32 * 0.5)
        .collect();
    let out = run(
        "  - {id: n, node_type: AudioResampleNode, params: {target_sample_rate: 16000}}\n",
        vec![audio_f32(44100, 1, x)],
    )
    .unwrap();
    let (y, _) = joined(&out);
    assert_eq!(y.len(), 16000);
    let err = (1000..15000)
        .map(|i| (y[i] - (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 16000.0).sin() as f32 * 0.5).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 2e-5, "max error {err}");
}

#[test]
fn cheap_nodes_give_exact_values() {
    let stereo = audio(8000, 2, vec![100, 201, -32768, -32768, 7, 8]);
    let down = run("  - {id: n, node_type: ChannelMixNode}\n", vec![stereo.clone()]).unwrap();
    // (100+201)/2 = 150.5 → 150 (half to even); (7+8)/2 = 7.5 → 8.
    assert_eq!(joined(&down).0, vec![150.0, -32768.0, 8.0]);
    let sel = run(
        "  - {id: n, node_type: ChannelMixNode, params: {mode: select, channel: 1}}\n",
        vec![stereo.clone()],
    )
    .unwrap();
    assert_eq!(joined(&sel).0, vec![201.0, -32768.0, 8.0]);
    let mono = audio(8000, 1, vec![1, -2]);
    let up = run(
        "  - {id: n, node_type: ChannelMixNode, params: {mode: upmix, channels: 3}}\n",
        vec![mono],
    )
    .unwrap();
    assert_eq!(joined(&up).0, vec![1.0, 1.0, 1.0, -2.0, -2.0, -2.0]);
    let gain = run(
        "  - {id: n, node_type: GainNode, params: {db: 6.020599913279624}}\n",
        vec![stereo.clone()],
    )
    .unwrap();
    assert_eq!(
        joined(&gain).0,
        vec![200.0, 402.0, -32768.0, -32768.0, 14.0, 16.0]
    );
    let f = run(
        "  - {id: n, node_type: FormatConverterNode, params: {target_format: f32}}\n",
        vec![stereo.clone()],
    )
    .unwrap();
    assert_eq!(joined(&f).0[2], -1.0);
    let back = run(
        "  - {id: a, node_type: FormatConverterNode, params: {target_format: f32}}\n  - {id: b, node_type: FormatConverterNode, params: {target_format: i16}}\nconnections: [{from: a, to: b}]\n",
        vec![stereo.clone()],
    )
    .unwrap();
    assert_eq!(back, vec![stereo.clone()]);
    let peak = run(
        "  - {id: n, node_type: NormalizeNode, params: {target_db: 0}}\n",
        vec![audio_f32(8000, 1, vec![0.25, -0.5])],
    )
    .unwrap();
    assert_eq!(joined(&peak).0, vec![0.5, -1.0]);
}

#[test]
fn bad_audio_input_is_a_clear_error() {
    let err = run("  - {id: n, node_type: GainNode}\n", vec![Value::Int(3)]).unwrap_err();
    assert!(
        err.contains("expected audio (or a (samples, sample_rate) pair), found int 3"),
        "{err}"
    );
    let err = run(
        "  - {id: n, node_type: VADNode}\n",
        vec![audio(44100, 1, vec![0; 441])],
    )
    .unwrap_err();
    assert!(
        err.contains("needs 8000 or 16000 Hz audio, found 44100 Hz"),
        "{err}"
    );
    let err = run(
        "  - {id: n, node_type: VADNode}\n",
        vec![audio(16000, 2, vec![0; 320])],
    )
    .unwrap_err();
    assert!(err.contains("needs mono audio, found 2 channels"), "{err}");
    let err = run(
        "  - {id: n, node_type: AudioChunkerNode}\n",
        vec![audio(16000, 1, vec![0; 10]), audio(8000, 1, vec![0; 10])],
    )
    .unwrap_err();
    assert!(
        err.contains("changed from 16000 Hz 1-channel i16 to 8000 Hz 1-channel i16 mid-stream"),
        "{err}"
    );
}

#[test]
fn every_stateless_audio_node_refuses_a_layout_change_mid_stream() {
    // Rate, channel count and sample format changes, each refused by gain, channel mix and format
    // conversion as by the stateful nodes.
    let first = audio(16000, 1, vec![0; 8]);
    let changes = [
        (audio(8000, 1, vec![0; 8]), "to 8000 Hz 1-channel i16"),
        (audio(16000, 2, vec![0; 8]), "to 16000 Hz 2-channel i16"),
        (audio_f32(16000, 1, vec![0.0; 8]), "to 16000 Hz 1-channel f32"),
    ];
    for node in [
        "GainNode, params: {db: -6}",
        "GainNode, params: {db: 0}",
        "ChannelMixNode",
        "ChannelMixNode, params: {mode: select, channel: 0}",
        "FormatConverterNode, params: {target_format: i32}",
    ] {
        for (second, expected) in &changes {
            let err = run(
                &format!("  - {{id: n, node_type: {node}}}\n"),
                vec![first.clone(), second.clone()],
            )
            .unwrap_err();
            assert!(
                err.contains(&format!(
                    "changed from 16000 Hz 1-channel i16 {expected} mid-stream"
                )),
                "{node}: {err}"
            );
        }
    }
}

#[test]
fn a_samples_and_rate_pair_is_audio() {
    let pair = Value::list([
        Value::Array(
            remotemedia::NdArray::from_vec(vec![3], vec![0.5f64, -0.25, 1.0])
                .unwrap()
                .into(),
        ),
        Value::Int(8000),
    ]);
    let out = run("  - {id: n, node_type: GainNode, params: {db: 0}}\n", vec![pair]).unwrap();
    assert_eq!(out, vec![audio_f32(8000, 1, vec![0.5, -0.25, 1.0])]);
}

/// `events: true`: a `speech_started` event where the frames turn to speech, before the segment,
/// and a `speech_ended` event with each segment's times, on both speech detectors.
#[test]
fn speech_detectors_emit_start_and_end_events() {
    let wav = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../manifests/data/arctic_a0007.wav");
    let audio = remotemedia_io::wav::read_wav(&wav).unwrap();
    let samples = audio.samples_i16().unwrap().to_vec();
    let inputs = chunked(16000, 1, &samples, &[1600]);
    for node in ["VADNode", "SileroVADNode"] {
        let plain = run(&format!("  - {{id: n, node_type: {node}}}\n"), inputs.clone()).unwrap();
        let with = run(
            &format!("  - {{id: n, node_type: {node}, params: {{events: true, interrupt: true}}}}\n"),
            inputs.clone(),
        )
        .unwrap();
        let field = |v: &Value, k: &str| match v {
            Value::Map(m) => m.get(k).cloned(),
            _ => None,
        };
        let events: Vec<&Value> = with.iter().filter(|v| field(v, "event").is_some()).collect();
        let segments: Vec<&Value> = with.iter().filter(|v| field(v, "event").is_none()).collect();
        // The segments are those without events; one ended event per segment, with its times.
        assert_eq!(segments.into_iter().cloned().collect::<Vec<_>>(), plain, "{node}");
        let ended: Vec<&&Value> = events
            .iter()
            .filter(|e| field(e, "event") == Some(Value::from("speech_ended")))
            .collect();
        assert_eq!(ended.len(), plain.len(), "{node}");
        for (e, s) in ended.iter().zip(&plain) {
            assert_eq!(field(e, "start"), field(s, "start"));
            assert_eq!(field(e, "end"), field(s, "end"));
        }
        // Speech starts before the first segment ends, within the recording's speech region.
        let started = events
            .iter()
            .find(|e| field(e, "event") == Some(Value::from("speech_started")))
            .and_then(|e| field(e, "time"))
            .expect("a start");
        let Value::Float(t) = started else {
            panic!("{started:?}")
        };
        assert!((0.2..1.0).contains(&t), "{node}: speech started at {t}");
        let first_event = with.iter().position(|v| field(v, "event").is_some()).unwrap();
        assert_eq!(
            field(&with[first_event], "event"),
            Some(Value::from("speech_started"))
        );
    }
}
