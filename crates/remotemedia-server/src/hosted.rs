//! The server hosted by another program's transport: HTTP requests and WebSocket frames handed
//! over in-process instead of read from a socket. The Python extension uses it for the Ray Serve
//! application (`remotemedia.ray.serve_app`), whose ASGI replicas receive the connections.
//!
//! Only the transport differs: the routes, the token check, the limits, the session logic and the
//! wire format are the server's own, so a client cannot tell a hosted server from
//! `remotemedia-runtime serve`.

use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;
use tower::ServiceExt;

use crate::AppState;
use crate::http::ApiError;
use crate::stream::{admit, run_session};
use crate::wire::StreamQuery;

/// One WebSocket frame of a hosted session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (one JSON message).
    Text(String),
    /// A binary frame (PCM).
    Binary(Bytes),
    /// The close frame: the session has ended.
    Close {
        /// The close code (docs/protocol.md).
        code: u16,
        /// A short reason.
        reason: String,
    },
}

/// A live session whose frames the host carries: send what the client sent to the
/// [`StreamSender`], and deliver what the [`StreamReceiver`] returns, until the close frame.
pub struct HostedStream {
    /// Client frames into the session.
    pub sender: StreamSender,
    /// Session frames for the client.
    pub receiver: StreamReceiver,
}

/// The client's side of a hosted session.
pub struct StreamSender {
    incoming: Option<mpsc::Sender<Result<Message, axum::Error>>>,
}

impl StreamSender {
    /// Hands over one client frame; waits while the session has not taken the previous one
    /// (backpressure, as a socket the server stops reading). `false` once the session no longer
    /// reads (it has ended; the receiver tells how).
    pub async fn send(&self, frame: Frame) -> bool {
        let message = match frame {
            Frame::Text(text) => Message::Text(text.into()),
            Frame::Binary(bytes) => Message::Binary(bytes),
            Frame::Close { code, reason } => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        };
        match &self.incoming {
            Some(incoming) => incoming.send(Ok(message)).await.is_ok(),
            None => false,
        }
    }

    /// The client went away: the session is cancelled.
    pub fn disconnect(&mut self) {
        self.incoming = None;
    }
}

/// The frames a hosted session sends.
pub struct StreamReceiver {
    outgoing: mpsc::Receiver<Message>,
}

impl StreamReceiver {
    /// The next frame for the client; `None` after the close frame (or when the session is gone).
    pub async fn recv(&mut self) -> Option<Frame> {
        loop {
            let frame = match self.outgoing.recv().await? {
                Message::Text(text) => Frame::Text(text.to_string()),
                Message::Binary(bytes) => Frame::Binary(bytes),
                Message::Close(frame) => {
                    let (code, reason) =
                        frame.map_or((1000, String::new()), |f| (f.code, f.reason.to_string()));
                    self.outgoing.close();
                    Frame::Close { code, reason }
                }
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            return Some(frame);
        }
    }
}

/// An HTTP answer of a hosted server.
#[derive(Debug, Clone)]
pub struct HostedResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Bytes,
}

impl HostedResponse {
    async fn from_response(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
            .collect();
        // Bodies are built in memory by the routes; a failure here cannot come from the client.
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        Self {
            status: parts.status.as_u16(),
            headers,
            body,
        }
    }
}

/// An HTTP request handed over by the host: method, path with query, headers, body.
fn build_request(
    method: &str,
    uri: &str,
    headers: &[(String, Vec<u8>)],
    body: Bytes,
) -> Result<Request<Body>, String> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    builder
        .body(Body::from(body))
        .map_err(|e| format!("bad request: {e}"))
}

/// Where the stream route leaves the session it opened for [`Hosted::open_stream`].
#[derive(Clone, Default)]
pub(crate) struct StreamSlot(Arc<Mutex<Option<HostedStream>>>);

/// The server's routes, for a host that carries the connections.
#[derive(Clone)]
pub struct Hosted {
    router: axum::Router,
    state: AppState,
}

impl Hosted {
    pub(crate) fn new(router: axum::Router, state: AppState) -> Self {
        Self { router, state }
    }

