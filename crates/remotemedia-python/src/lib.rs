//! # remotemedia-python
//!
//! The PyO3 extension module `remotemedia_runtime`: the Rust engine (with the native nodes) for the
//! `remotemedia` Python package. This crate only converts values and maps errors; the engine is
//! `remotemedia-core`.
//!
//! Python API:
//!
//! - `__version__`
//! - `plan(manifest_json, live=None, *, origin=None, base_dir=None) -> Plan`: validates and plans a
//!   pipeline before any input is consumed; raises `remotemedia.errors.ManifestError` listing every
//!   problem. Python nodes the manifest describes (module, file or source) load in RustPython, or
//!   CPython when RustPython cannot host them; `live` maps node ids to node objects of this
//!   interpreter, which the engine drives where they are (the manifest only names those nodes).
//!   `Plan.node_runtimes` tells what runs each node (`rust`, `rustpython`, `cpython`).
//! - `Plan.run(inputs) -> Awaitable[list]`: runs a batch on the engine's threads, without the GIL.
//! - `Plan.run_with_metrics(inputs) -> Awaitable[(list, dict)]`: the same, with the time each
//!   node spent in its calls.
//! - `Plan.run_blocking(inputs) -> list`: the same on the calling thread (GIL released); used by
//!   `Pipeline.run()` for small single-stage batches, where a thread hop costs more than the work.
//! - `Plan.start() -> Session`: a streaming session (`send`, `recv`, `close`, `cancel`).
//! - `AudioFileReader(path, chunk_ms=100)`: a streaming reader of `Audio` chunks from any audio
//!   file `remotemedia-io` decodes; `Plan.run_audio_file(reader)` feeds one to a session natively;
//!   `Plan.run_files(inputs, *, jobs, chunk_ms, output_dir, output_format, fail_fast, progress)`
//!   runs many files in parallel with a progress bar (the CLI's runner).
//! - `execute_pipeline(manifest_json)`, `execute_pipeline_with_input(manifest_json, inputs)`:
//!   awaitable one-shot runs, the names the seeds use.
//!
//! - `to_tagged_json(value) -> str`, `from_tagged_json(text)`, `read_wav(path) -> Audio`,
//!   `write_wav(path, audio, encoding=None)`, `convert_audio(audio, format) -> Audio`: the engine's
//!   value helpers, which the package uses instead of its pure-Python twins.
//!
//! Node failures raise `remotemedia.errors.NodeError` (with `node_id` and `node_type`), the same
//! class and message as the pure-Python executor; an exception raised by a node running in this
//! interpreter propagates with its own class.

mod audio_files;
mod awaitable;
mod errors;
mod hosted;
mod inline;
mod values;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use remotemedia_core::{
    Manifest, Pipeline, Registry, RunOptions, SessionInput, SessionOutput, manifest::Format,
};
use tokio::sync::Mutex;

use remotemedia_cpython::convert::{self, to_list, to_python, to_values};
use remotemedia_cpython::{CPythonHost, LiveObjects};
use remotemedia_rustpython::RustPythonHost;

use errors::to_py_err;

/// The native nodes (model nodes included), then the Python hosts in `auto` order: live objects of this interpreter (if
/// any), RustPython, CPython.
fn registry(live: Option<LiveObjects>) -> Result<Registry, String> {
    let mut registry = remotemedia_nodes::builtin_registry();
    // New names into the native registry: cannot collide.
    let _ = remotemedia_models::register(&mut registry);
    let _ = remotemedia_speech::register(&mut registry);
    // The one place the extension reads the interpreter override (`remotemedia.core.pipeline`
    // checks the same variable before it gets here).
    let value = std::env::var(remotemedia_core::INTERPRETER_ENV).ok();
    let choice = remotemedia_core::InterpreterChoice::from_env_value(value.as_deref())?;
    registry.set_interpreter_override(choice);
    if let Some(live) = live {
        registry.register_python_host(Arc::new(live));
    }
    registry.register_python_host(Arc::new(RustPythonHost));
    registry.register_python_host(Arc::new(CPythonHost::in_process()));
    Ok(registry)
}

use awaitable::runtime;

/// A validated, planned pipeline.
#[pyclass(frozen, name = "Plan", module = "remotemedia_runtime")]
struct PyPlan {
    pipeline: Pipeline,
    single_stage: bool,
}

