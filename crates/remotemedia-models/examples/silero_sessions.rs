//! `SileroVADNode` with inference inline (on the engine's async workers) against on tokio's
//! blocking pool: many sessions at once, each streaming the shipped recording (repeated to 20 s)
//! as fast as it is taken, in 20 ms or 1 s chunks, while a light neighbour task wakes every
//! millisecond and records how late it runs (how long light work waits for a worker). Prints, per setting,
//! the audio processed per second of wall time and the neighbour's median and p99 round trip.
//!
//! `cargo run --release -p remotemedia-models --example silero_sessions`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use remotemedia_core::{AudioBuffer, Pipeline, Registry, Value};

fn registry() -> Registry {
    let mut registry = remotemedia_nodes::builtin_registry();
    remotemedia_models::register(&mut registry).unwrap();
    registry
}

fn pipeline(execution: &str) -> Pipeline {
    let manifest = format!(
        r#"{{"version": "v1", "nodes": [{{"id": "vad", "node_type": "SileroVADNode", "params": {{"execution": "{execution}"}}}}]}}"#
    );
    Pipeline::new(&manifest.parse().unwrap(), &registry()).unwrap()
}

fn recording() -> Vec<i16> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../manifests/data/arctic_a0007.wav"
    );
    let one: Vec<i16> = hound::WavReader::open(path)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect();
    one.repeat(5)
}

async fn session(pipeline: Arc<Pipeline>, audio: Arc<Vec<i16>>, chunk: usize) -> usize {
    let (input, mut output) = pipeline.start().unwrap().into_split();
    let feeder = tokio::spawn(async move {
        let mut input = input;
        for c in audio.chunks(chunk) {
            let value = Value::Audio(Arc::new(AudioBuffer::from_i16(16_000, 1, c.to_vec()).unwrap()));
            input.send(value).await.unwrap();
        }
        input.close();
    });
    let mut segments = 0;
    while output.recv().await.unwrap().is_some() {
        segments += 1;
    }
    feeder.await.unwrap();
    segments
}

/// How late a light task wakes: it sleeps until a deadline 1 ms ahead, again and again, until
/// `stop`, and records how long after the deadline it ran (the wait for a free worker, on top of
/// the timer's own millisecond granularity).
async fn neighbour(stop: Arc<AtomicBool>) -> Vec<f64> {
    let mut times = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(1);
        tokio::time::sleep_until(deadline).await;
        times.push(deadline.elapsed().as_secs_f64() * 1e3);
    }
    times
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let audio = Arc::new(recording());
    let seconds = audio.len() as f64 / 16_000.0;
    println!(
        "| execution | sessions | chunk | audio s per wall s | neighbour late p50 ms | neighbour late p99 ms |"
    );
    println!("|---|---|---|---|---|---|");
    for chunk_ms in [20usize, 1000] {
        for sessions in [1usize, 8, 32] {
            for execution in ["inline", "blocking"] {
                let pipeline = Arc::new(pipeline(execution));
                let (rate, mut times) = rt.block_on(async {
                    let stop = Arc::new(AtomicBool::new(false));
                    let probe = tokio::spawn(neighbour(Arc::clone(&stop)));
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..sessions)
                        .map(|_| {
                            tokio::spawn(session(Arc::clone(&pipeline), Arc::clone(&audio), chunk_ms * 16))
                        })
                        .collect();
                    for t in tasks {
                        assert_eq!(t.await.unwrap(), 5, "five segments per session");
                    }
                    let wall = start.elapsed().as_secs_f64();
                    stop.store(true, Ordering::Relaxed);
                    (seconds * sessions as f64 / wall, probe.await.unwrap())
                });
                times.sort_by(f64::total_cmp);
                println!(
                    "| {execution} | {sessions} | {chunk_ms} ms | {rate:.0} | {:.2} | {:.2} |",
                    percentile(&times, 0.5),
                    percentile(&times, 0.99)
                );
            }
        }
    }
}
