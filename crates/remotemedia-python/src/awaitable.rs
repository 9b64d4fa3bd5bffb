//! Engine work as asyncio awaitables: the engine's tokio runtime, and results handed to the
//! caller's event loop.
//!
//! Every hand-back attaches to the interpreter through `remotemedia_cpython::attach_kept`, which
//! the exit guard counts and stops at interpreter shutdown, and drops every Python reference while
//! still attached. (A generic bridge that attaches on its own can be caught by the interpreter's
//! shutdown halfway through a hand-back, which crashed scripts at exit.) Cancelling the asyncio
//! future aborts the engine task.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;

/// Results handed back to an event loop from engine threads since the process started (each one
/// wakes the loop up).
static CROSSINGS: AtomicU64 = AtomicU64::new(0);

/// `_crossings()`: how many results engine threads have handed back to event loops so far (each
/// wakes a loop up from another thread). Tests use it to check that streaming costs one crossing
/// per batch, not per item.
#[pyfunction]
#[pyo3(name = "_crossings")]
pub fn crossings() -> u64 {
    CROSSINGS.load(Ordering::Relaxed)
}

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The engine's runtime, shared by every plan and session of the process, with
/// `remotemedia_core::threads::engine_threads()` worker threads (the module refuses to load with
/// an invalid `REMOTEMEDIA_THREADS`, so the count is valid here).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    RUNTIME.get_or_init(|| {
        let threads = remotemedia_core::threads::engine_threads().unwrap_or(1);
        remotemedia_core::threads::build_runtime(threads)
            .unwrap_or_else(|e| panic!("cannot start the engine's async runtime: {e}"))
    })
}

/// `set_threads(n)`: caps the engine's worker threads in this process (and the default `jobs` of
/// `Plan.run_files`). Call it before the first run; once the engine has started with another
/// count, it raises `RuntimeError`.
#[pyfunction]
pub fn set_threads(threads: usize) -> PyResult<()> {
    let Some(count) = std::num::NonZeroUsize::new(threads) else {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "threads must be at least 1",
        ));
    };
    remotemedia_core::threads::set_engine_threads(count).map_err(|fixed| {
        pyo3::exceptions::PyRuntimeError::new_err(format!(
            "the engine already runs with {fixed} threads in this process; set the count before the first run (or with REMOTEMEDIA_THREADS)"
        ))
    })
}

/// `_engine_workers()`: the worker threads of the engine's running runtime (starting it), as tokio
/// counts them; tests check the cap with it.
#[pyfunction]
#[pyo3(name = "_engine_workers")]
pub fn engine_workers() -> usize {
    runtime().metrics().num_workers()
}

/// `threads()`: the engine's worker threads in this process (fixed from here on).
#[pyfunction]
pub fn threads() -> PyResult<usize> {
    remotemedia_core::threads::engine_threads().map_err(pyo3::exceptions::PyValueError::new_err)
}

/// `deliver(future, ok, value)`: settles `future` unless it was cancelled meanwhile. Runs on the
/// event loop's thread (scheduled with `call_soon_threadsafe`).
const DELIVER: &std::ffi::CStr = c"
def deliver(future, ok, value):
    if not future.done():
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
";

/// The Python function `name` defined by `source`, compiled once per process into `cell`.
fn python_function<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    source: &std::ffi::CStr,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || {
        let globals = pyo3::types::PyDict::new(py);
        py.run(source, Some(&globals), None)?;
        let function = globals
            .get_item(name)?
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err(format!("`{name}` was not defined")))?;
        Ok::<_, PyErr>(function.unbind())
    })
    .map(|f| f.bind(py))
}

fn deliver_fn(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static DELIVER_FN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    python_function(py, &DELIVER_FN, DELIVER, "deliver")
}

fn later_fn(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static LATER_FN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    python_function(py, &LATER_FN, LATER, "later")
}

/// `later(start)`: a coroutine that calls `start()` (which returns a future of the running loop)
/// once it is awaited, for calls made where no event loop runs yet (`asyncio.run(plan.run(x))`).
const LATER: &std::ffi::CStr = c"
async def later(start):
    return await start()
";

/// Runs `work` on the engine's runtime; returns an asyncio future (of the running loop) that gets
/// `finish(py, output)`: its value, or its exception. Called where no event loop runs, it returns
/// a coroutine that starts the work when awaited.
pub fn spawn<'py, T, W, F>(py: Python<'py>, work: W, finish: F) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    W: Future<Output = T> + Send + 'static,
    F: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let running = py.import("asyncio")?.call_method0("get_running_loop");
    let Ok(event_loop) = running else {
        let pending = std::sync::Mutex::new(Some((work, finish)));
        let start = PyCFunction::new_closure(py, None, None, move |args, _| -> PyResult<Py<PyAny>> {
            let taken = pending.lock().ok().and_then(|mut p| p.take());
            let (work, finish) = taken.ok_or_else(|| {
                pyo3::exceptions::PyRuntimeError::new_err("this awaitable was already awaited")
            })?;
            Ok(spawn(args.py(), work, finish)?.unbind())
        })?;
        return later_fn(py)?.call1((start,));
    };
    let future = event_loop.call_method0("create_future")?;
    let (target_loop, target) = (event_loop.unbind(), future.clone().unbind());
    let task = runtime().spawn(async move {
        let output = work.await;
        // Nothing to do when the interpreter is shutting down: no one waits any more.
        let _ = remotemedia_cpython::attach_kept(move |py| {
            let (ok, value) = match finish(py, output) {
                Ok(value) => (true, value),
                Err(err) => (false, err.into_value(py).into_any()),
            };
            CROSSINGS.fetch_add(1, Ordering::Relaxed);
            let scheduled = deliver_fn(py).and_then(|deliver| {
                target_loop
                    .bind(py)
                    .call_method1("call_soon_threadsafe", (deliver, target.bind(py), ok, value))
            });
            // A closed loop (the caller gave up) is not an error of the run.
            drop(scheduled);
            drop((target_loop, target));
        });
    });
    // Cancelling the asyncio future stops the engine task.
    let abort = task.abort_handle();
    let on_done = PyCFunction::new_closure(py, None, None, move |args, _| -> PyResult<()> {
        if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
            abort.abort();
        }
        Ok(())
    })?;
    future.call_method1("add_done_callback", (on_done,))?;
    Ok(future)
}
