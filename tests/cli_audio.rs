//! The binary's audio path: the README's main job (speech segments of the shipped recording), WAV
//! in any layout, speech audio written to a WAV file, and bad WAV input.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use common::{bin, repo, tool};
use predicates::prelude::*;
use remotemedia::{AudioBuffer, SampleFormat};
use remotemedia_io::wav::{WavEncoding, read_wav, write_wav};

mod common;

/// The speech region of `arctic_a0007.wav` (frames at least 20 dB above the background; see
/// manifests/data/README.md).
const SPEECH: (f64, f64) = (0.42, 3.37);

fn segments(stdout: &[u8]) -> Vec<(f64, f64)> {
    let json: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect()
}

/// The main job's (Silero's) segment of a re-encoded recording: it starts within 100 ms of the
/// speech; Silero's probabilities stay high for about 150 ms after the speech fades (its segment of
/// the clean recording, identical to silero-vad's own, is 0.386–3.55 s), so it ends up to 250 ms
/// after the region.
fn assert_speech_region(found: &[(f64, f64)]) {
    assert_eq!(found.len(), 1, "one segment expected: {found:?}");
    let (start, end) = found[0];
    assert!((start - SPEECH.0).abs() <= 0.1, "start {start} vs {}", SPEECH.0);
    assert!(
        (SPEECH.1..=SPEECH.1 + 0.25).contains(&end),
        "end {end} vs {}",
        SPEECH.1
    );
}

