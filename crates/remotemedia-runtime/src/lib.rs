//! # remotemedia-runtime
//!
//! The embedding API of remotemedia: the engine ([`remotemedia_core`], re-exported here) together
//! with the native node library ([`nodes`]). The same crate builds the `remotemedia-runtime` binary.
//!
//! Load a manifest and run a batch:
//!
//! ```
//! use remotemedia_runtime::{Pipeline, Value, builtin_registry};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> remotemedia_runtime::Result<()> {
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
//! (`cargo run -p remotemedia-runtime --example streaming`).

pub use remotemedia_core::*;
pub use remotemedia_nodes as nodes;

/// A registry with every native node, and the Python interpreters this build has, in the order
/// `runtime_hint: auto` tries them: RustPython (the default `rustpython` feature), then an embedded
/// CPython (the default `cpython` feature).
pub fn builtin_registry() -> Registry {
    #[allow(unused_mut)]
    let mut registry = remotemedia_nodes::builtin_registry();
    #[cfg(feature = "rustpython")]
    registry.register_python_host(std::sync::Arc::new(remotemedia_rustpython::RustPythonHost));
    #[cfg(feature = "cpython")]
    registry.register_python_host(std::sync::Arc::new(remotemedia_cpython::CPythonHost::embedded()));
    registry
}

/// Reads, parses and validates a manifest file against the native nodes.
pub fn load_pipeline(path: impl AsRef<std::path::Path>) -> Result<Pipeline> {
    Pipeline::from_path(path, &builtin_registry())
}
