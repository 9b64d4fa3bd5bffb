//! Server settings, their defaults, and the start-up checks that keep an exposed server safe.

use std::net::SocketAddr;
use std::time::Duration;

/// The default address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8750";

/// The default of every setting, in one place: [`ServerConfig::default`], the CLI's `serve`
/// flags, the Python extension's `Server` and the contract (which the Ray app reads) use these.
pub mod defaults {
    /// Most WebSocket sessions open at once.
    pub const MAX_SESSIONS: usize = 1024;
    /// Largest WebSocket message and HTTP request body, in bytes (1 MiB).
    pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
    /// Seconds a WebSocket session may receive nothing before it is closed.
    pub const IDLE_TIMEOUT_S: f64 = 60.0;
    /// Output frames held for a client that reads slower than the pipeline produces.
    pub const OUTPUT_QUEUE: usize = 256;
    /// Seconds a client may take nothing it was sent before it is a slow consumer.
    pub const SLOW_CONSUMER_TIMEOUT_S: f64 = 30.0;
    /// The longest an HTTP run may take, in seconds.
    pub const RUN_TIMEOUT_S: f64 = 60.0;
    /// Seconds shutdown waits for open sessions to flush.
    pub const SHUTDOWN_TIMEOUT_S: f64 = 10.0;
}

/// Where the server listens and what it allows.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on (default [`DEFAULT_BIND`], loopback).
    pub bind: SocketAddr,
    /// The bearer token clients must present; `None` serves without authentication (refused on a
    /// non-loopback address unless `insecure`).
    pub token: Option<String>,
    /// Allow a non-loopback address without a token.
    pub insecure: bool,
    /// Most WebSocket sessions open at once; one more gets 503 before the upgrade.
    pub max_sessions: usize,
    /// Largest WebSocket message and largest HTTP request body, in bytes.
    pub max_message_bytes: usize,
    /// A WebSocket session that receives nothing for this long is closed.
    pub idle_timeout: Duration,
    /// Output frames held for a client that reads slower than the pipeline produces; when full,
    /// the pipeline waits (backpressure).
    pub output_queue: usize,
    /// A client that takes nothing it was sent for this long is a slow consumer: `error`
    /// (`slow_consumer`) and close 4429.
    pub slow_consumer_timeout: Duration,
    /// The longest an HTTP run may take (wall time); past it the run is stopped and answered 503
    /// (`timeout`), so that one small request cannot hold a core for minutes.
    pub run_timeout: Duration,
    /// How long shutdown waits for open sessions to flush before exiting anyway.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8750))),
            token: None,
            insecure: false,
            max_sessions: defaults::MAX_SESSIONS,
            max_message_bytes: defaults::MAX_MESSAGE_BYTES,
            idle_timeout: Duration::from_secs_f64(defaults::IDLE_TIMEOUT_S),
            output_queue: defaults::OUTPUT_QUEUE,
            slow_consumer_timeout: Duration::from_secs_f64(defaults::SLOW_CONSUMER_TIMEOUT_S),
            run_timeout: Duration::from_secs_f64(defaults::RUN_TIMEOUT_S),
            shutdown_timeout: Duration::from_secs_f64(defaults::SHUTDOWN_TIMEOUT_S),
        }
    }
}

/// A setting the server refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A non-loopback address without a token (and without `insecure`).
    #[error(
        "refusing to listen on {0} without authentication: give a token (--token-file or REMOTEMEDIA_TOKEN), \
         bind to a loopback address, or pass --insecure"
    )]
    ExposedWithoutToken(SocketAddr),
    /// An empty or blank token.
    #[error("the token is empty")]
    EmptyToken,
    /// A limit of zero.
    #[error("`{0}` must be at least 1")]
    ZeroLimit(&'static str),
    /// A time limit of zero.
    #[error("`{0}` must be a positive number of seconds")]
    ZeroDuration(&'static str),
}

impl ServerConfig {
    /// The checks made before the server listens.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(ConfigError::EmptyToken);
        }
        if self.token.is_none() && !self.bind.ip().is_loopback() && !self.insecure {
            return Err(ConfigError::ExposedWithoutToken(self.bind));
        }
        for (name, value) in [
            ("max_sessions", self.max_sessions),
            ("max_message_bytes", self.max_message_bytes),
            ("output_queue", self.output_queue),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        for (name, value) in [
            ("idle_timeout", self.idle_timeout),
            ("slow_consumer_timeout", self.slow_consumer_timeout),
            ("run_timeout", self.run_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_servers_need_a_token_or_insecure() {
        let mut config = ServerConfig::default();
        assert!(config.bind.ip().is_loopback());
        config.check().expect("loopback without a token is fine");
        config.bind = "0.0.0.0:8750".parse().expect("address");
        let err = config.check().expect_err("exposed without a token");
        assert!(
            err.to_string().starts_with("refusing to listen on 0.0.0.0:8750"),
            "{err}"
        );
        config.token = Some("s3cret".into());
        config.check().expect("exposed with a token");
        config.token = Some("  ".into());
        assert!(matches!(config.check(), Err(ConfigError::EmptyToken)));
        config.token = None;
        config.insecure = true;
        config.check().expect("explicitly insecure");
        config.max_sessions = 0;
        assert_eq!(
            config.check().expect_err("zero").to_string(),
            "`max_sessions` must be at least 1"
        );
    }
}
