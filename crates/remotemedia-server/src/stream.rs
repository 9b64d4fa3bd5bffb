//! `GET /v1/pipelines/{name}/stream`: one WebSocket connection is one session of the pipeline.
//!
//! Three parts run at once: the reader (client frames → the session's bounded input: a client
//! that sends faster than the pipeline runs waits, since the server stops reading), the pump
//! (session outputs → a bounded queue of frames: a client that does not read fills it and is
//! disconnected), and the writer (queue → socket). Whatever ends the session (the end of the
//! input, an error, a disconnect, shutdown) cancels the other parts and the session's tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures::{Sink, SinkExt, Stream, StreamExt};
use remotemedia_core::{Error, SessionInput, SessionOutput, Value};
use remotemedia_io::natural_format;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tracing::Instrument;

use crate::AppState;
use crate::http::ApiError;
use crate::served::ServedPipeline;
use crate::wire::{ClientMessage, PcmFormat, ServerMessage, StreamQuery, close, value_from_json};

static SESSION_IDS: AtomicU64 = AtomicU64::new(1);

/// A session admitted: its pipeline, the declared PCM format, and its place among the sessions.
pub(crate) struct Admitted {
    pub served: ServedPipeline,
    pub pcm: Option<PcmFormat>,
    pub permit: OwnedSemaphorePermit,
}

/// The checks before a session starts: 404 for an unknown pipeline, 400 for a bad query, 503 when
/// the server is full or shutting down.
pub(crate) fn admit(
    state: &AppState,
    name: &str,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Admitted, ApiError> {
    let served = state.served.get(name).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no pipeline named `{name}`"),
        )
    })?;
    let Query(query) = query.map_err(|e| ApiError::bad_input(format!("bad query: {}", e.body_text())))?;
    let pcm = query.pcm().map_err(ApiError::bad_input)?;
    if state.shutdown.is_cancelled() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        ));
    }
    let permit = Arc::clone(&state.sessions).try_acquire_owned().map_err(|_| {
        state.metrics.error("too_many_sessions");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_sessions",
            format!(
                "the server is full ({} sessions); try again later",
                state.config.max_sessions
            ),
        )
    })?;
    Ok(Admitted { served, pcm, permit })
}

/// Accepts the upgrade once [`admit`] has passed; everything is checked before the upgrade.
pub async fn upgrade(
    State(state): State<AppState>,
    Path(name): Path<String>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let admitted = admit(&state, &name, query)?;
    // The socket takes up to twice the limit, so that a message over the limit is refused with
    // a close frame (1009) rather than a broken connection; beyond that it is dropped outright.
    let hard_limit = state
        .config
        .max_message_bytes
        .saturating_mul(2)
        .saturating_add(1024);
    Ok(ws
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| {
            let (ws_tx, ws_rx) = socket.split();
            run_session(ws_rx, ws_tx, admitted, state)
        }))
}

/// Runs one session over a transport of WebSocket messages (a socket, or frames handed over by
/// another host, `crate::hosted`), in its tracing span.
pub(crate) fn run_session<S, K>(
    ws_rx: S,
    ws_tx: K,
    admitted: Admitted,
    state: AppState,
) -> impl Future<Output = ()> + Send + 'static
where
    S: Stream<Item = Result<Message, axum::Error>> + Unpin + Send + 'static,
    K: Sink<Message> + Unpin + Send + 'static,
{
    let id = SESSION_IDS.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("session", id, pipeline = %admitted.served.name);
    run(ws_rx, ws_tx, admitted, state).instrument(span)
}

/// How a session ended.
enum End {
    /// The input ended (`end`) or the server is shutting down: wait for the outputs.
    Flush,
    /// Every output was sent, with `done` and the close frame queued.
    Done,
    /// The client went away.
    Disconnected,
    /// A failure: this message, then this close code.
    Fail(ServerMessage, u16),
}

fn fail(kind: &'static str, message: impl Into<String>, code: u16) -> End {
    End::Fail(
        ServerMessage::Error {
            kind,
            node_id: None,
            node_type: None,
            message: message.into(),
            code,
        },
        code,
    )
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.chars().take(100).collect::<String>().into(),
    }))
}

