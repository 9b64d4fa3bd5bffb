//! The executor through the public crate API: DAG shapes with exact outputs, filtering and
//! expanding nodes, flush, error propagation, backpressure, sessions and metrics.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use remotemedia::{
    AsyncNode, BoxFuture, Error, Manifest, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec,
    Params, Pipeline, Registry, RunOptions, SessionEvent, Value, builtin_registry,
};

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|&v| Value::Int(v)).collect()
}

fn pipeline(yaml: &str, registry: &Registry) -> Pipeline {
    Pipeline::new(&Manifest::parse(yaml).unwrap(), registry).unwrap()
}

/// Runs with fusion on and off; both must give the same outputs.
async fn run_both(yaml: &str, registry: &Registry, inputs: Vec<Value>) -> Vec<Value> {
    let p = pipeline(yaml, registry);
    let fused = p.run(inputs.clone()).await.unwrap();
    let unfused = p
        .clone()
        .with_options(RunOptions {
            fuse: false,
            channel_capacity: 1,
            ..RunOptions::default()
        })
        .run(inputs)
        .await
        .unwrap();
    assert_eq!(fused, unfused, "fused and unfused runs differ");
    fused
}

/// Keeps even integers (a filtering node).
struct KeepEven;
impl Node for KeepEven {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        if input.as_int().is_some_and(|i| i % 2 == 0) {
            out.emit(input);
        }
        Ok(())
    }
}

/// Emits each input `times` times (an expanding node) and a marker at end of stream.
struct Repeat(i64);
impl Node for Repeat {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        for _ in 0..self.0 {
            out.emit(input.clone());
        }
        Ok(())
    }
    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        out.emit("end");
        Ok(())
    }
}

struct Panics;
impl Node for Panics {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        if input == Value::Int(3) {
            panic!("three is not allowed");
        }
        out.emit(input);
        Ok(())
    }
}

/// An async node that sleeps before passing each input on, counting what it has consumed.
struct Slow {
    delay: Duration,
    consumed: Arc<AtomicUsize>,
}
impl AsyncNode for Slow {
    fn process<'a>(&'a mut self, input: Value, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.consumed.fetch_add(1, Ordering::SeqCst);
            out.emit(input);
            Ok(())
        })
    }
}

/// Counts what it produced, and records the largest gap between produced and consumed items.
struct Counting {
    produced: Arc<AtomicUsize>,
    consumed: Arc<AtomicUsize>,
    max_lag: Arc<AtomicUsize>,
}
impl Node for Counting {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let produced = self.produced.fetch_add(1, Ordering::SeqCst) + 1;
        let lag = produced - self.consumed.load(Ordering::SeqCst);
        self.max_lag.fetch_max(lag, Ordering::SeqCst);
        out.emit(input);
        Ok(())
    }
}

