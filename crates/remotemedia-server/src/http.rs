//! The HTTP routes: health, the list of pipelines, one-shot runs, metrics; the bearer-token check;
//! and the JSON error bodies.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use remotemedia_core::{Error, Value};
use remotemedia_io::{AudioChunks, AudioFileSource, Collected, Progress, RunError, run_source};
use subtle::ConstantTimeEq;

use crate::AppState;

/// An error answered as `{"error": kind, "message": …}` (plus `node_id`/`node_type` for a node).
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    node: Option<(String, String)>,
}

impl ApiError {
    /// An error with `status`, a machine-readable `kind` and a message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            node: None,
        }
    }

    /// 400: the input cannot be read.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_input", message)
    }

    /// The status and kind for an engine error.
    pub fn from_engine(err: Error) -> Self {
        match err {
            Error::Node {
                node_id,
                node_type,
                cause,
            } => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "node",
                message: cause.to_string(),
                node: Some((node_id, node_type)),
            },
            other => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({"error": self.kind, "message": self.message});
        if let Some((id, ty)) = self.node {
            body["node_id"] = id.into();
            body["node_type"] = ty.into();
        }
        (self.status, Json(body)).into_response()
    }
}

/// Whether `presented` is the token (compared in constant time).
fn token_matches(expected: &str, presented: &str) -> bool {
    expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// The token of a request: `Authorization: Bearer …`, else the `token` query parameter.
fn presented_token(headers: &HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    query_token(uri)
}

/// The `token` query parameter, decoded by axum's own query parsing.
fn query_token(uri: &axum::http::Uri) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct TokenQuery {
        token: Option<String>,
    }
    axum::extract::Query::<TokenQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.token)
}

/// Refuses requests without the token (401), when the server has one. `/healthz` is open.
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match token_refusal(&state, &request) {
        None => next.run(request).await,
        Some(refused) => refused,
    }
}

/// The 401 answer for a request without the token, when the server has one; `/healthz` is open.
pub(crate) fn token_refusal<B>(state: &AppState, request: &axum::http::Request<B>) -> Option<Response> {
    let expected = state.config.token.as_deref()?;
    if request.uri().path() == "/healthz" {
        return None;
    }
    match presented_token(request.headers(), request.uri()) {
        Some(token) if token_matches(expected, &token) => None,
        presented => {
            state.metrics.error("unauthorized");
            let message = if presented.is_some() {
                "the token is not valid"
            } else {
                "this server needs a token: `Authorization: Bearer <token>` (or `?token=` for browsers)"
            };
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            Some(response)
        }
    }
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /v1/pipelines`.
pub async fn list(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::Value::Array(
        state.served.values().map(|p| p.to_json()).collect(),
    ))
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// How a run's body is read, from its `Content-Type`.
enum Body {
    Json,
    JsonLines,
    Audio,
}

fn body_kind(headers: &HeaderMap) -> Result<Body, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(Body::Json),
        "application/x-ndjson"
        | "application/jsonl"
        | "application/json-lines"
        | "application/x-jsonlines" => Ok(Body::JsonLines),
        t if t.starts_with("audio/") || t == "application/octet-stream" => Ok(Body::Audio),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type `{other}` is not supported: use application/json (a JSON array), \
                 application/x-ndjson (JSON Lines) or audio/* (a WAV, FLAC, MP3, Ogg or M4A file)"
            ),
        )),
    }
}

fn json_items(text: &str, lines: bool) -> Result<Vec<Value>, ApiError> {
    let parse = |text: &str, what: String| -> Result<Value, ApiError> {
        let json = remotemedia_core::parse_json_text(text)
            .map_err(|e| ApiError::bad_input(format!("{what}: {e}")))?;
        Value::from_json(json).map_err(|e| ApiError::bad_input(format!("{what}: {e}")))
    };
    if lines {
        return text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| parse(l, format!("line {}", i + 1)))
            .collect();
    }
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match parse(text, "body".into())? {
        list @ Value::List(_) => Ok(list.into_list().unwrap_or_default()),
        single => Ok(vec![single]),
    }
}

/// `POST /v1/pipelines/{name}/run`: a JSON array, JSON Lines or an audio file in; the JSON array
/// of outputs out, as `remotemedia-runtime run` prints it.
pub async fn run(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let served = state.served.get(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no pipeline named `{name}`"),
        )
    })?;
    let kind = body_kind(&headers)?;
    state.metrics.session_started(&name, false);
    let limit = state.config.run_timeout;
    let outputs = tokio::time::timeout(limit, run_body(&state, &name, &served.pipeline, kind, body))
        .await
        .map_err(|_| {
            state.metrics.error("timeout");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the run took longer than the server's limit of {} s (--run-timeout); send a shorter input",
                    limit.as_secs_f64()
                ),
            )
        })??;
    state.metrics.items_out(&name, outputs.len() as u64);
    let json = outputs
        .iter()
        .map(Value::to_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("cannot write an output as JSON: {e}"),
            )
        })?;
    Ok(Json(serde_json::Value::Array(json)).into_response())
}

/// Reads a run's body and runs the pipeline on it.
async fn run_body(
    state: &AppState,
    name: &str,
    pipeline: &remotemedia_core::Pipeline,
    kind: Body,
    body: Bytes,
) -> Result<Vec<Value>, ApiError> {
    let outputs = match kind {
        Body::Json | Body::JsonLines => {
            let text =
                std::str::from_utf8(&body).map_err(|_| ApiError::bad_input("the body is not UTF-8"))?;
            let items = json_items(text, matches!(kind, Body::JsonLines))?;
            state.metrics.items_in(name, items.len() as u64);
            pipeline.run(items).await.map_err(ApiError::from_engine)?
        }
        Body::Audio => {
            let bytes = body.to_vec();
            let source =
                tokio::task::spawn_blocking(move || AudioFileSource::from_bytes(bytes, "request body", 100))
                    .await
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
                    .map_err(|e| ApiError::bad_input(e.to_string()))?;
            let progress = Progress::default();
            let mut collected = Collected::new(pipeline, None);
            let chunks: AudioChunks = Box::new(source);
            run_source(pipeline, chunks, &progress, |node, value| {
                collected.take(node, value)
            })
            .await
            .map_err(|e| match e {
                RunError::Input(e) => ApiError::bad_input(e.to_string()),
                RunError::Output(e) => {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
                }
                RunError::Pipeline(e) => ApiError::from_engine(e),
            })?;
            collected.outputs()
        }
    };
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly_and_decode_from_queries() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abc", "abd"));
        assert!(!token_matches("abc", "ab"));
        let token = |query: &str| query_token(&format!("/x?{query}").parse().expect("uri"));
        assert_eq!(token("format=s16le&token=a%2Bb+c%3d").as_deref(), Some("a+b c="));
        assert_eq!(token("format=s16le"), None);
        assert_eq!(token("token=100%").as_deref(), Some("100%"));
    }

    #[test]
    fn bodies_become_items() {
        assert_eq!(
            json_items("[1, 2]", false).ok(),
            Some(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(json_items("7", false).ok(), Some(vec![Value::Int(7)]));
        assert_eq!(json_items("1\n\n[2]\n", true).ok().map(|v| v.len()), Some(2));
        let err = json_items("1\nnope\n", true).expect_err("line 2");
        assert!(err.message.starts_with("line 2: invalid JSON"), "{}", err.message);
    }
}
