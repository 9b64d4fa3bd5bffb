//! Load on `remotemedia-runtime serve` (issues 13, 21): N WebSocket sessions, each sending
//! real-time paced 20 ms chunks of 48 kHz stereo speech through downmix → 16 kHz → VAD with
//! per-frame decisions (20 ms frames), on the same machine as the server.
//!
//! `cargo bench -p remotemedia-server --bench serve_load -- [N...]` (after
//! `cargo build --release -p remotemedia-cli`); with `REMOTEMEDIA_LOAD_PEER=python`, the same load
//! on the peer, benches/peer_server.py (plain `websockets` + numpy, the package's pure-Python
//! nodes, run with `.venv/bin/python`); with `REMOTEMEDIA_LOAD_PEER=ray`, on the Ray Serve
//! application (benches/peer_ray_serve.py, run with `.venv-ray/bin/python`, `make venv-ray`).
//! `REMOTEMEDIA_LOAD_MAX_LATENCY_MS` sets the resampler's `max_latency_ms` (default: the node's).
//! Figures go to benches/RESULTS.md.
//!
//! Each output carries the stream time it covers (`start`, and one decision per 20 ms frame), so
//! its **lateness** is measured from the stream time it covers: output received → the chunk that
//! completes its last frame sent. That includes the pipeline's own hold-back (the resampler's
//! blocks: outputs are released a block at a time). The **added latency** is what load adds: on
//! an idle server (one calibration session, run alone first) each output arrives a little after
//! the chunk that releases it (the last one sent before it arrives); under load, the same output
//! (paired by the stream time it covers) arrives that much later after the same chunk. It counts
//! the loopback hop, queueing and work, and not the client's own pacing jitter. Outputs are
//! paired by the stream time
//! they cover, never by count, and the bench fails if any output has no twin in the calibration
//! run or decides differently. For each N: p50/p99 over a measuring window after a warm-up, the
//! server's CPU over the window (per session, as a share of one core), and its RSS; idle RSS per
//! session is measured with N sessions open and silent. CPU and RSS are the server's whole process
//! tree (for Ray: its GCS, raylet, Serve controller, proxy and replica).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

mod server_proc;
use server_proc::{Server, free_port, repo, spawn_binary, speech_48k_stereo, tree_stat, wait_listening};

const WARMUP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(8);