/// The fast integer detector (`voice_activity_fast.yaml`) matches the region within 100 ms.
fn assert_speech_region_fast(found: &[(f64, f64)]) {
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
    // silero-vad's own segment (crates/remotemedia-models/tests/data/silero_reference.json:
    // samples 6176 to 56800).
    assert_eq!(segments(&out.get_output().stdout), vec![(0.386, 3.55)]);
    let fast = bin()
        .arg("run")
        .arg(repo("manifests/voice_activity_fast.yaml"))
        .arg("--input")
        .arg(repo("manifests/data/arctic_a0007.wav"))
        .assert()
        .success()
        .stderr("");
    let found = segments(&fast.get_output().stdout);
    assert_speech_region_fast(&found);
    assert_eq!(found, vec![(0.38, 3.45)]);
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
        .stderr(predicate::str::contains(
            "not an audio file this build reads (WAV, AIFF, FLAC, MP3, Ogg Vorbis, Ogg Opus",
        ));
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

/// Runs an encoder (sox or ffmpeg, installed by `.ci/run`) to make a test file.
fn encode(program: &str, args: &[&std::ffi::OsStr]) {
    tool(program, args);
}

#[test]
fn compressed_files_give_the_same_segments_as_the_wav() {
    let dir = tempfile::tempdir().unwrap();
    let wav = repo("manifests/data/arctic_a0007.wav");
    let flac = dir.path().join("speech.flac");
    let mp3 = dir.path().join("speech.mp3");
    let ogg = dir.path().join("speech.ogg");
    let opus = dir.path().join("speech.opus");
    // Names that do not say the format: the content decides.
    let disguised = dir.path().join("speech.bin");
    encode("sox", &[wav.as_os_str(), flac.as_os_str()]);
    for (out, codec) in [(&mp3, "libmp3lame"), (&ogg, "libvorbis"), (&opus, "libopus")] {
        encode(
            "ffmpeg",
            &["-loglevel", "error", "-y", "-i"]
                .map(std::ffi::OsStr::new)
                .into_iter()
                .chain([wav.as_os_str()])
                .chain(["-c:a", codec].map(std::ffi::OsStr::new))
                .chain([out.as_os_str()])
                .collect::<Vec<_>>(),
        );
    }
    std::fs::copy(&flac, &disguised).unwrap();
    let run = |input: &Path| {
        let out = bin()
            .arg("run")
            .arg(repo("manifests/voice_activity.yaml"))
            .arg("--input")
            .arg(input)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        segments(&out.stdout)
    };
    let from_wav = run(&wav);
    assert_speech_region(&from_wav);
    // Lossless: the same samples, the same segments.
    for file in [&flac, &disguised] {
        assert_eq!(run(file), from_wav, "{}", file.display());
    }
    // Lossy (MP3, Vorbis, Opus coded at 48 kHz): the same segment within one 32 ms Silero chunk.
    for file in [&mp3, &ogg, &opus] {
        let lossy = run(file);
        assert_eq!(lossy.len(), from_wav.len(), "{}", file.display());
        for (a, b) in lossy.iter().zip(&from_wav) {
            assert!(
                (a.0 - b.0).abs() <= 0.0321 && (a.1 - b.1).abs() <= 0.0321,
                "{}: {lossy:?} vs {from_wav:?}",
                file.display()
            );
        }
    }
}

#[test]
fn flac_decodes_bit_exactly_and_chunking_never_changes_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let wav = repo("manifests/data/arctic_a0007.wav");
    let flac = dir.path().join("speech.flac");
    encode("sox", &[wav.as_os_str(), flac.as_os_str()]);
    let manifest = dir.path().join("same.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "nodes": [{"id": "same", "node_type": "PassThroughNode"}]}"#,
    )
    .unwrap();
    let original = read_wav(&wav).unwrap();
    for chunk_ms in ["7", "100", "60000"] {
        let out = dir.path().join(format!("out{chunk_ms}.wav"));
        bin()
            .arg("run")
            .arg(&manifest)
            .args(["--input"])
            .arg(&flac)
            .args(["--chunk-ms", chunk_ms, "--output"])
            .arg(&out)
            .assert()
            .success();
        let decoded = read_wav(&out).unwrap();
        assert_eq!(
            decoded.samples_i16(),
            original.samples_i16(),
            "chunks of {chunk_ms} ms"
        );
        assert_eq!(decoded.sample_rate(), original.sample_rate());
    }
    // The speech pipeline gives the same segments and the same speech audio for any chunk length.
    let speech = |chunk_ms: &str| {
        let out = dir.path().join(format!("speech{chunk_ms}.wav"));
        let printed = bin()
            .arg("run")
            .arg(repo("manifests/voice_activity_speech.yaml"))
            .arg("--input")
            .arg(&flac)
            .args(["--chunk-ms", chunk_ms, "--output"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(printed.status.success());
        (printed.stdout, std::fs::read(&out).unwrap())
    };
    assert_eq!(speech("7"), speech("1000"));
}

#[test]
fn raw_pcm_streams_give_segments_before_the_input_ends() {
    use std::io::{BufRead, BufReader, Write};
    // The recording as raw 16 kHz s16le (the manifest downmixes and resamples as it would a file),
    // then a second of silence; stdin stays open until the segment has been printed.
    let audio = read_wav(&repo("manifests/data/arctic_a0007.wav")).unwrap();
    assert_eq!(audio.sample_rate(), 16000);
    let mut raw: Vec<u8> = audio
        .samples_i16()
        .unwrap()
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    raw.extend(std::iter::repeat_n(0u8, 32000));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("remotemedia-runtime"))
        .arg("stream")
        .arg(repo("manifests/voice_activity.yaml"))
        .args([
            "--input-format",
            "s16le",
            "--sample-rate",
            "16000",
            "--chunk-ms",
            "20",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&raw).unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a segment before stdin closed");
    assert_eq!(first, r#"{"start":0.386,"end":3.55}"#);
    drop(stdin);
    assert!(child.wait().unwrap().success());
    // The same through `run`, from a file, in µ-law: the same region.
    let dir = tempfile::tempdir().unwrap();
    let ulaw = dir.path().join("speech.ul");
    encode(
        "sox",
        &[
            repo("manifests/data/arctic_a0007.wav").as_os_str(),
            std::ffi::OsStr::new("-t"),
            std::ffi::OsStr::new("raw"),
            std::ffi::OsStr::new("-e"),
            std::ffi::OsStr::new("mu-law"),
            std::ffi::OsStr::new("-r"),
            std::ffi::OsStr::new("8000"),
            ulaw.as_os_str(),
        ],
    );
    let out = bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .arg("--input")
        .arg(&ulaw)
        .args(["--input-format", "mulaw", "--sample-rate", "8000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_speech_region(&segments(&out.stdout));
    // Without a rate, a clear usage error.
    bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .args(["--input-format", "s16le"])
        .write_stdin(raw.clone())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("raw PCM input needs `--sample-rate`"));
}

#[test]
fn every_audio_node_gives_the_same_outputs_for_any_chunk_length() {
    // A file fed in 7 ms chunks, in 100 ms chunks, and whole (one chunk longer than the file):
    // each audio node's outputs are the same bytes (audio as WAV on stdout, others as JSON).
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("stereo48k.wav");
    as_48k_stereo(&input, WavEncoding::Int16);
    let nodes = [
        ("AudioResampleNode", "{target_sample_rate: 16000}"),
        ("FormatConverterNode", "{target_format: f32}"),
        ("ChannelMixNode", "{mode: downmix}"),
        ("AudioChunkerNode", "{chunk_ms: 20}"),
        ("GainNode", "{db: -6}"),
        ("NormalizeNode", "{mode: peak, target_db: -1}"),
        ("VADNode", "{emit: segments}"),
    ];
    for (node_type, params) in nodes {
        let manifest = dir.path().join(format!("{node_type}.yaml"));
        // The VAD takes 8 or 16 kHz mono: downmix and resample first.
        let chain = if node_type == "VADNode" {
            "  - {id: mono, node_type: ChannelMixNode, params: {mode: downmix}}\n  - {id: rs, node_type: AudioResampleNode, params: {target_sample_rate: 16000}}\n"
        } else {
            ""
        };
        std::fs::write(
            &manifest,
            format!("version: v1\nnodes:\n{chain}  - {{id: n, node_type: {node_type}, params: {params}}}\n"),
        )
        .unwrap();
        let run = |chunk_ms: &str| {
            let mut cmd = bin();
            cmd.arg("run")
                .arg(&manifest)
                .arg("--input")
                .arg(&input)
                .args(["--chunk-ms", chunk_ms]);
            if node_type != "VADNode" {
                cmd.args(["--output-format", "wav"]);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{node_type}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let whole = run("60000");
        // Real outputs: audio (a WAV), or the speech segment.
        assert!(whole.len() > 20, "{node_type}: {} bytes", whole.len());
        assert_eq!(run("7"), whole, "{node_type} in 7 ms chunks");
        assert_eq!(run("100"), whole, "{node_type} in 100 ms chunks");
    }
}

#[test]
fn text_to_speech_writes_the_sentences_to_the_wav_output() {
    // Needs espeak-ng, onnxruntime and the default voice (`make setup`, the `tts` extra).
    let dir = tempfile::tempdir().unwrap();
    let hello = dir.path().join("hello.wav");
    bin()
        .arg("run")
        .arg(repo("manifests/speak.yaml"))
        .arg("--output")
        .arg(&hello)
        .write_stdin("\"Hello there. How are you?\"\n")
        .assert()
        .success()
        .stdout("[]\n");
    let audio = read_wav(&hello).unwrap();
    assert_eq!(
        (audio.sample_rate(), audio.channels(), audio.format()),
        (22050, 1, SampleFormat::F32)
    );
    let seconds = audio.frames() as f64 / 22050.0;
    assert!((1.0..3.5).contains(&seconds), "{seconds} s of speech");
}
