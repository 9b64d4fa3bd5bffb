//! Fuzzing the binary's inputs (issue 21): manifests (JSON and YAML), audio files in every
//! container, raw PCM of any length, and JSON values. Each case runs the real binary and checks
//! that it does not panic, die of a signal or hang (10 s), that its peak memory stays bounded
//! (the children's `ru_maxrss`, 512 MB), and that it exits with a documented code (README, "Exit
//! codes") and an `error:` line naming the input.
//!
//! CI runs `REMOTEMEDIA_FUZZ_CASES` cases per target (default 300: about a minute in all); the
//! longer run is `make fuzz` (2,000 per target). A failing case is shrunk by proptest and printed
//! with its input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::fuzzing::{apply, damage, fuzz, json_value};
use common::{repo, tool};
use nix::sys::resource::{UsageWho, getrusage};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const TIME_LIMIT: Duration = Duration::from_secs(10);
const MEMORY_LIMIT_KB: i64 = 512 * 1024;

/// How one run of the binary ended.
struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs the binary on `args` with `stdin`, failing the case on a signal, a hang, memory past the
/// limit, an undocumented exit code, or a panic's words on stderr.
fn run(args: &[&str], stdin: &[u8]) -> Result<Outcome, TestCaseError> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia-runtime"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = stdin.to_vec();
    let mut pipe_in = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = pipe_in.write_all(&input); // the binary may stop reading early
    });
    let mut pipe_out = child.stdout.take().unwrap();
    let mut pipe_err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe_out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe_err.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TestCaseError::fail(format!(
                "hang: still running after {TIME_LIMIT:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = writer.join();
    let stdout = out_reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    if let Some(signal) = status.signal() {
        return Err(TestCaseError::fail(format!(
            "killed by signal {signal}; stderr: {stderr}"
        )));
    }
    let code = status.code().unwrap();
    // The largest peak of any child so far: every earlier case stayed under the limit, so past
    // it now means this one went past it.
    let peak_kb = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    if peak_kb > MEMORY_LIMIT_KB {
        return Err(TestCaseError::fail(format!(
            "peak memory {} MB (limit {} MB)",
            peak_kb / 1024,
            MEMORY_LIMIT_KB / 1024
        )));
    }
    for words in ["panicked", "RUST_BACKTRACE", "stack overflow", "Traceback"] {
        if stderr.contains(words) {
            return Err(TestCaseError::fail(format!("`{words}` on stderr: {stderr}")));
        }
    }
    if ![0, 1, 2, 3].contains(&code) {
        return Err(TestCaseError::fail(format!(
            "exit code {code} is not documented; stderr: {stderr}"
        )));
    }
    if code != 0 && !stderr.starts_with("error: ") {
        return Err(TestCaseError::fail(format!(
            "exit {code} without an `error:` line: {stderr:?}"
        )));
    }
    Ok(Outcome { code, stdout, stderr })
}

/// A temporary file per case (proptest runs cases one after another).
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path().join(name)
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn manifests_damaged_any_way_are_valid_or_named_errors() {
    let seeds: Vec<PathBuf> = ["manifests/valid", "manifests"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(repo(dir)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = file_name(p);
            (name.ends_with(".json") || name.ends_with(".yaml"))
                && !name.contains("input")
                && name != "schema.json"
        })
        .collect();
    assert!(seeds.len() >= 8, "{seeds:?}");
    let strategy = (0..seeds.len(), prop::collection::vec(damage(), 1..6));
    fuzz("manifests", strategy, |(seed, damages)| {
        let original = std::fs::read(&seeds[seed]).unwrap();
        let ext = seeds[seed].extension().unwrap().to_string_lossy().into_owned();
        let path = scratch(&format!("manifest.{ext}"));
        std::fs::write(&path, apply(&original, &damages)).unwrap();
        let out = run(&["validate", path.to_str().unwrap()], b"")?;
        prop_assert!(
            out.code == 0 || out.code == 2,
            "exit {}: {}",
            out.code,
            out.stderr
        );
        if out.code == 2 {
            prop_assert!(
                out.stderr.contains(&format!("manifest.{ext}`: ")),
                "the manifest is not named: {}",
                out.stderr
            );
        }
        Ok(out.code)
    });
}

#[test]
fn yaml_aliases_cannot_multiply_a_manifest() {
    // "A billion laughs": nine levels of aliases, each ten of the one below.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text +=
            &format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n");
    }
    text += "version: v1\nnodes: [{id: a, node_type: PassThroughNode, params: {x: *a9}}]\n";
    let path = scratch("laughs.yaml");
    std::fs::write(&path, text).unwrap();
    let out = run(&["validate", path.to_str().unwrap()], b"").unwrap();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("laughs.yaml`: invalid YAML"),
        "{}",
        out.stderr
    );
}

