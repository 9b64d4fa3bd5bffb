//! `SileroVADNode` through the engine: segments identical to silero-vad's own
//! `get_speech_timestamps_from_probs` on onnxruntime's probabilities (tests/data/silero_reference.json),
//! at 16 and 8 kHz and under several settings; chunk invariance; the outputs; bad input.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use remotemedia_core::{AudioBuffer, Map, Pipeline, Registry, Value};

fn registry() -> Registry {
    let mut registry = remotemedia_nodes::builtin_registry();
    remotemedia_models::register(&mut registry).unwrap();
    registry
}

fn recording() -> Vec<i16> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../manifests/data/arctic_a0007.wav"
    );
    hound::WavReader::open(path)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect()
}

/// The reference's inputs, as i16 at their rate.
fn input(name: &str) -> (Vec<i16>, u32) {
    let pcm = recording();
    match name {
        "recording" => (pcm, 16_000),
        "recording_twice" => {
            let mut x = pcm.clone();
            x.extend(std::iter::repeat_n(0, 4000));
            x.extend(&pcm);
            (x, 16_000)
        }
        "recording_8k" => (pcm.iter().step_by(2).copied().collect(), 8_000),
        other => panic!("unknown input {other}"),
    }
}

fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("data/silero_reference.json")).unwrap()
}

fn pipeline(params: &str) -> Pipeline {
    let manifest = format!(
        r#"{{"version": "v1", "nodes": [{{"id": "vad", "node_type": "SileroVADNode", "params": {params}}}]}}"#
    );
    Pipeline::new(&manifest.parse().unwrap(), &registry()).unwrap()
}

fn chunks(x: &[i16], rate: u32, size: usize) -> Vec<Value> {
    x.chunks(size)
        .map(|c| Value::Audio(Arc::new(AudioBuffer::from_i16(rate, 1, c.to_vec()).unwrap())))
        .collect()
}

fn run(params: &str, inputs: Vec<Value>) -> Vec<Value> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(pipeline(params).run(inputs)).unwrap()
}

fn field(v: &Value, key: &str) -> Value {
    match v {
        Value::Map(m) => m.get(key).cloned().unwrap_or_else(|| panic!("no {key} in {v:?}")),
        other => panic!("not a map: {other:?}"),
    }
}

