//! Python nodes inside the engine, on the embedded RustPython interpreter: loading (module, file,
//! inline source), the node protocol, value conversion, errors, and the binary with no Python
//! installation on PATH.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use remotemedia::{
    Error, Manifest, NodeError, NodeRuntime, Pipeline, Value, builtin_registry, load_pipeline,
};

fn manifests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../manifests")
}

fn inline(class: &str, source: &str, params: &str) -> Pipeline {
    let manifest = serde_json::json!({
        "version": "v1",
        "nodes": [{
            "id": "py", "node_type": class, "class": class, "source": source,
            "params": serde_json::from_str::<serde_json::Value>(params).unwrap(),
        }],
    });
    let manifest = Manifest::from_json_value(manifest, "(test)").unwrap();
    Pipeline::with_base_dir(&manifest, &builtin_registry(), &manifests()).unwrap()
}

fn plan_error(yaml: &str) -> String {
    let manifest = Manifest::parse(yaml).unwrap();
    match Pipeline::with_base_dir(&manifest, &builtin_registry(), &manifests()) {
        Ok(_) => panic!("expected a manifest error"),
        Err(e) => e.to_string(),
    }
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|&v| Value::Int(v)).collect()
}

fn json(value: &Value) -> String {
    value.to_json().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_from_a_file_keeps_state_and_flushes() {
    let pipeline = load_pipeline(manifests().join("python_counter.yaml")).unwrap();
    assert_eq!(pipeline.node_runtimes(), vec![("count", NodeRuntime::RustPython)]);
    let out = pipeline
        .run(vec!["a".into(), "b".into(), "c".into()])
        .await
        .unwrap();
    let out: Vec<String> = out.iter().map(json).collect();
    assert_eq!(
        out,
        vec![
            r#"{"item":"a","count":1}"#,
            r#"{"item":"b","count":2}"#,
            r#"{"item":"c","count":3}"#,
            r#"{"total":3}"#
        ]
    );
    // A second run gets a fresh instance (fresh state).
    let again = pipeline.run(vec![Value::Null]).await.unwrap();
    assert_eq!(json(&again[0]), r#"{"item":null,"count":1}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_sum_from_inline_source() {
    let source = std::fs::read_to_string(manifests().join("python/window.py")).unwrap();
    let p = inline("WindowSum", &source, r#"{"window": 3}"#);
    assert_eq!(
        p.run(ints(&[10, 20, 30, 40])).await.unwrap(),
        ints(&[10, 30, 60, 90])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_filters_and_generators_expand() {
    let source = std::fs::read_to_string(manifests().join("python/window.py")).unwrap();
    let p = inline("EvenRepeater", &source, r#"{"times": 3}"#);
    assert_eq!(
        p.run(ints(&[1, 2, 3, 4])).await.unwrap(),
        ints(&[2, 2, 2, 4, 4, 4])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_exception_names_the_node_with_type_message_and_traceback() {
    let p = load_pipeline_yaml(
        "version: v1\nnodes: [{id: picky, node_type: Picky, file: python/window.py, class: Picky}]",
    );
    let err = p.run(ints(&[1, -2, 3])).await.expect_err("ValueError");
    assert_eq!(
        err.to_string(),
        "node `picky` (`Picky`) failed: ValueError: negative input -2"
    );
    match err {
        Error::Node {
            cause: NodeError::Python(python),
            ..
        } => {
            let (exc_type, message, traceback) = (python.exc_type, python.message, python.traceback);
            assert_eq!(
                (exc_type.as_str(), message.as_str()),
                ("ValueError", "negative input -2")
            );
            assert!(
                traceback.contains("window.py") && traceback.contains("in process"),
                "{traceback}"
            );
        }
        other => panic!("expected a Python node error, got {other:?}"),
    }
    // The process survives and the next run works.
    assert_eq!(p.run(ints(&[5])).await.unwrap(), ints(&[5]));
}

fn load_pipeline_yaml(yaml: &str) -> Pipeline {
    Pipeline::with_base_dir(&Manifest::parse(yaml).unwrap(), &builtin_registry(), &manifests()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_convert_natively_both_ways() {
    let p = inline(
        "Echo",
        // A generator, so that `None` is passed on (returning `None` means "no output").
        "from remotemedia import Node\nclass Echo(Node):\n    def process(self, data):\n        yield data\n",
        "{}",
    );
    let inputs = remotemedia::value::value_from_json_text(
        r#"[null, true, 7, -9223372036854775808, 1.0, 2.5, "héllo", {"$bytes": "AAH/"}, [1, [2.0, "x"]],
            {"z": {"a": null}, "b": [true]},
            {"$array": {"dtype": "int16", "shape": [2, 2], "data": [1, -2, 3, -4]}},
            {"$array": {"dtype": "float64", "shape": [3], "data": [0.5, 1.5, -2.0]}},
            {"$audio": {"sample_rate": 16000, "channels": 2, "format": "i16", "samples": [1, 2, 3, 4]}},
            {"$audio": {"sample_rate": 8000, "channels": 1, "format": "f32", "samples": [0.25, -0.5]}}]"#,
    )
    .unwrap()
    .into_list()
    .unwrap();
    let out = p.run(inputs.clone()).await.unwrap();
    assert_eq!(out, inputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuples_become_lists_and_stdlib_modules_work() {
    let source = r#"
import json, math, re, statistics, itertools, functools, random
from collections import Counter as Tally
from dataclasses import dataclass
from remotemedia.core.node import Node

@dataclass
class Stats:
    mean: float
    words: int

class Analyse(Node):
    async def process(self, text):
        words = re.findall(r"[a-z]+", text)
        s = Stats(statistics.mean(len(w) for w in words), len(words))
        rng = random.Random(7)
        return (json.dumps({"mean": s.mean, "n": s.words}), math.isqrt(17), Tally(words).most_common(1)[0][0],
                list(itertools.accumulate([1, 2, 3])), functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]),
                rng.randint(0, 10**6) == random.Random(7).randint(0, 10**6))
"#;
    let p = inline("Analyse", source, "{}");
    let out = p.run(vec!["the cat and the hat".into()]).await.unwrap();
    assert_eq!(
        json(&out[0]),
        r#"["{\"mean\": 3, \"n\": 5}",4,"the",[1,3,6],24,true]"#
    );
}

#[test]
fn load_problems_are_manifest_errors_before_any_data() {
    let numpy = plan_error(
        r#"{"version": "v1", "nodes": [{"id": "np", "node_type": "N", "class": "N", "runtime_hint": "rustpython", "source": "import numpy\nclass N: pass"}]}"#,
    );
    assert!(
        numpy.contains("nodes[0]: cannot load class `N` from inline source: rustpython: ModuleNotFoundError"),
        "{numpy}"
    );
    assert!(numpy.contains("numpy"), "{numpy}");
    let missing =
        plan_error("version: v1\nnodes: [{id: c, node_type: C, file: python/counter.py, class: Countr}]");
    assert!(
        missing.contains("AttributeError") && missing.contains("Countr"),
        "{missing}"
    );
    let bad_kwarg = plan_error(
        r#"{"version": "v1", "nodes": [{"id": "g", "node_type": "G", "class": "G", "source": "class G:\n    def __init__(self, gain):\n        self.gain = gain", "params": {"gian": 2}}]}"#,
    );
    assert!(
        bad_kwarg.contains("TypeError") && bad_kwarg.contains("gian"),
        "{bad_kwarg}"
    );
    let two = plan_error(
        "version: v1\nnodes: [{id: c, node_type: C, file: python/counter.py, module: counter, class: Counter}]",
    );
    assert!(two.contains("nodes[0]: a Python node needs exactly one of `module`, `file` or `source` to find class `Counter`, found module and file"), "{two}");
    let rust = plan_error(
        "version: v1\nnodes: [{id: c, node_type: C, file: python/counter.py, class: Counter, runtime_hint: rust}]",
    );
    assert!(
        rust.contains("nodes[0].runtime_hint: \"rust\" runs native nodes"),
        "{rust}"
    );
    let no_file =
        plan_error("version: v1\nnodes: [{id: c, node_type: C, file: python/nope.py, class: Counter}]");
    assert!(
        no_file.contains("nodes[0].file: cannot read") && no_file.contains("nope.py"),
        "{no_file}"
    );
    let no_class = plan_error("version: v1\nnodes: [{id: c, node_type: C, file: python/counter.py}]");
    assert!(
        no_class.contains("nodes[0].class: missing required field for a Python node"),
        "{no_class}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_native_nodes_mix() {
    let source = std::fs::read_to_string(manifests().join("python/window.py")).unwrap();
    let manifest = serde_json::json!({
        "version": "v1",
        "nodes": [
            {"id": "double", "node_type": "MultiplyNode"},
            {"id": "sum", "node_type": "WindowSum", "class": "WindowSum", "source": source, "params": {"window": 2}},
            {"id": "plus", "node_type": "AddNode", "params": {"addend": 1}},
        ],
    });
    let p = Pipeline::new(
        &Manifest::from_json_value(manifest, "(test)").unwrap(),
        &builtin_registry(),
    )
    .unwrap();
    assert_eq!(
        p.node_runtimes(),
        vec![
            ("double", NodeRuntime::Rust),
            ("sum", NodeRuntime::RustPython),
            ("plus", NodeRuntime::Rust)
        ]
    );
    assert_eq!(p.run(ints(&[1, 2, 3])).await.unwrap(), ints(&[3, 7, 11]));
}

#[test]
fn the_binary_runs_python_nodes_without_python_on_path() {
    let out = Command::cargo_bin("remotemedia-runtime")
        .unwrap()
        .current_dir(manifests().parent().unwrap())
        .env("PATH", "/nonexistent")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .args([
            "run",
            "manifests/python_counter.yaml",
            "--input",
            "manifests/python_counter.input.json",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[{\"item\":\"a\",\"count\":1},{\"item\":\"b\",\"count\":2},{\"item\":\"c\",\"count\":3},{\"total\":3}]\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_timeout_ms_stops_the_run() {
    let manifest = serde_json::json!({
        "version": "v1",
        "nodes": [{
            "id": "slow", "node_type": "Slow", "class": "Slow", "timeout_ms": 100,
            "source": "import time\nfrom remotemedia import Node\nclass Slow(Node):\n    def process(self, x):\n        if x:\n            time.sleep(2)\n        return x\n",
        }],
    });
    let p = Pipeline::new(
        &Manifest::from_json_value(manifest, "(test)").unwrap(),
        &builtin_registry(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let err = p.run(ints(&[0, 1, 2])).await.expect_err("timeout");
    assert_eq!(
        err.to_string(),
        "node `slow` (`Slow`) failed: timed out after 100 ms"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "waited for the slow call"
    );
    assert_eq!(p.run(ints(&[0])).await.unwrap(), ints(&[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_the_engine_cannot_carry_is_a_clear_error() {
    let p = inline(
        "Odd",
        "from remotemedia import Node\nclass Odd(Node):\n    def process(self, x):\n        return {1, 2}\n",
        "{}",
    );
    let err = p.run(ints(&[1])).await.expect_err("a set");
    assert!(
        err.to_string().starts_with(
            "node `py` (`Odd`) failed: a Python node produced a `set`, which a pipeline cannot carry"
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_runs_reuse_the_interpreter_with_a_fresh_instance() {
    let source = "
from remotemedia import Node

INSTANCES = [0]

class Seen(Node):
    def __init__(self, **kw):
        super().__init__(**kw)
        INSTANCES[0] += 1
        self.count = 0

    def process(self, x):
        self.count += 1
        return [INSTANCES[0], self.count]
";
    let p = inline("Seen", source, "{}");
    let pairs = |out: Vec<Value>| -> Vec<String> { out.iter().map(json).collect() };
    assert_eq!(pairs(p.run(ints(&[7, 7])).await.unwrap()), ["[1,1]", "[1,2]"]);
    // Same interpreter (the module-level counter goes on), fresh instance (its count restarts).
    assert_eq!(pairs(p.run(ints(&[7])).await.unwrap()), ["[2,1]"]);
    assert_eq!(pairs(p.run(ints(&[7])).await.unwrap()), ["[3,1]"]);
}

#[test]
fn several_python_nodes_load_in_parallel_and_report_problems_in_order() {
    let err = plan_error(
        r#"{"version": "v1", "nodes": [
            {"id": "ok", "node_type": "C", "file": "python/counter.py", "class": "Counter"},
            {"id": "a", "node_type": "A", "class": "A", "source": "raise ValueError('first')"},
            {"id": "b", "node_type": "B", "class": "B", "source": "raise KeyError('second')"}
        ]}"#,
    );
    let first = err.find("nodes[1]: cannot load class `A`").expect(&err);
    let second = err.find("nodes[2]: cannot load class `B`").expect(&err);
    assert!(first < second, "{err}");
    assert!(
        err.contains("ValueError: first") && err.contains("KeyError: 'second'"),
        "{err}"
    );
    assert!(!err.contains("nodes[0]"), "{err}");
}

/// Runs the binary on a one-node manifest of inline Python source with stdin `input`.
fn run_source(source: &str, input: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.json");
    let doc = serde_json::json!({
        "version": "v1",
        "nodes": [{"id": "py", "node_type": "Py", "class": "Py", "source": source}],
    });
    std::fs::write(&manifest, doc.to_string()).unwrap();
    let out = Command::cargo_bin("remotemedia-runtime")
        .unwrap()
        .args(["run", "-v"])
        .arg(&manifest)
        .write_stdin(input)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_async_generator_process_runs_on_rustpython_under_auto() {
    // Loaded on RustPython under `auto` and then failed at run time ("a Python node produced a
    // `async_generator`"); the node protocol now drives it on every host.
    let source = "from remotemedia import Node\nclass Py(Node):\n    async def process(self, x):\n        yield x\n        yield x * 10\n";
    let (code, stdout, stderr) = run_source(source, "[1, 2]");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "[1,10,2,20]\n");
    let loaded = stderr
        .lines()
        .find(|l| l.contains("loaded Python node `Py`"))
        .unwrap_or_default();
    assert!(loaded.contains("rustpython"), "{stderr}");
}

#[test]
fn python_nodes_receive_json_floats_exactly() {
    let source =
        "from remotemedia import Node\nclass Py(Node):\n    def process(self, x):\n        return repr(x)\n";
    let (code, stdout, stderr) = run_source(source, "[9.313225746154785e-10, 0.1]");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "[\"9.313225746154785e-10\",\"0.1\"]\n");
}
