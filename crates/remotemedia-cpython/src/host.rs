//! The CPython hosts: nodes a manifest describes (loaded by module, file or source), and live
//! objects handed over by the Python package.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once, PoisonError};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use remotemedia_core::{
    LoadError, NodeError, NodeFactory, NodeInstance, NodeRuntime, Params, PythonHost, PythonNodeSpec,
    PythonSource,
};

use crate::convert::to_python;
use crate::interp::{driver_call, ensure_base_classes, node_error};
use crate::node::{NodeObject, shutting_down};
use crate::thread_state::attach;

/// Runs Python nodes on CPython (`runtime_hint: cpython`).
///
/// [`CPythonHost::embedded`] starts an interpreter inside this process on first use (the
/// standalone binary); [`CPythonHost::in_process`] uses the interpreter the process already runs
/// (the Python extension). Calls attach to the interpreter only while Python code runs.
#[derive(Debug, Clone)]
pub struct CPythonHost {
    embedded: bool,
    virtual_env: Option<std::path::PathBuf>,
}

impl CPythonHost {
    /// For a program that is not Python itself: the interpreter starts when the first CPython
    /// node loads. It finds its standard library and site-packages where the `libpython` it was
    /// linked against was installed, and `PYTHONPATH` adds folders (CPython reads that itself).
    pub fn embedded() -> Self {
        Self {
            embedded: true,
            virtual_env: None,
        }
    }

    /// Adds a virtual environment's site-packages to the embedded interpreter (the binary passes
    /// its `VIRTUAL_ENV`); it applies when the interpreter starts.
    pub fn with_virtual_env(mut self, virtual_env: Option<std::path::PathBuf>) -> Self {
        self.virtual_env = virtual_env;
        self
    }

    /// For code running inside a Python process (the extension module).
    pub fn in_process() -> Self {
        Self {
            embedded: false,
            virtual_env: None,
        }
    }

    fn prepare(&self) {
        static START: Once = Once::new();
        if self.embedded {
            START.call_once(|| {
                Python::initialize();
                Python::attach(|py| {
                    if let Err(e) = embedded_site(py, self.virtual_env.as_deref()) {
                        tracing::warn!("setting up the embedded CPython: {e}");
                    }
                });
            });
        }
    }
}

/// `sys.argv` for libraries that expect it, and a virtual environment's site-packages.
fn embedded_site(py: Python<'_>, virtual_env: Option<&std::path::Path>) -> PyResult<()> {
    let sys = py.import("sys")?;
    if sys.getattr("argv").is_err() {
        sys.setattr("argv", vec!["remotemedia-runtime"])?;
    }
    if let Some(venv) = virtual_env {
        let version = sys.getattr("version_info")?;
        let (major, minor): (u8, u8) = (
            version.getattr("major")?.extract()?,
            version.getattr("minor")?.extract()?,
        );
        let site_packages = std::path::Path::new(&venv)
            .join("lib")
            .join(format!("python{major}.{minor}"))
            .join("site-packages");
        if site_packages.is_dir() {
            py.import("site")?
                .call_method1("addsitedir", (site_packages.display().to_string(),))?;
        }
    }
    Ok(())
}

impl PythonHost for CPythonHost {
    fn runtime(&self) -> NodeRuntime {
        NodeRuntime::CPython
    }

    fn load(&self, spec: &PythonNodeSpec) -> Result<Arc<dyn NodeFactory>, LoadError> {
        self.prepare();
        attach(|py| {
            let class = load_class(py, spec).map_err(|e| node_error(py, e))?;
            let kwargs = PyDict::new(py);
            for (name, value) in spec.params.iter() {
                kwargs
                    .set_item(name, to_python(py, value).map_err(|e| node_error(py, e))?)
                    .map_err(|e| node_error(py, e))?;
            }
            let factory = ClassFactory {
                class: class.unbind(),
                kwargs: kwargs.unbind(),
                timeout_ms: spec.timeout_ms,
                ready: Mutex::new(None),
            };
            // Loading proves the class instantiates; that instance serves the first run.
            let first = factory.instantiate(py)?;
            *factory.ready.lock().unwrap_or_else(PoisonError::into_inner) = Some(first);
            Ok(Arc::new(factory) as Arc<dyn NodeFactory>)
        })
        .unwrap_or_else(|| Err(shutting_down()))
        .map_err(LoadError::from_python)
    }
}

