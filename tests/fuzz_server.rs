//! Fuzzing `remotemedia-runtime serve` over real sockets (issue 21): WebSocket sessions fed any
//! sequence of frames (inputs with edge-case values, PCM of any length, unknown messages, control
//! frames, fragments, invalid UTF-8, garbage bytes, frames cut short, frames declaring gigabytes)
//! and HTTP runs with any body and content type. Each case checks the documented answer: the
//! upgrade's status, every frame the server sends (known types, documented error kinds), the close
//! code (never 1011: bad input is never an internal error), and an end within 10 s. After all
//! cases the server must be alive, with no session left open, no panic in its log and its peak
//! memory (VmHWM) under 512 MB.
//!
//! `REMOTEMEDIA_FUZZ_CASES` cases per target (default 300); `make fuzz` runs 2,000.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::fuzzing::{Damage, apply, damage, fuzz, json_value};
use common::repo;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const LIMIT: usize = 65_536; // --max-message-bytes
const DEADLINE: Duration = Duration::from_secs(10);

struct Served {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server for one test's cases (nextest runs each test in its own process); stopped when
/// dropped.
#[allow(clippy::zombie_processes)] // `Served`'s drop kills and waits for it
fn served() -> Served {
    {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let echo = dir.path().join("echo.yaml");
        std::fs::write(
            &echo,
            "version: v1\nmetadata: {name: echo}\nnodes: [{id: same, node_type: PassThroughNode}]\n",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_remotemedia-runtime"))
            .arg("serve")
            .arg(repo("manifests/voice_activity.yaml"))
            .arg(&echo)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--max-message-bytes", &LIMIT.to_string(), "--idle-timeout", "1"])
            .args(["--slow-consumer-timeout", "3", "--run-timeout", "5"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Served {
                    child,
                    port,
                    log,
                    _dir: dir,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the server did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
}

fn connect(port: u16) -> TcpStream {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

/// Reads an HTTP response head and body (by Content-Length, else to the end).
fn read_response(tcp: &mut TcpStream) -> Result<(u16, String), String> {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        match tcp.read(&mut byte) {
            Ok(0) => {
                return Err(format!(
                    "the connection ended in the head: {:?}",
                    String::from_utf8_lossy(&data)
                ));
            }
            Ok(_) => data.push(byte[0]),
            Err(e) => return Err(format!("no answer: {e}")),
        }
    }
    let head = String::from_utf8_lossy(&data).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("bad head {head:?}"))?;
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>())
        })
        .and_then(Result::ok);
    let mut body = vec![0u8; length.unwrap_or(0)];
    if status != 101 {
        match length {
            Some(_) => tcp.read_exact(&mut body).map_err(|e| format!("body: {e}"))?,
            None => {
                let _ = tcp.read_to_end(&mut body);
            }
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A client frame: masked, as RFC 6455 requires.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// What a case sends after the upgrade.
#[derive(Debug, Clone)]
enum Piece {
    /// `{"type":"input","value":V}`.
    Input(String),
    /// Any other text frame (unknown types, bad JSON, `clear`).
    Text(String),
    /// Bytes in a text frame (maybe invalid UTF-8).
    TextBytes(Vec<u8>),
    /// A binary frame of this many bytes (PCM, maybe not whole frames).
    Binary(Vec<u8>),
    /// A ping, a pong, or a close with this payload.
    Control(u8, Vec<u8>),
    /// An input split into fragments.
    Fragmented(String, usize),
    /// A binary message of this size (past the limit, up to three times it).
    Big(usize),
    /// Garbage instead of a frame; the connection is left to the server.
    Garbage(Vec<u8>),
    /// A frame declaring this many bytes, then the connection drops.
    CutShort(u64),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => json_value().prop_map(Piece::Input),
        2 => prop::sample::select(vec![
            r#"{"type":"clear"}"#, r#"{"type":"nope"}"#, r#"{"type":"input"}"#, "not json", "[]",
            r#"{"type":"end","extra":1}"#, r#"{"type":7}"#, "",
        ]).prop_map(|t| Piece::Text(t.to_string())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Piece::TextBytes),
        3 => prop::collection::vec(any::<u8>(), 0..9000).prop_map(Piece::Binary),
        1 => (prop::sample::select(vec![8u8, 9, 10]), prop::collection::vec(any::<u8>(), 0..140))
            .prop_map(|(op, p)| Piece::Control(op, p)),
        1 => (json_value(), 1usize..4).prop_map(|(v, n)| Piece::Fragmented(v, n)),
        1 => (LIMIT + 1..3 * LIMIT).prop_map(Piece::Big),
        1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Piece::Garbage),
        1 => prop::sample::select(vec![100u64, 70_000, 1 << 31, u64::MAX >> 1]).prop_map(Piece::CutShort),
    ]
}

fn encode(piece: &Piece) -> (Vec<u8>, bool) {
    match piece {
        Piece::Input(v) => (
            frame(true, 1, format!(r#"{{"type":"input","value":{v}}}"#).as_bytes()),
            false,
        ),
        Piece::Text(t) => (frame(true, 1, t.as_bytes()), false),
        Piece::TextBytes(b) => (frame(true, 1, b), false),
        Piece::Binary(b) => (frame(true, 2, b), false),
        Piece::Control(op, p) => (frame(true, *op, p), *op == 8),
        Piece::Fragmented(v, n) => {
            let text = format!(r#"{{"type":"input","value":{v}}}"#).into_bytes();
            let size = text.len().div_ceil(*n).max(1);
            let parts: Vec<&[u8]> = text.chunks(size).collect();
            let mut out = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let opcode = if i == 0 { 1 } else { 0 };
                out.extend(frame(i + 1 == parts.len(), opcode, part));
            }
            (out, false)
        }
        Piece::Big(n) => (frame(true, 2, &vec![0u8; *n]), false),
        Piece::Garbage(b) => (b.clone(), true),
        Piece::CutShort(n) => {
            let mut out = vec![0x82, 0x80 | 127];
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(&[1, 2, 3, 4, 0, 0, 0]);
            (out, true)
        }
    }
}

/// A server frame: (opcode, payload), or `None` at the end of the connection.
fn read_frame(tcp: &mut TcpStream) -> Result<Option<(u8, Vec<u8>)>, String> {
    let mut head = [0u8; 2];
    match tcp.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(None),
        Err(e) => return Err(format!("no frame within {DEADLINE:?}: {e}")),
    }
    if head[1] & 0x80 != 0 {
        return Err("the server masked a frame".into());
    }
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            tcp.read_exact(&mut b).map_err(|e| e.to_string())?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            tcp.read_exact(&mut b).map_err(|e| e.to_string())?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0u8; usize::try_from(len).map_err(|e| e.to_string())?];
    match tcp.read_exact(&mut payload) {
        Ok(()) => Ok(Some((head[0] & 0x0f, payload))),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

const KINDS: [&str; 6] = [
    "bad_message",
    "too_big",
    "node",
    "idle",
    "slow_consumer",
    "bad_input",
];
const CLOSE_CODES: [u16; 8] = [1000, 1002, 1007, 1008, 1009, 4400, 4408, 4500];

fn stream_case(port: u16, query: &str, pipeline: &str, pieces: &[Piece]) -> Result<i32, TestCaseError> {
    let mut tcp = connect(port);
    let request = format!(
        "GET /v1/pipelines/{pipeline}/stream{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).unwrap();
    let (status, body) = read_response(&mut tcp).map_err(TestCaseError::fail)?;
    if status != 101 {
        prop_assert_eq!(status, 400, "upgrade {}: {}", status, body);
        let json: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        prop_assert_eq!(&json["error"], "bad_input");
        return Ok(i32::from(status));
    }
    let mut ended = false;
    // A close the client starts is echoed with its own code.
    let client_closed = pieces.iter().any(|p| matches!(p, Piece::Control(8, _)));
    for piece in pieces {
        let (bytes, last) = encode(piece);
        if tcp.write_all(&bytes).is_err() {
            break; // the server has closed: what it sent is read below
        }
        if last {
            ended = true;
            break;
        }
    }
    if !ended {
        let _ = tcp.write_all(&frame(true, 1, br#"{"type":"end"}"#));
    }
    if matches!(pieces.last(), Some(Piece::CutShort(_))) {
        // The client is gone; the server must just drop the session (checked at the end).
        return Ok(-1);
    }
    let started = Instant::now();
    let mut close = None;
    while let Some((opcode, payload)) = read_frame(&mut tcp).map_err(TestCaseError::fail)? {
        prop_assert!(
            started.elapsed() < DEADLINE,
            "the session did not end in {:?}",
            DEADLINE
        );
        match opcode {
            1 => {
                let m: serde_json::Value = serde_json::from_slice(&payload)
                    .map_err(|e| TestCaseError::fail(format!("a text frame that is not JSON: {e}")))?;
                let kind = m["type"].as_str().unwrap_or_default();
                prop_assert!(
                    ["output", "done", "error", "cleared", "audio_format"].contains(&kind),
                    "unknown frame {}",
                    m
                );
                if kind == "error" {
                    let k = m["kind"].as_str().unwrap_or_default();
                    prop_assert!(KINDS.contains(&k), "undocumented error kind: {}", m);
                    prop_assert!(m["message"].as_str().is_some_and(|t| !t.is_empty()), "{}", m);
                }
            }
            2 | 9 | 10 => {}
            8 => {
                let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                close = code;
                if let Some(code) = code.filter(|_| !client_closed) {
                    prop_assert!(CLOSE_CODES.contains(&code), "close code {}", code);
                }
                let _ = tcp.write_all(&frame(true, 8, &payload[..payload.len().min(2)]));
            }
            other => return Err(TestCaseError::fail(format!("opcode {other} from the server"))),
        }
    }
    Ok(close.map_or(0, i32::from))
}

#[test]
fn websocket_sessions_fed_any_frames_end_as_documented() {
    let server = served();
    let port = server.port;
    let queries = vec![
        ("voice-activity", "?format=s16le&sample_rate=16000"),
        ("voice-activity", "?format=f32le&sample_rate=48000&channels=2"),
        ("voice-activity", "?format=mulaw&sample_rate=8000"),
        ("voice-activity", "?format=s16le&sample_rate=999"),
        ("voice-activity", "?format=ogg&sample_rate=16000"),
        ("voice-activity", "?format=s16le&sample_rate=16000&channels=0"),
        ("echo", ""),
    ];
    let strategy = (
        prop::sample::select(queries),
        prop::collection::vec(piece(), 0..6),
    );
    fuzz("WebSocket frames", strategy, |((pipeline, query), pieces)| {
        let code = stream_case(port, query, pipeline, &pieces)?;
        // Outcome classes: refused before the upgrade, a normal end, an error's close code.
        Ok(match code {
            1000 => 0,
            -1 | 0 => 1,
            c => c,
        })
    });
    after_all(&server);
}

fn http_case(
    port: u16,
    pipeline: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<i32, TestCaseError> {
    let mut tcp = connect(port);
    let mut request = format!(
        "POST /v1/pipelines/{pipeline}/run HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        request += &format!("Content-Type: {ct}\r\n");
    }
    request += "\r\n";
    tcp.write_all(request.as_bytes()).unwrap();
    let _ = tcp.write_all(body); // a refused body may not be read
    let (status, text) = read_response(&mut tcp).map_err(TestCaseError::fail)?;
    match status {
        200 => {
            let outputs: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("200 without JSON: {e}")))?;
            prop_assert!(outputs.is_array());
        }
        413 => prop_assert!(body.len() > LIMIT, "413 for {} bytes", body.len()),
        400 | 415 | 422 | 503 => {
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{status} without JSON: {e}")))?;
            let expected = match status {
                400 => "bad_input",
                415 => "unsupported_media_type",
                422 => "node",
                _ => "timeout",
            };
            prop_assert_eq!(&json["error"], expected, "{}", text);
            prop_assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        other => return Err(TestCaseError::fail(format!("status {other}: {text}"))),
    }
    Ok(i32::from(status))
}

fn body() -> impl Strategy<Value = (Option<&'static str>, Vec<u8>)> {
    let speech = std::fs::read(repo("manifests/data/arctic_a0007.wav")).unwrap();
    let json = (
        prop::sample::select(vec![Some("application/json"), Some("application/x-ndjson")]),
        json_value(),
    )
        .prop_map(|(ct, v)| (ct, format!("[{v}]").into_bytes()));
    let audio = (
        prop::sample::select(vec![Some("audio/wav"), Some("application/octet-stream")]),
        prop::collection::vec(damage(), 0..4),
    )
        .prop_map(move |(ct, damages): (_, Vec<Damage>)| (ct, apply(&speech[..40_000], &damages)));
    let other = (
        prop::sample::select(vec![
            None,
            Some("text/plain"),
            Some("application/json"),
            Some("audio/mpeg"),
        ]),
        prop::collection::vec(any::<u8>(), 0..200),
    );
    let big = (LIMIT + 1..2 * LIMIT).prop_map(|n| (Some("application/json"), vec![b' '; n]));
    prop_oneof![4 => json, 3 => audio, 2 => other, 1 => big]
}

#[test]
fn http_runs_with_any_body_answer_as_documented() {
    let server = served();
    let port = server.port;
    let strategy = (prop::sample::select(vec!["voice-activity", "echo"]), body());
    fuzz("HTTP bodies", strategy, |(pipeline, (content_type, body))| {
        let status = http_case(port, pipeline, content_type, &body)?;
        Ok(if status == 200 { 0 } else { status })
    });
    after_all(&server);
}

/// The server is alive, has no session left, did not panic and stayed within its memory bound.
fn after_all(served: &Served) {
    let port = served.port;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut tcp = connect(port);
        tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let (status, text) = read_response(&mut tcp).unwrap();
        assert_eq!(status, 200);
        let open: f64 = text
            .lines()
            .filter(|l| l.starts_with("remotemedia_sessions_open{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        if open == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} sessions still open after every client left"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", served.child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    assert!(
        peak_kb < 512 * 1024,
        "the server's peak memory was {} MB",
        peak_kb / 1024
    );
    let log = std::fs::read_to_string(&served.log).unwrap();
    assert!(!log.contains("panicked"), "the server panicked: {log}");
}