async fn run<S, K>(ws_rx: S, ws_tx: K, admitted: Admitted, state: AppState)
where
    S: Stream<Item = Result<Message, axum::Error>> + Unpin + Send + 'static,
    K: Sink<Message> + Unpin + Send + 'static,
{
    let Admitted { served, pcm, permit } = admitted;
    let name = served.name.clone();
    state.metrics.session_started(&name, true);
    tracing::info!("session opened");
    let (queue, queued) = mpsc::channel::<Message>(state.config.output_queue);
    let writer = tokio::spawn(write_frames(ws_tx, queued));
    let end = match served.pipeline.start() {
        Ok(session) => {
            let (input, output) = session.into_split();
            drive(ws_rx, input, output, pcm, &queue, &state, &name).await
        }
        Err(e) => fail(
            "internal",
            format!("cannot start a session: {e}"),
            close::INTERNAL,
        ),
    };
    let reason = match end {
        End::Fail(message, code) => {
            let kind = match &message {
                ServerMessage::Error { kind, .. } => *kind,
                _ => "internal",
            };
            state.metrics.error(kind);
            tracing::info!(code, kind, "session failed");
            // The queue may be full (a slow consumer): then the connection is just dropped.
            let _ = queue.try_send(Message::Text(message.to_text().into()));
            let _ = queue.try_send(close_frame(code, kind));
            "failed"
        }
        End::Done => "done",
        End::Disconnected => "client went away",
        End::Flush => "flushed",
    };
    drop(queue);
    // Let the writer deliver what is queued (the close frame last), within the idle timeout.
    let mut writer = writer;
    if tokio::time::timeout(
        state.config.idle_timeout.min(Duration::from_secs(10)),
        &mut writer,
    )
    .await
    .is_err()
    {
        writer.abort();
    }
    state.metrics.session_closed(&name);
    drop(permit);
    tracing::info!(reason, "session closed");
}

/// Writes queued frames until a close frame is written, the queue ends, or the socket fails.
async fn write_frames<K: Sink<Message> + Unpin>(mut ws_tx: K, mut queued: mpsc::Receiver<Message>) {
    while let Some(message) = queued.recv().await {
        let closing = matches!(message, Message::Close(_));
        if ws_tx.send(message).await.is_err() || closing {
            break;
        }
    }
    let _ = ws_tx.close().await;
}

/// Runs the reader and the pump until the session ends.
async fn drive(
    ws_rx: impl Stream<Item = Result<Message, axum::Error>> + Unpin,
    input: SessionInput,
    output: SessionOutput,
    pcm: Option<PcmFormat>,
    queue: &mpsc::Sender<Message>,
    state: &AppState,
    name: &str,
) -> End {
    let reader = read_frames(ws_rx, input, pcm, queue, state, name);
    let pump = pump_outputs(output, queue, state, name);
    tokio::pin!(reader, pump);
    tokio::select! {
        end = &mut reader => match end {
            // The input is closed: the pump flushes the pipeline and ends with `done`.
            End::Flush => pump.await,
            other => other,
        },
        end = &mut pump => end,
    }
}

