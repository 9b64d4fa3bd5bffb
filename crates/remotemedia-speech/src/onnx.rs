//! onnxruntime for the speech nodes, through [`ort`] with its library loaded at run time: from
//! `REMOTEMEDIA_ONNXRUNTIME` (a path to `libonnxruntime.so`) when set, else from the `onnxruntime`
//! wheel installed in a Python environment (see [`crate::packages`]). One environment per process
//! (onnxruntime allows no more), with one thread pool shared by every session, as large as the
//! engine's thread cap (`--threads`, `REMOTEMEDIA_THREADS`, `set_threads`; every core by default):
//! a lone session uses every core, and many sessions together never take more than the cap.
//! Idle pool threads sleep rather than spin.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::{Environment, GlobalThreadPoolOptions};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

/// The path of the onnxruntime library to load, overriding the search.
pub const LIBRARY_ENV: &str = "REMOTEMEDIA_ONNXRUNTIME";

/// What to install when onnxruntime is missing.
pub const INSTALL: &str = "pip install onnxruntime (or the `tts` extra: pip install 'remotemedia[tts]'), or set REMOTEMEDIA_ONNXRUNTIME to a libonnxruntime.so";

/// Why onnxruntime cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OnnxError {
    /// No library was found.
    #[error("onnxruntime is not installed: {INSTALL}")]
    Missing,
    /// The library did not load.
    #[error("onnxruntime at `{path}` cannot be loaded: {reason}")]
    Load {
        /// The library.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A model did not load or run.
    #[error("{0}")]
    Model(String),
}

/// The library to load.
pub fn library_path() -> Result<PathBuf, OnnxError> {
    if let Ok(path) = std::env::var(LIBRARY_ENV) {
        return Ok(PathBuf::from(path));
    }
    crate::packages::find_prefixed("onnxruntime", "capi", "libonnxruntime.so").ok_or(OnnxError::Missing)
}

/// The process's onnxruntime environment, created on first use.
pub fn environment() -> Result<&'static Environment, OnnxError> {
    static ENV: OnceLock<Result<Environment, OnnxError>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = library_path()?;
        let load = |reason: String| OnnxError::Load {
            path: path.clone(),
            reason,
        };
        let threads = remotemedia_core::threads::engine_threads().map_err(OnnxError::Model)?;
        // The library first: creating the pool's options calls into it.
        let builder = ort::init_from(&path).map_err(|e| load(e.to_string()))?;
        let pool = GlobalThreadPoolOptions::default()
            .with_intra_threads(threads)
            .and_then(|p| p.with_inter_threads(1))
            .and_then(|p| p.with_spin_control(false))
            .map_err(|e| load(e.to_string()))?;
        builder
            .with_name("remotemedia")
            .with_telemetry(false)
            .with_global_thread_pool(pool)
            .build()
            .map_err(|e| load(e.to_string()))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A session on the model file `path`, run on the process's shared thread pool.
pub fn session(path: &Path) -> Result<Session, OnnxError> {
    let model = |e: ort::Error| OnnxError::Model(format!("`{}`: {e}", path.display()));
    Session::builder(environment()?)
        .map_err(model)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| model(e.into()))?
        .commit_from_file(path)
        .map_err(model)
}

/// A session on a model held in memory (`what` names it in errors).
pub fn session_from_bytes(bytes: &[u8], what: &str) -> Result<Session, OnnxError> {
    let model = |e: ort::Error| OnnxError::Model(format!("{what}: {e}"));
    Session::builder(environment()?)
        .map_err(model)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| model(e.into()))?
        .commit_from_memory(bytes)
        .map_err(model)
}
