//! Python nodes: how a manifest describes them, and the hook through which an interpreter host
//! (embedded RustPython, CPython) loads them.
//!
//! A manifest node is a Python node when it names a `class` and exactly one place to find it:
//! an importable `module`, a `file` path (relative to the manifest's folder), or inline `source`.
//! Its `params` become the class's keyword arguments. The engine itself runs no Python: hosts
//! registered with [`crate::Registry::register_python_host`] do. Loading happens while the
//! pipeline is planned, before any data flows, so a node that cannot load is a manifest error.

use std::path::PathBuf;
use std::str::FromStr;
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
    /// An object the embedding program hands over as it is (only a host of live objects takes it).
    Live,
}

impl std::fmt::Display for PythonSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PythonSource::Module(m) => write!(f, "module `{m}`"),
            PythonSource::File(p) => write!(f, "file `{}`", p.display()),
            PythonSource::Inline(_) => f.write_str("inline source"),
            PythonSource::Live => f.write_str("a live object"),
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

impl PythonNodeSpec {
    /// The module name inline source runs as: `remotemedia_node_<id>` (the id with every
    /// character that is not a letter or digit replaced by `_`), as in the Python package.
    pub fn inline_module_name(&self) -> String {
        let clean: String = self
            .node_id
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        format!("remotemedia_node_{clean}")
    }
}

/// Why a [`PythonHost`] did not load a node. `auto` tries the next interpreter only after
/// [`LoadError::Unsupported`], so a node whose own code fails never runs a second time elsewhere.
#[derive(Debug)]
pub enum LoadError {
    /// This interpreter cannot host the node: its module imports something the interpreter does
    /// not have (a C extension on RustPython), uses syntax it cannot compile, or the interpreter
    /// itself could not start. Another interpreter may.
    Unsupported(NodeError),
    /// The node's own code failed while loading: its module's top level, its constructor or its
    /// `initialize` raised.
    Failed(NodeError),
}

impl LoadError {
    /// The error, whichever kind.
    pub fn error(&self) -> &NodeError {
        match self {
            Self::Unsupported(e) | Self::Failed(e) => e,
        }
    }

    /// Classifies a Python exception raised while loading: an `ImportError` (or a subclass) or a
    /// `SyntaxError` means the interpreter cannot host the code (nothing of the module ran past
    /// the failed import, or nothing at all); anything else is the node's own failure.
    pub fn from_python(error: NodeError) -> Self {
        let unsupported = match &error {
            NodeError::Python(python) => {
                python.import_failure
                    || matches!(
                        python.exc_type.as_str(),
                        "SyntaxError" | "IndentationError" | "TabError"
                    )
            }
            _ => true,
        };
        if unsupported {
            Self::Unsupported(error)
        } else {
            Self::Failed(error)
        }
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error().fmt(f)
    }
}

/// What runs a node: native code, or one of the Python interpreters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeRuntime {
    /// A native node of the registry.
    Rust,
    /// A Python node on the embedded RustPython interpreter.
    RustPython,
    /// A Python node on CPython.
    CPython,
}

impl NodeRuntime {
    /// The name used everywhere the runtime is shown: `rust`, `rustpython`, `cpython` (the
    /// `runtime_hint` values, and what `Pipeline.last_run.nodes` reports in Python).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::RustPython => "rustpython",
            Self::CPython => "cpython",
        }
    }
}

impl std::fmt::Display for NodeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An interpreter that can run Python nodes.
pub trait PythonHost: Send + Sync {
    /// Which interpreter this is ([`NodeRuntime::RustPython`] or [`NodeRuntime::CPython`]), as
    /// `runtime_hint` names it.
    fn runtime(&self) -> NodeRuntime;

    /// Whether this host can take the node at all (a host of live objects takes only its own, and
    /// hosts that load classes take no live object); hosts that cannot are skipped without a message.
    fn handles(&self, spec: &PythonNodeSpec) -> bool {
        spec.source != PythonSource::Live
    }

    /// Loads the node's class (and checks it can be instantiated with its params); returns a
    /// factory for instances. Fails with the reason the class cannot run on this interpreter.
    fn load(&self, spec: &PythonNodeSpec) -> Result<Arc<dyn NodeFactory>, LoadError>;
}

/// The environment variable that overrides every Python node's `runtime_hint`, process-wide:
/// `auto`, `rustpython` or `cpython`. Unset (or empty) leaves each node's own hint in force.
pub const INTERPRETER_ENV: &str = "REMOTEMEDIA_PYTHON_INTERPRETER";

/// Which interpreter a Python node may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterpreterChoice {
    /// RustPython first, CPython when the node cannot load there.
    Auto,
    /// Only the embedded RustPython interpreter.
    RustPython,
    /// Only CPython.
    CPython,
}

impl InterpreterChoice {
    /// The one interpreter this choice allows; `None` for `Auto` (all, in order).
    pub fn host(self) -> Option<NodeRuntime> {
        match self {
            Self::Auto => None,
            Self::RustPython => Some(NodeRuntime::RustPython),
            Self::CPython => Some(NodeRuntime::CPython),
        }
    }
}

impl FromStr for InterpreterChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "rustpython" => Ok(Self::RustPython),
            "cpython" => Ok(Self::CPython),
            other => Err(format!(
                "{INTERPRETER_ENV}=\"{other}\" is not valid; expected \"auto\", \"rustpython\" or \"cpython\""
            )),
        }
    }
}

impl InterpreterChoice {
    /// The override a value of [`INTERPRETER_ENV`] asks for: `None` when unset or empty. The
    /// engine reads no environment itself; the programs that compose it (the binary, the Python
    /// extension) read the variable and set [`crate::Registry::set_interpreter_override`].
    pub fn from_env_value(value: Option<&str>) -> Result<Option<Self>, String> {
        match value.map(str::trim) {
            Some(v) if !v.is_empty() => v.parse().map(Some),
            _ => Ok(None),
        }
    }
}
