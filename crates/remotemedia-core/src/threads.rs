//! How many threads the engine may keep busy in one process: its async worker threads, and how
//! many files or sessions run at once by default.
//!
//! The cap comes from the environment variable [`THREADS_ENV`] (`REMOTEMEDIA_THREADS`), or from
//! the host program (the CLI, the Python extension's `set_threads`), which must set it before the
//! engine's runtime starts. Without a cap the engine uses every core, which is right for one
//! process per machine and wrong for several (Ray actors, containers sharing a host): then each
//! process should get its share, so that together they do not oversubscribe the cores.
//!
//! RustPython nodes run on a thread of their own per live node instance; how many of those are
//! busy at once follows from how many sessions run at once, which the cap bounds by default.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// The environment variable that caps the engine's threads in a process (a positive integer).
pub const THREADS_ENV: &str = "REMOTEMEDIA_THREADS";

/// The cap [`THREADS_ENV`] asks for: `None` when unset or empty, an error naming the variable
/// for anything but a positive integer.
pub fn threads_from_env() -> Result<Option<NonZeroUsize>, String> {
    parse_threads(std::env::var(THREADS_ENV).ok().as_deref())
}

/// Parses a value of [`THREADS_ENV`].
pub fn parse_threads(value: Option<&str>) -> Result<Option<NonZeroUsize>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse::<NonZeroUsize>().map(Some).map_err(|_| {
            format!("{THREADS_ENV}=\"{text}\" is not valid; expected a positive number of threads")
        }),
    }
}

/// The threads to use under `cap`: the cap itself, or every core the process may use.
pub fn threads_or_cores(cap: Option<NonZeroUsize>) -> usize {
    cap.map_or_else(
        || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        NonZeroUsize::get,
    )
}

/// The process's thread count, fixed by the first [`set_engine_threads`] or [`engine_threads`].
static ENGINE_THREADS: OnceLock<usize> = OnceLock::new();

/// Fixes the process's thread count (before the engine's runtime starts). Setting the count it
/// already has is fine; once fixed to another, the error gives the count in force.
pub fn set_engine_threads(threads: NonZeroUsize) -> Result<(), usize> {
    let fixed = *ENGINE_THREADS.get_or_init(|| threads.get());
    if fixed == threads.get() {
        Ok(())
    } else {
        Err(fixed)
    }
}

/// The process's thread count: what [`set_engine_threads`] fixed, else [`THREADS_ENV`], else
/// every core. The first answer is fixed for the life of the process. An invalid
/// [`THREADS_ENV`] is an error (and fixes nothing).
pub fn engine_threads() -> Result<usize, String> {
    if let Some(fixed) = ENGINE_THREADS.get() {
        return Ok(*fixed);
    }
    let threads = threads_or_cores(threads_from_env()?);
    Ok(*ENGINE_THREADS.get_or_init(|| threads))
}

/// The name of the engine's threads (`top -H`, `/proc/PID/task/*/comm`): its workers, and the
/// threads tokio starts for blocking work (file decoding, Python calls) beside them.
pub const THREAD_NAME: &str = "rm-engine";

/// The engine's multi-threaded tokio runtime with `threads` worker threads.
pub fn build_runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_a_positive_integer() {
        assert_eq!(parse_threads(None), Ok(None));
        assert_eq!(parse_threads(Some(" ")), Ok(None));
        assert_eq!(parse_threads(Some("3")), Ok(NonZeroUsize::new(3)));
        assert_eq!(
            parse_threads(Some("0")),
            Err("REMOTEMEDIA_THREADS=\"0\" is not valid; expected a positive number of threads".to_string())
        );
        assert!(parse_threads(Some("two")).is_err());
        assert!(parse_threads(Some("-1")).is_err());
    }

    #[test]
    fn the_runtime_has_the_asked_worker_threads() {
        assert_eq!(threads_or_cores(NonZeroUsize::new(5)), 5);
        assert!(threads_or_cores(None) >= 1);
        let runtime = build_runtime(3).expect("runtime");
        assert_eq!(runtime.metrics().num_workers(), 3);
        let name = runtime
            .block_on(runtime.spawn(async { std::thread::current().name().map(str::to_string) }))
            .expect("task");
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
    }
}
