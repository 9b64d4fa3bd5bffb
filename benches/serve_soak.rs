//! Soak of `remotemedia-runtime serve` (issue 21): clients churn for a long time against one
//! server, each session doing one of six things in turn:
//! - **stream**: 2 s of 48 kHz stereo speech, paced in real time, through downmix → 16 kHz → VAD;
//!   its decisions must equal those of a calibration session run alone at the start;
//! - **burst**: one input → 2,000 outputs of 2 kB (tests/manifests/burst.yaml), read at once;
//! - **slow reader**: 3,000 outputs read slowly but steadily; all must arrive, in order;
//! - **stop reading**: 10,000 outputs, nothing read for 3 s: must end in `slow_consumer` + 4429;
//! - **vanish mid-frame**: half a WebSocket frame, then the TCP connection drops;
//! - **vanish mid-stream**: ten chunks, then the connection drops without `end` or close.
//!
//! A sampler records the server's RSS, the open-sessions gauge and its error counts every 5 s. At
//! the end the gauge must return to 0; then a last group of streaming sessions gets SIGTERM: each
//! must end with its outputs, `done` and close 1001, and the server exit 0.
//!
//! `cargo bench -p remotemedia-server --bench serve_soak -- [SECONDS]` (default 1800) after
//! `cargo build --release -p remotemedia-cli`; `REMOTEMEDIA_SOAK_CLIENTS` concurrent clients
//! (default 24). It fails on any unexpected error, lost output, leftover session or unclean
//! shutdown; RSS flatness (within 10 % after warm-up) is reported. Figures go to
//! benches/RESULTS.md.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

mod server_proc;
use server_proc::{free_port, repo, spawn_binary, speech_48k_stereo, tree_stat, wait_listening};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const CHUNK: usize = 48_000 * 2 * 2 / 50; // 20 ms of 48 kHz stereo s16le
const STREAM_CHUNKS: usize = 100; // 2 s
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
const SESSION_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Stream,
    Burst,
    SlowReader,
    StopReading,
    VanishMidFrame,
    VanishMidStream,
}

const KINDS: [Kind; 6] = [
    Kind::Stream,
    Kind::Burst,
    Kind::SlowReader,
    Kind::StopReading,
    Kind::VanishMidFrame,
    Kind::VanishMidStream,
];

async fn open(port: u16, pipeline: &str) -> Result<Socket, String> {
    let query = if pipeline == "load" {
        "?format=s16le&sample_rate=48000&channels=2"
    } else {
        ""
    };
    let url = format!("ws://127.0.0.1:{port}/v1/pipelines/{pipeline}/stream{query}");
    tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map(|(socket, _)| socket)
        .map_err(|e| format!("connect: {e}"))
}

/// The frames a session received: outputs' values, and the last non-output frame.
struct Received {
    outputs: Vec<serde_json::Value>,
    last: serde_json::Value,
    close: Option<u16>,
}

