//! `run` over many files: folders, patterns, one JSON line per file in input order, errors that
//! name the file and the problem, exit code 3, `--jobs` independence, `--output-dir`,
//! `--fail-fast`, the progress bar (on a terminal only) and Ctrl-C.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::{bin, repo, tool};
use predicates::prelude::*;
use serde_json::Value;

mod common;

fn vad() -> PathBuf {
    repo("manifests/voice_activity.yaml")
}

/// A spoken sentence from espeak-ng, as a 16-bit WAV at its own rate (22 050 Hz).
fn say(text: &str, path: &Path) {
    tool(
        "espeak-ng",
        &[OsStr::new("-w"), path.as_os_str(), OsStr::new(text)],
    );
}

/// The folder of the issue: good files in three formats (one with a name that is not UTF-8), a
/// corrupt FLAC, an empty file, a text file named `.wav`, and a README that is skipped.
fn mixed_folder(root: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let good_wav = root.join("a_speech.wav");
    say("The quick brown fox jumps over the lazy dog.", &good_wav);
    let flac = root.join("sub/b_speech.flac");
    tool("sox", &[good_wav.as_os_str(), flac.as_os_str()]);
    let odd_name = root.join(OsStr::from_bytes(b"c_caf\xe9.mp3"));
    tool(
        "ffmpeg",
        &[
            OsStr::new("-loglevel"),
            OsStr::new("error"),
            OsStr::new("-i"),
            repo("manifests/data/arctic_a0007.wav").as_os_str(),
            odd_name.as_os_str(),
        ],
    );
    // A FLAC whose frames are cut off after the header: the decoder finds damaged data.
    let bytes = std::fs::read(&flac).unwrap();
    let mut corrupt = bytes[..bytes.len() / 2].to_vec();
    corrupt.extend(std::iter::repeat_n(0x5a, 4000));
    std::fs::write(root.join("d_corrupt.flac"), corrupt).unwrap();
    std::fs::write(root.join("e_empty.wav"), b"").unwrap();
    std::fs::write(root.join("f_notes.wav"), b"these are my notes, not audio\n").unwrap();
    std::fs::write(root.join("README.txt"), b"skipped: not audio by name or content").unwrap();
    vec![good_wav, odd_name, flac]
}

fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The segments `run` prints for one file on its own.
fn single(path: &Path) -> Value {
    let out = bin()
        .arg("run")
        .arg(vad())
        .arg("--input")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_mixed_folder_gives_one_correct_line_per_file_and_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let good = mixed_folder(&root);
    let run = |jobs: &str| {
        bin()
            .arg("run")
            .arg(vad())
            .arg("--input")
            .arg(&root)
            .args(["--jobs", jobs])
            .output()
            .unwrap()
    };
    let out = run("2");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = lines(&out.stdout);
    let file = |r: &Value| r["file"].as_str().unwrap().to_string();
    let root_text = root.display().to_string();
    let names: Vec<String> = records
        .iter()
        .map(|r| {
            file(r)
                .strip_prefix(&format!("{root_text}/"))
                .unwrap()
                .to_string()
        })
        .collect();
    // Input order: the folder walked in name order (README.txt skipped); the non-UTF-8 byte shown
    // as U+FFFD.
    assert_eq!(
        names,
        [
            "a_speech.wav",
            "c_caf\u{fffd}.mp3",
            "d_corrupt.flac",
            "e_empty.wav",
            "f_notes.wav",
            "sub/b_speech.flac"
        ]
    );
    // Good files: the same segments as a run on the file alone, and at least one segment.
    for (record, path) in [
        (&records[0], &good[0]),
        (&records[1], &good[1]),
        (&records[5], &good[2]),
    ] {
        assert!(record.get("error").is_none(), "{record}");
        assert_eq!(record["outputs"], single(path), "{}", path.display());
        assert!(!record["outputs"].as_array().unwrap().is_empty(), "{record}");
    }
    // Bad files: a precise error naming the file.
    let error = |r: &Value| r["error"].as_str().unwrap().to_string();
    assert!(error(&records[2]).contains("d_corrupt.flac"), "{}", records[2]);
    assert!(
        error(&records[2]).contains("corrupt audio data"),
        "{}",
        records[2]
    );
    assert!(
        error(&records[3]).ends_with("e_empty.wav`: the file is empty"),
        "{}",
        records[3]
    );
    assert!(
        error(&records[4]).contains("f_notes.wav`: not an audio file this build reads"),
        "{}",
        records[4]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 of 6 files ok, 3 failed;"), "{stderr}");
    assert!(stderr.contains("error: 3 of 6 files failed"), "{stderr}");
    // No progress bar on a pipe.
    assert!(!stderr.contains("ETA"), "{stderr}");
    // `--jobs 1` gives the same lines.
    assert_eq!(run("1").stdout, out.stdout);
}

#[test]
fn patterns_several_inputs_output_dir_and_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("in");
    std::fs::create_dir_all(root.join("x")).unwrap();
    let speech = repo("manifests/data/arctic_a0007.wav");
    std::fs::copy(&speech, root.join("a.wav")).unwrap();
    tool("sox", &[speech.as_os_str(), root.join("a.flac").as_os_str()]);
    std::fs::copy(&speech, root.join("x/a.wav")).unwrap();
    // Speech audio to an output folder: names never collide, and each file is the speech alone.
    let out_dir = dir.path().join("out");
    let out = bin()
        .arg("run")
        .arg(repo("manifests/voice_activity_speech.yaml"))
        .arg("--input")
        .arg(format!("{}/*.wav", root.display()))
        .arg("--input")
        .arg(root.join("a.flac"))
        .arg("--input")
        .arg(root.join("x"))
        .arg("--output-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records = lines(&out.stdout);
    let outputs: Vec<String> = records
        .iter()
        .map(|r| r["output"].as_str().unwrap().to_string())
        .collect();
    let under = |name: &str| out_dir.join(name).display().to_string();
    assert_eq!(outputs, [under("a.wav"), under("a-2.wav"), under("a-3.wav")]);
    let first = remotemedia_io::wav::read_wav(Path::new(&outputs[0])).unwrap();
    assert_eq!(first.sample_rate(), 16000);
    for path in &outputs[1..] {
        let other = remotemedia_io::wav::read_wav(Path::new(path)).unwrap();
        assert_eq!(other.samples_i16(), first.samples_i16(), "{path}");
    }
    // The segments stay among the outputs.
    assert_eq!(
        records[0]["outputs"],
        serde_json::json!([{"start": 0.38, "end": 3.45}])
    );

    // --fail-fast: the first failure stops the run (with one job, nothing after it runs).
    std::fs::write(root.join("0_bad.wav"), b"nope").unwrap();
    let out = bin()
        .arg("run")
        .arg(vad())
        .arg("--input")
        .arg(&root)
        .args(["--jobs", "1", "--fail-fast"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let records = lines(&out.stdout);
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0]["error"].as_str().unwrap().contains("0_bad.wav"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-fast"));

    // A pattern that matches nothing, or a missing path: a usage error before anything runs.
    bin()
        .arg("run")
        .arg(vad())
        .args(["--input", "no/such/*.wav", "--input", "x.wav"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`no/such/*.wav`: matches no file"));
}

/// Runs `command` on a pseudo-terminal (util-linux `script`); returns what the terminal showed.
fn on_a_terminal(command: &str) -> String {
    let out = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .output()
        .expect("`script` (util-linux) is needed");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        std::fs::copy(
            repo("manifests/data/arctic_a0007.wav"),
            dir.path().join(format!("{i}.wav")),
        )
        .unwrap();
    }
    let exe = assert_cmd::cargo::cargo_bin("remotemedia-runtime");
    let command = |progress: &str| {
        format!(
            "{} run {} --input {} --progress {progress} >/dev/null",
            exe.display(),
            vad().display(),
            dir.path().display()
        )
    };
    let shown = on_a_terminal(&command("auto"));
    assert!(shown.contains("3/3 files"), "{shown}");
    assert!(shown.contains("x real time"), "{shown}");
    assert!(shown.contains("3 of 3 files ok, 0 failed"), "{shown}");
    let hidden = on_a_terminal(&command("never"));
    assert!(!hidden.contains("files,"), "{hidden}");
    assert!(hidden.contains("3 of 3 files ok"), "{hidden}");
    // `always` draws on a pipe too.
    let out = bin()
        .arg("run")
        .arg(vad())
        .arg("--input")
        .arg(dir.path())
        .args(["--progress", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("3/3 files"));
    assert_eq!(lines(&out.stdout).len(), 3);
}

#[test]
fn ctrl_c_stops_cleanly_with_valid_lines_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        std::fs::copy(
            repo("manifests/data/arctic_a0007.wav"),
            dir.path().join(format!("{i:03}.wav")),
        )
        .unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("remotemedia-runtime"))
        .arg("run")
        .arg(vad())
        .arg("--input")
        .arg(dir.path())
        // Small chunks: the run takes seconds, so Ctrl-C comes long before the end.
        .args(["--jobs", "1", "--chunk-ms", "5"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first line, then interrupt.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{stderr}");
    let all = format!("{first}{rest}");
    let records = lines(all.as_bytes());
    assert!(
        !records.is_empty() && records.len() < 200,
        "{} lines",
        records.len()
    );
    for r in &records {
        assert_eq!(r["outputs"], serde_json::json!([{"start": 0.386, "end": 3.55}]));
    }
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains(" of 200 files ok"), "{stderr}");
}

#[test]
fn ctrl_c_on_one_long_file_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    // 40 minutes: the recording 600 times.
    let once = repo("manifests/data/arctic_a0007.wav");
    let ten = dir.path().join("ten.wav");
    tool(
        "sox",
        &vec![once.as_os_str(); 10]
            .into_iter()
            .chain([ten.as_os_str()])
            .collect::<Vec<_>>(),
    );
    let long = dir.path().join("long.wav");
    tool(
        "sox",
        &vec![ten.as_os_str(); 60]
            .into_iter()
            .chain([long.as_os_str()])
            .collect::<Vec<_>>(),
    );
    let speech = dir.path().join("speech.wav");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("remotemedia-runtime"))
        .arg("run")
        .arg(repo("manifests/voice_activity_speech.yaml"))
        .arg("--input")
        .arg(&long)
        .arg("--output")
        .arg(&speech)
        .args(["--chunk-ms", "10"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: "), "{stderr}");
    // The segments found before Ctrl-C, as a valid JSON array, one per 4 s copy of the recording.
    let segments: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !segments.is_empty() && segments.len() < 600,
        "{} segments",
        segments.len()
    );
    for (i, s) in segments.iter().enumerate() {
        let start = s["start"].as_f64().unwrap();
        assert!((start - (4.0 * i as f64 + 0.38)).abs() < 1e-6, "{s}");
    }
    // The speech audio written so far is a valid WAV file (its header completed) holding the
    // speech of the segments printed, give or take the one being written.
    let audio = remotemedia_io::wav::read_wav(&speech).unwrap();
    let seconds = audio.frames() as f64 / f64::from(audio.sample_rate());
    let expected = 3.07 * segments.len() as f64;
    assert!(
        (seconds - expected).abs() <= 3.1,
        "{seconds} s of speech for {} segments",
        segments.len()
    );
}
