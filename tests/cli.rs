//! The `remotemedia-runtime` binary, run for real: exit codes, stdout and stderr.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

fn manifest(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../manifests")
        .join(name)
}

fn bin() -> Command {
    Command::cargo_bin("remotemedia-runtime").unwrap()
}

#[test]
fn run_passthrough_then_add_five() {
    bin()
        .args(["run"])
        .arg(manifest("passthrough_calculator.json"))
        .write_stdin("[1,2,3]")
        .assert()
        .success()
        .stdout("[6,7,8]\n")
        .stderr("");
}

#[test]
fn run_reads_input_files_and_jsonl_and_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "1\n2.5\n\n3\n").unwrap();
    let output = dir.path().join("out.jsonl");
    bin()
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .arg("--jsonl")
        .assert()
        .success()
        .stdout("");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "6\n7.5\n8\n");
    // `--input -` reads stdin; a single JSON value is one item.
    bin()
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .args(["--input", "-"])
        .write_stdin("10")
        .assert()
        .success()
        .stdout("[15]\n");
}

#[test]
fn run_keeps_ints_floats_and_structure() {
    bin()
        .arg("run")
        .arg(manifest("valid/chain_without_connections.yaml"))
        .write_stdin("[1, 2.0, 3]")
        .assert()
        .success()
        .stdout("[[3,5.0],[7]]\n");
}

#[test]
fn run_reads_json_floats_exactly() {
    // The shortest form of a float is read back to the same bits (was ...783e-10).
    bin()
        .arg("run")
        .arg(manifest("valid/passthrough_only.json"))
        .write_stdin("[9.313225746154785e-10, 0.1, 5e-324, 1.7976931348623157e308, -0.0]")
        .assert()
        .success()
        .stdout("[9.313225746154785e-10,0.1,5e-324,1.7976931348623157e+308,-0.0]\n");
}

#[test]
fn run_metrics_go_to_stderr() {
    bin()
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .arg("--metrics")
        .write_stdin("[1,2]")
        .assert()
        .success()
        .stdout("[6,7]\n")
        .stderr(predicate::str::contains("calc").and(predicate::str::contains("CalculatorNode")));
}

#[test]
fn node_failure_exits_1_and_names_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("div.yaml");
    std::fs::write(
        &m,
        "version: v1\nnodes: [{id: divider, node_type: CalculatorNode, params: {operation: divide, operand: 0}}]\n",
    )
    .unwrap();
    bin()
        .arg("run")
        .arg(&m)
        .write_stdin("[1]")
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: node `divider` (`CalculatorNode`) failed: division by zero (1 / 0)\n");
}

#[test]
fn bad_input_data_exits_2() {
    bin()
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .write_stdin("1\n2\n{oops\n")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("invalid input on line 3"));
    bin()
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .args(["--input", "/nonexistent/in.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read input `/nonexistent/in.json`",
        ));
}

#[test]
fn missing_or_invalid_manifest_exits_2() {
    bin()
        .args(["run", "/nonexistent/pipeline.json"])
        .write_stdin("[]")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot access `/nonexistent/pipeline.json`",
        ));
    bin()
        .arg("run")
        .arg(manifest("invalid/param_wrong_type.json"))
        .write_stdin("[1]")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "nodes[0].params.operand: expected a number, found string \"five\"",
        ));
}

#[test]
fn validate_ok_prints_one_line() {
    bin()
        .arg("validate")
        .arg(manifest("passthrough_calculator.json"))
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("OK: ").and(predicate::function(|s: &str| s.lines().count() == 1)),
        );
}

