//! Python nodes: how a manifest describes them, and the hook through which an interpreter host
//! (embedded RustPython, CPython) loads them.
//!
//! A manifest node is a Python node when it names a `class` and exactly one place to find it:
//! an importable `module`, a `file` path (relative to the manifest's folder), or inline `source`.
//! Its `params` become the class's keyword arguments. The engine itself runs no Python: hosts
//! registered with [`crate::Registry::register_python_host`] do. Loading happens while the
//! pipeline is planned, before any data flows, so a node that cannot load is a manifest error.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::NodeError;
use crate::registry::NodeFactory;
use crate::value::Map;

/// Where a Python node's class is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonSource {
    /// An importable module name (`my_nodes.audio`).
    Module(String),
    /// A `.py` file.
    File(PathBuf),
    /// Source text, run as a module named after the node id.
    Inline(String),
}

impl std::fmt::Display for PythonSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PythonSource::Module(m) => write!(f, "module `{m}`"),
            PythonSource::File(p) => write!(f, "file `{}`", p.display()),
            PythonSource::Inline(_) => f.write_str("inline source"),
        }
    }
}

/// Everything needed to load one Python node.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonNodeSpec {
    /// The node's id (names the module of inline source).
    pub node_id: String,
    /// Where the class is defined.
    pub source: PythonSource,
    /// The class name.
    pub class: String,
    /// Constructor keyword arguments.
    pub params: Map,
    /// Folders to add to the module search path (the manifest's folder).
    pub search_path: Vec<PathBuf>,
    /// Longest a single `process` or `flush` call may take, if limited.
    pub timeout_ms: Option<u64>,
}

/// An interpreter that can run Python nodes.
pub trait PythonHost: Send + Sync {
    /// The interpreter's name, as written in `runtime_hint` (`rustpython`, `cpython`).
    fn name(&self) -> &'static str;

    /// Loads the node's class (and checks it can be instantiated with its params); returns a
    /// factory for instances. Fails with the reason the class cannot run on this interpreter.
    fn load(&self, spec: &PythonNodeSpec) -> Result<Arc<dyn NodeFactory>, NodeError>;
}
