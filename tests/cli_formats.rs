//! Audio formats in and out through the binary, checked against real encoders and decoders (sox
//! and ffmpeg, installed by `.ci/run`): every readable format decodes as ffmpeg decodes it, raw
//! PCM and WAV outputs hold exactly the samples, and raw audio streams out as it streams in.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::{bin, repo, tool};
use remotemedia_io::wav::read_wav;

mod common;

fn speech() -> PathBuf {
    repo("manifests/data/arctic_a0007.wav")
}

/// Encodes the shipped recording with ffmpeg's `codec` into `path`.
fn ffmpeg_encode(path: &Path, codec: &str) {
    tool(
        "ffmpeg",
        &[
            OsStr::new("-loglevel"),
            OsStr::new("error"),
            OsStr::new("-y"),
            OsStr::new("-i"),
            speech().as_os_str(),
            OsStr::new("-c:a"),
            OsStr::new(codec),
            path.as_os_str(),
        ],
    );
}

/// ffmpeg's decode of `path` as 32-bit float samples.
fn ffmpeg_decode(path: &Path) -> Vec<f32> {
    let bytes = tool(
        "ffmpeg",
        &[
            OsStr::new("-loglevel"),
            OsStr::new("error"),
            OsStr::new("-i"),
            path.as_os_str(),
            OsStr::new("-f"),
            OsStr::new("f32le"),
            OsStr::new("-c:a"),
            OsStr::new("pcm_f32le"),
            OsStr::new("-"),
        ],
    );
    f32s(&bytes)
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn passthrough(dir: &Path) -> PathBuf {
    let manifest = dir.join("same.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nnodes:\n  - {id: f, node_type: FormatConverterNode, params: {target_format: f32}}\n",
    )
    .unwrap();
    manifest
}

/// Our decode of `path`, as 32-bit float raw PCM on stdout.
fn our_decode(manifest: &Path, path: &Path) -> Vec<f32> {
    let out = bin()
        .arg("run")
        .arg(manifest)
        .arg("--input")
        .arg(path)
        .args(["--output-format", "f32le"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // With the audio on stdout, the other outputs (none here) go to stderr.
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "[]");
    f32s(&out.stdout)
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "sample counts differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn every_format_decodes_as_ffmpeg_decodes_it() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = passthrough(dir.path());
    // (file, encoder, tolerance): lossless formats exactly; lossy ones within 1e-5 of full scale
    // (measured: 1.2e-6 MP3, 1.8e-7 Vorbis, 1.2e-7 Opus, 3e-7 AAC).
    let cases: [(&str, &str, f32); 11] = [
        ("speech.wav", "pcm_s16le", 0.0),
        ("speech_s24.wav", "pcm_s24le", 0.0),
        ("speech_f32.wav", "pcm_f32le", 0.0),
        ("speech.flac", "flac", 0.0),
        ("speech.aiff", "pcm_s16be", 0.0),
        ("speech_alac.m4a", "alac", 0.0),
        ("speech.caf", "pcm_s16le", 0.0),
        ("speech.mp3", "libmp3lame", 1e-5),
        ("speech.ogg", "libvorbis", 1e-5),
        ("speech.opus", "libopus", 1e-5),
        ("speech_aac.m4a", "aac", 1e-5),
    ];
    for (name, codec, tolerance) in cases {
        let path = dir.path().join(name);
        ffmpeg_encode(&path, codec);
        let ours = our_decode(&manifest, &path);
        let theirs = ffmpeg_decode(&path);
        // AAC in MP4: the encoder's 1024 priming frames are kept (symphonia does not read MP4 edit
        // lists; ffmpeg drops them). Documented in docs/audio-io.md.
        let ours = if codec == "aac" { &ours[1024..] } else { &ours[..] };
        let diff = max_difference(ours, &theirs);
        assert!(diff <= tolerance, "{name}: max difference {diff} > {tolerance}");
    }
}

#[test]
fn raw_and_wav_outputs_hold_exactly_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("same.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nnodes:\n  - {id: p, node_type: PassThroughNode}\n",
    )
    .unwrap();
    let original = read_wav(&speech()).unwrap();
    let samples = original.samples_i16().unwrap();
    let run = |format: &str| {
        let out = bin()
            .arg("run")
            .arg(&manifest)
            .arg("--input")
            .arg(speech())
            .args(["--output-format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let s16: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    assert_eq!(run("s16le"), s16);
    let s32: Vec<u8> = samples
        .iter()
        .flat_map(|&s| (i32::from(s) << 16).to_le_bytes())
        .collect();
    assert_eq!(run("s32le"), s32);
    // G.711: the bytes are the reference coder's (g711.c, pinned in remotemedia-io's unit tests);
    // here an independent decoder (sox) reads them back to within the codec's step size (1/16 of
    // the magnitude, 16 near zero).
    for (format, encoding) in [("mulaw", "mu-law"), ("alaw", "a-law")] {
        let coded = dir.path().join(format!("speech.{format}"));
        std::fs::write(&coded, run(format)).unwrap();
        let decoded = tool(
            "sox",
            &[
                OsStr::new("-t"),
                OsStr::new("raw"),
                OsStr::new("-e"),
                OsStr::new(encoding),
                OsStr::new("-b"),
                OsStr::new("8"),
                OsStr::new("-r"),
                OsStr::new("16000"),
                OsStr::new("-c"),
                OsStr::new("1"),
                coded.as_os_str(),
                OsStr::new("-t"),
                OsStr::new("raw"),
                OsStr::new("-e"),
                OsStr::new("signed"),
                OsStr::new("-b"),
                OsStr::new("16"),
                OsStr::new("-"),
            ],
        );
        let decoded: Vec<i16> = decoded
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(decoded.len(), samples.len(), "{format}");
        for (&x, &y) in samples.iter().zip(&decoded) {
            let error = (i32::from(x) - i32::from(y)).abs();
            assert!(
                error <= i32::from(x).abs() / 16 + 16,
                "{format}: {x} came back as {y}"
            );
        }
    }
    // WAV on a pipe: a header saying "unknown length", then the samples; ffmpeg reads all of it.
    let piped = run("wav");
    assert_eq!(&piped[..4], b"RIFF");
    assert_eq!(&piped[4..8], &[0xff; 4]);
    assert_eq!(&piped[44..], &s16[..]);
    let file = dir.path().join("piped.wav");
    std::fs::write(&file, &piped).unwrap();
    let decoded = ffmpeg_decode(&file);
    assert_eq!(decoded.len(), samples.len());
    // To a file: a complete header, read back exactly; the other outputs go to stdout.
    let out = dir.path().join("out.s16");
    bin()
        .arg("run")
        .arg(&manifest)
        .arg("--input")
        .arg(speech())
        .args(["--output-format", "s16le", "--output"])
        .arg(&out)
        .assert()
        .success()
        .stdout("[]\n");
    assert_eq!(std::fs::read(&out).unwrap(), s16);
}

#[test]
fn raw_audio_streams_out_while_it_streams_in() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("gain.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nnodes:\n  - {id: g, node_type: GainNode, params: {db: 0}}\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("remotemedia-runtime"))
        .arg("stream")
        .arg(&manifest)
        .args([
            "--input-format",
            "s16le",
            "--sample-rate",
            "8000",
            "--chunk-ms",
            "10",
            "--output-format",
            "s16le",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // 10 ms at 8 kHz: 80 samples, 160 bytes.
    let chunk: Vec<u8> = (0..80i16).flat_map(|s| (s * 100).to_le_bytes()).collect();
    stdin.write_all(&chunk).unwrap();
    stdin.flush().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = vec![0u8; 160];
        let read = stdout.read_exact(&mut first).map(|()| first);
        let _ = tx.send(read.ok());
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("audio out before stdin closed")
        .expect("160 bytes");
    assert_eq!(first, chunk);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