#[pymethods]
impl PyPlan {
    /// The pipeline's name.
    #[getter]
    fn name(&self) -> &str {
        self.pipeline.name()
    }

    /// Node ids in manifest order.
    #[getter]
    fn node_ids(&self) -> Vec<String> {
        self.pipeline.node_ids().map(str::to_string).collect()
    }

    /// Sink node ids in manifest order.
    #[getter]
    fn sink_ids(&self) -> Vec<String> {
        self.pipeline.sink_ids().into_iter().map(str::to_string).collect()
    }

    /// What runs each node, by id: `rust` (native), `rustpython` or `cpython`.
    #[getter]
    fn node_runtimes(&self) -> Vec<(String, String)> {
        self.pipeline
            .node_runtimes()
            .into_iter()
            .map(|(id, runtime)| (id.to_string(), runtime.name().to_string()))
            .collect()
    }

    /// Whether the whole pipeline runs as one fused stage (no task hop at all).
    #[getter]
    fn single_stage(&self) -> bool {
        self.single_stage
    }

    /// Runs a batch; returns an awaitable of the output list.
    fn run<'py>(&self, py: Python<'py>, inputs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let values = to_values(inputs)?;
        let pipeline = self.pipeline.clone();
        awaitable::spawn(
            py,
            async move { pipeline.run(values).await },
            |py, result| match result {
                Ok(outputs) => Ok(to_list(py, &outputs)?.into_any().unbind()),
                Err(e) => Err(to_py_err(py, e)),
            },
        )
    }

    /// Runs a batch with per-node metrics; returns an awaitable of `(outputs, metrics)`, where
    /// `metrics` maps each node id to `items_in`, `items_out`, `calls`, `total_s` and `max_s`
    /// (time spent in the node's `process`/`flush` calls, as measured by the engine).
    fn run_with_metrics<'py>(
        &self,
        py: Python<'py>,
        inputs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = to_values(inputs)?;
        let pipeline = self.pipeline.clone().with_options(RunOptions {
            metrics: true,
            ..self.pipeline.options().clone()
        });
        awaitable::spawn(
            py,
            async move { pipeline.run_with_report(values).await },
            |py, result| {
                let report = result.map_err(|e| to_py_err(py, e))?;
                let metrics = PyDict::new(py);
                for m in report.metrics.unwrap_or_default() {
                    let entry = PyDict::new(py);
                    entry.set_item("items_in", m.items_in)?;
                    entry.set_item("items_out", m.items_out)?;
                    entry.set_item("calls", m.calls)?;
                    entry.set_item("total_s", m.total_time.as_secs_f64())?;
                    entry.set_item("max_s", m.max_time.as_secs_f64())?;
                    metrics.set_item(&*m.node_id, entry)?;
                }
                let outputs = to_list(py, &report.outputs)?;
                Ok(PyTuple::new(py, [outputs.into_any(), metrics.into_any()])?
                    .into_any()
                    .unbind())
            },
        )
    }

    /// Runs a batch on the calling thread with the GIL released; returns the output list.
    fn run_blocking<'py>(&self, py: Python<'py>, inputs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let values = to_values(inputs)?;
        let pipeline = &self.pipeline;
        let result = py.detach(|| runtime().block_on(pipeline.run(values)));
        match result {
            Ok(outputs) => to_list(py, &outputs),
            Err(e) => Err(to_py_err(py, e)),
        }
    }

    /// Runs the pipeline over an `AudioFileReader`'s audio, fed in its chunks through a session
    /// (decoded natively, never whole in memory); an awaitable of every output, grouped by sink.
    fn run_audio_file<'py>(
        &self,
        py: Python<'py>,
        reader: &Bound<'py, audio_files::PyAudioFileReader>,
    ) -> PyResult<Bound<'py, PyAny>> {
        audio_files::run_audio_file(py, self.pipeline.clone(), &mut reader.borrow_mut())
    }

    /// Runs the pipeline over many audio files (paths, folders searched recursively, glob
    /// patterns), each as its own session, `jobs` at a time; an awaitable of one dict per file in
    /// input order: `{"file", "outputs"}` (and `"output"` when audio went to `output_dir`) or
    /// `{"file", "error"}`.
    /// With `as_json`, each file's result is the CLI's JSON line (a `str`) instead of a dict.
    #[pyo3(signature = (inputs, *, jobs = None, chunk_ms = 100, output_dir = None, output_format = "wav".to_string(), fail_fast = false, progress = "auto".to_string(), as_json = false))]
    #[allow(clippy::too_many_arguments)]
    fn run_files<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<PathBuf>,
        jobs: Option<usize>,
        chunk_ms: u32,
        output_dir: Option<PathBuf>,
        output_format: String,
        fail_fast: bool,
        progress: String,
        as_json: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = audio_files::FilesRequest {
            inputs,
            jobs,
            chunk_ms,
            output_dir,
            output_format,
            fail_fast,
            progress,
            as_json,
        };
        audio_files::run_many(py, self.pipeline.clone(), request)
    }

    /// Runs the pipeline over an audio file held in memory (`data`; `name` stands for its path),
    /// as `run_files` runs one file: an awaitable of its result, the CLI's JSON line.
    #[pyo3(signature = (data, name, *, chunk_ms = 100))]
    fn run_audio_bytes<'py>(
        &self,
        py: Python<'py>,
        data: Vec<u8>,
        name: PathBuf,
        chunk_ms: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        audio_files::run_bytes(py, self.pipeline.clone(), data, name, chunk_ms)
    }

    /// Starts a streaming session.
    fn start(&self, py: Python<'_>) -> PyResult<PySession> {
        // Creating nodes may start interpreters: without the GIL.
        let session = py
            .detach(|| {
                let _guard = runtime().enter();
                self.pipeline.start()
            })
            .map_err(|e| to_py_err(py, e))?;
        let (input, output) = session.into_split();
        Ok(PySession {
            input: Arc::new(Mutex::new(Some(input))),
            output: Arc::new(Mutex::new(Some(output))),
        })
    }

    /// Starts a streaming run driven on the calling thread, input by input (`InlineSession`), when
    /// the whole pipeline is one fused chain of synchronous nodes; `None` otherwise (use `start`).
    fn start_inline(&self, py: Python<'_>) -> PyResult<Option<inline::PyInlineSession>> {
        let run = py
            .detach(|| self.pipeline.start_inline())
            .map_err(|e| to_py_err(py, e))?;
        Ok(run.map(inline::PyInlineSession::new))
    }

    fn __repr__(&self) -> String {
        format!(
            "<remotemedia_runtime.Plan {:?} nodes={:?}>",
            self.pipeline.name(),
            self.node_ids()
        )
    }
}

