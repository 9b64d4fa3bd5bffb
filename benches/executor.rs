//! Executor overhead.
//!
//! - `per_hop/{multi_thread,current_thread}/{fused,unfused}/N`: M = 10 000 small messages streamed
//!   through a session over a chain of N pass-through nodes (fused: one task; unfused: one task and
//!   one channel per node). Criterion's throughput is messages x hops, so its time per element is
//!   the cost of one message crossing one hop, session entry and exit included.
//! - `batch_3_passthrough_5_items/{multi_thread,current_thread}`: `Pipeline::run` of 3
//!   pass-through nodes over `[1, 2, 3, 4, 5]`, end to end (node creation, task spawn, feed,
//!   collect), the case the seeds measured at 4.33 ms.
//!
//! `cargo bench -p remotemedia-runtime --bench executor`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use remotemedia::{Manifest, Pipeline, RunOptions, Value, builtin_registry};

fn chain(n: usize, fuse: bool) -> Pipeline {
    let nodes: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id": "p{i}", "node_type": "PassThroughNode"}}"#))
        .collect();
    let text = format!(r#"{{"version": "v1", "nodes": [{}]}}"#, nodes.join(","));
    let manifest = Manifest::parse(&text).expect("valid manifest");
    Pipeline::new(&manifest, &builtin_registry())
        .expect("valid pipeline")
        .with_options(RunOptions {
            fuse,
            ..RunOptions::default()
        })
}

fn runtime(multi: bool) -> tokio::runtime::Runtime {
    let mut b = if multi {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().expect("tokio runtime")
}

/// Streams every input through a session (feeding and collecting concurrently), as
/// `remotemedia-runtime stream` does.
async fn stream_all(pipeline: &Pipeline, inputs: Vec<Value>) {
    let expected = inputs.len();
    let (mut input, mut output) = pipeline.start().expect("start").into_split();
    let feed = async move {
        for v in inputs {
            input.send(v).await.expect("send");
        }
        input.close();
    };
    let collect = async {
        let mut n = 0;
        while output.recv().await.expect("recv").is_some() {
            n += 1;
        }
        n
    };
    let ((), received) = tokio::join!(feed, collect);
    assert_eq!(received, expected);
}

fn per_hop(c: &mut Criterion) {
    const MESSAGES: usize = 10_000;
    let inputs: Vec<Value> = (0..MESSAGES as i64).map(Value::Int).collect();
    let mut group = c.benchmark_group("per_hop");
    group.sample_size(20);
    for multi in [true, false] {
        let rt = runtime(multi);
        let flavor = if multi { "multi_thread" } else { "current_thread" };
        for fuse in [true, false] {
            for n in [1usize, 4, 16] {
                let pipeline = chain(n, fuse);
                group.throughput(Throughput::Elements((MESSAGES * n) as u64));
                let name = format!("{flavor}/{}", if fuse { "fused" } else { "unfused" });
                group.bench_with_input(BenchmarkId::new(name, n), &pipeline, |b, p| {
                    b.to_async(&rt).iter(|| stream_all(p, inputs.clone()));
                });
            }
        }
    }
    group.finish();
}

fn small_batch(c: &mut Criterion) {
    let pipeline = chain(3, true);
    let inputs: Vec<Value> = (1..=5).map(Value::Int).collect();
    let mut group = c.benchmark_group("batch_3_passthrough_5_items");
    for multi in [true, false] {
        let rt = runtime(multi);
        let name = if multi { "multi_thread" } else { "current_thread" };
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let out = pipeline.run(inputs.clone()).await.expect("run");
                assert_eq!(out, inputs);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, per_hop, small_batch);
criterion_main!(benches);
