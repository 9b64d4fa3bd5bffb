//! A Python node object driven by the engine: `process`/`flush` calls attached to the
//! interpreter only for the call, `cleanup` when the node is dropped.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use remotemedia_core::{AsyncNode, BoxFuture, Node, NodeError, NodeInstance, Outputs, Value, nesting_error};

use crate::convert::{to_python, to_value};
use crate::interp::{node_error, protocol_call};
use crate::thread_state::{attach, attach_kept};

/// A Python node instance (a live object in this process's CPython).
pub(crate) struct NodeObject {
    object: Py<PyAny>,
}

impl NodeObject {
    /// Wraps an instance; `initialize` runs now.
    pub fn start(py: Python<'_>, object: Py<PyAny>) -> Result<Self, NodeError> {
        protocol_call(py, "call_hook", (object.bind(py), "initialize")).map_err(|e| node_error(py, e))?;
        Ok(Self { object })
    }

    /// Calls `process(input)` (or `flush()` when `input` is `None`); returns its outputs.
    fn call(&self, input: Option<&Value>) -> Result<Vec<Value>, NodeError> {
        attach_kept(|py| {
            let node = self.object.bind(py);
            let result = match input {
                Some(value) => to_python(py, value).and_then(|arg| node.call_method1("process", (arg,))),
                None if node.hasattr("flush").unwrap_or(false) => node.call_method0("flush"),
                None => return Ok(Vec::new()),
            }
            .map_err(|e| node_error(py, e))?;
            outputs(py, result).map_err(|e| output_error(py, e))
        })
        .unwrap_or_else(|| Err(shutting_down()))
    }

    /// Wraps the object as a node: run inline (fused with its neighbours) when it has no time
    /// limit; with `timeout_ms`, each call runs on a blocking thread the executor stops waiting
    /// for once the limit passes.
    pub fn into_instance(self, timeout_ms: Option<u64>) -> NodeInstance {
        match timeout_ms {
            None => NodeInstance::sync(CPythonNode { object: self }),
            Some(ms) => NodeInstance::new_async(TimedCPythonNode {
                object: Arc::new(self),
                limit: Duration::from_millis(ms),
            }),
        }
    }
}

impl Drop for NodeObject {
    fn drop(&mut self) {
        // Once the interpreter is shutting down, `cleanup` is skipped (nothing may run then).
        attach(|py| {
            if let Err(e) = protocol_call(py, "call_hook", (self.object.bind(py), "cleanup")) {
                tracing::warn!("cleanup() raised: {}", node_error(py, e));
            }
        });
    }
}

/// The error of converting what a node returned: a value nested past the limit is the node's
/// failure ([`NodeError::Failed`], raised as `NodeError` naming it), as on the pure-Python
/// executor; anything else is the exception as raised.
fn output_error(py: Python<'_>, err: PyErr) -> NodeError {
    if err.is_instance_of::<PyValueError>(py) && err.value(py).to_string() == nesting_error() {
        return NodeError::failed(nesting_error());
    }
    node_error(py, err)
}

/// The error of a call made while the interpreter shuts down.
pub(crate) fn shutting_down() -> NodeError {
    NodeError::failed("the Python interpreter is shutting down")
}

/// What a `process`/`flush` call returned, as outputs, by the node protocol
/// (`remotemedia.core.protocol.outputs`, which the pure-Python executor uses too). `None` and exact
/// built-in value types take a shortcut here that gives the protocol's answer.
fn outputs(py: Python<'_>, result: Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    if result.is_none() {
        return Ok(Vec::new());
    }
    let plain = result.is_instance_of::<PyInt>()
        || result.is_instance_of::<PyFloat>()
        || result.is_instance_of::<PyString>()
        || result.is_instance_of::<PyDict>()
        || result.is_instance_of::<PyList>()
        || result.is_instance_of::<PyTuple>()
        || result.is_instance_of::<PyBytes>();
    if plain {
        return Ok(vec![to_value(&result)?]);
    }
    let items = protocol_call(py, "outputs", (result,))?;
    items
        .cast::<PyList>()?
        .iter()
        .map(|item| to_value(&item))
        .collect()
}

fn emit_all(values: Vec<Value>, out: &mut Outputs) {
    for value in values {
        out.emit(value);
    }
}

/// Runs in the executor's task, attached to the interpreter only during each call.
struct CPythonNode {
    object: NodeObject,
}

impl Node for CPythonNode {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        emit_all(self.object.call(Some(&input))?, out);
        Ok(())
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        emit_all(self.object.call(None)?, out);
        Ok(())
    }
}

/// A node with `timeout_ms`: each call on a blocking thread, abandoned (not interrupted: CPython
/// cannot stop a running call from outside) once the limit passes, which fails the run.
struct TimedCPythonNode {
    object: Arc<NodeObject>,
    limit: Duration,
}

impl TimedCPythonNode {
    async fn call(&self, input: Option<Value>) -> Result<Vec<Value>, NodeError> {
        let object = Arc::clone(&self.object);
        let task = tokio::task::spawn_blocking(move || object.call(input.as_ref()));
        match tokio::time::timeout(self.limit, task).await {
            Err(_) => Err(NodeError::Timeout(
                u64::try_from(self.limit.as_millis()).unwrap_or(u64::MAX),
            )),
            Ok(Err(join)) => Err(NodeError::Panicked(join.to_string())),
            Ok(Ok(result)) => result,
        }
    }
}

impl AsyncNode for TimedCPythonNode {
    fn process<'a>(&'a mut self, input: Value, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            emit_all(self.call(Some(input)).await?, out);
            Ok(())
        })
    }

    fn flush<'a>(&'a mut self, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            emit_all(self.call(None).await?, out);
            Ok(())
        })
    }
}