/// Most outputs one `recv_many`/`try_recv_many` hands over.
const RECV_BATCH: usize = 1024;

/// A running pipeline fed item by item.
#[pyclass(frozen, name = "Session", module = "remotemedia_runtime")]
struct PySession {
    input: Arc<Mutex<Option<SessionInput>>>,
    output: Arc<Mutex<Option<SessionOutput>>>,
}

#[pymethods]
impl PySession {
    /// Sends one input (awaitable; waits while the pipeline is full).
    fn send<'py>(&self, py: Python<'py>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let value = convert::to_value(item)?;
        let input = Arc::clone(&self.input);
        let output = Arc::clone(&self.output);
        let work = async move {
            let sent = match input.lock().await.as_ref() {
                Some(input) => input.send(value).await,
                None => Err(remotemedia_core::Error::SessionClosed),
            };
            match sent {
                Ok(()) => Ok(()),
                // The run failed: report its error (recv would return it next).
                Err(remotemedia_core::Error::SessionClosed) => Err(match output.lock().await.as_mut() {
                    Some(out) => loop {
                        match out.recv().await {
                            Ok(Some(_)) => continue,
                            Ok(None) => break remotemedia_core::Error::SessionClosed,
                            Err(e) => break e,
                        }
                    },
                    None => remotemedia_core::Error::SessionClosed,
                }),
                Err(e) => Err(e),
            }
        };
        awaitable::spawn(py, work, |py, sent| match sent {
            Ok(()) => Ok(py.None()),
            Err(e) => Err(to_py_err(py, e)),
        })
    }

    /// The next output (awaitable): `(False, value)`, or `(True, None)` once the run has finished.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let output = Arc::clone(&self.output);
        let work = async move {
            match output.lock().await.as_mut() {
                Some(out) => out.recv().await,
                None => Ok(None),
            }
        };
        awaitable::spawn(py, work, |py, next| -> PyResult<Py<PyAny>> {
            match next {
                Ok(Some(out)) => Ok(PyTuple::new(
                    py,
                    [
                        false.into_pyobject(py)?.to_owned().into_any(),
                        to_python(py, &out.value)?,
                    ],
                )?
                .into_any()
                .unbind()),
                Ok(None) => Ok(PyTuple::new(
                    py,
                    [
                        true.into_pyobject(py)?.to_owned().into_any(),
                        py.None().into_bound(py),
                    ],
                )?
                .into_any()
                .unbind()),
                Err(e) => Err(to_py_err(py, e)),
            }
        })
    }

    /// Sends one input if there is room right now, without waiting: whether it was sent (when not,
    /// `await send(item)` waits for room).
    fn try_send(&self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(guard) = self.input.try_lock() else {
            return Ok(false); // a waiting `send` holds it: keep the order, wait behind it
        };
        let Some(input) = guard.as_ref() else {
            return Err(to_py_err(py, remotemedia_core::Error::SessionClosed));
        };
        match input.try_send(convert::to_value(item)?) {
            Ok(sent) => Ok(sent.is_none()),
            // The run failed: `recv_many` reports why.
            Err(remotemedia_core::Error::SessionClosed) => Ok(false),
            Err(e) => Err(to_py_err(py, e)),
        }
    }

    /// Every output produced so far, without waiting: a list (possibly empty), or `None` once the
    /// run has finished. Raises the run's error after the outputs produced before it.
    fn try_recv_many<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let Ok(mut guard) = self.output.try_lock() else {
            return Ok(Some(PyList::empty(py)));
        };
        let Some(output) = guard.as_mut() else {
            return Ok(None);
        };
        match output.try_recv_many(RECV_BATCH) {
            Ok(Some(outputs)) => {
                let values: Vec<_> = outputs.into_iter().map(|o| o.value).collect();
                Ok(Some(to_list(py, &values)?))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(to_py_err(py, e)),
        }
    }

    /// Awaitable of the next outputs: waits for at least one, then takes every other one already
    /// produced (one wake-up per batch); `None` once the run has finished.
    fn recv_many<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let output = Arc::clone(&self.output);
        let work = async move {
            match output.lock().await.as_mut() {
                Some(out) => out.recv_many(RECV_BATCH).await,
                None => Ok(None),
            }
        };
        awaitable::spawn(py, work, |py, next| match next {
            Ok(Some(outputs)) => {
                let values: Vec<_> = outputs.into_iter().map(|o| o.value).collect();
                Ok(to_list(py, &values)?.into_any().unbind())
            }
            Ok(None) => Ok(py.None()),
            Err(e) => Err(to_py_err(py, e)),
        })
    }

    /// Ends the input: nodes flush, and `recv` reports the end once every output is received.
    fn close(&self) {
        let input = Arc::clone(&self.input);
        runtime().spawn(async move {
            input.lock().await.take();
        });
    }

    /// Stops the run now; outputs not yet received are dropped.
    fn cancel(&self) {
        if let Ok(guard) = self.input.try_lock()
            && let Some(input) = guard.as_ref()
        {
            input.cancel();
        }
        let (input, output) = (Arc::clone(&self.input), Arc::clone(&self.output));
        runtime().spawn(async move {
            if let Some(out) = output.lock().await.take() {
                out.cancel();
            }
            input.lock().await.take();
        });
    }
}

