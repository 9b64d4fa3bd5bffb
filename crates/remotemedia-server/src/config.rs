//! Server settings, their defaults, and the start-up checks that keep an exposed server safe.

use std::net::SocketAddr;
use std::time::Duration;

/// The default address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8750";

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
            max_sessions: 1024,
            max_message_bytes: 1 << 20,
            idle_timeout: Duration::from_secs(60),
            output_queue: 256,
            slow_consumer_timeout: Duration::from_secs(30),
            run_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
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
