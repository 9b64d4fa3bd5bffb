//! `GET /v1/pipelines/{name}/stream`: one WebSocket connection is one session of the pipeline.
//!
//! Three parts run at once: the reader (client frames → the session's bounded input: a client
//! that sends faster than the pipeline runs waits, since the server stops reading), the pump
//! (session outputs → the bounded outbox: while the client has not taken what is queued, the pump
//! waits, and so the pipeline and then the reader), and the writer (outbox → socket, `crate::outbox`:
//! a client that takes nothing for the slow-consumer timeout is disconnected with 4429). Whatever
//! ends the session (the end of the input, an error, a disconnect, a stall, shutdown) cancels the
//! other parts and the session's tasks.

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures::{Sink, Stream, StreamExt};
use remotemedia_core::{Error, SessionEvent, SessionInput, SessionOutput, Value};
use remotemedia_io::natural_format;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::AppState;
use crate::http::ApiError;
use crate::outbox::{
    self, Activity, DataFrame, DataSender, FrameBody, Outbox, WriterEnd, WriterLimits, close_frame,
    failure_frames, write_frames,
};
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
    // A message over the limit and up to twice the limit is read and refused (`error` `too_big`,
    // close 1009); a larger one is not read at all: the connection is dropped.
    let hard_limit = state.config.max_message_bytes.saturating_mul(2);
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