/// Where a manifest comes from: its name in error messages, and the folder its relative Python
/// `file` paths start from.
#[derive(Default)]
struct Origin {
    name: Option<String>,
    base_dir: Option<std::path::PathBuf>,
}

fn plan_manifest(
    py: Python<'_>,
    manifest_json: &str,
    live: Option<&Bound<'_, PyDict>>,
    origin: Origin,
) -> PyResult<PyPlan> {
    let name = origin.name.as_deref().unwrap_or("(inline)");
    let mut manifest = Manifest::parse_as(manifest_json, Format::Json, name).map_err(|e| to_py_err(py, e))?;
    let live = live
        .map(|objects| {
            objects
                .iter()
                .map(|(id, object)| Ok((id.extract::<String>()?, object.unbind())))
                .collect::<PyResult<HashMap<_, _>>>()
        })
        .transpose()?;
    // The objects themselves are the nodes: the manifest names them only (id, node type, hint).
    let live = match live {
        Some(objects) => {
            let unknown = manifest.mark_live(objects.keys().map(String::as_str));
            if let Some(id) = unknown.first() {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "`live` names node `{id}`, which the manifest does not have"
                )));
            }
            Some(LiveObjects::new(objects))
        }
        None => None,
    };
    let registry = registry(live).map_err(|message| errors::selection_error(py, message))?;
    // Loading Python nodes may start interpreters: do it without holding the GIL.
    let pipeline = py
        .detach(|| Pipeline::with_origin(&manifest, &registry, name, origin.base_dir.as_deref()))
        .map_err(|e| to_py_err(py, e))?;
    let single_stage = pipeline.stages().map(|s| s.len() == 1).unwrap_or(false);
    Ok(PyPlan {
        pipeline,
        single_stage,
    })
}

