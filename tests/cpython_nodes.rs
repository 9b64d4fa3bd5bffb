//! Python nodes on CPython inside the engine (the binary's embedded libpython): the `cpython`
//! hint, the `auto` fallback from RustPython at load time, errors with tracebacks, time limits,
//! async methods, and the process-wide interpreter override.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use assert_cmd::Command;
use remotemedia::{Error, Manifest, NodeError, NodeRuntime, Pipeline, PythonError, Value, builtin_registry};

/// Loads only on CPython: RustPython raises ImportError while importing it.
const CPYTHON_ONLY: &str = "import sys\n\
if sys.implementation.name != 'cpython':\n    raise ImportError('this node needs CPython')\n\
from remotemedia import Node\n\
class Where(Node):\n    def process(self, x):\n        return [sys.implementation.name, x]\n";

const WINDOW: &str = "
from remotemedia import Node

class Window(Node):
    def __init__(self, size=3, **kw):
        super().__init__(**kw)
        self.size = size
        self.recent = []

    def process(self, x):
        self.recent = (self.recent + [x])[-self.size:]
        return sum(self.recent)
";

fn pipeline(class: &str, source: &str, extra: serde_json::Value) -> Result<Pipeline, Error> {
    let mut node = serde_json::json!({"id": "py", "node_type": class, "class": class, "source": source});
    node.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let manifest = serde_json::json!({"version": "v1", "nodes": [node]});
    Pipeline::new(
        &Manifest::from_json_value(manifest, "(test)")?,
        &builtin_registry(),
    )
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|&v| Value::Int(v)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpython_hint_runs_a_stateful_node_on_cpython() {
    let p = pipeline(
        "Window",
        WINDOW,
        serde_json::json!({"runtime_hint": "cpython", "params": {"size": 3}}),
    )
    .unwrap();
    assert_eq!(p.node_runtimes(), vec![("py", NodeRuntime::CPython)]);
    assert_eq!(
        p.run(ints(&[10, 20, 30, 40])).await.unwrap(),
        ints(&[10, 30, 60, 90])
    );
    // Each run gets a fresh instance.
    assert_eq!(p.run(ints(&[5])).await.unwrap(), ints(&[5]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_falls_back_to_cpython_when_rustpython_cannot_load_the_node() {
    let p = pipeline("Where", CPYTHON_ONLY, serde_json::json!({})).unwrap();
    assert_eq!(p.node_runtimes(), vec![("py", NodeRuntime::CPython)]);
    let out = p.run(ints(&[7])).await.unwrap();
    assert_eq!(
        out,
        vec![Value::from(vec![Value::from("cpython"), Value::Int(7)])]
    );
    // Code both can run stays on RustPython.
    let p = pipeline("Window", WINDOW, serde_json::json!({})).unwrap();
    assert_eq!(p.node_runtimes(), vec![("py", NodeRuntime::RustPython)]);
}

#[test]
fn a_rustpython_hint_that_cannot_load_is_a_manifest_error() {
    let Err(err) = pipeline(
        "Where",
        CPYTHON_ONLY,
        serde_json::json!({"runtime_hint": "rustpython"}),
    ) else {
        panic!("expected a manifest error");
    };
    assert_eq!(
        err.manifest_issues()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec![
            "nodes[0]: cannot load class `Where` from inline source: rustpython: ImportError: this node needs CPython"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_carries_type_message_and_traceback_and_the_next_run_works() {
    let source = "from remotemedia import Node\n\
class Picky(Node):\n    def process(self, x):\n        return check(x)\n\
def check(x):\n    if x < 0:\n        raise ValueError(f'negative input {x}')\n    return x\n";
    let p = pipeline("Picky", source, serde_json::json!({"runtime_hint": "cpython"})).unwrap();
    let err = p.run(ints(&[1, -2, 3])).await.expect_err("ValueError");
    assert_eq!(
        err.to_string(),
        "node `py` (`Picky`) failed: ValueError: negative input -2"
    );
    let Error::Node {
        cause: NodeError::Python(python),
        ..
    } = err
    else {
        panic!("not a Python error: {err:?}");
    };
    let PythonError {
        exc_type,
        message,
        traceback,
        exception,
        ..
    } = *python;
    assert_eq!(
        (exc_type.as_str(), message.as_str()),
        ("ValueError", "negative input -2")
    );
    assert!(exception.is_some(), "the exception object is kept");
    assert!(
        traceback.starts_with("Traceback (most recent call last):"),
        "{traceback}"
    );
    assert!(traceback.contains("in check"), "{traceback}");
    assert!(
        !traceback.contains("driver"),
        "engine frames are hidden: {traceback}"
    );
    assert_eq!(p.run(ints(&[4])).await.unwrap(), ints(&[4]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_methods_generators_and_flush_follow_the_node_protocol() {
    let source = "
import asyncio
from remotemedia import Node

class Spread(Node):
    async def initialize(self):
        await asyncio.sleep(0)
        self.seen = 0

    async def process(self, x):
        await asyncio.sleep(0)
        self.seen += 1
        if x == 0:
            return None
        return [x] * x

    def flush(self):
        yield 'seen'
        yield self.seen
";
    let p = pipeline("Spread", source, serde_json::json!({"runtime_hint": "cpython"})).unwrap();
    let out = p.run(ints(&[0, 2])).await.unwrap();
    assert_eq!(
        out,
        vec![ints(&[2, 2]).into(), Value::from("seen"), Value::Int(2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_convert_natively_on_cpython() {
    let source = "from remotemedia import Node\n\
class Echo(Node):\n    def process(self, x):\n        return {'type': type(x).__name__, 'value': x}\n";
    let p = pipeline("Echo", source, serde_json::json!({"runtime_hint": "cpython"})).unwrap();
    let inputs = vec![
        Value::Null,
        Value::Bool(true),
        Value::Int(-3),
        Value::Float(2.5),
        Value::from("text"),
        Value::Bytes(bytes::Bytes::from_static(b"\x00\x01")),
        Value::from(ints(&[1, 2])),
    ];
    let out = p.run(inputs.clone()).await.unwrap();
    let types: Vec<String> = out
        .iter()
        .map(|v| {
            v.as_map()
                .unwrap()
                .get("type")
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        types,
        ["NoneType", "bool", "int", "float", "str", "bytes", "list"]
    );
    let values: Vec<Value> = out
        .iter()
        .map(|v| v.as_map().unwrap().get("value").unwrap().clone())
        .collect();
    assert_eq!(values, inputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpython_call_past_timeout_ms_stops_the_run() {
    let source = "import time\nfrom remotemedia import Node\n\
class Slow(Node):\n    def process(self, x):\n        if x:\n            time.sleep(2)\n        return x\n";
    let p = pipeline(
        "Slow",
        source,
        serde_json::json!({"runtime_hint": "cpython", "timeout_ms": 100}),
    )
    .unwrap();
    let started = Instant::now();
    let err = p.run(ints(&[0, 1])).await.expect_err("timeout");
    assert_eq!(
        err.to_string(),
        "node `py` (`Slow`) failed: timed out after 100 ms"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "waited for the slow call"
    );
}

#[test]
fn the_binary_reports_the_interpreter_and_honours_the_override() {
    let manifests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../manifests");
    let validate = |env: Option<&str>| {
        let mut cmd = Command::cargo_bin("remotemedia-runtime").unwrap();
        cmd.arg("validate").arg(manifests.join("python_counter.yaml"));
        if let Some(value) = env {
            cmd.env("REMOTEMEDIA_PYTHON_INTERPRETER", value);
        } else {
            cmd.env_remove("REMOTEMEDIA_PYTHON_INTERPRETER");
        }
        cmd.output().unwrap()
    };
    let out = validate(None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("node `count` runs on rustpython"));
    let out = validate(Some("cpython"));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("node `count` runs on cpython"));
    let out = validate(Some("jython"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(r#"REMOTEMEDIA_PYTHON_INTERPRETER="jython" is not valid; expected "auto", "rustpython" or "cpython""#),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_binary_exits_promptly_when_a_cpython_call_times_out() {
    // The abandoned call sleeps 20 s; the process must not wait for it.
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("slow.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nnodes:\n  - id: slow\n    node_type: Slow\n    class: Slow\n    runtime_hint: cpython\n    timeout_ms: 400\n    source: |\n      import time\n      from remotemedia import Node\n      class Slow(Node):\n          def process(self, x):\n              time.sleep(20)\n              return x\n",
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::cargo_bin("remotemedia-runtime")
        .unwrap()
        .arg("run")
        .arg(&manifest)
        .write_stdin("[1]")
        .timeout(Duration::from_secs(15))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("node `slow` (`Slow`) failed: timed out after 400 ms"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(elapsed < Duration::from_secs(5), "exited after {elapsed:?}");
}

#[test]
fn a_module_whose_own_code_raises_is_not_run_again_on_cpython() {
    // Under `auto`, only "this interpreter cannot host it" (an ImportError, a SyntaxError) moves a
    // node on to CPython; the node's own failure is reported from the first interpreter.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("runs.txt");
    let source = format!(
        "import sys\nwith open({:?}, 'a') as f:\n    f.write(sys.implementation.name + '\\n')\nraise ValueError('broken node module')\n",
        marker.display().to_string()
    );
    let Err(err) = pipeline("Broken", &source, serde_json::json!({})) else {
        panic!("expected a manifest error");
    };
    let text = err.to_string();
    assert!(
        text.contains("cannot load class `Broken` from inline source: rustpython: ")
            && text.contains("ValueError: broken node module"),
        "{text}"
    );
    assert!(!text.contains("cpython:"), "tried CPython too: {text}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "rustpython\n");
    // An ImportError still falls back (the CPython-only node of the other tests).
    let p = pipeline("Where", CPYTHON_ONLY, serde_json::json!({})).unwrap();
    assert_eq!(p.node_runtimes(), vec![("py", NodeRuntime::CPython)]);
}
