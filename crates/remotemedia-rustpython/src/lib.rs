//! # remotemedia-rustpython
//!
//! Runs Python nodes inside the engine on an embedded RustPython interpreter: no Python
//! installation needed, no GIL. The Python standard library is frozen into the binary, so nothing
//! is read from disk but the node's own module.
//!
//! Each node instance gets its own interpreter, owned by a dedicated OS thread (the VM is not
//! `Send`), reused by the node's later runs with a fresh instance; the executor reaches it over
//! channels (one hand-off per batch of queued inputs), so a busy node never blocks a tokio worker and
//! nodes in different interpreters run in parallel on different cores. Values convert natively
//! between the engine's data model and Python objects (see the `convert` module docs for the
//! table and copy rules). A user module's `from remotemedia import Node` finds a base class the
//! runtime provides inside the VM. Lifecycle: `initialize` at load, `process` per input (a value,
//! `None` = filtered, a generator = several outputs; `async def` methods are run to completion),
//! `flush` at end of stream, `cleanup` when the node is dropped. A Python exception becomes
//! [`NodeError::Python`] with its type, message and traceback.
//!
//! Non-goals: C extensions (numpy and friends) cannot load here; with `runtime_hint: auto` the
//! engine then falls back to CPython (see `remotemedia-cpython`).
//!
//! ```no_run
//! use std::sync::Arc;
//! let mut registry = remotemedia_core::Registry::new();
//! registry.register_python_host(Arc::new(remotemedia_rustpython::RustPythonHost));
//! ```

mod convert;
mod fixes;
mod worker;

use std::sync::{Arc, Mutex, PoisonError};

use remotemedia_core::{
    AsyncNode, BoxFuture, LoadError, NodeError, NodeFactory, NodeInstance, NodeRuntime, Outputs, Params,
    PythonHost, PythonNodeSpec, Value,
};

use worker::Worker;

/// The RustPython interpreter host (`runtime_hint: rustpython`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RustPythonHost;

impl PythonHost for RustPythonHost {
    fn runtime(&self) -> NodeRuntime {
        NodeRuntime::RustPython
    }

    fn load(&self, spec: &PythonNodeSpec) -> Result<Arc<dyn NodeFactory>, LoadError> {
        // Loading proves the class runs here; the loaded interpreter serves the first run.
        let first = Worker::spawn(spec).map_err(LoadError::from_python)?;
        Ok(Arc::new(Factory {
            spec: spec.clone(),
            idle: Arc::new(Mutex::new(vec![first])),
        }))
    }
}

type Pool = Arc<Mutex<Vec<Worker>>>;

/// Creates node instances. Interpreters are reused across runs: when a run ends, its node's
/// interpreter cleans up the instance, creates a fresh one (so runs never share state) and waits
/// for the next run, so only the first run pays for starting an interpreter.
///
/// Every interpreter is kept: there are as many as the most runs of the node ever at once (which
/// the server bounds with `--max-sessions`). Shutting one down would not give its memory back:
/// RustPython 0.5 has no cycle collector, so the cycles every interpreter holds (modules, classes,
/// functions) outlive it, about 8 MB each (measured: a server running 8 concurrent sessions of a
/// Python node grew 31 MB a round while it shut down the 4 it kept no room for).
struct Factory {
    spec: PythonNodeSpec,
    idle: Pool,
}

impl NodeFactory for Factory {
    fn create(&self, _: &Params) -> Result<NodeInstance, NodeError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let worker = match idle {
            Some(worker) => worker,
            None => Worker::spawn(&self.spec)?,
        };
        Ok(NodeInstance::new_async(RustPythonNode {
            worker: Some(worker),
            idle: Arc::clone(&self.idle),
        }))
    }

    fn sync_instances(&self) -> Option<bool> {
        Some(false)
    }
}

struct RustPythonNode {
    /// Always `Some` until dropped.
    worker: Option<Worker>,
    idle: Pool,
}

impl RustPythonNode {
    fn worker(&mut self) -> Result<&mut Worker, NodeError> {
        self.worker
            .as_mut()
            .ok_or_else(|| NodeError::failed("the node's interpreter is gone"))
    }
}

impl Drop for RustPythonNode {
    fn drop(&mut self) {
        if let Some(mut worker) = self.worker.take()
            && worker.renew()
        {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(worker);
        }
    }
}

impl AsyncNode for RustPythonNode {
    fn process<'a>(&'a mut self, input: Value, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        self.process_batch(vec![input], out)
    }

    fn process_batch<'a>(
        &'a mut self,
        inputs: Vec<Value>,
        out: &'a mut Outputs,
    ) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            self.worker()?
                .process(inputs, |values| values.into_iter().for_each(|v| out.emit(v)))
                .await
        })
    }

    fn flush<'a>(&'a mut self, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            for value in self.worker()?.flush().await? {
                out.emit(value);
            }
            Ok(())
        })
    }
}
