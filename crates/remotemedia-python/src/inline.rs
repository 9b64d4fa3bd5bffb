//! `InlineSession`: a streaming run of a fused pipeline driven on the calling thread (see
//! `remotemedia_core::InlineSession`). `Pipeline.process()` uses it when the whole pipeline is one
//! chain of synchronous nodes: one call per input, no thread hop and no future.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyList;
use remotemedia_core::{Error, InlineSession, Value};
use remotemedia_cpython::convert::{self, to_list};

use crate::errors::to_py_err;

/// A run driven input by input on the calling thread.
#[pyclass(frozen, name = "InlineSession", module = "remotemedia_runtime")]
pub struct PyInlineSession {
    /// `None` once closed (the nodes are cleaned up).
    run: Mutex<Option<InlineSession>>,
}

impl PyInlineSession {
    pub fn new(run: InlineSession) -> Self {
        Self {
            run: Mutex::new(Some(run)),
        }
    }

    /// Runs `step` on the session with the GIL released (CPython nodes take it back for their
    /// calls); converts its outputs.
    fn drive<'py>(
        &self,
        py: Python<'py>,
        step: impl FnOnce(&mut InlineSession, &mut Vec<Value>) -> Result<(), Error> + Send,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut guard = self
            .run
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("the session is broken"))?;
        let run = guard
            .as_mut()
            .ok_or_else(|| to_py_err(py, Error::SessionClosed))?;
        let mut out = Vec::new();
        let result = py.detach(|| step(run, &mut out));
        result.map_err(|e| to_py_err(py, e))?;
        to_list(py, &out)
    }
}

#[pymethods]
impl PyInlineSession {
    /// Pushes one input through the pipeline; returns its outputs (a list, possibly empty).
    fn push<'py>(&self, py: Python<'py>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let value = convert::to_value(item)?;
        self.drive(py, move |run, out| run.push_into(value, out))
    }

    /// Pushes several inputs in order; returns all their outputs.
    fn push_many<'py>(&self, py: Python<'py>, items: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let values = convert::to_values(items)?;
        self.drive(py, move |run, out| {
            values.into_iter().try_for_each(|value| run.push_into(value, out))
        })
    }

    /// Ends the input: the nodes flush; returns what they emit.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.drive(py, |run, out| {
            out.extend(run.finish()?);
            Ok(())
        })
    }

    /// Ends the run now (the nodes clean up); later calls fail.
    fn close(&self, py: Python<'_>) {
        let taken = self.run.lock().ok().and_then(|mut run| run.take());
        // Dropping the nodes may call Python `cleanup` methods: without holding the GIL here.
        py.detach(move || drop(taken));
    }
}
