//! Engine errors as the Python exception classes of `remotemedia.errors`.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use remotemedia_core::{Error, NodeError};

/// Builds `remotemedia.errors.<class>(*args)`, or `fallback(message)` when the `remotemedia`
/// package is not importable (the extension used on its own).
fn package_error<'py, A>(py: Python<'py>, class: &str, args: A, fallback: impl FnOnce() -> PyErr) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    let made = py
        .import("remotemedia.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1(args));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => fallback(),
    }
}

/// `remotemedia.errors.RuntimeSelectionError(message)`: the runtime or interpreter asked for
/// cannot be used.
pub fn selection_error(py: Python<'_>, message: String) -> PyErr {
    package_error(py, "RuntimeSelectionError", (message.clone(),), || PyValueError::new_err(message))
}

/// Maps an engine error to the exception the pure-Python executor raises in the same situation.
pub fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    // Raised in this interpreter: re-raise the exception itself, naming the node, as the
    // pure-Python executor does.
    if let Error::Node {
        node_id,
        node_type,
        cause: NodeError::Python(python),
    } = &err
        && let Some(original) = python.exception.as_ref().and_then(|e| e.downcast_ref::<PyErr>())
    {
        return annotate(py, original.clone_ref(py), node_id, node_type).unwrap_or_else(|e| e);
    }
    let message = err.to_string();
    match err {
        Error::InvalidManifest { origin, issues } => {
            let lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
            package_error(py, "ManifestError", (lines, origin), || {
                PyValueError::new_err(message)
            })
        }
        Error::Node {
            node_id,
            node_type,
            cause,
        } => package_error(py, "NodeError", (cause.to_string(), node_id, node_type), || {
            PyRuntimeError::new_err(message)
        }),
        Error::InvalidValue(text) => PyValueError::new_err(text),
        Error::Io { .. } => PyOSError::new_err(message),
        _ => package_error(py, "RemoteMediaError", (message.clone(),), || {
            PyRuntimeError::new_err(message)
        }),
    }
}

/// `remotemedia.executor.annotate(exc, node_id, node_type)`: the message names the node; the
/// exception keeps its class. Without the package, the exception as it is.
fn annotate(py: Python<'_>, err: PyErr, node_id: &str, node_type: &str) -> PyResult<PyErr> {
    let value = err.value(py).clone();
    match py.import("remotemedia.executor") {
        Ok(module) => {
            let annotated = module.getattr("annotate")?.call1((value, node_id, node_type))?;
            Ok(PyErr::from_value(annotated))
        }
        Err(_) => Ok(err),
    }
}