/// Imports the node's module (from its module name, file or source) and returns its class.
fn load_class<'py>(py: Python<'py>, spec: &PythonNodeSpec) -> PyResult<Bound<'py, PyAny>> {
    ensure_base_classes(py)?;
    let path = py.import("sys")?.getattr("path")?;
    for folder in spec.search_path.iter().rev() {
        let folder = folder.display().to_string();
        if !path.contains(&folder)? {
            path.call_method1("insert", (0, folder))?;
        }
    }
    let module = match &spec.source {
        PythonSource::Module(name) => py.import(name.as_str())?.into_any(),
        PythonSource::File(file) => {
            let source = std::fs::read_to_string(file).map_err(|e| {
                pyo3::exceptions::PyOSError::new_err(format!("cannot read `{}`: {e}", file.display()))
            })?;
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("node");
            driver_call(py, "load_source", (stem, source, file.display().to_string()))?
        }
        PythonSource::Inline(source) => {
            let name = spec.inline_module_name();
            let path = format!("<{name}>");
            driver_call(py, "load_source", (name, source.as_str(), path))?
        }
        PythonSource::Live => {
            return Err(pyo3::exceptions::PyImportError::new_err(
                "a live object is not loaded from anywhere; its host hands it over",
            ));
        }
    };
    module.getattr(spec.class.as_str())
}

/// Makes instances of a loaded class.
struct ClassFactory {
    class: Py<PyAny>,
    kwargs: Py<PyDict>,
    timeout_ms: Option<u64>,
    ready: Mutex<Option<NodeObject>>,
}

impl ClassFactory {
    fn instantiate(&self, py: Python<'_>) -> Result<NodeObject, NodeError> {
        let object = self
            .class
            .bind(py)
            .call((), Some(self.kwargs.bind(py)))
            .map_err(|e| node_error(py, e))?;
        NodeObject::start(py, object.unbind())
    }
}

impl NodeFactory for ClassFactory {
    fn create(&self, _: &Params) -> Result<NodeInstance, NodeError> {
        let ready = self.ready.lock().unwrap_or_else(PoisonError::into_inner).take();
        let object = match ready {
            Some(object) => object,
            None => attach(|py| self.instantiate(py)).unwrap_or_else(|| Err(shutting_down()))?,
        };
        Ok(object.into_instance(self.timeout_ms))
    }

    fn sync_instances(&self) -> Option<bool> {
        Some(self.timeout_ms.is_none())
    }
}

/// Live node objects of the calling interpreter, by node id: the nodes a `Pipeline.run()` hands
/// to the engine. They keep their state and identity (exactly as under the pure-Python executor);
/// `initialize` runs at the start of each run and `cleanup` at its end.
///
/// Registered before the other hosts under the name `cpython`; it takes only its own node ids.
pub struct LiveObjects {
    objects: HashMap<String, Py<PyAny>>,
}

impl LiveObjects {
    /// Live objects by node id.
    pub fn new(objects: HashMap<String, Py<PyAny>>) -> Self {
        Self { objects }
    }
}

impl PythonHost for LiveObjects {
    fn runtime(&self) -> NodeRuntime {
        NodeRuntime::CPython
    }

    fn handles(&self, spec: &PythonNodeSpec) -> bool {
        spec.source == PythonSource::Live && self.objects.contains_key(&spec.node_id)
    }

    fn load(&self, spec: &PythonNodeSpec) -> Result<Arc<dyn NodeFactory>, LoadError> {
        let object = self.objects.get(&spec.node_id).ok_or_else(|| {
            LoadError::Unsupported(NodeError::failed(format!(
                "no live object for node `{}`",
                spec.node_id
            )))
        })?;
        Ok(Arc::new(LiveFactory {
            object: attach(|py| object.clone_ref(py))
                .ok_or_else(|| LoadError::Unsupported(shutting_down()))?,
            timeout_ms: spec.timeout_ms,
        }))
    }
}

struct LiveFactory {
    object: Py<PyAny>,
    timeout_ms: Option<u64>,
}

impl NodeFactory for LiveFactory {
    fn create(&self, _: &Params) -> Result<NodeInstance, NodeError> {
        let object = attach(|py| NodeObject::start(py, self.object.clone_ref(py)))
            .unwrap_or_else(|| Err(shutting_down()))?;
        Ok(object.into_instance(self.timeout_ms))
    }

    fn sync_instances(&self) -> Option<bool> {
        Some(self.timeout_ms.is_none())
    }
}
