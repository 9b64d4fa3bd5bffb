//! Bad inputs are named, never crash (issue 21): values nested past the engine's limit on every
//! conversion, manifests nested past the document limit (YAML as fast as JSON), integers outside
//! 64 bits, non-audio and damaged files with audio names, and sample rates below the floor. Each
//! case runs the real binary and checks its exit code and message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{bin, repo};
use predicates::prelude::*;

/// A manifest with one Python node that returns its input `n` as a list nested `n` deep.
fn deep_manifest(dir: &Path, hint: &str) -> PathBuf {
    let path = dir.join(format!("deep_{hint}.yaml"));
    std::fs::write(
        &path,
        format!(
            "version: v1\nnodes:\n  - id: nest\n    node_type: Nest\n    runtime_hint: {hint}\n    class: Nest\n    source: |\n      class Nest:\n          def process(self, n):\n              value = 0\n              for _ in range(n):\n                  value = [value]\n              return value\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_node_output_nested_past_the_limit_is_a_node_error_on_every_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    for hint in ["rustpython", "cpython"] {
        let manifest = deep_manifest(dir.path(), hint);
        // At the limit: printed as JSON.
        let out = bin()
            .arg("run")
            .arg(&manifest)
            .write_stdin("[100]")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{hint}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text.trim(),
            format!("[{}0{}]", "[".repeat(100), "]".repeat(100)),
            "{hint}"
        );
        // One past it, and far past it: a node error (exit 1) naming the node, never a signal.
        for depth in [101, 2_000, 20_000] {
            bin()
                .arg("run")
                .arg(&manifest)
                .write_stdin(format!("[{depth}]"))
                .timeout(Duration::from_secs(60))
                .assert()
                .code(1)
                .stdout("")
                .stderr(predicate::str::contains("node `nest` (`Nest`) failed").and(
                    predicate::str::contains("nests lists and maps deeper than 100 levels"),
                ));
        }
    }
}

#[test]
fn input_data_nested_past_the_limit_exits_2() {
    let calculator = repo("manifests/passthrough_calculator.json");
    for depth in [101, 127, 128, 5_000, 100_000] {
        let input = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        bin()
            .arg("run")
            .arg(&calculator)
            .write_stdin(input.clone())
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "nests lists and maps deeper than 100 levels",
            ));
        bin()
            .arg("run")
            .arg(&calculator)
            .args(["--input-format", "jsonl"])
            .write_stdin(input)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("invalid input on line 1")
                    .and(predicate::str::contains("deeper than 100 levels")),
            );
    }
}

#[test]
fn a_deeply_nested_yaml_manifest_fails_as_fast_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let yaml = dir.path().join("deep.yaml");
    std::fs::write(
        &yaml,
        format!("version: v1\nnodes: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
    )
    .unwrap();
    let json = dir.path().join("deep.json");
    std::fs::write(
        &json,
        format!(
            r#"{{"version": "v1", "nodes": {}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    )
    .unwrap();
    for (path, kind) in [(&yaml, "invalid YAML"), (&json, "invalid JSON")] {
        let started = Instant::now();
        bin()
            .arg("validate")
            .arg(path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(kind).and(predicate::str::contains("recursion limit exceeded")));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{kind}: {:?}",
            started.elapsed()
        );
    }
    // Flow style is still read, and brackets in a Python source (a block scalar) are not counted.
    let source = format!(
        "              x = 1  # {}\n              s = '{}'\n",
        "[".repeat(300),
        "{".repeat(300)
    );
    std::fs::write(
        &yaml,
        "version: v1\nnodes: [{id: a, node_type: PassThroughNode}]\n\nconnections: []\n",
    )
    .unwrap();
    bin().arg("validate").arg(&yaml).assert().code(0);
    std::fs::write(
        &yaml,
        format!(
            "version: v1\nnodes:\n  - id: p\n    node_type: P\n    class: P\n    source: |\n      class P:\n          def process(self, x):\n{source}              return x\n"
        ),
    )
    .unwrap();
    bin().arg("validate").arg(&yaml).assert().code(0);
}

#[test]
fn integers_outside_64_bits_are_named_in_every_position() {
    let calculator = repo("manifests/passthrough_calculator.json");
    for input in [
        "[9223372036854775808]",
        "[18446744073709551616]",
        "[-9223372036854775809]",
        "[1, {\"a\": [99999999999999999999999]}]",
    ] {
        bin()
            .arg("run")
            .arg(&calculator)
            .write_stdin(input)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "is out of range: integers must fit in 64 bits",
            ));
    }
    // Floats stay floats, however large.
    bin()
        .arg("run")
        .arg(repo("manifests/passthrough_calculator.json"))
        .write_stdin("[1e300]")
        .assert()
        .code(0);
}

