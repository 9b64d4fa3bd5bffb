//! # remotemedia
//!
//! The embedding API of remotemedia: the engine ([`remotemedia_core`], re-exported here) together
//! with the native node library ([`nodes`]). The `remotemedia-runtime` binary is the
//! `remotemedia-cli` crate, built on this one. (This crate was called `remotemedia-runtime` before;
//! that name remains as a deprecated alias that re-exports it.)
//!
//! Load a manifest and run a batch:
//!
//! ```
//! use remotemedia::{Pipeline, Value, builtin_registry};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> remotemedia::Result<()> {
//! let manifest = r#"{"version": "v1", "nodes": [
//!     {"id": "src", "node_type": "PassThroughNode"},
//!     {"id": "calc", "node_type": "CalculatorNode", "params": {"operation": "add", "operand": 5}}
//! ]}"#;
//! let pipeline = Pipeline::new(&manifest.parse()?, &builtin_registry())?;
//! let out = pipeline.run(vec![1.into(), 2.into(), 3.into()]).await?;
//! assert_eq!(out, vec![Value::Int(6), Value::Int(7), Value::Int(8)]);
//! # Ok(()) }
//! ```
//!
//! More in `examples/`: `batch.rs`, `streaming.rs`, `custom_node.rs`
//! (`cargo run -p remotemedia --example streaming`).

pub use remotemedia_core::*;
pub use remotemedia_nodes as nodes;

/// How [`builtin_registry_with`] sets up Python nodes: what a program may take from its environment
/// (the `remotemedia-runtime` binary reads `REMOTEMEDIA_PYTHON_INTERPRETER` and `VIRTUAL_ENV`; this
/// library reads no environment variable).
#[derive(Debug, Clone, Default)]
pub struct PythonSetup {
    /// Sends every Python node to this interpreter, whatever its `runtime_hint`.
    pub interpreter: Option<InterpreterChoice>,
    /// A virtual environment whose site-packages the embedded CPython adds.
    pub virtual_env: Option<std::path::PathBuf>,
}

/// A registry with every native node (the model nodes with the default `models` feature), and the Python interpreters this build has, in the order
/// `runtime_hint: auto` tries them: RustPython (the default `rustpython` feature), then an embedded
/// CPython (the default `cpython` feature).
pub fn builtin_registry() -> Registry {
    builtin_registry_with(&PythonSetup::default())
}

/// [`builtin_registry`] with Python nodes set up as `setup` says.
pub fn builtin_registry_with(setup: &PythonSetup) -> Registry {
    let mut registry = remotemedia_nodes::builtin_registry();
    // Registering new names into the native registry cannot collide.
    #[cfg(feature = "models")]
    let _ = remotemedia_models::register(&mut registry);
    #[cfg(feature = "speech")]
    let _ = remotemedia_speech::register(&mut registry);
    #[cfg(feature = "rustpython")]
    registry.register_python_host(std::sync::Arc::new(remotemedia_rustpython::RustPythonHost));
    #[cfg(feature = "cpython")]
    registry.register_python_host(std::sync::Arc::new(
        remotemedia_cpython::CPythonHost::embedded().with_virtual_env(setup.virtual_env.clone()),
    ));
    registry.set_interpreter_override(setup.interpreter);
    registry
}

/// Reads, parses and validates a manifest file against the native nodes.
pub fn load_pipeline(path: impl AsRef<std::path::Path>) -> Result<Pipeline> {
    Pipeline::from_path(path, &builtin_registry())
}
