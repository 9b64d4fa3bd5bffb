//! Python nodes inside the engine, on the embedded RustPython interpreter and on the binary's
//! embedded CPython.
//!
//! - `<interp>/load_trivial_node`: load a module defining a trivial `Node` subclass and instantiate
//!   it (for RustPython this includes starting the interpreter with its frozen stdlib).
//! - `<interp>/process_call`: one trivial `process` call through the engine (a batch of 1 000
//!   items through one node; criterion reports time per item).
//! - `<interp>/chain3_10k`: a 3-node Python chain (add 1, double, keep evens) over 10 000 items.
//! - `parallel/<interp>_two_branches`: two CPU-bound pure-Python nodes on parallel branches
//!   (fan-out from one pass-through), 4 items each; `_one_branch`: one such node, the same work
//!   per branch. RustPython runs the branches on both cores; CPython serializes them on its GIL.
//!
//! `cargo bench -p remotemedia-runtime --bench python_nodes`

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use remotemedia::{
    Manifest, Map, Pipeline, PythonHost, PythonNodeSpec, PythonSource, Value, builtin_registry,
};

const TRIVIAL: &str =
    "from remotemedia import Node\nclass Echo(Node):\n    def process(self, data):\n        return data\n";
const CHAIN: &str = "from remotemedia import Node\n\
class Inc(Node):\n    def process(self, x):\n        return x + 1\n\
class Double(Node):\n    def process(self, x):\n        return x * 2\n\
class Evens(Node):\n    def process(self, x):\n        return x if x % 4 == 0 else None\n";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

const BUSY: &str = "from remotemedia import Node\n\
class Busy(Node):\n    def process(self, n):\n        total = 0\n        for i in range(n):\n            total += i * i % 7\n        return total\n";

fn pipeline(interp: &str, nodes: &[(&str, &str)]) -> Pipeline {
    let nodes: Vec<serde_json::Value> = nodes
        .iter()
        .map(|(id, class)| serde_json::json!({"id": id, "node_type": class, "class": class, "runtime_hint": interp, "source": CHAIN.to_string() + TRIVIAL}))
        .collect();
    let manifest = Manifest::from_json_value(serde_json::json!({"version": "v1", "nodes": nodes}), "(bench)")
        .expect("valid manifest");
    Pipeline::new(&manifest, &builtin_registry()).expect("loads")
}

/// A pass-through feeding two CPU-bound Python nodes on parallel branches (or only one: the
/// same work per branch, half the total).
fn parallel(interp: &str, two: bool) -> Pipeline {
    let busy = |id: &str| serde_json::json!({"id": id, "node_type": "Busy", "class": "Busy", "runtime_hint": interp, "source": BUSY});
    let manifest = if two {
        serde_json::json!({
            "version": "v1",
            "nodes": [{"id": "src", "node_type": "PassThroughNode"}, busy("left"), busy("right")],
            "connections": [{"from": "src", "to": "left"}, {"from": "src", "to": "right"}],
        })
    } else {
        serde_json::json!({"version": "v1", "nodes": [{"id": "src", "node_type": "PassThroughNode"}, busy("left")]})
    };
    let manifest = Manifest::from_json_value(manifest, "(bench)").expect("valid manifest");
    Pipeline::new(&manifest, &builtin_registry()).expect("loads")
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    for (index, interp) in ["rustpython", "cpython"].into_iter().enumerate() {
        let mut group = c.benchmark_group(interp);
        group.sample_size(20);

        let host = python_host(index);
        let spec = PythonNodeSpec {
            node_id: "echo".into(),
            source: PythonSource::Inline(TRIVIAL.into()),
            class: "Echo".into(),
            params: Map::new(),
            search_path: Vec::new(),
            timeout_ms: None,
        };
        group.bench_function("load_trivial_node", |b| {
            b.iter(|| host.load(&spec).expect("loads"))
        });

        let echo = pipeline(interp, &[("echo", "Echo")]);
        let items: Vec<Value> = (0..1000).map(Value::Int).collect();
        group.throughput(Throughput::Elements(items.len() as u64));
        group.bench_function("process_call", |b| {
            b.to_async(&rt).iter(|| async {
                let out = echo.run(items.clone()).await.expect("run");
                assert_eq!(out.len(), 1000);
            });
        });

        let chain = pipeline(
            interp,
            &[("inc", "Inc"), ("double", "Double"), ("evens", "Evens")],
        );
        let inputs: Vec<Value> = (0..10_000).map(Value::Int).collect();
        group.throughput(Throughput::Elements(inputs.len() as u64));
        group.bench_function("chain3_10k", |b| {
            b.to_async(&rt).iter(|| async {
                let out = chain.run(inputs.clone()).await.expect("run");
                assert_eq!(out.len(), 5_000);
            });
        });
        group.finish();
    }

    let mut group = c.benchmark_group("parallel");
    group.sample_size(10);
    let work: Vec<Value> = vec![Value::Int(200_000); 4];
    for interp in ["rustpython", "cpython"] {
        for (two, label, outputs) in [(true, "two_branches", 8), (false, "one_branch", 4)] {
            let p = parallel(interp, two);
            group.bench_function(format!("{interp}_{label}"), |b| {
                b.to_async(&rt).iter(|| async {
                    let out = p.run(work.clone()).await.expect("run");
                    assert_eq!(out.len(), outputs);
                });
            });
        }
    }
    group.finish();
}

/// The registry's Python hosts: 0 = RustPython, 1 = CPython.
fn python_host(index: usize) -> Arc<dyn PythonHost> {
    builtin_registry()
        .python_hosts()
        .get(index)
        .cloned()
        .expect("this build has RustPython and CPython")
}

criterion_group!(python_nodes, benches);
criterion_main!(python_nodes);
