//! `serve`: options to a server config, the token from a file or the environment, and the
//! signals that stop it. The server itself is `remotemedia-server`.

use std::time::Duration;

use remotemedia::Registry;
use remotemedia_server::{Server, ServerConfig, ServerError};

use super::{CliError, ServeArgs};

/// The environment variable a token may come from.
pub const TOKEN_ENV: &str = "REMOTEMEDIA_TOKEN";

fn seconds(value: f64, option: &str) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            CliError::usage(format!(
                "`{option}` must be a positive number of seconds, found {value}"
            ))
        })
}

fn token(args: &ServeArgs) -> Result<Option<String>, CliError> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read the token file `{}`: {e}", path.display())))?;
        return Ok(Some(text.trim_end().to_string()));
    }
    Ok(std::env::var(TOKEN_ENV).ok())
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs, registry: Registry) -> Result<(), CliError> {
    let config = ServerConfig {
        bind: args.bind,
        token: token(&args)?,
        insecure: args.insecure,
        max_sessions: args.max_sessions as usize,
        max_message_bytes: usize::try_from(args.max_message_bytes).unwrap_or(usize::MAX),
        idle_timeout: seconds(args.idle_timeout, "--idle-timeout")?,
        output_queue: args.output_queue as usize,
        slow_consumer_timeout: seconds(args.slow_consumer_timeout, "--slow-consumer-timeout")?,
        run_timeout: seconds(args.run_timeout, "--run-timeout")?,
        shutdown_timeout: seconds(args.shutdown_timeout, "--shutdown-timeout")?,
    };
    let server = Server::load(&args.manifests, &registry, config).map_err(|e| match e {
        ServerError::Load(remotemedia_server::LoadError::Pipeline(e)) => CliError::from(e),
        other => CliError::usage(other.to_string()),
    })?;
    server
        .serve(stop_signal())
        .await
        .map_err(|e| CliError::runtime(e.to_string()))
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
