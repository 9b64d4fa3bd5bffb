//! The server hosted by Python (`remotemedia-server`'s `Hosted`): a Python web host (the Ray Serve
//! application of `remotemedia.ray`) carries HTTP requests and WebSocket frames, and the server's
//! own routes, checks, limits and session logic answer them. `HostedServer.request` answers an
//! HTTP request; `HostedServer.connect` opens a `HostedSession` (or refuses it with the HTTP answer
//! the server gives before an upgrade), whose frames Python relays both ways.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use remotemedia_server::{
    Frame, Hosted, HostedResponse, LoadError, Server, ServerConfig, ServerError, StreamReceiver,
    StreamSender, defaults,
};
use tokio::sync::Mutex;

use crate::awaitable;
use crate::errors::to_py_err;

type Headers = Vec<(String, Vec<u8>)>;

/// The pipelines of some manifests, served through a Python web host.
#[pyclass(frozen, name = "HostedServer", module = "remotemedia_runtime")]
pub struct PyHostedServer {
    hosted: Hosted,
    names: Vec<String>,
}

fn response_tuple(py: Python<'_>, response: HostedResponse) -> PyResult<Py<PyAny>> {
    let headers: Vec<(String, Py<PyBytes>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, PyBytes::new(py, &value).unbind()))
        .collect();
    Ok(PyTuple::new(
        py,
        [
            response.status.into_pyobject(py)?.into_any(),
            headers.into_pyobject(py)?.into_any(),
            PyBytes::new(py, &response.body).into_any(),
        ],
    )?
    .into_any()
    .unbind())
}

#[pymethods]
impl PyHostedServer {
    /// Plans every manifest (validation, Python nodes loaded), as `remotemedia-runtime serve`
    /// does; the limits are the server's options (docs/protocol.md).
    #[new]
    // One keyword argument per server option, as Python callers pass them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        manifests,
        *,
        token = None,
        max_sessions = defaults::MAX_SESSIONS,
        max_message_bytes = defaults::MAX_MESSAGE_BYTES,
        idle_timeout = defaults::IDLE_TIMEOUT_S,
        output_queue = defaults::OUTPUT_QUEUE,
        slow_consumer_timeout = defaults::SLOW_CONSUMER_TIMEOUT_S,
        run_timeout = defaults::RUN_TIMEOUT_S,
    ))]
    fn new(
        py: Python<'_>,
        manifests: Vec<PathBuf>,
        token: Option<String>,
        max_sessions: usize,
        max_message_bytes: usize,
        idle_timeout: f64,
        output_queue: usize,
        slow_consumer_timeout: f64,
        run_timeout: f64,
    ) -> PyResult<Self> {
        let seconds = |value: f64, name: &str| {
            Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    pyo3::exceptions::PyValueError::new_err(format!(
                        "{name} must be a positive number of seconds, found {value}"
                    ))
                })
        };
        let idle_timeout = seconds(idle_timeout, "idle_timeout")?;
        let slow_consumer_timeout = seconds(slow_consumer_timeout, "slow_consumer_timeout")?;
        let run_timeout = seconds(run_timeout, "run_timeout")?;
        let config = ServerConfig {
            token,
            max_sessions,
            max_message_bytes,
            idle_timeout,
            output_queue,
            slow_consumer_timeout,
            run_timeout,
            ..ServerConfig::default()
        };
        let registry =
            crate::registry(None).map_err(|message| crate::errors::selection_error(py, message))?;
        let server = py
            .detach(|| Server::load(&manifests, &registry, config))
            .map_err(|e| match e {
                ServerError::Load(LoadError::Pipeline(e)) => to_py_err(py, e),
                other => pyo3::exceptions::PyValueError::new_err(other.to_string()),
            })?;
        Ok(Self {
            names: server.pipelines().keys().cloned().collect(),
            hosted: server.hosted(),
        })
    }

    /// The names of the served pipelines.
    #[getter]
    fn pipelines(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The largest request body and WebSocket message the server takes, in bytes.
    #[getter]
    fn max_message_bytes(&self) -> usize {
        self.hosted.max_message_bytes()
    }

    /// The server's 401 answer for a request lacking the token: an awaitable of `None` (allowed)
    /// or `(status, [(name, value)], body)`; a host checks it before reading a body.
    fn authorize<'py>(&self, py: Python<'py>, uri: String, headers: Headers) -> PyResult<Bound<'py, PyAny>> {
        let hosted = self.hosted.clone();
        awaitable::spawn(
            py,
            async move { hosted.authorize(&uri, &headers).await },
            |py, refused| match refused {
                None => Ok(py.None()),
                Some(response) => response_tuple(py, response),
            },
        )
    }

    /// Answers an HTTP request: an awaitable of `(status, [(name, value)], body)`.
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: String,
        uri: String,
        headers: Headers,
        body: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let hosted = self.hosted.clone();
        awaitable::spawn(
            py,
            async move { hosted.request(&method, &uri, &headers, body.into()).await },
            response_tuple,
        )
    }

    /// Opens a WebSocket session for `uri`: an awaitable of a `HostedSession`, or of the refusal
    /// `(status, [(name, value)], body)` to answer instead of accepting the connection.
    fn connect<'py>(&self, py: Python<'py>, uri: String, headers: Headers) -> PyResult<Bound<'py, PyAny>> {
        let hosted = self.hosted.clone();
        awaitable::spawn(
            py,
            async move { hosted.connect(&uri, &headers).await },
            |py, opened| match opened {
                Ok(stream) => Ok(Py::new(
                    py,
                    PyHostedSession {
                        sender: Arc::new(Mutex::new(stream.sender)),
                        receiver: Arc::new(Mutex::new(stream.receiver)),
                    },
                )?
                .into_any()),
                Err(refused) => response_tuple(py, refused),
            },
        )
    }

    /// Stops accepting sessions and flushes the open ones (`done`, close 1001).
    fn shutdown(&self) {
        self.hosted.shutdown();
    }
}