/// Client frames into the session, until the input ends or the session must end.
async fn read_frames(
    mut ws_rx: impl Stream<Item = Result<Message, axum::Error>> + Unpin,
    mut input: SessionInput,
    pcm: Option<PcmFormat>,
    queue: &mpsc::Sender<Message>,
    state: &AppState,
    name: &str,
) -> End {
    let idle = state.config.idle_timeout;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(idle, ws_rx.next()) => next,
            () = state.shutdown.cancelled() => {
                tracing::info!("shutting down: flushing the session");
                input.close();
                return End::Flush;
            }
        };
        let message = match next {
            Err(_) => {
                return fail(
                    "idle",
                    format!("nothing received for {} s", idle.as_secs()),
                    close::IDLE,
                );
            }
            Ok(None) => return End::Disconnected,
            Ok(Some(Err(e))) => {
                let text = e.to_string();
                if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                    return fail(
                        "too_big",
                        format!(
                            "a message is larger than {} bytes",
                            state.config.max_message_bytes
                        ),
                        close::TOO_BIG,
                    );
                }
                tracing::debug!(error = %text, "socket error");
                return End::Disconnected;
            }
            Ok(Some(Ok(message))) => message,
        };
        let size = match &message {
            Message::Binary(bytes) => bytes.len(),
            Message::Text(text) => text.len(),
            _ => 0,
        };
        if size > state.config.max_message_bytes {
            return fail(
                "too_big",
                format!(
                    "a message of {size} bytes is larger than the limit of {} bytes",
                    state.config.max_message_bytes
                ),
                close::TOO_BIG,
            );
        }
        let value = match message {
            Message::Binary(bytes) => {
                let Some(pcm) = pcm else {
                    return fail(
                        "bad_message",
                        "a binary frame, but no PCM format was declared (query parameters `format`, `sample_rate`, `channels`)",
                        close::BAD_MESSAGE,
                    );
                };
                match remotemedia_io::decode(&bytes, pcm.format, pcm.sample_rate, pcm.channels) {
                    Ok(audio) => Value::Audio(audio.into()),
                    Err(e) => {
                        return fail(
                            "bad_message",
                            format!("a binary frame of {e}"),
                            close::BAD_MESSAGE,
                        );
                    }
                }
            }
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(&text) {
                Ok(ClientMessage::Input { value }) => match value_from_json(value) {
                    Ok(value) => value,
                    Err(e) => return fail("bad_message", e, close::BAD_MESSAGE),
                },
                Ok(ClientMessage::End) => {
                    input.close();
                    return End::Flush;
                }
                Ok(ClientMessage::Clear) => {
                    input.clear();
                    if queue
                        .send(Message::Text(ServerMessage::Cleared.to_text().into()))
                        .await
                        .is_err()
                    {
                        return End::Disconnected;
                    }
                    continue;
                }
                Err(e) => {
                    return fail(
                        "bad_message",
                        format!(
                            r#"not a message this server takes ({{"type": "input"|"end"|"clear"}}): {e}"#
                        ),
                        close::BAD_MESSAGE,
                    );
                }
            },
            Message::Close(_) => return End::Disconnected,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        state.metrics.items_in(name, 1);
        // Backpressure: while the pipeline is busy, this waits and the socket is not read.
        if input.send(value).await.is_err() {
            // The session failed: the pump reports why.
            std::future::pending::<()>().await;
        }
    }
}

/// Session outputs into the frame queue, as they are produced; `done` at the end.
async fn pump_outputs(
    mut output: SessionOutput,
    queue: &mpsc::Sender<Message>,
    state: &AppState,
    name: &str,
) -> End {
    let mut audio_format: Option<(&'static str, u32, u16)> = None;
    loop {
        let out = match output.recv().await {
            Ok(Some(out)) => out,
            Ok(None) => {
                let code = if state.shutdown.is_cancelled() {
                    close::GOING_AWAY
                } else {
                    close::NORMAL
                };
                let done = [
                    Message::Text(ServerMessage::Done.to_text().into()),
                    close_frame(code, "done"),
                ];
                for message in done {
                    if queue.send(message).await.is_err() {
                        return End::Disconnected;
                    }
                }
                return End::Done;
            }
            Err(Error::Node {
                node_id,
                node_type,
                cause,
            }) => {
                return End::Fail(
                    ServerMessage::Error {
                        kind: "node",
                        node_id: Some(node_id),
                        node_type: Some(node_type),
                        message: cause.to_string(),
                        code: close::NODE_ERROR,
                    },
                    close::NODE_ERROR,
                );
            }
            Err(e) => return fail("internal", e.to_string(), close::INTERNAL),
        };
        let mut frames = Vec::with_capacity(2);
        match &out.value {
            Value::Audio(audio) => {
                let raw = natural_format(audio.format());
                let layout = (raw.name(), audio.sample_rate(), audio.channels());
                if audio_format != Some(layout) {
                    audio_format = Some(layout);
                    frames.push(Message::Text(
                        ServerMessage::AudioFormat {
                            format: layout.0,
                            sample_rate: layout.1,
                            channels: layout.2,
                        }
                        .to_text()
                        .into(),
                    ));
                }
                let mut bytes = Vec::new();
                remotemedia_io::encode(audio, raw, &mut bytes);
                frames.push(Message::Binary(bytes.into()));
            }
            value => match value.to_json() {
                Ok(json) => frames.push(Message::Text(
                    ServerMessage::Output { value: json }.to_text().into(),
                )),
                Err(e) => {
                    return fail(
                        "internal",
                        format!("cannot write an output as JSON: {e}"),
                        close::INTERNAL,
                    );
                }
            },
        }
        for frame in frames {
            match queue.try_send(frame) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    return fail(
                        "slow_consumer",
                        format!(
                            "the client is not reading: {} outputs are waiting",
                            state.config.output_queue
                        ),
                        close::SLOW_CONSUMER,
                    );
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return End::Disconnected,
            }
        }
        state.metrics.items_out(name, 1);
    }
}