#[test]
fn validate_cycle_exits_2_and_names_every_node_on_it() {
    let out = bin()
        .arg("validate")
        .arg(manifest("invalid/cycle.yaml"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("double -> plus_one -> back -> double"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn validate_prints_every_problem_one_per_line() {
    let out = bin()
        .arg("validate")
        .arg(manifest("invalid/many_problems.yaml"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("error: `") && l.contains("many_problems.yaml`: ")),
        "{stderr}"
    );
    assert!(
        lines[1].ends_with("nodes[1].node_type: unknown node type \"Bufer\"; did you mean `BufferNode`?")
    );
}

#[test]
fn nodes_json_lists_every_node_with_params() {
    let out = bin()
        .args(["nodes", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let nodes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "PassThroughNode",
            "CalculatorNode",
            "MultiplyNode",
            "AddNode",
            "BufferNode",
            "AudioResampleNode",
            "FormatConverterNode",
            "ChannelMixNode",
            "AudioChunkerNode",
            "GainNode",
            "NormalizeNode",
            "VADNode",
            "SileroVADNode",
            "PiperTTSNode"
        ]
    );
    let by_name = |n: &str| {
        nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["node_type"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_name("PassThroughNode")["aliases"],
        serde_json::json!(["PassThrough"])
    );
    let calc = by_name("CalculatorNode");
    assert_eq!(calc["params"]["operation"]["required"], true);
    assert_eq!(calc["params"]["operation"]["choices"][3], "divide");
    assert_eq!(calc["params"]["operand"]["type"], "number");
    assert_eq!(by_name("MultiplyNode")["params"]["factor"]["default"], 2);
    assert_eq!(by_name("AddNode")["params"]["addend"]["default"], 0);
    assert_eq!(by_name("BufferNode")["params"]["buffer_size"]["type"], "integer");
    let vad = by_name("VADNode");
    assert_eq!(
        vad["params"]["emit"]["choices"],
        serde_json::json!(["segments", "frames", "speech"])
    );
    assert_eq!(vad["params"]["mode"]["default"], 2);
    assert_eq!(
        by_name("AudioResampleNode")["params"]["quality"]["default"],
        "high"
    );
}

#[test]
fn nodes_text_lists_params() {
    bin().arg("nodes").assert().success().stdout(
        predicate::str::contains("CalculatorNode")
            .and(predicate::str::contains("buffer_size: integer (default 10"))
            .and(predicate::str::contains("interpreters in this build: rustpython")),
    );
}

#[test]
fn version_help_and_bad_usage() {
    bin()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("remotemedia-runtime {}\n", env!("CARGO_PKG_VERSION")));
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"));
    bin()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand"));
    bin().arg("run").assert().code(2);
}

#[test]
fn schema_command_matches_the_shipped_schema() {
    let shipped = std::fs::read_to_string(manifest("schema.json")).unwrap();
    bin().arg("schema").assert().success().stdout(shipped);
}

#[test]
fn stream_yields_the_first_output_before_stdin_closes() {
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("remotemedia-runtime"))
        .arg("stream")
        .arg(manifest("passthrough_calculator.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    stdin.write_all(b"1\n").unwrap();
    stdin.flush().unwrap();
    // stdin is still open here.
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("no output while stdin is open");
    assert_eq!(first, "6");
    stdin.write_all(b"2.5\n{\"$bytes\": \"AQI=\"}\n").unwrap();
    drop(stdin);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), "7.5");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "bytes are not a number: the run fails");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(
        stderr,
        "error: node `calc` (`CalculatorNode`) failed: expected a number, found bytes\n"
    );
}

#[test]
fn stream_bad_line_exits_2() {
    bin()
        .arg("stream")
        .arg(manifest("passthrough_calculator.json"))
        .write_stdin("1\nnot json\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid input on line 2"));
}

/// The worker threads the engine reports at start-up (`-v`).
fn engine_workers(configure: impl FnOnce(&mut Command)) -> usize {
    let mut command = bin();
    command.arg("-v");
    configure(&mut command);
    let out = command
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .write_stdin("[1]")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[6]\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("engine started"))
        .expect("the start-up line");
    let workers = line.split("workers=").nth(1).expect("workers=");
    workers.trim().parse().unwrap()
}

#[test]
fn threads_cap_the_engine_workers() {
    assert_eq!(
        engine_workers(|c| {
            c.args(["--threads", "3"]);
        }),
        3
    );
    assert_eq!(
        engine_workers(|c| {
            c.env("REMOTEMEDIA_THREADS", "1");
        }),
        1
    );
    // The flag wins over the environment.
    assert_eq!(
        engine_workers(|c| {
            c.env("REMOTEMEDIA_THREADS", "1").args(["--threads", "2"]);
        }),
        2
    );
}

#[test]
fn bad_thread_counts_are_usage_errors() {
    bin()
        .args(["run", "--threads", "0"])
        .arg(manifest("passthrough_calculator.json"))
        .write_stdin("[1]")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
    bin()
        .env("REMOTEMEDIA_THREADS", "many")
        .arg("run")
        .arg(manifest("passthrough_calculator.json"))
        .write_stdin("[1]")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "REMOTEMEDIA_THREADS=\"many\" is not valid; expected a positive number of threads",
        ));
}