fn test_registry() -> Registry {
    let mut r = builtin_registry();
    r.register(NodeDescriptor::new("KeepEven"), |_: &Params| {
        Ok(NodeInstance::sync(KeepEven))
    })
    .unwrap();
    r.register(
        NodeDescriptor::new("Repeat").param(ParamSpec::integer("times").default(2).min(0.0)),
        |p: &Params| Ok(NodeInstance::sync(Repeat(p.int("times")?))),
    )
    .unwrap();
    r.register(NodeDescriptor::new("Panics"), |_: &Params| {
        Ok(NodeInstance::sync(Panics))
    })
    .unwrap();
    r.register(NodeDescriptor::new("NeverBuilds"), |_: &Params| {
        Err(NodeError::InvalidParams("model file is missing".into()))
    })
    .unwrap();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linear_chain_adds_five() {
    let out = run_both(
        r#"{"version":"v1","nodes":[{"id":"p","node_type":"PassThroughNode"},
            {"id":"c","node_type":"CalculatorNode","params":{"operation":"add","operand":5}}],
            "connections":[{"from":"p","to":"c"}]}"#,
        &test_registry(),
        ints(&[1, 2, 3]),
    )
    .await;
    assert_eq!(out, ints(&[6, 7, 8]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_from_two_roots() {
    // Input 10 into A(x2) and B(+100): both are roots, each sink's outputs in manifest order.
    let yaml = "version: v1
nodes:
  - {id: a, node_type: MultiplyNode, params: {factor: 2}}
  - {id: b, node_type: AddNode, params: {addend: 100}}
connections: []";
    assert_eq!(
        run_both(yaml, &test_registry(), ints(&[10])).await,
        ints(&[20, 110])
    );
    assert_eq!(
        run_both(yaml, &test_registry(), ints(&[10, 1])).await,
        ints(&[20, 2, 110, 101])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_from_one_source() {
    let yaml = "version: v1
nodes:
  - {id: src, node_type: PassThroughNode}
  - {id: b, node_type: AddNode, params: {addend: 100}}
  - {id: a, node_type: MultiplyNode, params: {factor: 2}}
connections: [{from: src, to: a}, {from: src, to: b}]";
    // Sinks in manifest order: b before a.
    assert_eq!(
        run_both(yaml, &test_registry(), ints(&[10, 20])).await,
        ints(&[110, 120, 20, 40])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diamond_merges_both_paths() {
    let p = pipeline(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../manifests/valid/diamond.json"
        ))
        .unwrap(),
        &test_registry(),
    );
    let mut out: Vec<i64> = p
        .run(ints(&[1, 2, 3]))
        .await
        .unwrap()
        .iter()
        .map(|v| v.as_int().unwrap())
        .collect();
    // Arrival order between the two paths depends on timing; each path keeps its own order.
    let left: Vec<i64> = out.iter().copied().filter(|v| *v < 100).collect();
    let right: Vec<i64> = out.iter().copied().filter(|v| *v >= 100).collect();
    assert_eq!(left, vec![2, 4, 6]);
    assert_eq!(right, vec![101, 102, 103]);
    out.sort_unstable();
    assert_eq!(out, vec![2, 4, 6, 101, 102, 103]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_levels_with_branches() {
    // src -> x2 -> {+1 -> buffer(2), x10}; src -> +1000
    let yaml = "version: v1
nodes:
  - {id: src, node_type: PassThroughNode}
  - {id: double, node_type: MultiplyNode}
  - {id: inc, node_type: AddNode, params: {addend: 1}}
  - {id: pairs, node_type: BufferNode, params: {buffer_size: 2}}
  - {id: tens, node_type: MultiplyNode, params: {factor: 10}}
  - {id: big, node_type: AddNode, params: {addend: 1000}}
connections:
  - {from: src, to: double}
  - {from: double, to: inc}
  - {from: inc, to: pairs}
  - {from: double, to: tens}
  - {from: src, to: big}";
    let out = run_both(yaml, &test_registry(), ints(&[1, 2, 3])).await;
    let expected = vec![
        Value::list(ints(&[3, 5])),
        Value::list(ints(&[7])),
        Value::Int(20),
        Value::Int(40),
        Value::Int(60),
        Value::Int(1001),
        Value::Int(1002),
        Value::Int(1003),
    ];
    assert_eq!(out, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtering_expanding_and_flush() {
    let yaml = "version: v1
nodes:
  - {id: even, node_type: KeepEven}
  - {id: rep, node_type: Repeat, params: {times: 3}}
  - {id: buf, node_type: BufferNode, params: {buffer_size: 4}}";
    let out = run_both(yaml, &test_registry(), ints(&[1, 2, 3, 4, 5])).await;
    // 2,2,2,4 | 4,4,"end" (Repeat's flush passes through the buffer, then the buffer flushes).
    assert_eq!(
        out,
        vec![
            Value::list(ints(&[2, 2, 2, 4])),
            Value::list([Value::Int(4), Value::Int(4), Value::from("end")]),
        ]
    );
    // Everything filtered: zero outputs, not an error.
    let none = run_both(
        "version: v1\nnodes: [{id: even, node_type: KeepEven}]",
        &test_registry(),
        ints(&[1, 3]),
    )
    .await;
    assert_eq!(none, Vec::<Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_run_gets_fresh_state() {
    let p = pipeline(
        "version: v1\nnodes: [{id: b, node_type: BufferNode, params: {buffer_size: 2}}]",
        &test_registry(),
    );
    let first = p.run(ints(&[1, 2, 3])).await.unwrap();
    let second = p.run(ints(&[4])).await.unwrap();
    assert_eq!(first, vec![Value::list(ints(&[1, 2])), Value::list(ints(&[3]))]);
    assert_eq!(second, vec![Value::list(ints(&[4]))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_error_names_the_node_and_stops_the_run() {
    let yaml = "version: v1
nodes:
  - {id: src, node_type: PassThroughNode}
  - {id: div, node_type: CalculatorNode, params: {operation: divide, operand: 0}}
  - {id: other, node_type: AddNode}
connections: [{from: src, to: div}, {from: src, to: other}]";
    for fuse in [true, false] {
        let p = pipeline(yaml, &test_registry()).with_options(RunOptions {
            fuse,
            ..RunOptions::default()
        });
        let err = p.run(ints(&[4, 5, 6])).await.expect_err("division by zero");
        match &err {
            Error::Node {
                node_id,
                node_type,
                cause,
            } => {
                assert_eq!(node_id, "div");
                assert_eq!(node_type, "CalculatorNode");
                assert_eq!(cause.to_string(), "division by zero (4 / 0)");
            }
            other => panic!("expected a node error, got {other}"),
        }
        assert_eq!(
            err.to_string(),
            "node `div` (`CalculatorNode`) failed: division by zero (4 / 0)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_input_type_is_a_node_error() {
    let p = pipeline(
        "version: v1\nnodes: [{id: m, node_type: MultiplyNode}]",
        &test_registry(),
    );
    let err = p
        .run(vec![Value::Int(1), Value::from("two")])
        .await
        .expect_err("text");
    assert_eq!(
        err.to_string(),
        "node `m` (`MultiplyNode`) failed: expected a number or a list of numbers, found string \"two\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_node_becomes_an_error() {
    let p = pipeline(
        "version: v1\nnodes: [{id: p, node_type: PassThroughNode}, {id: boom, node_type: Panics}]",
        &test_registry(),
    );
    let err = p.run(ints(&[1, 2, 3, 4])).await.expect_err("panic");
    assert_eq!(
        err.to_string(),
        "node `boom` (`Panics`) failed: the node panicked: three is not allowed"
    );
    // The process survives and the next run works.
    assert_eq!(p.run(ints(&[1, 2])).await.unwrap(), ints(&[1, 2]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_creation_fails_before_any_data_flows() {
    let p = pipeline(
        "version: v1\nnodes: [{id: model, node_type: NeverBuilds}]",
        &test_registry(),
    );
    let err = p.start().err().expect("creation fails");
    assert_eq!(
        err.to_string(),
        "node `model` (`NeverBuilds`) failed: model file is missing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpressure_bounds_what_is_in_flight() {
    let consumed = Arc::new(AtomicUsize::new(0));
    let produced = Arc::new(AtomicUsize::new(0));
    let max_lag = Arc::new(AtomicUsize::new(0));
    let mut r = builtin_registry();
    let (c1, p1, m1) = (consumed.clone(), produced.clone(), max_lag.clone());
    r.register(NodeDescriptor::new("Counting"), move |_: &Params| {
        Ok(NodeInstance::sync(Counting {
            produced: p1.clone(),
            consumed: c1.clone(),
            max_lag: m1.clone(),
        }))
    })
    .unwrap();
    let c2 = consumed.clone();
    r.register(NodeDescriptor::new("Slow"), move |_: &Params| {
        Ok(NodeInstance::new_async(Slow {
            delay: Duration::from_micros(200),
            consumed: c2.clone(),
        }))
    })
    .unwrap();
    let capacity = 4;
    let p = pipeline(
        "version: v1\nnodes: [{id: fast, node_type: Counting}, {id: slow, node_type: Slow}]",
        &r,
    )
    .with_options(RunOptions {
        channel_capacity: capacity,
        ..RunOptions::default()
    });
    let out = p.run((0..300).map(Value::Int).collect()).await.unwrap();
    assert_eq!(out.len(), 300);
    assert_eq!(consumed.load(Ordering::SeqCst), 300);
    // In flight between the producer and the slow consumer: the consumer's input channel, the
    // batch it took from that channel (at most one channel's worth), and the item the producer
    // holds while waiting to send. Without backpressure the producer would run ~300 ahead.
    let lag = max_lag.load(Ordering::SeqCst);
    assert!(
        lag <= 2 * capacity + 2,
        "producer ran {lag} items ahead of a slow consumer (capacity {capacity})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_streams_outputs_before_input_closes() {
    let p = pipeline(
        "version: v1\nnodes: [{id: add, node_type: AddNode, params: {addend: 1}}, {id: buf, node_type: BufferNode, params: {buffer_size: 2}}]",
        &test_registry(),
    );
    let mut session = p.start().unwrap();
    session.send(Value::Int(1)).await.unwrap();
    session.send(Value::Int(2)).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), session.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.value, Value::list(ints(&[2, 3])));
    assert_eq!(&*first.node_id, "buf");
    session.send(Value::Int(3)).await.unwrap();
    session.close_input();
    // Closing flushes the buffer's remainder, then the stream ends.
    assert_eq!(
        session.recv().await.unwrap().unwrap().value,
        Value::list(ints(&[4]))
    );
    assert_eq!(session.recv().await.unwrap(), None);
    assert!(matches!(
        session.send(Value::Int(9)).await,
        Err(Error::SessionClosed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reports_the_error_once() {
    let p = pipeline(
        "version: v1\nnodes: [{id: c, node_type: CalculatorNode, params: {operation: modulo, operand: 0}}]",
        &test_registry(),
    );
    let mut session = p.start().unwrap();
    session.send(Value::Int(1)).await.unwrap();
    let err = session.recv().await.expect_err("modulo by zero");
    assert!(
        err.to_string()
            .contains("node `c` (`CalculatorNode`) failed: modulo by zero"),
        "{err}"
    );
    assert_eq!(session.recv().await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_session_stops_its_tasks() {
    struct Tracked(#[allow(dead_code)] Arc<()>);
    impl Node for Tracked {
        fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
            out.emit(input);
            Ok(())
        }
    }
    let token = Arc::new(());
    let mut r = builtin_registry();
    let t = token.clone();
    r.register(NodeDescriptor::new("Tracked"), move |_: &Params| {
        Ok(NodeInstance::sync(Tracked(t.clone())))
    })
    .unwrap();
    let p = pipeline(
        "version: v1\nnodes: [{id: a, node_type: Tracked}, {id: b, node_type: Tracked}]",
        &r,
    )
    .with_options(RunOptions {
        fuse: false,
        ..RunOptions::default()
    });
    let session = p.start().unwrap();
    session.send(Value::Int(1)).await.unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        4,
        "the registry's copy plus one per live node"
    );
    drop(session);
    // The tasks are aborted and drop their nodes.
    for _ in 0..100 {
        if Arc::strong_count(&token) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        Arc::strong_count(&token),
        2,
        "node tasks still alive after the session was dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_shares_values_without_copying() {
    let yaml = "version: v1
nodes:
  - {id: src, node_type: PassThroughNode}
  - {id: a, node_type: PassThroughNode}
  - {id: b, node_type: PassThroughNode}
connections: [{from: src, to: a}, {from: src, to: b}]";
    let big = Value::list((0..10_000).map(Value::Int));
    let out = run_both(yaml, &test_registry(), vec![big.clone()]).await;
    match (&big, &out[0], &out[1]) {
        (Value::List(orig), Value::List(a), Value::List(b)) => {
            assert!(
                Arc::ptr_eq(orig, a) && Arc::ptr_eq(a, b),
                "fan-out copied the list"
            );
        }
        other => panic!("expected lists, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_items_per_node() {
    let p = pipeline(
        "version: v1\nnodes: [{id: even, node_type: KeepEven}, {id: rep, node_type: Repeat, params: {times: 2}}]",
        &test_registry(),
    )
    .with_options(RunOptions { metrics: true, ..RunOptions::default() });
    let report = p.run_with_report(ints(&[1, 2, 3, 4])).await.unwrap();
    let metrics = report.metrics.expect("metrics enabled");
    let counts: Vec<(&str, u64, u64)> = metrics
        .iter()
        .map(|m| (&*m.node_id, m.items_in, m.items_out))
        .collect();
    // `rep` emits 2 per input plus its end marker.
    assert_eq!(counts, vec![("even", 4, 2), ("rep", 2, 5)]);
    // Four process calls plus one flush for `even`, two plus one for `rep`.
    assert_eq!(metrics.iter().map(|m| m.calls).collect::<Vec<_>>(), vec![5, 3]);
    assert!(
        metrics
            .iter()
            .all(|m| m.max_time <= m.total_time && m.mean_time() <= m.max_time)
    );
    let plain = p
        .clone()
        .with_options(RunOptions::default())
        .run_with_report(ints(&[1]))
        .await
        .unwrap();
    assert_eq!(plain.metrics, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fusion_groups_linear_runs() {
    let yaml = "version: v1
nodes:
  - {id: a, node_type: PassThroughNode}
  - {id: b, node_type: PassThroughNode}
  - {id: c, node_type: PassThroughNode}
  - {id: d, node_type: PassThroughNode}
connections: [{from: a, to: b}, {from: b, to: c}, {from: b, to: d}]";
    let p = pipeline(yaml, &test_registry());
    assert_eq!(p.stages().unwrap(), vec![vec!["a", "b"], vec!["c"], vec!["d"]]);
    let unfused = p.with_options(RunOptions {
        fuse: false,
        ..RunOptions::default()
    });
    assert_eq!(unfused.stages().unwrap().len(), 4);
}

#[test]
fn an_inline_session_gives_the_sessions_outputs_on_the_calling_thread() {
    let p = pipeline(
        "version: v1\nnodes: [{id: add, node_type: AddNode, params: {addend: 1}}, {id: buf, node_type: BufferNode, params: {buffer_size: 2}}]",
        &test_registry(),
    );
    let mut inline = p.start_inline().unwrap().expect("one fused chain of sync nodes");
    assert_eq!(inline.push(Value::Int(1)).unwrap(), vec![]);
    assert_eq!(
        inline.push(Value::Int(2)).unwrap(),
        vec![Value::list(ints(&[2, 3]))]
    );
    assert_eq!(inline.push(Value::Int(3)).unwrap(), vec![]);
    // The end flushes the buffer's remainder; then the session takes nothing more.
    assert_eq!(inline.finish().unwrap(), vec![Value::list(ints(&[4]))]);
    assert!(matches!(inline.push(Value::Int(4)), Err(Error::SessionClosed)));
    // A node error names the node and ends the session.
    let div = pipeline(
        "version: v1\nnodes: [{id: div, node_type: CalculatorNode, params: {operation: divide, operand: 0}}]",
        &test_registry(),
    );
    let mut inline = div.start_inline().unwrap().unwrap();
    let err = inline.push(Value::Int(1)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("node `div` (`CalculatorNode`) failed: "),
        "{err}"
    );
    assert!(matches!(inline.push(Value::Int(1)), Err(Error::SessionClosed)));
    // Fan-out is not one chain: no inline session.
    let fan = pipeline(
        "version: v1\nnodes: [{id: a, node_type: PassThroughNode}, {id: b, node_type: PassThroughNode}, {id: c, node_type: PassThroughNode}]\nconnections: [{from: a, to: b}, {from: a, to: c}]",
        &test_registry(),
    );
    assert!(fan.start_inline().unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_hands_outputs_over_in_batches() {
    let p = pipeline(
        "version: v1\nnodes: [{id: add, node_type: AddNode, params: {addend: 1}}]",
        &test_registry(),
    )
    .with_options(RunOptions {
        fuse: false,
        channel_capacity: 4,
        ..RunOptions::default()
    });
    let (input, mut output) = p.start().unwrap().into_split();
    // Room for a few inputs without waiting, then the queue is full: the input comes back.
    let mut sent = 0;
    let mut refused = None;
    for i in 0..100 {
        match input.try_send(Value::Int(i)).unwrap() {
            None => sent += 1,
            Some(back) => {
                refused = Some(back);
                break;
            }
        }
    }
    assert!((4..100).contains(&sent), "{sent}");
    assert_eq!(refused, Some(Value::Int(sent)));
    // One wait for a whole batch of outputs, in order.
    let mut received = Vec::new();
    while received.len() < usize::try_from(sent).unwrap() {
        let batch = output.recv_many(1024).await.unwrap().unwrap();
        assert!(!batch.is_empty());
        received.extend(batch.into_iter().map(|o| o.value));
    }
    assert_eq!(received, (1..=sent).map(Value::Int).collect::<Vec<_>>());
    assert_eq!(output.try_recv_many(1024).unwrap(), Some(vec![]));
    drop(input);
    assert_eq!(output.recv_many(1024).await.unwrap(), None);
    assert_eq!(output.try_recv_many(1024).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_drops_queued_inputs_and_outputs_but_keeps_the_session() {
    let mut r = test_registry();
    let consumed = Arc::new(AtomicUsize::new(0));
    let c = consumed.clone();
    r.register(NodeDescriptor::new("Slow"), move |_: &Params| {
        Ok(NodeInstance::new_async(Slow {
            delay: Duration::from_millis(2),
            consumed: c.clone(),
        }))
    })
    .unwrap();
    let p = pipeline(
        "version: v1\nnodes: [{id: fast, node_type: PassThroughNode}, {id: slow, node_type: Slow}, {id: last, node_type: PassThroughNode}]",
        &r,
    )
    .with_options(RunOptions {
        channel_capacity: 256,
        fuse: false,
        ..RunOptions::default()
    });
    let session = p.start().unwrap();
    let (input, mut output) = session.into_split();
    for i in 0..200 {
        input.send(Value::Int(i)).await.unwrap();
    }
    let epoch = input.clear();
    assert_eq!(epoch, 1);
    for i in 1000..1005 {
        input.send(Value::Int(i)).await.unwrap();
    }
    let mut input = input;
    input.close();
    let mut seen = Vec::new();
    while let Some(out) = output.recv().await.unwrap() {
        seen.push((out.value, out.epoch));
    }
    // Nothing sent before the clear comes out after it; what came after comes out whole.
    assert_eq!(seen, (1000..1005).map(|i| (Value::Int(i), 1)).collect::<Vec<_>>());
    // Most queued inputs were never processed (the slow node takes 2 ms each).
    assert!(
        consumed.load(Ordering::SeqCst) < 100,
        "{} processed",
        consumed.load(Ordering::SeqCst)
    );
}

/// A streaming node: input `n` becomes `n` outputs (`n*10 + step`), one per step, each step
/// taking `delay`; counts the steps it ran.
struct Steps {
    queue: std::collections::VecDeque<i64>,
    delay: Duration,
    steps: Arc<AtomicUsize>,
}

impl Steps {
    fn step(&mut self, out: &mut Outputs) {
        if let Some(v) = self.queue.pop_front() {
            std::thread::sleep(self.delay);
            self.steps.fetch_add(1, Ordering::SeqCst);
            out.emit(Value::Int(v));
        }
    }
}

impl Node for Steps {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let Value::Int(n) = input else {
            return Err(NodeError::invalid_input("expected an int"));
        };
        self.queue.extend((0..n).map(|step| n * 10 + step));
        self.step(out);
        Ok(())
    }

    fn has_more(&self) -> bool {
        !self.queue.is_empty()
    }

    fn resume(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        self.step(out);
        Ok(())
    }

    fn discard_pending(&mut self) {
        self.queue.clear();
    }
}

fn steps_registry(delay: Duration, blocking: bool) -> (Registry, Arc<AtomicUsize>) {
    let mut r = test_registry();
    let steps = Arc::new(AtomicUsize::new(0));
    let s = steps.clone();
    r.register(NodeDescriptor::new("Steps"), move |_: &Params| {
        let node = Steps {
            queue: Default::default(),
            delay,
            steps: s.clone(),
        };
        Ok(if blocking {
            NodeInstance::blocking(node)
        } else {
            NodeInstance::sync(node)
        })
    })
    .unwrap();
    (r, steps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_node_finishes_every_step_in_order() {
    for blocking in [true, false] {
        let (r, _) = steps_registry(Duration::ZERO, blocking);
        let yaml = "version: v1\nnodes: [{id: s, node_type: Steps}, {id: add, node_type: AddNode, params: {addend: 1}}]";
        let out = run_both(yaml, &r, ints(&[2, 3, 1])).await;
        assert_eq!(out, ints(&[21, 22, 31, 32, 33, 11]), "blocking: {blocking}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_node_delivers_its_first_step_before_its_last_is_made() {
    let (r, steps) = steps_registry(Duration::from_millis(100), true);
    let p = pipeline("version: v1\nnodes: [{id: s, node_type: Steps}]", &r);
    let mut session = p.start().unwrap();
    session.send(Value::Int(5)).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), session.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.value, Value::Int(50));
    // Five steps take 500 ms: the first output arrived while most were still to come.
    assert!(
        steps.load(Ordering::SeqCst) <= 3,
        "{} steps ran",
        steps.load(Ordering::SeqCst)
    );
    session.close_input();
    let mut rest = Vec::new();
    while let Some(out) = session.recv().await.unwrap() {
        rest.push(out.value);
    }
    assert_eq!(rest, ints(&[51, 52, 53, 54]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_drops_a_streaming_nodes_unfinished_work() {
    let (r, steps) = steps_registry(Duration::from_millis(50), true);
    let p = pipeline("version: v1\nnodes: [{id: s, node_type: Steps}]", &r);
    let (input, mut output) = p.start().unwrap().into_split();
    input.send(Value::Int(9)).await.unwrap();
    let first = output.recv().await.unwrap().unwrap();
    assert_eq!((first.value, first.epoch), (Value::Int(90), 0));
    input.clear();
    input.send(Value::Int(2)).await.unwrap();
    let mut input = input;
    input.close();
    let mut after = Vec::new();
    while let Some(out) = output.recv().await.unwrap() {
        if out.epoch == 1 {
            after.push(out.value);
        }
    }
    assert_eq!(after, ints(&[20, 21]));
    // The nine steps of the first input were cut short by the clear.
    assert!(
        steps.load(Ordering::SeqCst) < 9 + 2,
        "{} steps ran",
        steps.load(Ordering::SeqCst)
    );
}

/// Passes ints on; a negative one interrupts the session.
struct Interrupts;

impl Node for Interrupts {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        if matches!(input, Value::Int(n) if n < 0) {
            out.interrupt();
        }
        out.emit(input);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interruption_drops_what_is_downstream_and_tells_the_reader() {
    let (mut r, steps) = steps_registry(Duration::from_millis(50), true);
    r.register(NodeDescriptor::new("Interrupts"), |_: &Params| {
        Ok(NodeInstance::blocking(Interrupts))
    })
    .unwrap();
    let p = pipeline(
        "version: v1\nnodes: [{id: vad, node_type: Interrupts}, {id: tts, node_type: Steps}]",
        &r,
    );
    let mut session = p.start().unwrap();
    session.send(Value::Int(9)).await.unwrap();
    let first = session.recv_event().await.unwrap().unwrap();
    let SessionEvent::Output(first) = first else {
        panic!("{first:?}")
    };
    assert_eq!((first.value, first.epoch), (Value::Int(90), 0));
    // The user talks over the reply: the rest of its nine steps are dropped.
    session.send(Value::Int(-1)).await.unwrap();
    session.send(Value::Int(2)).await.unwrap();
    session.close_input();
    let mut events = Vec::new();
    while let Some(event) = session.recv_event().await.unwrap() {
        events.push(event);
    }
    let notice = events
        .iter()
        .position(|e| matches!(e, SessionEvent::Interrupted { epoch: 1 }))
        .expect("an interruption notice");
    let after: Vec<Value> = events[notice + 1..]
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Output(o) => Some(o.value.clone()),
            SessionEvent::Interrupted { .. } => None,
        })
        .collect();
    assert_eq!(after, ints(&[20, 21]));
    assert!(
        steps.load(Ordering::SeqCst) < 9 + 2,
        "{} steps ran",
        steps.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interruption_keeps_what_is_upstream() {
    // The interrupting node's own input queue is not dropped: the user's speech goes on in.
    let mut r = test_registry();
    r.register(NodeDescriptor::new("Interrupts"), |_: &Params| {
        Ok(NodeInstance::blocking(Interrupts))
    })
    .unwrap();
    let p = pipeline(
        "version: v1\nnodes: [{id: up, node_type: PassThroughNode}, {id: vad, node_type: Interrupts}, {id: down, node_type: AddNode, params: {addend: 100}}]",
        &r,
    );
    let out = p.start().unwrap();
    let (input, mut output) = out.into_split();
    for v in [1, -1, 2, 3] {
        input.send(Value::Int(v)).await.unwrap();
    }
    let mut input = input;
    input.close();
    let mut values = Vec::new();
    while let Some(o) = output.recv().await.unwrap() {
        values.push(o.value);
    }
    // Everything the interrupting node took went through (its own outputs carry the new epoch);
    // only what was downstream of it when it interrupted could be dropped.
    assert!(values.ends_with(&ints(&[99, 102, 103])), "{values:?}");
}
