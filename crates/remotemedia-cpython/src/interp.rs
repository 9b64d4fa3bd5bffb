//! The engine's foothold inside CPython: the driver helpers, the `remotemedia` base classes and
//! node protocol, and Python exceptions as node errors.

use pyo3::exceptions::PyImportError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use remotemedia_core::{NodeError, PythonError, PythonException};

const DRIVER: &str = include_str!("driver.py");
/// The package's own `Node` class, node protocol and `Audio` class, provided when the
/// `remotemedia` package is not installed in the interpreter (the standalone binary's embedded
/// CPython).
const NODE_MODULE: &str = include_str!("../../../python/remotemedia/core/node.py");
const PROTOCOL_MODULE: &str = include_str!("../../../python/remotemedia/core/protocol.py");
const AUDIO_MODULE: &str = include_str!("../../../python/remotemedia/audio.py");

static DRIVER_NS: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
static PROTOCOL: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Calls one of the node protocol's functions (`remotemedia.core.protocol`).
pub(crate) fn protocol_call<'py>(
    py: Python<'py>,
    name: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let module = PROTOCOL.get_or_try_init(py, || {
        ensure_base_classes(py)?;
        Ok::<_, PyErr>(py.import("remotemedia.core.protocol")?.unbind())
    })?;
    module.bind(py).getattr(name)?.call1(args)
}

/// The namespace of `driver.py`, run once per process.
pub(crate) fn driver(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    DRIVER_NS
        .get_or_try_init(py, || {
            let ns = PyDict::new(py);
            ns.set_item("__name__", "remotemedia_engine_driver")?;
            run(py, DRIVER, &ns)?;
            Ok::<_, PyErr>(ns.unbind())
        })
        .map(|ns| ns.bind(py))
}

/// Calls one of the driver's functions.
pub(crate) fn driver_call<'py>(
    py: Python<'py>,
    name: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    driver(py)?
        .get_item(name)?
        .ok_or_else(|| PyImportError::new_err(format!("the engine's driver has no `{name}`")))?
        .call1(args)
}

fn run(py: Python<'_>, source: &str, globals: &Bound<'_, PyDict>) -> PyResult<()> {
    py.import("builtins")?.getattr("exec")?.call1((source, globals))?;
    Ok(())
}

/// Makes `from remotemedia import Node` (and `remotemedia.core.node`, `remotemedia.audio`) work:
/// the installed package when there is one, else the same classes built from its sources.
pub(crate) fn ensure_base_classes(py: Python<'_>) -> PyResult<()> {
    if py.import("remotemedia").is_ok() {
        return Ok(());
    }
    let modules = py.import("sys")?.getattr("modules")?;
    let module = |name: &str, source: Option<&str>| -> PyResult<Bound<'_, PyModule>> {
        let m = PyModule::new(py, name)?;
        if let Some(source) = source {
            run(py, source, &m.dict())?;
        }
        modules.set_item(name, &m)?;
        Ok(m)
    };
    let node = module("remotemedia.core.node", Some(NODE_MODULE))?;
    let protocol = module("remotemedia.core.protocol", Some(PROTOCOL_MODULE))?;
    let audio = module("remotemedia.audio", Some(AUDIO_MODULE))?;
    let core = module("remotemedia.core", None)?;
    core.setattr("node", &node)?;
    core.setattr("protocol", &protocol)?;
    let package = module("remotemedia", None)?;
    package.setattr("core", &core)?;
    package.setattr("audio", &audio)?;
    package.setattr("Node", node.getattr("Node")?)?;
    package.setattr("__path__", pyo3::types::PyList::empty(py))?;
    Ok(())
}

/// A Python exception as a node error: type, message, traceback, and the exception itself.
pub fn node_error(py: Python<'_>, err: PyErr) -> NodeError {
    let value = err.value(py);
    let exc_type = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let message = value.str().map(|s| s.to_string()).unwrap_or_default();
    let traceback = driver_call(py, "format_exception", (value, err.traceback(py)))
        .and_then(|t| t.extract::<String>())
        .unwrap_or_default();
    let import_failure = value.is_instance_of::<pyo3::exceptions::PyImportError>();
    PythonError {
        exc_type,
        import_failure,
        message,
        traceback,
        exception: Some(PythonException::new(err)),
    }
    .into()
}