    /// Answers one HTTP request (every route but the WebSocket one, which answers 426 here).
    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        headers: &[(String, Vec<u8>)],
        body: Bytes,
    ) -> HostedResponse {
        let response = match build_request(method, uri, headers, body) {
            Ok(request) => self.answer(request).await,
            Err(message) => ApiError::bad_input(message).into_response(),
        };
        HostedResponse::from_response(response).await
    }

    /// The server's 401 answer when a request to `uri` with `headers` lacks the token (the check
    /// every route makes), so that a host can refuse before it reads a request's body.
    pub async fn authorize(&self, uri: &str, headers: &[(String, Vec<u8>)]) -> Option<HostedResponse> {
        let refusal = match build_request("GET", uri, headers, Bytes::new()) {
            Ok(request) => crate::http::token_refusal(&self.state, &request)?,
            Err(message) => ApiError::bad_input(message).into_response(),
        };
        Some(HostedResponse::from_response(refusal).await)
    }

    /// The largest request body and WebSocket message the server takes, in bytes.
    pub fn max_message_bytes(&self) -> usize {
        self.state.config.max_message_bytes
    }

    /// Opens a session for a WebSocket request to `uri` (`/v1/pipelines/{name}/stream?…`), after
    /// the same checks as the server (token, pipeline, query, session limit, shutdown); a refusal
    /// is the HTTP answer the server gives before the upgrade.
    pub async fn connect(
        &self,
        uri: &str,
        headers: &[(String, Vec<u8>)],
    ) -> Result<HostedStream, HostedResponse> {
        let mut request = match build_request("GET", uri, headers, Bytes::new()) {
            Ok(request) => request,
            Err(message) => {
                return Err(
                    HostedResponse::from_response(ApiError::bad_input(message).into_response()).await,
                );
            }
        };
        let slot = StreamSlot::default();
        request.extensions_mut().insert(slot.clone());
        let response = self.answer(request).await;
        let opened = slot.0.lock().ok().and_then(|mut s| s.take());
        match opened {
            Some(stream) if response.status().is_success() => Ok(stream),
            _ => Err(HostedResponse::from_response(response).await),
        }
    }

    async fn answer(&self, request: Request<Body>) -> Response {
        match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// Stops accepting sessions and flushes the open ones (`done`, close 1001), as a signal does
    /// for the server.
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }
}

