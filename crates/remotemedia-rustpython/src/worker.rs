//! One RustPython interpreter per node instance, owned by a dedicated OS thread (the VM is not
//! `Send`). The async executor talks to it over channels and never blocks a tokio worker.

use std::sync::mpsc;
use std::time::Duration;

use remotemedia_core::{NodeError, PythonError, PythonNodeSpec, PythonSource, Value};
use rustpython::InterpreterBuilderExt;
use rustpython::vm::builtins::{PyBaseExceptionRef, PyList};
use rustpython::vm::function::{FuncArgs, KwArgs};
use rustpython::vm::scope::Scope;
use rustpython::vm::{AsObject, Interpreter, PyObjectRef, PyResult, Settings, VirtualMachine};
use tokio::sync::mpsc as tokio_mpsc;
use tokio::sync::oneshot;

use crate::convert::{from_py, to_py};

const PRELUDE: &str = include_str!("prelude.py");
/// The package's `Node` base class and node protocol, the same files every host runs.
const NODE_MODULE: &str = include_str!("../../../python/remotemedia/core/node.py");
const PROTOCOL_MODULE: &str = include_str!("../../../python/remotemedia/core/protocol.py");
const THREAD_STACK: usize = 16 << 20;

type CallResult = Result<Vec<Value>, NodeError>;

enum Request {
    /// Inputs in order; one reply per input, stopping after the first error.
    Process(Vec<Value>, tokio_mpsc::UnboundedSender<CallResult>),
    Flush(oneshot::Sender<CallResult>),
    /// Clean up the current instance and create a fresh one (for the next run), keeping the
    /// interpreter and the loaded module.
    Renew,
}

/// A loaded node: its interpreter thread and the way to reach it.
pub(crate) struct Worker {
    tx: mpsc::Sender<Request>,
    timeout: Option<Duration>,
    /// Set when a call timed out or the thread stopped: the interpreter may still be busy with
    /// the abandoned call, so it is never reused.
    poisoned: bool,
}

