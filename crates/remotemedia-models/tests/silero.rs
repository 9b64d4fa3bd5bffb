//! Silero VAD through tract against onnxruntime's probabilities on the same model and recording
//! (tests/data/silero_reference.json, made by make_silero_reference.py).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use remotemedia_models::silero::{CHUNK, SileroError};
use remotemedia_models::{SileroModel, SileroVad};

fn recording() -> Vec<f32> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../manifests/data/arctic_a0007.wav"
    );
    let mut reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

fn reference() -> Vec<f64> {
    let text = include_str!("data/silero_reference.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    json["probabilities"]["recording"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect()
}

#[test]
fn probabilities_match_onnxruntime_within_1e_4() {
    let expected = reference();
    let mut vad = SileroVad::new().unwrap();
    let got: Vec<f32> = recording()
        .chunks_exact(CHUNK)
        .map(|chunk| vad.probability(chunk).unwrap())
        .collect();
    assert_eq!(got.len(), expected.len());
    let worst = got
        .iter()
        .zip(&expected)
        .map(|(&g, &e)| (f64::from(g) - e).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-4, "largest difference {worst}");
    // The recording's speech (0.42–3.37 s) is where the model is sure; its silence is not speech.
    let speech = |i: usize| (i * CHUNK) as f64 / 16_000.0;
    assert!(
        got.iter()
            .enumerate()
            .filter(|(i, _)| (0.6..3.2).contains(&speech(*i)))
            .all(|(_, &p)| p > 0.5)
    );
    assert!(got[..8].iter().all(|&p| p < 0.1), "{:?}", &got[..8]);
}

#[test]
fn streams_are_independent_and_reset_starts_over() {
    let audio = recording();
    let mut one = SileroVad::new().unwrap();
    let first: Vec<f32> = audio
        .chunks_exact(CHUNK)
        .take(20)
        .map(|c| one.probability(c).unwrap())
        .collect();
    one.reset();
    let again: Vec<f32> = audio
        .chunks_exact(CHUNK)
        .take(20)
        .map(|c| one.probability(c).unwrap())
        .collect();
    assert_eq!(first, again);
    // A second stream on the same plan starts from zero state, whatever the first has heard.
    let mut two = SileroVad::with_model(one.model().clone());
    assert_eq!(two.probability(&audio[..CHUNK]).unwrap(), first[0]);
}

#[test]
fn wrong_input_is_refused() {
    let mut vad = SileroVad::new().unwrap();
    assert!(matches!(
        vad.probability(&[0.0; 100]),
        Err(SileroError::ChunkLength {
            expected: 512,
            found: 100
        })
    ));
    assert!(matches!(
        SileroModel::from_onnx(b"not a model", 16_000),
        Err(SileroError::Load(_))
    ));
    // The 8 kHz model does not take 16 kHz chunks.
    let eight = remotemedia_models::silero::SILERO_VAD_8K;
    assert!(matches!(
        SileroModel::from_onnx(eight, 16_000),
        Err(SileroError::Load(_))
    ));
    let err = SileroModel::shipped(44_100).unwrap_err();
    assert!(err.to_string().contains("AudioResampleNode"), "{err}");
}