fn seconds(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn segments_are_silero_vads_own_at_16_and_8_khz() {
    let reference = reference();
    let cases = reference["segments"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for case in cases {
        let name = case["input"].as_str().unwrap();
        let (x, rate) = input(name);
        let params = case["params"].to_string();
        let got = run(&params, chunks(&x, rate, 320));
        let expected = case["segments"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{name} {params}: {got:?}");
        for (g, e) in got.iter().zip(expected) {
            let start = e[0].as_f64().unwrap() / f64::from(rate);
            let end = e[1].as_f64().unwrap() / f64::from(rate);
            assert_eq!(
                (seconds(&field(g, "start")), seconds(&field(g, "end"))),
                (start, end),
                "{name} {params}"
            );
        }
    }
}

#[test]
fn frame_probabilities_match_onnxruntime_within_1e_4_at_both_rates() {
    let reference = reference();
    for name in ["recording", "recording_8k"] {
        let (x, rate) = input(name);
        let out = run(r#"{"emit": "frames"}"#, chunks(&x, rate, 4000));
        let probs: Vec<f64> = out
            .iter()
            .flat_map(|v| match field(v, "probability") {
                Value::List(l) => l.iter().map(|p| p.as_f64().unwrap()).collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            })
            .collect();
        let expected: Vec<f64> = reference["probabilities"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        assert_eq!(probs.len(), expected.len(), "{name}");
        let worst = probs
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1e-4, "{name}: largest difference {worst}");
        assert_eq!(field(&out[0], "frame_ms"), Value::Int(32));
        assert_eq!(field(&out[0], "start"), Value::Float(0.0));
    }
}

#[test]
fn any_chunking_gives_identical_outputs() {
    let (x, rate) = input("recording_twice");
    for emit in ["segments", "frames", "speech"] {
        let params = format!(r#"{{"emit": "{emit}"}}"#);
        let whole = run(&params, chunks(&x, rate, x.len()));
        assert!(!whole.is_empty());
        for size in [1, 160, 512, 513, 7001] {
            if size == 1 && emit != "segments" {
                continue; // 64,000 inputs: covered for segments
            }
            let got = run(&params, chunks(&x, rate, size));
            if emit == "frames" {
                // Frames are grouped per input; the decisions in order are the same.
                let flat = |out: &[Value], key: &str| -> Vec<Value> {
                    out.iter()
                        .flat_map(|v| match field(v, key) {
                            Value::List(l) => l.to_vec(),
                            other => panic!("{other:?}"),
                        })
                        .collect()
                };
                assert_eq!(flat(&got, "speech"), flat(&whole, "speech"), "chunks of {size}");
                assert_eq!(
                    flat(&got, "probability"),
                    flat(&whole, "probability"),
                    "chunks of {size}"
                );
            } else {
                assert_eq!(got, whole, "{emit}, chunks of {size}");
            }
        }
    }
}

#[test]
fn speech_output_is_the_segments_audio() {
    let (x, rate) = input("recording_twice");
    let segments = run("{}", chunks(&x, rate, 320));
    let speech = run(
        r#"{"emit": "speech", "execution": "inline"}"#,
        chunks(&x, rate, 320),
    );
    assert_eq!(segments.len(), 2);
    assert_eq!(speech.len(), 2);
    for (seg, audio) in segments.iter().zip(&speech) {
        let start = (seconds(&field(seg, "start")) * 16_000.0).round() as usize;
        let end = (seconds(&field(seg, "end")) * 16_000.0).round() as usize;
        let Value::Audio(a) = audio else {
            panic!("{audio:?}")
        };
        assert_eq!(a.samples_i16().unwrap(), &x[start..end]);
    }
}

#[test]
fn inline_execution_gives_the_same_segments() {
    let (x, rate) = input("recording_twice");
    let blocking = run("{}", chunks(&x, rate, 320));
    let inline = run(r#"{"execution": "inline"}"#, chunks(&x, rate, 320));
    assert_eq!(inline, blocking);
    assert_eq!(inline.len(), 2);
}

#[test]
fn bad_input_and_params_say_what_and_where() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stereo = Value::Audio(Arc::new(AudioBuffer::from_i16(16_000, 2, vec![0; 2048]).unwrap()));
    let err = rt
        .block_on(pipeline("{}").run(vec![stereo]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SileroVADNode needs mono audio") && err.contains("ChannelMixNode"),
        "{err}"
    );
    let cd = Value::Audio(Arc::new(AudioBuffer::from_i16(44_100, 1, vec![0; 2048]).unwrap()));
    let err = rt.block_on(pipeline("{}").run(vec![cd])).unwrap_err().to_string();
    assert!(
        err.contains("44100 Hz") && err.contains("AudioResampleNode"),
        "{err}"
    );
    let err = rt
        .block_on(pipeline("{}").run(vec![Value::Int(3)]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("audio"), "{err}");

    let invalid = |params: &str| {
        let manifest = format!(
            r#"{{"version": "v1", "nodes": [{{"id": "vad", "node_type": "SileroVADNode", "params": {params}}}]}}"#
        );
        Pipeline::new(&manifest.parse().unwrap(), &registry())
            .unwrap_err()
            .to_string()
    };
    let err = invalid(r#"{"threshold": 1.5}"#);
    assert!(err.contains("nodes[0].params.threshold"), "{err}");
    let err = invalid(r#"{"model": "no/such/model.onnx"}"#);
    assert!(
        err.contains("nodes[0].params.model") && err.contains("file not found"),
        "{err}"
    );
    let not_a_model = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/silero.rs");
    let err = invalid(&format!(r#"{{"model": "{not_a_model}"}}"#));
    assert!(
        err.contains("nodes[0].params") && err.contains("cannot load the Silero VAD model"),
        "{err}"
    );
}

#[test]
fn a_model_path_resolves_against_the_manifests_folder() {
    let dir = std::env::temp_dir().join(format!("rm-silero-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(
        dir.join("models/vad8k.onnx"),
        remotemedia_models::silero::SILERO_VAD_8K,
    )
    .unwrap();
    let path = dir.join("vad.yaml");
    std::fs::write(
        &path,
        "version: v1\nnodes:\n  - {id: vad, node_type: SileroVADNode, params: {model: models/vad8k.onnx}}\n",
    )
    .unwrap();
    let pipeline = Pipeline::from_path(&path, &registry()).unwrap();
    let (x, rate) = input("recording_8k");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(pipeline.run(chunks(&x, rate, 800))).unwrap();
    let reference = reference();
    let expected = &reference["segments"][6]["segments"][0];
    assert_eq!(reference["segments"][6]["input"], "recording_8k");
    let mut want = Map::new();
    want.insert(
        "start".into(),
        Value::Float(expected[0].as_f64().unwrap() / 8000.0),
    );
    want.insert("end".into(), Value::Float(expected[1].as_f64().unwrap() / 8000.0));
    assert_eq!(got, vec![Value::Map(want.into())]);
    // The 8 kHz model refuses a 16 kHz stream, saying why.
    let (x16, _) = input("recording");
    let err = rt
        .block_on(pipeline.run(chunks(&x16, 16_000, 800)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot load the Silero VAD model"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