/// Validates and plans a pipeline from manifest v1 JSON text; `live` maps node ids to node objects
/// of this interpreter; `origin` names the manifest in error messages; relative Python `file`
/// paths start from `base_dir`.
#[pyfunction]
#[pyo3(signature = (manifest_json, live=None, *, origin=None, base_dir=None))]
fn plan(
    py: Python<'_>,
    manifest_json: &str,
    live: Option<&Bound<'_, PyDict>>,
    origin: Option<String>,
    base_dir: Option<std::path::PathBuf>,
) -> PyResult<PyPlan> {
    plan_manifest(
        py,
        manifest_json,
        live,
        Origin {
            name: origin,
            base_dir,
        },
    )
}

/// Runs a pipeline with no input (awaitable of the output list).
#[pyfunction]
fn execute_pipeline<'py>(py: Python<'py>, manifest_json: &str) -> PyResult<Bound<'py, PyAny>> {
    plan_manifest(py, manifest_json, None, Origin::default())?.run(py, &PyList::empty(py).into_any())
}

/// Runs a pipeline over `inputs` (awaitable of the output list).
#[pyfunction]
fn execute_pipeline_with_input<'py>(
    py: Python<'py>,
    manifest_json: &str,
    inputs: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    plan_manifest(py, manifest_json, None, Origin::default())?.run(py, inputs)
}

/// The extension module.
#[pymodule]
#[pyo3(name = "remotemedia_runtime")]
fn remotemedia_runtime(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The speech nodes find their registry packages (onnxruntime, voices) where this interpreter
    // imports from.
    let paths: Vec<std::path::PathBuf> = m.py().import("sys")?.getattr("path")?.extract()?;
    remotemedia_speech::packages::register_interpreter_paths(paths);
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    remotemedia_core::threads::threads_from_env().map_err(pyo3::exceptions::PyValueError::new_err)?;
    remotemedia_cpython::install_exit_guard(m.py())?;
    m.add_class::<PyPlan>()?;
    m.add_class::<PySession>()?;
    m.add_class::<inline::PyInlineSession>()?;
    m.add_class::<audio_files::PyAudioFileReader>()?;
    m.add_class::<hosted::PyHostedServer>()?;
    m.add_class::<hosted::PyHostedSession>()?;
    m.add_function(wrap_pyfunction!(awaitable::crossings, m)?)?;
    m.add_function(wrap_pyfunction!(awaitable::set_threads, m)?)?;
    m.add_function(wrap_pyfunction!(awaitable::threads, m)?)?;
    m.add_function(wrap_pyfunction!(awaitable::engine_workers, m)?)?;
    m.add_class::<remotemedia_cpython::BufferKeeper>()?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(audio_files::expand_audio_inputs, m)?)?;
    m.add_function(wrap_pyfunction!(execute_pipeline, m)?)?;
    m.add_function(wrap_pyfunction!(execute_pipeline_with_input, m)?)?;
    m.add_function(wrap_pyfunction!(values::to_tagged_json, m)?)?;
    m.add_function(wrap_pyfunction!(values::from_tagged_json, m)?)?;
    m.add_function(wrap_pyfunction!(values::read_wav, m)?)?;
    m.add_function(wrap_pyfunction!(values::write_wav, m)?)?;
    m.add_function(wrap_pyfunction!(values::convert_audio, m)?)?;
    Ok(())
}
