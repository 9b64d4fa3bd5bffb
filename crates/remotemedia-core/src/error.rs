//! The engine's error type.
//!
//! Messages follow one style: lower-case start, identifiers in backticks, what was expected and
//! what was found, and a suggestion where one is obvious.

use std::fmt;
use std::path::PathBuf;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, with the context a caller needs to act on it.
///
/// Deliberately exhaustive: every program that maps it (the CLI's exit codes, the extension's
/// Python exceptions) matches every variant, so a new one cannot go unmapped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest could not be parsed or failed validation. Holds every problem found, not just
    /// the first.
    #[error("invalid manifest {origin}:\n{}", issue_lines(.issues))]
    InvalidManifest {
        /// Where the manifest came from (a path in backticks, or `(inline)`).
        origin: String,
        /// Every problem found, each with the path of the offending field.
        issues: Vec<ManifestIssue>,
    },
    /// A file could not be read or written.
    #[error("cannot access `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A node failed while the pipeline was running (or while it was being created).
    #[error("node `{node_id}` (`{node_type}`) failed: {cause}")]
    Node {
        /// The node's manifest id.
        node_id: String,
        /// The node's type.
        node_type: String,
        /// What went wrong.
        #[source]
        cause: NodeError,
    },
    /// A value could not be built or converted (bad input data, a value JSON cannot carry, ...).
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// Input was sent to a session that has already finished or been closed.
    #[error("the pipeline session is closed")]
    SessionClosed,
}

impl Error {
    /// An [`Error::InvalidValue`].
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Error::InvalidValue(message.into())
    }

    /// The manifest problems, if this is an [`Error::InvalidManifest`].
    pub fn manifest_issues(&self) -> &[ManifestIssue] {
        match self {
            Error::InvalidManifest { issues, .. } => issues,
            _ => &[],
        }
    }
}

fn issue_lines(issues: &[ManifestIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One problem in a manifest: the path of the offending field (`nodes[1].params.operand`) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestIssue {
    /// Dotted path to the field, e.g. `nodes[1].params.operand`; empty for the whole document.
    pub path: String,
    /// What is wrong, what was expected and, where obvious, how to fix it.
    pub message: String,
}

impl ManifestIssue {
    /// A new issue.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ManifestIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a node failed. Node implementations return this; the executor wraps it in
/// [`Error::Node`] with the node's id and type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The node received a value it cannot process (wrong type, wrong shape, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// The node could not produce a result for a valid kind of input (division by zero, ...).
    #[error("{0}")]
    Failed(String),
    /// The node's parameters were accepted by validation but the node refused them.
    #[error("{0}")]
    InvalidParams(String),
    /// A Python node raised an exception.
    #[error("{}: {}", .0.exc_type, .0.message)]
    Python(Box<PythonError>),
    /// A call took longer than the node's `timeout_ms`.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The node panicked; the panic was caught and the run stopped.
    #[error("the node panicked: {0}")]
    Panicked(String),
    /// Any other error from a node implementation.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// A Python exception raised by a node (see [`NodeError::Python`]).
#[derive(Debug, Clone)]
pub struct PythonError {
    /// The exception's class name (`ValueError`).
    pub exc_type: String,
    /// `str(exception)`.
    pub message: String,
    /// The formatted Python traceback.
    pub traceback: String,
    /// Whether the exception is an `ImportError` (or a subclass, such as `ModuleNotFoundError`).
    pub import_failure: bool,
    /// The exception object itself, when the node ran in an interpreter the caller shares
    /// (CPython inside the Python extension), so it can be re-raised with its own class.
    pub exception: Option<PythonException>,
}

impl From<PythonError> for NodeError {
    fn from(e: PythonError) -> Self {
        NodeError::Python(Box::new(e))
    }
}

/// A Python exception object, carried opaquely through the engine (see [`NodeError::Python`]).
#[derive(Clone)]
pub struct PythonException(std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl PythonException {
    /// Wraps an interpreter's exception object.
    pub fn new(exception: impl std::any::Any + Send + Sync) -> Self {
        Self(std::sync::Arc::new(exception))
    }

    /// The exception object, if it is a `T`.
    pub fn downcast_ref<T: std::any::Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl fmt::Debug for PythonException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PythonException(..)")
    }
}

impl NodeError {
    /// A [`NodeError::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        NodeError::InvalidInput(message.into())
    }

    /// A [`NodeError::Failed`].
    pub fn failed(message: impl Into<String>) -> Self {
        NodeError::Failed(message.into())
    }
}