fn start_server(manifest: &std::path::Path) -> Server {
    let port = free_port();
    let peer = std::env::var("REMOTEMEDIA_LOAD_PEER").unwrap_or_default();
    let child = if peer == "ray" {
        // The Ray Serve application: Ray, Serve's proxy and one replica.
        let python = std::env::var("REMOTEMEDIA_LOAD_PYTHON")
            .unwrap_or_else(|_| repo(".venv-ray/bin/python").display().to_string());
        let mut child = std::process::Command::new(python)
            .arg(repo("benches/peer_ray_serve.py"))
            .arg(port.to_string())
            .arg(manifest)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cannot start benches/peer_ray_serve.py (make venv-ray)");
        // It prints `ready` once the application is deployed.
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the Ray Serve peer did not start");
        child
    } else if peer == "python" {
        // The peer: a plain `websockets` + numpy server with the same pipeline.
        let python = std::env::var("REMOTEMEDIA_LOAD_PYTHON")
            .unwrap_or_else(|_| repo(".venv/bin/python").display().to_string());
        std::process::Command::new(python)
            .arg(repo("benches/peer_server.py"))
            .arg(port.to_string())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cannot start benches/peer_server.py")
    } else {
        spawn_binary(
            &[manifest],
            port,
            &["--max-sessions", "4096", "--idle-timeout", "600"],
        )
    };
    wait_listening(child, port)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(port: u16) -> Socket {
    let url =
        format!("ws://127.0.0.1:{port}/v1/pipelines/load/stream?format=s16le&sample_rate=48000&channels=2");
    tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .expect("connect")
        .0
}

/// One output: when it arrived, the stream time its first frame starts at (µs: the pairing key),
/// its decisions, and the stream time its last frame ends at (s).
struct Arrival {
    at: Instant,
    start_us: i64,
    speech: Vec<bool>,
    end_s: f64,
    /// Where its first frame ends (s).
    first_end_s: f64,
}

/// What a session saw: when each chunk was sent, and every output.
struct Seen {
    sends: Vec<Instant>,
    arrivals: Vec<Arrival>,
    /// When `end` was sent: later outputs are the flush of a cut stream (not measured).
    ended: Instant,
}

impl Seen {
    /// The lateness (ms) of `arrival`: received → the chunk completing its last frame sent.
    fn lateness_ms(&self, arrival: &Arrival) -> Option<(Instant, f64)> {
        self.lateness_at(arrival, arrival.end_s)
    }

    /// The lateness (ms) of `arrival`'s oldest frame: received → the chunk completing it sent.
    fn oldest_lateness_ms(&self, arrival: &Arrival) -> Option<f64> {
        Some(self.lateness_at(arrival, arrival.first_end_s)?.1)
    }

    fn lateness_at(&self, arrival: &Arrival, stream_s: f64) -> Option<(Instant, f64)> {
        let chunk = ((stream_s / CHUNK_S - 1e-6).ceil() as usize).checked_sub(1)?;
        let sent = *self.sends.get(chunk)?;
        Some((sent, arrival.at.duration_since(sent).as_secs_f64() * 1e3))
    }
}

impl Seen {
    /// The index of the last chunk sent before `arrival`.
    fn released_by(&self, arrival: &Arrival) -> Option<usize> {
        self.sends
            .partition_point(|&sent| sent <= arrival.at)
            .checked_sub(1)
    }
}

const CHUNK_S: f64 = 0.02;

fn parse_output(value: &serde_json::Value, at: Instant) -> Arrival {
    let start = value["start"].as_f64().expect("a frames output has `start`");
    let frame_ms = value["frame_ms"]
        .as_f64()
        .expect("a frames output has `frame_ms`");
    let speech: Vec<bool> = value["speech"]
        .as_array()
        .expect("a frames output has `speech`")
        .iter()
        .map(|b| b.as_bool().expect("a decision"))
        .collect();
    Arrival {
        at,
        start_us: (start * 1e6).round() as i64,
        end_s: start + speech.len() as f64 * frame_ms / 1e3,
        first_end_s: start + frame_ms / 1e3,
        speech,
    }
}

/// One paced session from `start_at + offset` until `stop_at`; returns what it saw.
async fn session(
    socket: Socket,
    audio: Arc<Vec<u8>>,
    offset: Duration,
    start_at: Instant,
    stop_at: Instant,
) -> Seen {
    let (mut tx, mut rx) = socket.split();
    let sends: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let chunk = 48_000 * 2 * 2 / 50; // 20 ms of 48 kHz stereo s16le
    let sender = {
        let sends = Arc::clone(&sends);
        tokio::spawn(async move {
            tokio::time::sleep_until((start_at + offset).into()).await;
            let mut ticks = tokio::time::interval(Duration::from_millis(20));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut pos = 0;
            while Instant::now() < stop_at {
                ticks.tick().await;
                if pos + chunk > audio.len() {
                    pos = 0;
                }
                sends.lock().await.push(Instant::now());
                if tx
                    .send(Message::Binary(audio[pos..pos + chunk].to_vec().into()))
                    .await
                    .is_err()
                {
                    break;
                }
                pos += chunk;
            }
            let ended = Instant::now();
            let _ = tx.send(Message::Text(r#"{"type":"end"}"#.into())).await;
            ended
        })
    };
    let mut arrivals = Vec::new();
    while let Some(Ok(message)) = rx.next().await {
        let Message::Text(text) = message else { continue };
        let at = Instant::now();
        let message: serde_json::Value = serde_json::from_str(&text).expect("a JSON message");
        match message["type"].as_str() {
            Some("output") => arrivals.push(parse_output(&message["value"], at)),
            Some("done") => break,
            Some("error") => panic!("a session failed: {text}"),
            _ => {}
        }
    }
    let ended = sender.await.unwrap();
    let sends = std::mem::take(&mut *sends.lock().await);
    Seen {
        sends,
        arrivals,
        ended,
    }
}

/// Each output of an idle server's session, by the stream time it starts at: its decisions, the
/// chunk that released it (the last one sent before it arrived), and how long after that chunk
/// it arrived (ms).
type Baseline = std::collections::HashMap<i64, (Vec<bool>, usize, f64)>;

fn baseline(seen: &Seen) -> Baseline {
    seen.arrivals
        .iter()
        .filter_map(|a| {
            let release = seen.released_by(a)?;
            let delay = a.at.duration_since(seen.sends[release]).as_secs_f64() * 1e3;
            Some((a.start_us, (a.speech.clone(), release, delay)))
        })
        .collect()
}

/// Lateness and added latency (ms) of the outputs whose last chunk was sent inside `window`. The
/// added latency is how much later than on the idle server the output arrived after the chunk
/// that released it there (so the client's own pacing jitter does not count). Fails on an output
/// the calibration run does not have, or that decides differently.
fn measure(seen: &Seen, base: &Baseline, window: (Instant, Instant)) -> Vec<(f64, f64)> {
    seen.arrivals
        .iter()
        .filter_map(|a| {
            let (sent, late) = seen.lateness_ms(a)?;
            if sent < window.0 || sent >= window.1 || a.at >= seen.ended {
                return None;
            }
            let (speech, release, idle) = base.get(&a.start_us).unwrap_or_else(|| {
                panic!(
                    "an output at {} s has no twin in the calibration run: outputs are not paired",
                    a.start_us as f64 / 1e6
                )
            });
            assert_eq!(
                speech,
                &a.speech,
                "the decisions at {} s differ under load",
                a.start_us as f64 / 1e6
            );
            let after_release = a.at.duration_since(*seen.sends.get(*release)?).as_secs_f64() * 1e3;
            Some((late, after_release - idle))
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() {
        vec![100, 250, 500, 750, 1000]
    } else {
        counts
    };
    let dir = tempfile_dir();
    let manifest = dir.join("load.yaml");
    let resample_params = match std::env::var("REMOTEMEDIA_LOAD_MAX_LATENCY_MS") {
        Ok(ms) => format!("{{target_sample_rate: 16000, max_latency_ms: {ms}}}"),
        Err(_) => "{target_sample_rate: 16000}".to_string(),
    };
    std::fs::write(
        &manifest,
        format!(
            "version: v1\nmetadata: {{name: load}}\nnodes:\n  - {{id: mono, node_type: ChannelMixNode, params: {{mode: downmix}}}}\n  - {{id: resample, node_type: AudioResampleNode, params: {resample_params}}}\n  - {{id: vad, node_type: VADNode, params: {{emit: frames, frame_duration_ms: 20}}}}\n"
        ),
    )
    .unwrap();
    let audio = Arc::new(speech_48k_stereo());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| sessions | p50 / p99 lateness | p50 / p99 added latency | outputs measured | server CPU per session | server RSS | idle RSS per session |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut idle_lateness = None;
    for &n in &counts {
        let server = start_server(&manifest);
        let pid = server.child.id();
        let (_, rss_empty) = tree_stat(pid);
        let row = runtime.block_on(async {
            // Calibration: one session alone, as long as the loaded ones.
            let start_at = Instant::now() + Duration::from_millis(100);
            let stop_at = start_at + WARMUP + WINDOW + Duration::from_millis(500);
            let alone = session(open(server.port).await, Arc::clone(&audio), Duration::ZERO, start_at, stop_at).await;
            let base = baseline(&alone);
            assert!(base.len() > 100, "the calibration run saw {} outputs", base.len());
            if idle_lateness.is_none() {
                let measured = |lateness: &dyn Fn(&Arrival) -> Option<f64>| {
                    let mut late: Vec<f64> = alone.arrivals.iter().filter(|a| a.at < alone.ended).filter_map(lateness).collect();
                    late.sort_by(f64::total_cmp);
                    (percentile(&late, 0.5), percentile(&late, 0.99), late[late.len() - 1])
                };
                let outputs = alone.arrivals.len() as f64;
                let frames: usize = alone.arrivals.iter().map(|a| a.speech.len()).sum();
                idle_lateness = Some((
                    measured(&|a| Some(alone.lateness_ms(a)?.1)),
                    measured(&|a| alone.oldest_lateness_ms(a)),
                    frames as f64 / outputs,
                ));
            }
            let mut sockets = Vec::with_capacity(n);
            for _ in 0..n {
                sockets.push(open(server.port).await);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (_, rss_idle) = tree_stat(pid);
            let start_at = Instant::now() + Duration::from_millis(200);
            let window = (start_at + WARMUP, start_at + WARMUP + WINDOW);
            let tasks: Vec<_> = sockets
                .into_iter()
                .enumerate()
                .map(|(i, socket)| {
                    let offset = Duration::from_micros((i as u64 * 20_000) / n as u64);
                    tokio::spawn(session(socket, Arc::clone(&audio), offset, start_at, window.1))
                })
                .collect();
            tokio::time::sleep_until(window.0.into()).await;
            let (cpu0, _) = tree_stat(pid);
            tokio::time::sleep_until(window.1.into()).await;
            let (cpu1, rss_busy) = tree_stat(pid);
            let mut all = Vec::new();
            for task in tasks {
                let seen = task.await.unwrap();
                all.extend(measure(&seen, &base, window));
            }
            let mut late: Vec<f64> = all.iter().map(|(l, _)| *l).collect();
            let mut added: Vec<f64> = all.iter().map(|(_, a)| *a).collect();
            late.sort_by(f64::total_cmp);
            added.sort_by(f64::total_cmp);
            let cpu_share = (cpu1 - cpu0) / WINDOW.as_secs_f64() / n as f64;
            format!(
                "| {n} | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {} | {:.2} % of a core | {rss_busy:.0} MB | {:.0} KB |",
                percentile(&late, 0.5),
                percentile(&late, 0.99),
                percentile(&added, 0.5),
                percentile(&added, 0.99),
                all.len(),
                cpu_share * 100.0,
                (rss_idle - rss_empty) * 1024.0 / n as f64
            )
        });
        println!("{row}");
        drop(server);
    }
    if let Some(((p50, p99, max), (old50, old99, old_max), per_output)) = idle_lateness {
        println!(
            "\nidle server (one session alone; the pipeline's own hold-back): lateness p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; of each output's oldest frame p50 {old50:.1} ms, p99 {old99:.1} ms, max {old_max:.1} ms; {per_output:.2} frames per output"
        );
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("remotemedia-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
