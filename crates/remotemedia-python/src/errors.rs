//! Engine errors as Python exceptions: every [`Error`] variant maps to one class (the match is
//! exhaustive, so a new variant cannot go unmapped), the classes of `remotemedia.errors` are looked
//! up once per process, and IO errors are split as Python splits them (`FileNotFoundError`,
//! `PermissionError`, else `OSError`, with `errno` and `filename`).

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use remotemedia_core::{Error, NodeError};

/// The classes of `remotemedia.errors` and its `annotate`, once per process; `None`
/// when the `remotemedia` package is not importable (the extension used on its own), in which case
/// built-in exception classes stand in.
struct Package {
    remotemedia_error: Py<PyAny>,
    manifest_error: Py<PyAny>,
    node_error: Py<PyAny>,
    runtime_selection_error: Py<PyAny>,
    audio_file_error: Py<PyAny>,
    annotate: Py<PyAny>,
}

fn package(py: Python<'_>) -> Option<&Package> {
    static PACKAGE: PyOnceLock<Option<Package>> = PyOnceLock::new();
    PACKAGE
        .get_or_init(py, || {
            let errors = py.import("remotemedia.errors").ok()?;
            let class = |name: &str| errors.getattr(name).ok().map(Bound::unbind);
            Some(Package {
                remotemedia_error: class("RemoteMediaError")?,
                manifest_error: class("ManifestError")?,
                node_error: class("NodeError")?,
                runtime_selection_error: class("RuntimeSelectionError")?,
                audio_file_error: class("AudioFileError")?,
                annotate: class("annotate")?,
            })
        })
        .as_ref()
}

/// `class(*args)` as a raised exception, or `fallback` when the class cannot be called.
fn raise<'py>(
    py: Python<'py>,
    class: impl FnOnce(&Package) -> &Py<PyAny>,
    args: impl pyo3::call::PyCallArgs<'py>,
    fallback: impl FnOnce() -> PyErr,
) -> PyErr {
    match package(py).map(|p| class(p).bind(py).call1(args)) {
        Some(Ok(instance)) => PyErr::from_value(instance),
        _ => fallback(),
    }
}

/// `remotemedia.errors.RuntimeSelectionError(message)`: the runtime or interpreter asked for
/// cannot be used.
pub fn selection_error(py: Python<'_>, message: String) -> PyErr {
    let fallback = message.clone();
    raise(
        py,
        |p| &p.runtime_selection_error,
        (message,),
        || PyValueError::new_err(fallback),
    )
}

/// `remotemedia.errors.AudioFileError(message, path)`: an audio file cannot be read (missing,
/// not audio, unsupported, or damaged).
pub fn audio_file_error(py: Python<'_>, err: &remotemedia_io::IoError) -> PyErr {
    use remotemedia_io::IoError;
    let path = match err {
        IoError::Open { path, .. }
        | IoError::Unsupported { path, .. }
        | IoError::Corrupt { path, .. }
        | IoError::Write { path, .. } => path.display().to_string(),
    };
    audio_input_error(py, err.to_string(), path)
}

/// `remotemedia.errors.AudioFileError(message, path)` with the message as given.
pub fn audio_input_error(py: Python<'_>, message: String, path: String) -> PyErr {
    let fallback = message.clone();
    raise(
        py,
        |p| &p.audio_file_error,
        (message, path),
        || PyValueError::new_err(fallback),
    )
}

/// Maps an engine error to the exception the pure-Python executor raises in the same situation.
pub fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    let message = err.to_string();
    match err {
        Error::InvalidManifest { origin, issues } => {
            let lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
            raise(
                py,
                |p| &p.manifest_error,
                (lines, origin),
                || PyValueError::new_err(message),
            )
        }
        Error::Node {
            node_id,
            node_type,
            cause,
        } => {
            // Raised in this interpreter: re-raise the exception itself, naming the node, as the
            // pure-Python executor does.
            if let NodeError::Python(python) = &cause
                && let Some(original) = python.exception.as_ref().and_then(|e| e.downcast_ref::<PyErr>())
            {
                return annotate(py, original.clone_ref(py), &node_id, &node_type);
            }
            raise(
                py,
                |p| &p.node_error,
                (cause.to_string(), node_id, node_type),
                || PyRuntimeError::new_err(message),
            )
        }
        Error::Io { path, source } => {
            let args = (
                source.raw_os_error().unwrap_or(0),
                message,
                path.display().to_string(),
            );
            match source.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
                std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
                _ => PyOSError::new_err(args),
            }
        }
        Error::InvalidValue(text) => PyValueError::new_err(text),
        Error::SessionClosed => raise(
            py,
            |p| &p.remotemedia_error,
            (message.clone(),),
            || PyRuntimeError::new_err(message),
        ),
    }
}

/// `remotemedia.errors.annotate(exc, node_id, node_type)`: the message names the node; the
/// exception keeps its class. Without the package, the exception as it is.
fn annotate(py: Python<'_>, err: PyErr, node_id: &str, node_type: &str) -> PyErr {
    let Some(package) = package(py) else {
        return err;
    };
    match package
        .annotate
        .bind(py)
        .call1((err.value(py), node_id, node_type))
    {
        Ok(annotated) => PyErr::from_value(annotated),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> Error {
        Error::Io {
            path: "/no/such/file.wav".into(),
            source: std::io::Error::from(kind),
        }
    }

    #[test]
    fn io_errors_are_split_as_python_splits_them() {
        Python::initialize();
        Python::attach(|py| {
            let not_found = to_py_err(py, io(std::io::ErrorKind::NotFound));
            assert!(not_found.is_instance_of::<PyFileNotFoundError>(py));
            let value = not_found.value(py);
            assert_eq!(
                value
                    .getattr("filename")
                    .and_then(|f| f.extract::<String>())
                    .ok()
                    .as_deref(),
                Some("/no/such/file.wav")
            );
            assert!(
                to_py_err(py, io(std::io::ErrorKind::PermissionDenied))
                    .is_instance_of::<PyPermissionError>(py)
            );
            let other = to_py_err(py, io(std::io::ErrorKind::InvalidData));
            assert!(other.is_instance_of::<PyOSError>(py));
            assert!(!other.is_instance_of::<PyFileNotFoundError>(py));
            assert!(to_py_err(py, Error::invalid_value("bad")).is_instance_of::<PyValueError>(py));
        });
    }
}