/// The stream route of a hosted server: opens the session and leaves it in the request's slot. A
/// plain HTTP request (no slot) gets 426, as from the server.
pub(crate) async fn open(
    State(state): State<AppState>,
    Path(name): Path<String>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    slot: Option<Extension<StreamSlot>>,
) -> Result<Response, ApiError> {
    let Some(Extension(slot)) = slot else {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            "this route is a WebSocket: connect with an upgrade",
        ));
    };
    let admitted = admit(&state, &name, query)?;
    // One frame in flight: the host waits, as a socket the server stops reading.
    let (incoming, from_client) = mpsc::channel::<Result<Message, axum::Error>>(1);
    let (to_client, outgoing) = mpsc::channel::<Message>(1);
    let mut from_client = from_client;
    let ws_rx = futures::stream::poll_fn(move |cx| from_client.poll_recv(cx));
    tokio::spawn(run_session(ws_rx, PollSender::new(to_client), admitted, state));
    if let Ok(mut held) = slot.0.lock() {
        *held = Some(HostedStream {
            sender: StreamSender {
                incoming: Some(incoming),
            },
            receiver: StreamReceiver { outgoing },
        });
    }
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{Server, ServerConfig};

    fn server(token: Option<&str>) -> Hosted {
        let mut registry = remotemedia_nodes::builtin_registry();
        remotemedia_models::register(&mut registry).unwrap();
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../manifests/voice_activity.yaml");
        let config = ServerConfig {
            token: token.map(str::to_string),
            max_sessions: 1,
            ..ServerConfig::default()
        };
        Server::load(&[manifest], &registry, config)
            .expect("load")
            .hosted()
    }

    /// The shipped recording: its sample rate and s16le bytes.
    fn recording() -> (u32, Vec<u8>) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../manifests/data/arctic_a0007.wav"
        );
        let mut reader = hound::WavReader::open(path).expect("recording");
        let rate = reader.spec().sample_rate;
        let bytes = reader
            .samples::<i16>()
            .flat_map(|s| s.expect("sample").to_le_bytes())
            .collect();
        (rate, bytes)
    }

    #[tokio::test]
    async fn http_routes_answer_as_the_server() {
        let hosted = server(None);
        let list = hosted.request("GET", "/v1/pipelines", &[], Bytes::new()).await;
        assert_eq!(list.status, 200);
        let json: serde_json::Value = serde_json::from_slice(&list.body).unwrap();
        assert_eq!(json[0]["name"], "voice-activity");
        assert_eq!(json[0]["nodes"][2]["node_type"], "SileroVADNode");
        let missing = hosted
            .request("POST", "/v1/pipelines/nope/run", &[], Bytes::new())
            .await;
        assert_eq!(missing.status, 404);
        // The stream route is a WebSocket: a plain request gets 426.
        let plain = hosted
            .request("GET", "/v1/pipelines/voice-activity/stream", &[], Bytes::new())
            .await;
        assert_eq!(plain.status, 426);
    }

    #[tokio::test]
    async fn a_hosted_session_streams_and_ends_with_done_and_1000() {
        let hosted = server(None);
        let (rate, speech) = recording();
        let uri = format!("/v1/pipelines/voice-activity/stream?format=s16le&sample_rate={rate}");
        let HostedStream { sender, mut receiver } = hosted.connect(&uri, &[]).await.expect("opened");
        // One session at most: a second one is refused before the upgrade.
        let refused = hosted.connect(&uri, &[]).await.err().expect("full");
        assert_eq!(refused.status, 503);
        // 20 ms chunks, as a live client sends them.
        for chunk in speech.chunks(rate as usize / 50 * 2) {
            assert!(sender.send(Frame::Binary(Bytes::copy_from_slice(chunk))).await);
        }
        assert!(sender.send(Frame::Text(r#"{"type":"end"}"#.into())).await);
        let mut frames = Vec::new();
        while let Some(frame) = receiver.recv().await {
            frames.push(frame);
        }
        let last = frames.len() - 1;
        assert_eq!(
            frames[last],
            Frame::Close {
                code: 1000,
                reason: "done".into()
            }
        );
        assert_eq!(frames[last - 1], Frame::Text(r#"{"type":"done"}"#.into()));
        let Frame::Text(segment) = &frames[0] else {
            panic!("{frames:?}")
        };
        // The segment `make demo` prints.
        let segment: serde_json::Value = serde_json::from_str(segment).unwrap();
        assert_eq!(
            segment,
            serde_json::json!({"type": "output", "value": {"start": 0.386, "end": 3.55}})
        );
        assert_eq!(frames.len(), 3, "{frames:?}");
    }

    #[tokio::test]
    async fn a_client_that_goes_away_frees_its_session() {
        let hosted = server(None);
        let uri = "/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=16000";
        let HostedStream { mut sender, receiver } = hosted.connect(uri, &[]).await.expect("opened");
        assert!(sender.send(Frame::Binary(Bytes::from(vec![0u8; 640]))).await);
        sender.disconnect();
        drop(receiver);
        // The one session allowed is free again, long before the idle timeout.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match hosted.connect(uri, &[]).await {
                Ok(_) => break,
                Err(refused) => {
                    assert_eq!(refused.status, 503);
                    assert!(std::time::Instant::now() < deadline, "the session was not freed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }

    #[tokio::test]
    async fn hosted_refusals_are_the_servers() {
        let hosted = server(Some("s3cret"));
        let uri = "/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=16000";
        let no_token = hosted.connect(uri, &[]).await.err().expect("refused");
        assert_eq!(no_token.status, 401);
        let auth = [("authorization".to_string(), b"Bearer s3cret".to_vec())];
        let refused = hosted.authorize("/v1/pipelines/voice-activity/run", &[]).await;
        assert_eq!(refused.map(|r| r.status), Some(401));
        assert!(
            hosted
                .authorize("/v1/pipelines/voice-activity/run", &auth)
                .await
                .is_none()
        );
        assert!(hosted.authorize("/healthz", &[]).await.is_none());
        let unknown = hosted
            .connect("/v1/pipelines/nope/stream", &auth)
            .await
            .err()
            .expect("unknown");
        assert_eq!(unknown.status, 404);
        let bad_query = hosted
            .connect(
                "/v1/pipelines/voice-activity/stream?format=mp3&sample_rate=1",
                &auth,
            )
            .await
            .err()
            .expect("bad query");
        assert_eq!(bad_query.status, 400);
        let HostedStream { sender, mut receiver } = hosted.connect(uri, &auth).await.expect("opened");
        assert!(sender.send(Frame::Text("{not json".into())).await);
        let Some(Frame::Text(error)) = receiver.recv().await else {
            panic!("an error message first")
        };
        assert!(error.contains(r#""kind":"bad_message""#), "{error}");
        assert!(matches!(
            receiver.recv().await,
            Some(Frame::Close { code: 4400, .. })
        ));
        assert_eq!(receiver.recv().await, None);
    }
}