/// Half a second of speech in each container the binary reads, made by sox and ffmpeg.
fn audio_seeds() -> &'static Vec<PathBuf> {
    static SEEDS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let speech = repo("manifests/data/arctic_a0007.wav");
        let clip = scratch("clip.wav");
        tool(
            "sox",
            &[
                speech.to_str().unwrap(),
                clip.to_str().unwrap(),
                "trim",
                "0.5",
                "0.5",
            ],
        );
        let clip = clip.to_str().unwrap().to_string();
        let mut seeds = Vec::new();
        for (name, extra) in [
            ("s16.wav", vec![]),
            ("f32.wav", vec!["-c:a", "pcm_f32le"]),
            ("aiff.aiff", vec![]),
            ("flac.flac", vec![]),
            ("mp3.mp3", vec![]),
            ("vorbis.ogg", vec!["-c:a", "libvorbis"]),
            ("opus.opus", vec!["-c:a", "libopus"]),
            ("aac.m4a", vec!["-c:a", "aac"]),
            ("alac.m4a", vec!["-c:a", "alac"]),
            ("caf.caf", vec!["-c:a", "pcm_s16le"]),
        ] {
            let path = scratch(&format!("seed-{name}"));
            let mut args = vec!["-v", "error", "-y", "-i", clip.as_str()];
            args.extend(extra);
            args.push(path.to_str().unwrap());
            tool("ffmpeg", &args);
            seeds.push(path);
        }
        seeds
    })
}

#[test]
fn audio_files_damaged_any_way_decode_or_are_named_errors() {
    let seeds = audio_seeds();
    let manifest = repo("manifests/downmix_16k.yaml");
    let strategy = (0..seeds.len(), prop::collection::vec(damage(), 1..5));
    fuzz("audio files", strategy, |(seed, damages)| {
        let original = std::fs::read(&seeds[seed]).unwrap();
        // The damaged copy keeps its name's extension: an audio extension means audio.
        let name = file_name(&seeds[seed]).replace("seed-", "damaged-");
        let path = scratch(&name);
        std::fs::write(&path, apply(&original, &damages)).unwrap();
        let out = run(
            &[
                "run",
                manifest.to_str().unwrap(),
                "--input",
                path.to_str().unwrap(),
            ],
            b"",
        )?;
        match out.code {
            0 => {
                // Every output is an audio buffer of the pipeline's rate.
                let text = String::from_utf8(out.stdout).unwrap();
                let outputs: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| TestCaseError::fail(format!("stdout is not JSON ({e})")))?;
                for o in outputs.as_array().unwrap() {
                    prop_assert_eq!(&o["$audio"]["sample_rate"], &serde_json::json!(16000));
                }
            }
            1 | 2 => {
                prop_assert!(
                    out.stderr.contains(&format!("`{}`", path.display()))
                        || out.stderr.contains(&format!("`{name}`")),
                    "the file is not named: {}",
                    out.stderr
                );
                prop_assert!(
                    !out.stderr.contains("os error"),
                    "an OS error's words for bad data: {}",
                    out.stderr
                );
            }
            code => return Err(TestCaseError::fail(format!("exit {code}: {}", out.stderr))),
        }
        Ok(out.code)
    });
}

#[test]
fn raw_pcm_of_any_length_is_read_or_refused_by_rule() {
    let formats = vec![
        ("s16le", 2usize),
        ("s32le", 4),
        ("f32le", 4),
        ("mulaw", 1),
        ("alaw", 1),
    ];
    let rates = vec![999u32, 1000, 8000, 44_100, 1_536_000, 1_536_001];
    let strategy = (
        prop::sample::select(formats),
        prop::sample::select(rates),
        1usize..=8,
        prop::collection::vec(any::<u8>(), 0..12_000),
    );
    let manifest = repo("manifests/valid/passthrough_only.json");
    fuzz("raw PCM", strategy, |((format, width), rate, channels, bytes)| {
        let rate_s = rate.to_string();
        let channels_s = channels.to_string();
        let args = [
            "run",
            manifest.to_str().unwrap(),
            "--input-format",
            format,
            "--sample-rate",
            &rate_s,
            "--channels",
            &channels_s,
        ];
        let out = run(&args, &bytes)?;
        let frame = width * channels;
        if !(1000..=1_536_000).contains(&rate) {
            prop_assert_eq!(out.code, 2, "rate {}: {}", rate, out.stderr);
            prop_assert!(out.stderr.contains("--sample-rate"), "{}", out.stderr);
        } else if bytes.len() % frame != 0 {
            prop_assert_eq!(out.code, 2, "{} stray bytes: {}", bytes.len() % frame, out.stderr);
            prop_assert!(
                out.stderr.contains("`stdin`") && out.stderr.contains("ended inside a frame"),
                "{}",
                out.stderr
            );
        } else if out.code == 0 {
            // Every frame arrives: the outputs hold all the samples.
            let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let samples: usize = outputs
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["$audio"]["samples"].as_array().map_or(0, Vec::len))
                .sum();
            prop_assert_eq!(samples, bytes.len() / width);
        } else {
            // Only float input can hold what JSON cannot print (NaN, infinities).
            prop_assert_eq!(format, "f32le", "exit {}: {}", out.code, out.stderr);
            prop_assert!(out.stderr.contains("finite"), "{}", out.stderr);
        }
        Ok(out.code)
    });
}

#[test]
fn json_values_pass_through_unchanged_or_are_refused_by_name() {
    let manifest = repo("manifests/valid/passthrough_only.json");
    fuzz("JSON values", json_value(), |text| {
        let input = format!("[{text}]");
        let out = run(
            &["run", manifest.to_str().unwrap(), "--input-format", "json"],
            input.as_bytes(),
        )?;
        match out.code {
            0 if !text.contains("\"$") => {
                // What went in comes out (numbers compared as numbers).
                let sent: serde_json::Value = serde_json::from_str(&input).unwrap();
                let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                prop_assert_eq!(got, sent);
            }
            0 => {}
            2 => prop_assert!(out.stderr.contains("invalid input"), "{}", out.stderr),
            code => return Err(TestCaseError::fail(format!("exit {code}: {}", out.stderr))),
        }
        Ok(out.code)
    });
}