impl Worker {
    /// Starts the interpreter, loads the class and instantiates it; waits until that is done.
    pub fn spawn(spec: &PythonNodeSpec) -> Result<Self, NodeError> {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread_spec = spec.clone();
        std::thread::Builder::new()
            .name(format!("rustpython-{}", spec.node_id))
            .stack_size(THREAD_STACK)
            .spawn(move || serve(&thread_spec, &rx, &ready_tx))
            .map_err(|e| NodeError::failed(format!("cannot start the interpreter thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                tx,
                timeout: spec.timeout_ms.map(Duration::from_millis),
                poisoned: false,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(NodeError::failed(
                "the interpreter thread stopped while loading the node",
            )),
        }
    }

    fn send(&mut self, request: Request) -> Result<(), NodeError> {
        self.tx.send(request).map_err(|_| {
            self.poisoned = true;
            NodeError::failed("the node's interpreter thread has stopped")
        })
    }

    /// Waits for one reply, within the node's `timeout_ms` if it has one.
    async fn reply<T>(&mut self, answer: impl Future<Output = Option<T>>) -> Result<T, NodeError> {
        let answer = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, answer).await.map_err(|_| {
                self.poisoned = true;
                NodeError::Timeout(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
            })?,
            None => answer.await,
        };
        answer.ok_or_else(|| {
            self.poisoned = true;
            NodeError::failed("the node's interpreter thread stopped during a call")
        })
    }

    /// Prepares the interpreter for another run (a fresh instance, `initialize` called), unless
    /// it may still be busy; returns whether it can be reused. Does not wait: the next request
    /// queues behind the renewal.
    pub fn renew(&mut self) -> bool {
        !self.poisoned && self.send(Request::Renew).is_ok()
    }

    /// Processes queued inputs with one hand-off to the interpreter thread; `each` receives every
    /// input's outputs in order. Each input's `process` call gets the full `timeout_ms`.
    pub async fn process(
        &mut self,
        inputs: Vec<Value>,
        mut each: impl FnMut(Vec<Value>),
    ) -> Result<(), NodeError> {
        let count = inputs.len();
        let (reply, mut answers) = tokio_mpsc::unbounded_channel();
        self.send(Request::Process(inputs, reply))?;
        for _ in 0..count {
            each(self.reply(answers.recv()).await??);
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> CallResult {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Flush(reply))?;
        self.reply(async { answer.await.ok() }).await?
    }
}

/// A Python exception as a node error, with its type, message and formatted traceback.
pub(crate) fn python_error(vm: &VirtualMachine, exc: PyBaseExceptionRef) -> NodeError {
    let exc_type = exc.class().name().to_string();
    let message = exc
        .as_object()
        .str(vm)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut traceback = String::new();
    let _ = vm.write_exception(&mut traceback, &exc);
    let import_failure = exc.fast_isinstance(vm.ctx.exceptions.import_error);
    PythonError {
        exc_type,
        import_failure,
        message,
        traceback,
        exception: None,
    }
    .into()
}

fn interpreter(spec: &PythonNodeSpec) -> Interpreter {
    let mut settings = Settings::default();
    settings.install_signal_handlers = false;
    settings.path_list = spec
        .search_path
        .iter()
        .map(|p| p.display().to_string())
        .chain(std::iter::once(".".to_string()))
        .collect();
    Interpreter::builder(settings)
        .init_stdlib()
        .init_hook(|vm| crate::fixes::apply(vm))
        .build()
}

/// Runs `source` as the body of a new module registered in `sys.modules` as `name`.
fn run_module(vm: &VirtualMachine, name: &str, source: &str, path: &str) -> PyResult {
    let dict = vm.ctx.new_dict();
    dict.set_item("__name__", vm.ctx.new_str(name).into(), vm)?;
    dict.set_item("__file__", vm.ctx.new_str(path).into(), vm)?;
    let module: PyObjectRef = vm.new_module(name, dict.clone(), None).into();
    vm.sys_module
        .get_attr("modules", vm)?
        .set_item(name, module.clone(), vm)?;
    vm.run_string(Scope::with_builtins(None, dict, vm), source, path.to_string())?;
    Ok(module)
}

/// Makes `remotemedia` (with `Node`, `Array`, `Audio`), `remotemedia.core.node` and
/// `remotemedia.core.protocol` importable; returns the protocol module.
fn install_prelude(vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let node = run_module(
        vm,
        "remotemedia.core.node",
        NODE_MODULE,
        "<remotemedia.core.node>",
    )?;
    let protocol = run_module(
        vm,
        "remotemedia.core.protocol",
        PROTOCOL_MODULE,
        "<remotemedia.core.protocol>",
    )?;
    let core = run_module(vm, "remotemedia.core", "", "<remotemedia.core>")?;
    core.set_attr("node", node.clone(), vm)?;
    core.set_attr("protocol", protocol.clone(), vm)?;
    let package = run_module(vm, "remotemedia", PRELUDE, "<remotemedia>")?;
    package.set_attr("core", core, vm)?;
    package.set_attr("Node", node.get_attr("Node", vm)?, vm)?;
    Ok(protocol)
}

/// A loaded class and the protocol functions that drive its instances.
struct Loaded {
    class: PyObjectRef,
    protocol: PyObjectRef,
}

/// Imports the node's module and returns its class.
fn load(vm: &VirtualMachine, spec: &PythonNodeSpec) -> Result<Loaded, NodeError> {
    let err = |e| python_error(vm, e);
    let protocol = install_prelude(vm).map_err(err)?;
    let module = match &spec.source {
        PythonSource::Module(name) => vm.import(&vm.ctx.new_str(name.as_str()), 0).map_err(err)?,
        PythonSource::File(path) => {
            let source = std::fs::read_to_string(path)
                .map_err(|e| NodeError::failed(format!("cannot read `{}`: {e}", path.display())))?;
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("node");
            run_module(vm, stem, &source, &path.display().to_string()).map_err(err)?
        }
        PythonSource::Inline(source) => {
            let name = spec.inline_module_name();
            run_module(vm, &name, source, &format!("<{name}>")).map_err(err)?
        }
        PythonSource::Live => {
            return Err(NodeError::failed(
                "a live object of another interpreter cannot be loaded in RustPython",
            ));
        }
    };
    let class = module
        .get_attr(&vm.ctx.new_str(spec.class.as_str()), vm)
        .map_err(err)?;
    Ok(Loaded { class, protocol })
}

/// Instantiates the class with the params and calls `initialize`.
fn instantiate(
    vm: &VirtualMachine,
    loaded: &Loaded,
    spec: &PythonNodeSpec,
) -> Result<PyObjectRef, NodeError> {
    let err = |e| python_error(vm, e);
    let kwargs: KwArgs = spec
        .params
        .iter()
        .map(|(name, value)| Ok((name.clone(), to_py(vm, value)?)))
        .collect::<PyResult<Vec<_>>>()
        .map_err(err)?
        .into_iter()
        .collect();
    let node = loaded
        .class
        .call(FuncArgs::new(Vec::<PyObjectRef>::new(), kwargs), vm)
        .map_err(err)?;
    call_hook(vm, loaded, &node, "initialize").map_err(err)?;
    Ok(node)
}

/// `protocol.call_hook(node, name)`: an optional lifecycle method, awaited if async.
fn call_hook(vm: &VirtualMachine, loaded: &Loaded, node: &PyObjectRef, name: &str) -> PyResult<()> {
    vm.call_method(
        &loaded.protocol,
        "call_hook",
        (node.clone(), vm.ctx.new_str(name)),
    )?;
    Ok(())
}

/// Whether a result is one output as it is: an exact built-in value type (a shortcut past the
/// protocol, which gives the same answer for these).
fn is_plain(vm: &VirtualMachine, result: &PyObjectRef) -> bool {
    let types = &vm.ctx.types;
    let class = result.class();
    [
        types.int_type,
        types.float_type,
        types.str_type,
        types.bool_type,
        types.list_type,
        types.dict_type,
        types.tuple_type,
        types.bytes_type,
    ]
    .iter()
    .any(|t| class.is(*t))
}

/// What a `process`/`flush` call returned, as outputs, by the node protocol
/// (`protocol.outputs`: `None`, generators, async generators and coroutines).
fn outputs(vm: &VirtualMachine, loaded: &Loaded, result: PyObjectRef) -> CallResult {
    if vm.is_none(&result) {
        return Ok(Vec::new());
    }
    if is_plain(vm, &result) {
        return Ok(vec![from_py(vm, &result)?]);
    }
    let items = vm
        .call_method(&loaded.protocol, "outputs", (result,))
        .map_err(|e| python_error(vm, e))?;
    let items = items
        .downcast_ref::<PyList>()
        .ok_or_else(|| NodeError::failed("the node protocol returned something other than a list"))?
        .borrow_vec()
        .to_vec();
    items.iter().map(|item| from_py(vm, item)).collect()
}

fn serve(
    spec: &PythonNodeSpec,
    rx: &mpsc::Receiver<Request>,
    ready: &mpsc::SyncSender<Result<(), NodeError>>,
) {
    let interp = interpreter(spec);
    interp.enter(|vm| {
        let loaded = load(vm, spec).and_then(|loaded| Ok((instantiate(vm, &loaded, spec)?, loaded)));
        let (mut node, loaded) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        // Why the current instance cannot serve calls (its renewal failed).
        let mut broken: Option<NodeError> = None;
        for request in rx.iter() {
            match request {
                Request::Renew => {
                    // A broken instance was cleaned up when its renewal failed.
                    if broken.is_none() {
                        cleanup(vm, &loaded, spec, &node);
                    }
                    match instantiate(vm, &loaded, spec) {
                        Ok(fresh) => {
                            node = fresh;
                            broken = None;
                        }
                        Err(e) => broken = Some(e),
                    }
                }
                Request::Process(_, reply) if broken.is_some() => {
                    let _ = reply.send(Err(clone_error(broken.as_ref())));
                }
                Request::Flush(reply) if broken.is_some() => {
                    let _ = reply.send(Err(clone_error(broken.as_ref())));
                }
                Request::Process(values, reply) => {
                    for value in values {
                        let result = to_py(vm, &value)
                            .and_then(|arg| vm.call_method(&node, "process", (arg,)))
                            .map_err(|e| python_error(vm, e))
                            .and_then(|r| outputs(vm, &loaded, r));
                        let failed = result.is_err();
                        if reply.send(result).is_err() || failed {
                            break;
                        }
                    }
                }
                Request::Flush(reply) => {
                    let result = if node.has_attr("flush", vm).unwrap_or(false) {
                        vm.call_method(&node, "flush", ())
                            .map_err(|e| python_error(vm, e))
                            .and_then(|r| outputs(vm, &loaded, r))
                    } else {
                        Ok(Vec::new())
                    };
                    let _ = reply.send(result);
                }
            }
        }
        // The interpreter is no longer needed (its pipeline is gone, or the node failed).
        if broken.is_none() {
            cleanup(vm, &loaded, spec, &node);
        }
    });
}

fn cleanup(vm: &VirtualMachine, loaded: &Loaded, spec: &PythonNodeSpec, node: &PyObjectRef) {
    if let Err(e) = call_hook(vm, loaded, node, "cleanup") {
        tracing::warn!(node = %spec.node_id, "cleanup() raised: {}", python_error(vm, e));
    }
}

/// The error a broken instance answers every call with.
fn clone_error(error: Option<&NodeError>) -> NodeError {
    match error {
        Some(NodeError::Python(python)) => NodeError::Python(python.clone()),
        Some(other) => NodeError::failed(other.to_string()),
        None => NodeError::failed("the node could not be created"),
    }
}
