//! The binary's audio path: the README's main job (speech segments of the shipped recording), WAV
//! in any layout, speech audio written to a WAV file, and bad WAV input.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use remotemedia_runtime::nodes::audio::wav::{WavEncoding, read_wav, write_wav};
use remotemedia_runtime::{AudioBuffer, SampleFormat};

/// The speech region of `arctic_a0007.wav` (frames at least 20 dB above the background; see
/// manifests/data/README.md).
const SPEECH: (f64, f64) = (0.42, 3.37);

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn bin() -> Command {
    Command::cargo_bin("remotemedia-runtime").unwrap()
}

fn segments(stdout: &[u8]) -> Vec<(f64, f64)> {
    let json: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect()
}

fn assert_speech_region(found: &[(f64, f64)]) {
    assert_eq!(found.len(), 1, "one segment expected: {found:?}");
    let (start, end) = found[0];
    assert!((start - SPEECH.0).abs() <= 0.1, "start {start} vs {}", SPEECH.0);
    assert!((end - SPEECH.1).abs() <= 0.1, "end {end} vs {}", SPEECH.1);
}

#[test]
fn main_job_prints_the_speech_segment_of_the_shipped_recording() {
    let out = bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .arg("--input")
        .arg(repo("manifests/data/arctic_a0007.wav"))
        .assert()
        .success()
        .stderr("");
    assert_speech_region(&segments(&out.get_output().stdout));
}

/// The recording as 48 kHz stereo in every WAV encoding (each sample repeated 3 times: crude, but
/// the resampler's low-pass removes the images).
fn as_48k_stereo(path: &Path, encoding: WavEncoding) {
    let clip = read_wav(&repo("manifests/data/arctic_a0007.wav")).unwrap();
    let samples: Vec<i16> = clip.samples_i16().unwrap().iter().flat_map(|&x| [x; 6]).collect();
    let audio = AudioBuffer::from_i16(48000, 2, samples).unwrap();
    write_wav(path, &audio, Some(encoding)).unwrap();
}

#[test]
fn any_wav_layout_gives_the_same_region() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["i16", "i24", "i32", "f32"] {
        let path = dir.path().join(format!("{name}.wav"));
        as_48k_stereo(&path, WavEncoding::from_name(name).unwrap());
        let out = bin()
            .arg("run")
            .arg(repo("manifests/voice_activity.yaml"))
            .arg("--input")
            .arg(&path)
            .assert()
            .success();
        assert_speech_region(&segments(&out.get_output().stdout));
    }
}

#[test]
fn speech_audio_goes_to_the_wav_output_and_segments_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let speech = dir.path().join("speech.wav");
    let out = bin()
        .arg("run")
        .arg(repo("manifests/voice_activity_speech.yaml"))
        .arg("--input")
        .arg(repo("manifests/data/arctic_a0007.wav"))
        .arg("--output")
        .arg(&speech)
        .assert()
        .success();
    let found = segments(&out.get_output().stdout);
    assert_speech_region(&found);
    let audio = read_wav(&speech).unwrap();
    assert_eq!(
        (audio.sample_rate(), audio.channels(), audio.format()),
        (16000, 1, SampleFormat::I16)
    );
    let want = ((found[0].1 - found[0].0) * 16000.0).round() as usize;
    assert_eq!(audio.frames(), want);
}

#[test]
fn unreadable_wav_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"this is not audio").unwrap();
    bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .arg("--input")
        .arg(&junk)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("not a readable WAV file"));
}

#[test]
fn a_rate_the_vad_cannot_take_is_a_node_error() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("44k.wav");
    write_wav(
        &wav,
        &AudioBuffer::from_i16(44100, 1, vec![0; 4410]).unwrap(),
        None,
    )
    .unwrap();
    let manifest = dir.path().join("vad.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nnodes:\n  - {id: vad, node_type: VADNode}\n",
    )
    .unwrap();
    bin()
        .arg("run")
        .arg(&manifest)
        .arg("--input")
        .arg(&wav)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("vad").and(predicate::str::contains("put an AudioResampleNode")));
}