/// Reads to the end, pausing `pause` after every `every` outputs.
async fn read_all(socket: &mut Socket, every: usize, pause: Duration) -> Received {
    let mut outputs = Vec::new();
    let mut last = serde_json::Value::Null;
    let mut close = None;
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => {
                let m: serde_json::Value = serde_json::from_str(&text).expect("a JSON frame");
                if m["type"] == "output" {
                    outputs.push(m["value"].clone());
                    if every > 0 && outputs.len() % every == 0 {
                        tokio::time::sleep(pause).await;
                    }
                } else {
                    last = m;
                }
            }
            Ok(Message::Close(frame)) => {
                close = frame.map(|f| u16::from(f.code));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Received { outputs, last, close }
}

/// Streams 2 s of speech, paced, and returns its frame decisions, or why it failed.
async fn stream(port: u16, audio: &[u8], sigterm_at_end: bool) -> Result<(Vec<bool>, Option<u16>), String> {
    let socket = open(port, "load").await?;
    let (mut tx, mut rx) = socket.split();
    let chunks: Vec<Vec<u8>> = (0..STREAM_CHUNKS)
        .map(|i| audio[i * CHUNK..(i + 1) * CHUNK].to_vec())
        .collect();
    let sender = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_millis(20));
        for chunk in chunks {
            ticks.tick().await;
            if tx.send(Message::Binary(chunk.into())).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Message::Text(r#"{"type":"end"}"#.into())).await;
        // Keep the sink open until the server closes.
        std::future::pending::<()>().await;
    });
    let mut decisions = Vec::new();
    let mut last = serde_json::Value::Null;
    let mut close = None;
    while let Some(message) = rx.next().await {
        match message {
            Ok(Message::Text(text)) => {
                let m: serde_json::Value = serde_json::from_str(&text).expect("a JSON frame");
                if m["type"] == "output" {
                    decisions.extend(
                        m["value"]["speech"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|b| b.as_bool().unwrap()),
                    );
                } else {
                    last = m;
                }
            }
            Ok(Message::Close(frame)) => close = frame.map(|f| u16::from(f.code)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    sender.abort();
    let expected_close = if sigterm_at_end { 1001 } else { 1000 };
    if last["type"] != "done" || close != Some(expected_close) {
        return Err(format!("stream ended with {last} and close {close:?}"));
    }
    Ok((decisions, close))
}

async fn burst(port: u16, n: usize, every: usize, pause: Duration) -> Result<(), String> {
    let mut socket = open(port, "burst").await?;
    socket
        .send(Message::Text(format!(r#"{{"type":"input","value":{n}}}"#).into()))
        .await
        .map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(r#"{"type":"end"}"#.into()))
        .await
        .map_err(|e| e.to_string())?;
    let got = read_all(&mut socket, every, pause).await;
    let in_order = got.outputs.iter().enumerate().all(|(i, v)| v["i"] == i);
    if got.outputs.len() != n || !in_order {
        return Err(format!(
            "lost output: {} of {n} outputs (in order: {in_order})",
            got.outputs.len()
        ));
    }
    if got.last["type"] != "done" || got.close != Some(1000) {
        return Err(format!("burst ended with {} and close {:?}", got.last, got.close));
    }
    Ok(())
}

async fn stop_reading(port: u16) -> Result<(), String> {
    let mut socket = open(port, "burst").await?;
    socket
        .send(Message::Text(r#"{"type":"input","value":10000}"#.into()))
        .await
        .map_err(|e| e.to_string())?;
    // The server gives up after 2 s (`--slow-consumer-timeout`) and keeps the error and the close
    // frame for 2 s more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = read_all(&mut socket, 0, Duration::ZERO).await;
    let in_order = got.outputs.iter().enumerate().all(|(i, v)| v["i"] == i);
    if !in_order || got.last["kind"] != "slow_consumer" || got.close != Some(4429) {
        return Err(format!(
            "stop reading: {} outputs (in order: {in_order}), then {} and close {:?}",
            got.outputs.len(),
            got.last,
            got.close
        ));
    }
    Ok(())
}

async fn vanish_mid_frame(port: u16) -> Result<(), String> {
    let mut socket = open(port, "load").await?;
    // A masked binary frame that announces 3,840 bytes, of which 1,000 are sent.
    let mut frame = vec![0x82, 0x80 | 126];
    frame.extend_from_slice(&(CHUNK as u16).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend(std::iter::repeat_n(0u8, 1000));
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = socket.get_mut() else {
        unreachable!("plain TCP")
    };
    tcp.write_all(&frame).await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn vanish_mid_stream(port: u16, audio: &[u8]) -> Result<(), String> {
    let mut socket = open(port, "load").await?;
    for i in 0..10 {
        socket
            .send(Message::Binary(audio[i * CHUNK..(i + 1) * CHUNK].to_vec().into()))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(()) // dropped: no `end`, no close
}

/// The server's metrics: the open-sessions gauge and errors by kind.
async fn metrics(port: u16) -> Option<(f64, BTreeMap<String, f64>)> {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut text = String::new();
    tcp.read_to_string(&mut text).await.ok()?;
    let mut open = 0.0;
    let mut errors = BTreeMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else { continue };
        if name.starts_with("remotemedia_sessions_open{") {
            open += value;
        } else if let Some(kind) = name.strip_prefix("remotemedia_errors_total{kind=\"") {
            errors.insert(kind.trim_end_matches("\"}").to_string(), value);
        }
    }
    Some((open, errors))
}

#[derive(Default)]
struct Tally {
    done: BTreeMap<Kind, usize>,
    unexpected: Vec<String>,
}

struct Sample {
    at: Duration,
    rss_mb: f64,
    open: f64,
    sessions: usize,
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1800);
    let clients: usize = std::env::var("REMOTEMEDIA_SOAK_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let dir = std::env::temp_dir().join(format!("remotemedia-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let load = dir.join("load.yaml");
    std::fs::write(
        &load,
        "version: v1\nmetadata: {name: load}\nnodes:\n  - {id: mono, node_type: ChannelMixNode, params: {mode: downmix}}\n  - {id: resample, node_type: AudioResampleNode, params: {target_sample_rate: 16000}}\n  - {id: vad, node_type: VADNode, params: {emit: frames, frame_duration_ms: 20}}\n",
    )
    .unwrap();
    let burst_manifest = repo("tests/manifests/burst.yaml");
    let port = free_port();
    let child = spawn_binary(
        &[&load, &burst_manifest],
        port,
        &[
            "--max-sessions",
            "4096",
            "--output-queue",
            "64",
            "--slow-consumer-timeout",
            "2",
            "--idle-timeout",
            "30",
            "--shutdown-timeout",
            "10",
        ],
    );
    let mut server = wait_listening(child, port);
    let pid = server.child.id();
    let audio = Arc::new(speech_48k_stereo());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let duration = Duration::from_secs(seconds);
    let started = Instant::now();
    let (samples, tally, calibration) = runtime.block_on(async {
        let (calibration, _) = stream(port, &audio, false)
            .await
            .expect("the calibration session failed");
        assert!(
            calibration.len() >= 90,
            "the calibration saw {} decisions",
            calibration.len()
        );
        let calibration = Arc::new(calibration);
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let workers: Vec<_> = (0..clients)
            .map(|w| {
                let (stop, tally, audio, calibration) = (
                    Arc::clone(&stop),
                    Arc::clone(&tally),
                    Arc::clone(&audio),
                    Arc::clone(&calibration),
                );
                tokio::spawn(async move {
                    let mut turn = w;
                    while !stop.load(Ordering::Relaxed) {
                        let kind = KINDS[turn % KINDS.len()];
                        turn += 1;
                        let run = async {
                            match kind {
                                Kind::Stream => match stream(port, &audio, false).await {
                                    Ok((decisions, _)) if decisions == *calibration => Ok(()),
                                    Ok((decisions, _)) => Err(format!(
                                        "lost or changed output: {} decisions, the calibration {}",
                                        decisions.len(),
                                        calibration.len()
                                    )),
                                    Err(e) => Err(e),
                                },
                                Kind::Burst => burst(port, 2000, 0, Duration::ZERO).await,
                                Kind::SlowReader => burst(port, 3000, 100, Duration::from_millis(20)).await,
                                Kind::StopReading => stop_reading(port).await,
                                Kind::VanishMidFrame => vanish_mid_frame(port).await,
                                Kind::VanishMidStream => vanish_mid_stream(port, &audio).await,
                            }
                        };
                        let outcome = tokio::time::timeout(SESSION_LIMIT, run)
                            .await
                            .unwrap_or_else(|_| {
                                Err(format!("hang: {kind:?} still running after {SESSION_LIMIT:?}"))
                            });
                        let mut tally = tally.lock().unwrap();
                        match outcome {
                            Ok(()) => *tally.done.entry(kind).or_default() += 1,
                            Err(e) => tally.unexpected.push(format!("{kind:?}: {e}")),
                        }
                    }
                })
            })
            .collect();
        let mut samples = Vec::new();
        let mut ticks = tokio::time::interval(SAMPLE_EVERY);
        while started.elapsed() < duration {
            ticks.tick().await;
            let (_, rss_mb) = tree_stat(pid);
            let (open, _) = metrics(port).await.unwrap_or_default();
            let sessions = tally.lock().unwrap().done.values().sum();
            samples.push(Sample {
                at: started.elapsed(),
                rss_mb,
                open,
                sessions,
            });
        }
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.await.unwrap();
        }
        let tally = Arc::into_inner(tally).unwrap().into_inner().unwrap();
        (samples, tally, calibration)
    });

    // The gauge returns to 0 once every client has gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (open, errors) = loop {
        let (open, errors) = runtime.block_on(metrics(port)).expect("metrics");
        if open == 0.0 || Instant::now() > deadline {
            break (open, errors);
        }
        std::thread::sleep(Duration::from_millis(100));
    };

    // SIGTERM with sessions streaming: each is flushed (its outputs, `done`, close 1001).
    let last_group: Vec<_> = (0..4)
        .map(|_| {
            let audio = Arc::clone(&audio);
            runtime.spawn(async move { stream(port, &audio, true).await })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let exit = server.terminate(Duration::from_secs(15));
    let flushed: Vec<_> = last_group
        .into_iter()
        .map(|task| runtime.block_on(task).unwrap())
        .collect();

    // The report.
    let warm = samples
        .iter()
        .position(|s| s.at >= (duration / 5).min(Duration::from_secs(300)))
        .unwrap_or(0);
    let baseline = samples[warm..].iter().take(12).map(|s| s.rss_mb).sum::<f64>()
        / samples[warm..].len().clamp(1, 12) as f64;
    let peak_after = samples[warm..].iter().map(|s| s.rss_mb).fold(0.0, f64::max);
    let last_rss = samples.last().map_or(0.0, |s| s.rss_mb);
    println!("soak: {seconds} s, {clients} clients, one server (release binary)\n");
    println!("| time | server RSS | sessions open | sessions completed |");
    println!("|---|---|---|---|");
    let every = (samples.len() / 12).max(1);
    for s in samples.iter().step_by(every).chain(samples.last()) {
        println!(
            "| {:.0} s | {:.1} MB | {:.0} | {} |",
            s.at.as_secs_f64(),
            s.rss_mb,
            s.open,
            s.sessions
        );
    }
    let growth = (peak_after - baseline) / baseline * 100.0;
    println!(
        "\nRSS after warm-up ({:.0} s): {baseline:.1} MB; peak after it {peak_after:.1} MB ({growth:+.1} %); last {last_rss:.1} MB; flat within 10 %: {}",
        samples[warm].at.as_secs_f64(),
        if growth <= 10.0 { "yes" } else { "MISSED" }
    );
    println!("sessions by kind: {:?}", tally.done);
    println!("server errors by kind: {errors:?}");
    println!("calibration: {} decisions", calibration.len());
    println!("gauge after the clients left: {open}");
    let ends: Vec<String> = flushed
        .iter()
        .map(|f| match f {
            Ok((decisions, close)) => format!("{} decisions, close {close:?}", decisions.len()),
            Err(e) => e.clone(),
        })
        .collect();
    println!("SIGTERM with 4 sessions streaming: exit {exit:?}; sessions: {ends:?}");

    assert!(
        tally.unexpected.is_empty(),
        "{} unexpected errors, e.g. {:?}",
        tally.unexpected.len(),
        &tally.unexpected[..tally.unexpected.len().min(5)]
    );
    assert_eq!(open, 0.0, "sessions left open after every client went");
    let expected_kinds = ["slow_consumer"];
    for (kind, count) in &errors {
        assert!(
            expected_kinds.contains(&kind.as_str()) || *count == 0.0,
            "unexpected server errors: {kind} x{count}"
        );
    }
    assert_eq!(
        errors.get("slow_consumer").copied().unwrap_or(0.0) as usize,
        tally.done.get(&Kind::StopReading).copied().unwrap_or(0),
        "slow_consumer errors other than the sessions that stopped reading"
    );
    assert!(
        exit.is_some_and(|s| s.success()),
        "the server did not exit 0 on SIGTERM: {exit:?}"
    );
    for f in &flushed {
        let (decisions, close) = f.as_ref().expect("a session at SIGTERM was not flushed");
        assert_eq!(*close, Some(1001));
        assert!(!decisions.is_empty());
        // The last frames may differ: the flush at shutdown ends the stream early.
        let n = decisions.len().saturating_sub(3).min(calibration.len());
        assert_eq!(decisions[..n], calibration[..n], "outputs changed at shutdown");
    }
}
