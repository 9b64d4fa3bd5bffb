//! Output flow control, end to end through a session (docs/protocol.md, "Backpressure"): a node
//! that emits thousands of outputs for one input reaches a client that reads slowly, every one in
//! order; only a client that takes nothing for the slow-consumer timeout is cut off, and it gets
//! `error` (`slow_consumer`) and close 4429 when it reads again. The transport is the hosted one
//! (frames handed over in-process), so the timing is the test's own; tests/python/test_server.py
//! checks the same over real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::body::Bytes;
use remotemedia_core::{Node, NodeDescriptor, NodeError, NodeInstance, Outputs, Params, Registry, Value};
use remotemedia_server::{Frame, Hosted, HostedStream, Server, ServerConfig};

/// For an input `n`, emits `n` texts of 2 kB: the index, zero-padded, then padding.
struct Burst;

impl Node for Burst {
    fn process(&mut self, value: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let Value::Int(n) = value else {
            return Err(NodeError::InvalidInput("expected an int".into()));
        };
        for i in 0..n {
            out.emit(Value::Text(format!("{i:06}{}", "x".repeat(2000)).into()));
        }
        Ok(())
    }
}

fn hosted(config: ServerConfig) -> (Hosted, tempfile::TempDir) {
    let mut registry = Registry::new();
    registry
        .register(NodeDescriptor::new("Burst"), |_: &Params| {
            Ok(NodeInstance::sync(Burst))
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("burst.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nmetadata: {name: burst}\nnodes:\n  - {id: b, node_type: Burst}\n",
    )
    .unwrap();
    let server = Server::load(&[manifest], &registry, config).expect("load");
    (server.hosted(), dir)
}

const URI: &str = "/v1/pipelines/burst/stream";

fn input(n: usize) -> Frame {
    Frame::Text(format!(r#"{{"type":"input","value":{n}}}"#))
}

/// The index an output frame carries.
fn index(frame: &Frame) -> Option<usize> {
    let Frame::Text(text) = frame else { return None };
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    json["value"].as_str()?.get(..6)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_outputs_of_one_input_reach_a_slow_steady_reader_in_order() {
    let (hosted, _dir) = hosted(ServerConfig {
        output_queue: 16,
        slow_consumer_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    });
    let HostedStream { sender, mut receiver } = hosted.connect(URI, &[]).await.expect("opened");
    assert!(sender.send(input(10_000)).await);
    assert!(sender.send(Frame::Text(r#"{"type":"end"}"#.into())).await);
    let mut indices = Vec::new();
    let mut last = Vec::new();
    while let Some(frame) = receiver.recv().await {
        match index(&frame) {
            Some(i) => indices.push(i),
            None => last.push(frame),
        }
        // Slow but steady: a pause every 500 frames, far longer than the queue takes to fill.
        if indices.len() % 500 == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(indices, (0..10_000).collect::<Vec<_>>());
    assert_eq!(
        last,
        vec![
            Frame::Text(r#"{"type":"done"}"#.into()),
            Frame::Close {
                code: 1000,
                reason: "done".into()
            }
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_longer_than_the_timeout_never_counts_while_the_client_reads() {
    // Each frame is taken within the timeout, though the whole answer takes many timeouts.
    let (hosted, _dir) = hosted(ServerConfig {
        output_queue: 4,
        slow_consumer_timeout: Duration::from_millis(100),
        ..ServerConfig::default()
    });
    let HostedStream { sender, mut receiver } = hosted.connect(URI, &[]).await.expect("opened");
    assert!(sender.send(input(40)).await);
    assert!(sender.send(Frame::Text(r#"{"type":"end"}"#.into())).await);
    let mut count = 0;
    let mut close = None;
    while let Some(frame) = receiver.recv().await {
        if index(&frame).is_some() {
            count += 1;
            tokio::time::sleep(Duration::from_millis(30)).await; // 40 × 30 ms = 12 timeouts in all
        } else if let Frame::Close { code, .. } = frame {
            close = Some(code);
        }
    }
    assert_eq!((count, close), (40, Some(1000)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_gets_slow_consumer_and_4429_when_it_reads_again() {
    let (hosted, _dir) = hosted(ServerConfig {
        output_queue: 16,
        slow_consumer_timeout: Duration::from_millis(300),
        max_sessions: 1,
        ..ServerConfig::default()
    });
    let HostedStream { sender, mut receiver } = hosted.connect(URI, &[]).await.expect("opened");
    assert!(sender.send(input(10_000)).await);
    // Not reading: the session ends after one timeout (300 ms); its `error` and close frame wait
    // for one more.
    tokio::time::sleep(Duration::from_millis(450)).await;
    // Reading again gives the frames already handed over, then the error and 4429.
    let mut frames = Vec::new();
    while let Some(frame) = receiver.recv().await {
        frames.push(frame);
    }
    let n = frames.len();
    assert!(n >= 3, "{frames:?}");
    assert!(
        frames[..n - 2]
            .iter()
            .enumerate()
            .all(|(i, f)| index(f) == Some(i))
    );
    let Frame::Text(error) = &frames[n - 2] else {
        panic!("{:?}", frames[n - 2])
    };
    let error: serde_json::Value = serde_json::from_str(error).unwrap();
    assert_eq!(error["kind"], "slow_consumer");
    assert_eq!(error["code"], 4429);
    assert!(matches!(&frames[n - 1], Frame::Close { code: 4429, .. }));
    // The client answers the close frame, as WebSocket clients do; the session's slot is free again.
    let _ = sender
        .send(Frame::Close {
            code: 4429,
            reason: String::new(),
        })
        .await;
    let mut freed = hosted.connect(URI, &[]).await;
    for _ in 0..100 {
        if freed.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        freed = hosted.connect(URI, &[]).await;
    }
    assert!(freed.is_ok(), "the stalled session still holds its slot");
    // Much less than the 10,000 outputs were produced: the pipeline was held back.
    assert!(n < 100, "{n} frames");
    let metrics = hosted.request("GET", "/metrics", &[], Bytes::new()).await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.lines()
            .any(|l| l.starts_with(r#"remotemedia_errors_total{kind="slow_consumer"} 1"#)),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleared_overtakes_queued_outputs_and_drops_them() {
    let (hosted, _dir) = hosted(ServerConfig {
        output_queue: 64,
        ..ServerConfig::default()
    });
    let HostedStream { sender, mut receiver } = hosted.connect(URI, &[]).await.expect("opened");
    assert!(sender.send(input(5_000)).await);
    // The first output arrives, then the client clears while thousands are still to come.
    let first = receiver.recv().await.expect("a frame");
    assert_eq!(index(&first), Some(0));
    assert!(sender.send(Frame::Text(r#"{"type":"clear"}"#.into())).await);
    assert!(sender.send(input(3)).await);
    assert!(sender.send(Frame::Text(r#"{"type":"end"}"#.into())).await);
    let mut before = 1;
    let mut after = Vec::new();
    let mut cleared = false;
    while let Some(frame) = receiver.recv().await {
        if frame == Frame::Text(r#"{"type":"cleared"}"#.into()) {
            cleared = true;
        } else if let Some(i) = index(&frame) {
            if cleared {
                after.push(i);
            } else {
                before += 1;
            }
        }
    }
    assert!(cleared);
    // Only the outputs already on their way before `cleared` were sent; after it, the new input's.
    assert!(before < 5_000, "{before}");
    assert_eq!(after, vec![0, 1, 2]);
}

/// Passes ints on; a negative one interrupts the session (a voice detector hearing the user).
struct Interrupter;

impl Node for Interrupter {
    fn process(&mut self, value: Value, out: &mut Outputs) -> Result<(), NodeError> {
        if matches!(value, Value::Int(n) if n < 0) {
            out.interrupt();
        }
        out.emit(value);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interruption_drops_the_queued_reply_and_tells_the_client() {
    let mut registry = Registry::new();
    registry
        .register(NodeDescriptor::new("Burst"), |_: &Params| {
            Ok(NodeInstance::sync(Burst))
        })
        .unwrap();
    registry
        .register(NodeDescriptor::new("Interrupter"), |_: &Params| {
            Ok(NodeInstance::blocking(Interrupter))
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("reply.yaml");
    std::fs::write(
        &manifest,
        "version: v1\nmetadata: {name: reply}\nnodes:\n  - {id: vad, node_type: Interrupter}\n  - {id: b, node_type: Burst}\n",
    )
    .unwrap();
    let config = ServerConfig {
        output_queue: 64,
        ..ServerConfig::default()
    };
    let hosted = Server::load(&[manifest], &registry, config)
        .expect("load")
        .hosted();
    let HostedStream { sender, mut receiver } = hosted
        .connect("/v1/pipelines/reply/stream", &[])
        .await
        .expect("opened");
    // A long reply starts; the user talks over it (-1); then a new, short reply.
    assert!(sender.send(input(5_000)).await);
    let first = receiver.recv().await.expect("a frame");
    assert_eq!(index(&first), Some(0));
    assert!(
        sender
            .send(Frame::Text(r#"{"type":"input","value":-1}"#.into()))
            .await
    );
    assert!(sender.send(input(3)).await);
    assert!(sender.send(Frame::Text(r#"{"type":"end"}"#.into())).await);
    let (mut before, mut after, mut interrupted) = (1, Vec::new(), 0);
    while let Some(frame) = receiver.recv().await {
        if frame == Frame::Text(r#"{"type":"interrupted"}"#.into()) {
            interrupted += 1;
        } else if let Some(i) = index(&frame) {
            if interrupted > 0 {
                after.push(i);
            } else {
                before += 1;
            }
        }
    }
    assert_eq!(interrupted, 1);
    // The reply stopped where the user spoke; what followed the interruption was the new reply.
    assert!(before < 5_000, "{before}");
    assert_eq!(after, vec![0, 1, 2]);
}