/// How long a session that ends reads on for the client's close frame.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// How a session ended.
enum End {
    /// The input ended (`end`) or the server is shutting down: wait for the outputs.
    Flush,
    /// Every output was queued; `done` and the close frame with this code follow.
    Done(u16),
    /// The client went away.
    Disconnected,
    /// A message over twice the size limit: not read, the connection is dropped.
    Dropped,
    /// The client stopped reading (the writer sends `error` and 4429 itself).
    SlowConsumer,
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

async fn run<S, K>(mut ws_rx: S, ws_tx: K, admitted: Admitted, state: AppState)
where
    S: Stream<Item = Result<Message, axum::Error>> + Unpin + Send + 'static,
    K: Sink<Message> + Unpin + Send + 'static,
{
    let Admitted { served, pcm, permit } = admitted;
    let name = served.name.clone();
    state.metrics.session_started(&name, true);
    tracing::info!("session opened");
    let (outbox, data, outbox_rx) = outbox::channel(state.config.output_queue);
    let activity = Activity::new();
    let stalled = CancellationToken::new();
    let limits = WriterLimits {
        slow_consumer_timeout: state.config.slow_consumer_timeout,
        grace: state.config.slow_consumer_timeout,
    };
    let mut writer = tokio::spawn(write_frames(
        ws_tx,
        outbox_rx,
        limits,
        activity.clone(),
        stalled.clone(),
    ));
    let end = match served.pipeline.start() {
        Ok(session) => {
            let (input, output) = session.into_split();
            let driven = drive(
                &mut ws_rx, input, output, pcm, &outbox, data, &activity, &state, &name,
            );
            tokio::select! {
                end = driven => end,
                () = stalled.cancelled() => End::SlowConsumer,
            }
        }
        Err(e) => fail(
            "internal",
            format!("cannot start a session: {e}"),
            close::INTERNAL,
        ),
    };
    let slow_consumer = matches!(end, End::SlowConsumer);
    let (reason, finish) = match end {
        End::Fail(message, code) => {
            let kind = match &message {
                ServerMessage::Error { kind, .. } => *kind,
                _ => "internal",
            };
            state.metrics.error(kind);
            tracing::info!(code, kind, "session failed");
            ("failed", failure_frames(message, code, kind))
        }
        End::Done(code) => (
            "done",
            vec![
                Message::Text(ServerMessage::Done.to_text().into()),
                close_frame(code, "done"),
            ],
        ),
        End::SlowConsumer => ("slow consumer", Vec::new()),
        End::Disconnected => ("client went away", Vec::new()),
        End::Dropped => {
            state.metrics.error("too_big");
            tracing::info!(
                code = close::TOO_BIG,
                "a message over twice the size limit: dropped"
            );
            drop(outbox);
            writer.abort();
            state.metrics.session_closed(&name);
            drop(permit);
            return;
        }
        End::Flush => ("flushed", Vec::new()),
    };
    // The writer sends what is queued, then the final frames (a slow consumer's writer sends its
    // own); each frame waits at most the slow-consumer timeout.
    if !finish.is_empty() {
        outbox.finish(finish).await;
    }
    drop(outbox);
    // Meanwhile, read (and drop) what the client still sends until its close frame, so that the
    // connection ends with a close handshake rather than a reset that could discard the frames
    // just sent.
    let linger = async {
        while let Some(Ok(message)) = ws_rx.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let (written, _) = tokio::join!(&mut writer, async {
        let _ = tokio::time::timeout(LINGER, linger).await;
    });
    if slow_consumer || matches!(written, Ok(WriterEnd::SlowConsumer)) {
        state.metrics.error("slow_consumer");
        tracing::info!(code = close::SLOW_CONSUMER, "the client stopped reading");
    }
    state.metrics.session_closed(&name);
    drop(permit);
    tracing::info!(reason, "session closed");
}

/// Runs the reader and the pump until the session ends.
#[allow(clippy::too_many_arguments)]
async fn drive(
    ws_rx: &mut (impl Stream<Item = Result<Message, axum::Error>> + Unpin),
    input: SessionInput,
    output: SessionOutput,
    pcm: Option<PcmFormat>,
    outbox: &Outbox,
    data: DataSender,
    activity: &Activity,
    state: &AppState,
    name: &str,
) -> End {
    let reader = read_frames(ws_rx, input, pcm, outbox, activity, state, name);
    let pump = pump_outputs(output, data, outbox, state, name);
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
    ws_rx: &mut (impl Stream<Item = Result<Message, axum::Error>> + Unpin),
    mut input: SessionInput,
    pcm: Option<PcmFormat>,
    outbox: &Outbox,
    activity: &Activity,
    state: &AppState,
    name: &str,
) -> End {
    let idle = state.config.idle_timeout;
    loop {
        // Idle: nothing received from the client and nothing taken by it for the idle timeout.
        let next = loop {
            let deadline = activity.last() + idle;
            tokio::select! {
                next = tokio::time::timeout_at(deadline, ws_rx.next()) => match next {
                    Ok(next) => break next,
                    Err(_) if activity.last() + idle > tokio::time::Instant::now() => {}
                    Err(_) => {
                        return fail(
                            "idle",
                            format!("nothing received or sent for {} s", idle.as_secs_f64()),
                            close::IDLE,
                        );
                    }
                },
                () = state.shutdown.cancelled() => {
                    tracing::info!("shutting down: flushing the session");
                    input.close();
                    return End::Flush;
                }
            }
        };
        activity.touch();
        let message = match next {
            None => return End::Disconnected,
            Some(Err(e)) => {
                let text = e.to_string();
                if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                    return End::Dropped;
                }
                tracing::debug!(error = %text, "socket error");
                return End::Disconnected;
            }
            Some(Ok(message)) => message,
        };
        let size = match &message {
            Message::Binary(bytes) => bytes.len(),
            Message::Text(text) => text.len(),
            _ => 0,
        };
        if size > state.config.max_message_bytes {
            return too_big(size, state.config.max_message_bytes);
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
            Message::Text(text) => match ClientMessage::parse(&text) {
                Ok(ClientMessage::Input { value }) => match value_from_json(value) {
                    Ok(value) => value,
                    Err(e) => return fail("bad_message", e, close::BAD_MESSAGE),
                },
                Ok(ClientMessage::End) => {
                    input.close();
                    return End::Flush;
                }
                Ok(ClientMessage::Clear) => {
                    let epoch = input.clear();
                    if !outbox.cleared(epoch).await {
                        return End::Disconnected;
                    }
                    continue;
                }
                Err(e) => return fail("bad_message", e, close::BAD_MESSAGE),
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

/// `error` (`too_big`) for a message over the limit.
fn too_big(size: usize, limit: usize) -> End {
    fail(
        "too_big",
        format!("a message of {size} bytes is larger than the limit of {limit} bytes"),
        close::TOO_BIG,
    )
}

/// Session outputs into the outbox, as they are produced: while the client has not taken the
/// queued ones, this waits, and so does the pipeline (backpressure).
async fn pump_outputs(
    mut output: SessionOutput,
    data: DataSender,
    outbox: &Outbox,
    state: &AppState,
    name: &str,
) -> End {
    loop {
        let out = match output.recv_event().await {
            Ok(Some(SessionEvent::Output(out))) => out,
            // A node interrupted the session: the outputs still queued for the client are
            // dropped and it is told to drop the playback it holds.
            Ok(Some(SessionEvent::Interrupted { epoch })) => {
                if !outbox.interrupted(epoch).await {
                    return End::Disconnected;
                }
                continue;
            }
            Ok(None) => {
                let code = if state.shutdown.is_cancelled() {
                    close::GOING_AWAY
                } else {
                    close::NORMAL
                };
                return End::Done(code);
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
        let body = match &out.value {
            Value::Audio(audio) => {
                let raw = natural_format(audio.format());
                let mut pcm = Vec::new();
                remotemedia_io::encode(audio, raw, &mut pcm);
                FrameBody::Audio {
                    layout: (raw.name(), audio.sample_rate(), audio.channels()),
                    pcm,
                }
            }
            value => match value.to_json() {
                Ok(json) => FrameBody::Text(ServerMessage::Output { value: json }.to_text()),
                Err(e) => {
                    return fail(
                        "internal",
                        format!("cannot write an output as JSON: {e}"),
                        close::INTERNAL,
                    );
                }
            },
        };
        if !data
            .send(DataFrame {
                epoch: out.epoch,
                body,
            })
            .await
        {
            return End::Disconnected;
        }
        state.metrics.items_out(name, 1);
    }
}
