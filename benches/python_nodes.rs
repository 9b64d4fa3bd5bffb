//! Python nodes on the embedded RustPython interpreter.
//!
//! - `rustpython/load_trivial_node`: start an interpreter (frozen stdlib), run a module defining a
//!   trivial `Node` subclass, instantiate it: what each Python node instance costs to create.
//! - `rustpython/process_call`: one trivial `process` call through the engine (a streaming session
//!   over 1 000 items; criterion reports time per item).
//! - `rustpython/chain3_10k`: a 3-node Python chain (add 1, double, keep evens) over 10 000 items.
//!
//! `cargo bench -p remotemedia-runtime --bench python_nodes`

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use remotemedia_runtime::{
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

fn pipeline(nodes: &[(&str, &str)]) -> Pipeline {
    let nodes: Vec<serde_json::Value> = nodes
        .iter()
        .map(|(id, class)| serde_json::json!({"id": id, "node_type": class, "class": class, "source": CHAIN.to_string() + TRIVIAL}))
        .collect();
    let manifest = Manifest::from_json_value(serde_json::json!({"version": "v1", "nodes": nodes}), "(bench)")
        .expect("valid manifest");
    Pipeline::new(&manifest, &builtin_registry()).expect("loads")
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("rustpython");
    group.sample_size(20);

    let host = remotemedia_rustpython_host();
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

    let echo = pipeline(&[("echo", "Echo")]);
    let items: Vec<Value> = (0..1000).map(Value::Int).collect();
    group.throughput(Throughput::Elements(items.len() as u64));
    group.bench_function("process_call", |b| {
        b.to_async(&rt).iter(|| async {
            let out = echo.run(items.clone()).await.expect("run");
            assert_eq!(out.len(), 1000);
        });
    });

    let chain = pipeline(&[("inc", "Inc"), ("double", "Double"), ("evens", "Evens")]);
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

fn remotemedia_rustpython_host() -> Arc<dyn PythonHost> {
    builtin_registry()
        .python_hosts()
        .first()
        .cloned()
        .expect("this build has RustPython")
}

criterion_group!(python_nodes, benches);
criterion_main!(python_nodes);