/// Every extension read as audio: a file of zeros is "not an audio file", never JSON.
#[test]
fn a_file_with_an_audio_extension_is_read_as_audio() {
    let dir = tempfile::tempdir().unwrap();
    let vad = repo("manifests/voice_activity.yaml");
    for ext in ["wav", "flac", "mp3", "ogg", "opus", "m4a", "aiff", "caf"] {
        for (name, content) in [("zeros", vec![0u8; 4096]), ("json", b"[1,2,3]".to_vec())] {
            let path = dir.path().join(format!("{name}.{ext}"));
            std::fs::write(&path, content).unwrap();
            bin()
                .arg("run")
                .arg(&vad)
                .arg("--input")
                .arg(&path)
                .assert()
                .code(2)
                .stdout("")
                .stderr(predicate::str::contains(format!(
                    "`{}`: not an audio file this build reads",
                    path.display()
                )));
        }
    }
}

/// A recognised container with damaged data is "corrupt audio data", with the path, in every
/// container.
#[test]
fn damaged_headers_are_corrupt_audio_data_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let vad = repo("manifests/voice_activity.yaml");
    let garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    for (ext, magic) in [
        ("flac", &b"fLaC"[..]),
        ("ogg", b"OggS"),
        ("caf", b"caff"),
        ("mp3", b"ID3"),
        ("wav", b"RIFF\x10\x00\x00\x00WAVE"),
        ("aiff", b"FORM\x10\x00\x00\x00AIFF"),
        ("m4a", b"\x00\x00\x00\x20ftyp"),
    ] {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&garbage);
        cases.push((ext, bytes));
        cases.push((ext, magic.to_vec())); // the magic alone: cut short
    }
    for (i, (ext, bytes)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.{ext}"));
        std::fs::write(&path, bytes).unwrap();
        let out = bin()
            .arg("run")
            .arg(&vad)
            .arg("--input")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{ext}: {stderr}");
        assert!(
            stderr.contains(&format!("`{}`: corrupt audio data: ", path.display())),
            "{ext} ({} bytes): {stderr}",
            bytes.len()
        );
        assert!(!stderr.contains("os error"), "{ext}: {stderr}");
    }
}

/// A 16-bit PCM WAV of `data` zero bytes whose header declares `channels`, `rate` and
/// `byte_rate` as given (block align 2), however absurd.
fn pcm16_wav(channels: u16, rate: u32, byte_rate: u32, data: u32) -> Vec<u8> {
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&byte_rate.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    wav.resize(wav.len() + data as usize, 0);
    wav
}

#[test]
fn sample_rates_below_the_floor_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one_hertz.wav");
    // A 48 KB WAV of 24,000 16-bit samples at 1 Hz: 6.7 hours.
    let data = 48_000u32;
    let wav = pcm16_wav(1, 1, 2, data);
    std::fs::write(&path, wav).unwrap();
    let started = Instant::now();
    bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .arg("--input")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "`{}`: a sample rate of 1 Hz is outside the range audio inputs may declare (1000 to 1536000 Hz)",
            path.display()
        )));
    assert!(started.elapsed() < Duration::from_secs(10));
    bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .args(["--input-format", "s16le", "--sample-rate", "999"])
        .write_stdin(vec![0u8; 64])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("999"));
    // Tagged JSON audio is held to the same floor.
    bin()
        .arg("run")
        .arg(repo("manifests/passthrough_calculator.json"))
        .write_stdin(r#"[{"$audio": {"sample_rate": 1, "channels": 1, "format": "i16", "samples": [0]}}]"#)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a sample rate of 1 Hz is outside the range",
        ));
}

/// A WAV header whose fields overflow the decoder's arithmetic (65,535 channels of 16-bit
/// samples; found by `fuzz_server`) is corrupt data, never a panic, in debug builds too.
#[test]
fn a_wav_header_with_absurd_fields_is_corrupt_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many_channels.wav");
    let data = 1_000u32;
    let wav = pcm16_wav(u16::MAX, 48_000, 32_000, data);
    std::fs::write(&path, wav).unwrap();
    let out = bin()
        .arg("run")
        .arg(repo("manifests/voice_activity.yaml"))
        .arg("--input")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "`{}`: corrupt audio data: the WAV header cannot be read",
            path.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panic"), "{stderr}");
}