/// One WebSocket session of a `HostedServer`: Python relays the client's frames in (`send_text`,
/// `send_bytes`, `disconnect`) and the session's frames out (`recv`).
#[pyclass(frozen, name = "HostedSession", module = "remotemedia_runtime")]
pub struct PyHostedSession {
    sender: Arc<Mutex<StreamSender>>,
    receiver: Arc<Mutex<StreamReceiver>>,
}

impl PyHostedSession {
    fn send<'py>(&self, py: Python<'py>, frame: Frame) -> PyResult<Bound<'py, PyAny>> {
        let sender = Arc::clone(&self.sender);
        awaitable::spawn(
            py,
            async move { sender.lock().await.send(frame).await },
            |py, taken| Ok(taken.into_pyobject(py)?.to_owned().into_any().unbind()),
        )
    }
}

#[pymethods]
impl PyHostedSession {
    /// Hands over a text frame; awaits while the session has not taken the previous frame. `False`
    /// once the session no longer reads (`recv` tells how it ended).
    fn send_text<'py>(&self, py: Python<'py>, text: String) -> PyResult<Bound<'py, PyAny>> {
        self.send(py, Frame::Text(text))
    }

    /// Hands over a binary frame, as `send_text`.
    fn send_bytes<'py>(&self, py: Python<'py>, data: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        self.send(py, Frame::Binary(data.into()))
    }

    /// The client went away: the session is cancelled.
    fn disconnect(&self) {
        let sender = Arc::clone(&self.sender);
        awaitable::runtime().spawn(async move { sender.lock().await.disconnect() });
    }

    /// The next frame for the client: an awaitable of `("text", str)`, `("binary", bytes)`,
    /// `("close", code, reason)` (the last one), or `None` after it.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let receiver = Arc::clone(&self.receiver);
        awaitable::spawn(
            py,
            async move { receiver.lock().await.recv().await },
            |py, frame| {
                Ok(match frame {
                    None => py.None(),
                    Some(Frame::Text(text)) => ("text", text).into_pyobject(py)?.into_any().unbind(),
                    Some(Frame::Binary(bytes)) => ("binary", PyBytes::new(py, &bytes))
                        .into_pyobject(py)?
                        .into_any()
                        .unbind(),
                    Some(Frame::Close { code, reason }) => {
                        ("close", code, reason).into_pyobject(py)?.into_any().unbind()
                    }
                })
            },
        )
    }
}
