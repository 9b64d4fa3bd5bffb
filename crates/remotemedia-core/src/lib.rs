//! # remotemedia-core
//!
//! The engine of remotemedia: the [`Value`] that flows between nodes, manifest v1 ([`Manifest`]),
//! graph validation, the [`Node`] trait and [`Registry`], and the streaming DAG executor
//! ([`Pipeline`], [`Session`]).
//!
//! Non-goals: this crate ships no nodes (see `remotemedia-nodes`) and knows nothing of Python
//! (see the Python-host crates). It never installs a tracing subscriber.
//!
//! ```
//! use remotemedia_core::{Manifest, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Pipeline, Registry, Value};
//!
//! /// Multiplies integers by `factor`.
//! struct Scale(i64);
//! impl Node for Scale {
//!     fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
//!         let x = input.as_int().ok_or_else(|| NodeError::invalid_input("expected an int"))?;
//!         out.emit(x * self.0);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> remotemedia_core::Result<()> {
//! let mut registry = Registry::new();
//! registry.register(
//!     NodeDescriptor::new("ScaleNode").param(ParamSpec::integer("factor").default(2)),
//!     |p: &Params| Ok(NodeInstance::sync(Scale(p.int("factor")?))),
//! )?;
//! let manifest = Manifest::parse(r#"{"version": "v1", "nodes": [{"id": "s", "node_type": "ScaleNode", "params": {"factor": 3}}]}"#)?;
//! let outputs = Pipeline::new(&manifest, &registry)?.run(vec![Value::Int(1), Value::Int(2)]).await?;
//! assert_eq!(outputs, vec![Value::Int(3), Value::Int(6)]);
//! # Ok(()) }
//! ```

pub mod error;
pub mod executor;
mod graph;
pub mod manifest;
pub mod node;
pub mod params;
pub mod python;
pub mod registry;
pub mod samples;
pub mod suggest;
pub mod threads;
pub mod value;

pub use error::{Error, ManifestIssue, NodeError, PythonError, PythonException, Result};
pub use executor::{
    CallObserver, InlineSession, NodeMetrics, Output, Pipeline, RunOptions, RunReport, Session, SessionEvent,
    SessionInput, SessionOutput,
};
pub use manifest::{
    Connection, Manifest, Metadata, NO_NODES, NodeSpec, RUST_HINT_ON_PYTHON_NODE, RuntimeHint,
    manifest_schema,
};
pub use node::{AsyncNode, BoxFuture, Node, NodeInstance, Outputs};
pub use params::{ParamKind, ParamSpec, Params};
pub use python::{
    INTERPRETER_ENV, InterpreterChoice, LoadError, NodeRuntime, PythonHost, PythonNodeSpec, PythonSource,
};
pub use registry::{CheckedFactory, NodeDescriptor, NodeFactory, RegisteredNode, Registry};
pub use value::{
    AudioBuffer, Buffer, DType, MAX_INPUT_CHANNELS, MAX_INPUT_SAMPLE_RATE, MAX_NESTING,
    MIN_INPUT_SAMPLE_RATE, Map, NdArray, SampleFormat, Value, check_input_sample_rate, check_integers,
    input_sample_rate_reason, json_parse_error, nesting_error, parse_json_text,
};
