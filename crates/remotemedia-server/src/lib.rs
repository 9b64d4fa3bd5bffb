//! # remotemedia-server
//!
//! Pipelines served to real clients: a WebSocket route where one connection is one live session
//! (audio chunks in, outputs out as they happen), a one-shot HTTP route, a list of the served
//! pipelines, health and Prometheus metrics. The protocol is `docs/protocol.md` (version `/v1`).
//!
//! **Trust model.** The server runs only the pipelines it was started with: each manifest is
//! planned (validated, Python nodes loaded) before it listens, and clients can only name a
//! pipeline. No route takes a manifest or code. Loopback is the default; a non-loopback address
//! needs a bearer token (or an explicit `insecure`), and every client-controlled quantity has a
//! limit: sessions, message size, idle time, queued outputs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use remotemedia_server::{ServerConfig, Server};
//! let registry = remotemedia_core::Registry::new();
//! let server = Server::load(&["manifests/voice_activity.yaml"], &registry, ServerConfig::default())?;
//! server.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

mod config;
mod hosted;
mod http;
mod metrics;
mod outbox;
mod served;
mod stream;
pub mod wire;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use remotemedia_core::Registry;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use config::{ConfigError, DEFAULT_BIND, ServerConfig, defaults};
pub use hosted::{Frame, Hosted, HostedResponse, HostedStream, StreamReceiver, StreamSender};
pub use metrics::ServerMetrics;
pub use served::{LoadError, Served, ServedPipeline};

/// What every route sees.
#[derive(Clone)]
pub struct AppState {
    served: Served,
    config: Arc<ServerConfig>,
    metrics: Arc<ServerMetrics>,
    sessions: Arc<Semaphore>,
    shutdown: CancellationToken,
}

/// Why the server cannot start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A manifest cannot be served.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A setting is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address cannot be bound, or the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A server with its pipelines planned, ready to listen.
pub struct Server {
    state: AppState,
}

impl Server {
    /// Checks `config` and plans every manifest (validation, Python nodes loaded) with
    /// `registry`; nothing listens yet.
    pub fn load(
        paths: &[impl AsRef<Path>],
        registry: &Registry,
        config: ServerConfig,
    ) -> Result<Self, ServerError> {
        config.check()?;
        let metrics = Arc::new(ServerMetrics::default());
        let served = served::load_all(paths, registry, &metrics)?;
        Ok(Self {
            state: AppState {
                served,
                sessions: Arc::new(Semaphore::new(config.max_sessions)),
                config: Arc::new(config),
                metrics,
                shutdown: CancellationToken::new(),
            },
        })
    }

    /// The served pipelines.
    pub fn pipelines(&self) -> &Served {
        &self.state.served
    }

    /// The routes (for embedding in another server, or tests).
    pub fn router(&self) -> Router {
        self.routes(get(stream::upgrade))
    }

    /// The server for a host that carries the connections itself (Ray Serve's replicas): the same
    /// routes, with sessions fed frame by frame in-process.
    pub fn hosted(&self) -> Hosted {
        Hosted::new(self.routes(get(hosted::open)), self.state.clone())
    }

    fn routes(&self, stream: axum::routing::MethodRouter<AppState>) -> Router {
        let state = self.state.clone();
        Router::new()
            .route("/healthz", get(http::healthz))
            .route("/metrics", get(http::metrics))
            .route("/v1/pipelines", get(http::list))
            .route("/v1/pipelines/{name}/run", post(http::run))
            .route("/v1/pipelines/{name}/stream", stream)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                http::require_token,
            ))
            .layer(DefaultBodyLimit::max(state.config.max_message_bytes))
            .with_state(state)
    }

    /// Listens until `signal` completes, then shuts down gracefully: no new connection or
    /// session is accepted, every open session is flushed (its remaining outputs, `done`, close
    /// 1001), HTTP runs in flight finish and are answered, and the call returns once all have
    /// ended or `shutdown_timeout` has passed.
    pub async fn serve(self, signal: impl Future<Output = ()> + Send + 'static) -> Result<(), ServerError> {
        let addr = self.state.config.bind;
        use axum::serve::ListenerExt as _;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Listen { addr, source })?;
        let local = listener.local_addr().unwrap_or(addr);
        tracing::info!(
            %local,
            pipelines = ?self.state.served.keys().collect::<Vec<_>>(),
            auth = self.state.config.token.is_some(),
            "listening"
        );
        eprintln!("remotemedia-runtime serve: listening on http://{local}");
        let shutdown = self.state.shutdown.clone();
        let sessions = Arc::clone(&self.state.sessions);
        let config = Arc::clone(&self.state.config);
        let app = self.router();
        let stopping = shutdown.clone();
        // No Nagle: a frame written in two parts (header, payload) would otherwise wait for the
        // client's delayed ACK, which a live client sends with its next chunk (measured: outputs
        // arrived one 20 ms chunk late; benches/RESULTS.md, serve_load).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!("cannot set TCP_NODELAY: {e}");
            }
        });
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            signal.await;
            tracing::info!("shutting down: flushing open sessions");
            stopping.cancel();
        });
        let mut served = tokio::spawn(async move { server.await });
        shutdown.cancelled().await;
        // Every session holds a permit: all of them back means every session has ended. The
        // server's own graceful shutdown lets HTTP requests in flight (runs) finish.
        let all = u32::try_from(config.max_sessions).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(config.shutdown_timeout, async {
            let _sessions = sessions.acquire_many(all).await;
            let _ = (&mut served).await;
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                timeout_s = config.shutdown_timeout.as_secs_f64(),
                "sessions or requests still open at the shutdown timeout; exiting anyway"
            );
        }
        served.abort();
        Ok(())
    }
}
