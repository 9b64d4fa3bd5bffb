//! Planning a manifest's Python nodes: their fields checked, then each loaded on an interpreter
//! host (threads, interpreters) before any data flows. Kept apart from the checks in `validate`,
//! which start nothing.

use std::path::Path;
use std::sync::Arc;

use super::plan::PlannedNode;
use super::{Manifest, NodeSpec, RuntimeHint};
use crate::error::ManifestIssue;
use crate::params::Params;
use crate::python::{InterpreterChoice, LoadError, PythonNodeSpec, PythonSource};
use crate::registry::{NodeDescriptor, RegisteredNode, Registry};

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// A Python node loaded, or the problems that kept it from loading.
pub(super) type Loaded = std::result::Result<PlannedNode, Vec<ManifestIssue>>;

/// Loads every Python node (by manifest index; `None` for other nodes). Loads are independent and
/// a RustPython interpreter takes tens of milliseconds to start, so several Python nodes load in
/// parallel, one thread each; a single one loads on the calling thread (where a single-stage run
/// then runs it too, which matters to objects bound to the thread that made them, like sqlite3
/// connections). The registry's interpreter override applies to every one.
pub(super) fn load_python_nodes(
    manifest: &Manifest,
    registry: &Registry,
    base_dir: Option<&Path>,
) -> Vec<Option<Loaded>> {
    let forced = registry.interpreter_override();
    if let Some(choice) = forced
        && manifest.nodes.iter().any(NodeSpec::is_python)
    {
        tracing::info!(
            "{}={choice:?} overrides every Python node's runtime hint",
            crate::python::INTERPRETER_ENV
        );
    }
    let load = move |i: usize, spec: &NodeSpec| python_node(spec, i, registry, base_dir, forced);
    let python = manifest
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, spec)| spec.is_python());
    if python.clone().count() <= 1 {
        let mut loaded: Vec<Option<Loaded>> = manifest.nodes.iter().map(|_| None).collect();
        for (i, spec) in python {
            loaded[i] = Some(load(i, spec));
        }
        return loaded;
    }
    std::thread::scope(|scope| {
        let loading: Vec<_> = manifest
            .nodes
            .iter()
            .enumerate()
            .map(|(i, spec)| spec.is_python().then(|| scope.spawn(move || load(i, spec))))
            .collect();
        loading
            .into_iter()
            .enumerate()
            .map(|(i, handle)| {
                handle.map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(vec![ManifestIssue::new(
                            format!("nodes[{i}]"),
                            "loading the Python node failed unexpectedly (a panic in its interpreter host)",
                        )])
                    })
                })
            })
            .collect()
    })
}

/// Checks a Python node and loads it on the interpreter its hint allows (trying them in order for
/// `auto`), before any data flows.
fn python_node(
    spec: &NodeSpec,
    i: usize,
    registry: &Registry,
    base_dir: Option<&Path>,
    forced: Option<InterpreterChoice>,
) -> Loaded {
    let path = format!("nodes[{i}]");
    let issue = |field: &str, message: String| {
        let at = if field.is_empty() {
            path.clone()
        } else {
            format!("{path}.{field}")
        };
        vec![ManifestIssue::new(at, message)]
    };
    let class = match &spec.class {
        // A live object is known by its node type.
        None if spec.live => spec.node_type.clone(),
        None => {
            return Err(issue(
                "class",
                "missing required field for a Python node (the class to instantiate)".into(),
            ));
        }
        Some(c) if !is_identifier(c) => {
            return Err(issue("class", format!("\"{c}\" is not a Python class name")));
        }
        Some(c) => c.clone(),
    };
    let given: Vec<&str> = [
        ("module", &spec.module),
        ("file", &spec.file),
        ("source", &spec.source),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_ref().map(|_| name))
    .collect();
    let source = match (&spec.module, &spec.file, &spec.source, given.len()) {
        (None, None, None, 0) if spec.live => PythonSource::Live,
        (Some(m), None, None, 1) => PythonSource::Module(m.clone()),
        (None, Some(f), None, 1) => {
            let file = base_dir.map_or_else(|| Path::new(f).to_path_buf(), |dir| dir.join(f));
            if !file.is_file() {
                return Err(issue(
                    "file",
                    format!("cannot read `{}`: no such file", file.display()),
                ));
            }
            PythonSource::File(file)
        }
        (None, None, Some(s), 1) => PythonSource::Inline(s.clone()),
        _ => {
            let found = if given.is_empty() {
                "none".to_string()
            } else {
                given.join(" and ")
            };
            return Err(issue(
                "",
                format!(
                    "a Python node needs exactly one of `module`, `file` or `source` to find class `{class}`, found {found}"
                ),
            ));
        }
    };
    let mut params = crate::value::Map::new();
    for (name, raw) in &spec.params {
        match crate::value::Value::from_json(raw.clone()) {
            Ok(v) => {
                params.insert(name.clone(), v);
            }
            Err(e) => return Err(issue(&format!("params.{name}"), e.to_string())),
        }
    }
    let python = PythonNodeSpec {
        node_id: spec.id.clone(),
        source,
        class: class.clone(),
        params,
        search_path: base_dir.map(Path::to_path_buf).into_iter().collect(),
        timeout_ms: spec.timeout_ms,
    };
    let hosts: Vec<_> = registry
        .python_hosts()
        .iter()
        .filter(|h| h.handles(&python))
        .collect();
    if hosts.is_empty() {
        return Err(issue(
            "",
            "Python nodes are not supported by this build (it has no Python interpreter)".into(),
        ));
    }
    let (choice, asked_by_env) = match forced {
        Some(choice) => (choice, true),
        None => match spec.runtime_hint.unwrap_or_default() {
            RuntimeHint::Auto | RuntimeHint::Python => (InterpreterChoice::Auto, false),
            RuntimeHint::RustPython => (InterpreterChoice::RustPython, false),
            RuntimeHint::CPython => (InterpreterChoice::CPython, false),
            RuntimeHint::Rust => {
                return Err(issue("runtime_hint", super::RUST_HINT_ON_PYTHON_NODE.into()));
            }
        },
    };
    let wanted: Vec<_> = match choice.host() {
        None => hosts,
        Some(name) => {
            let found: Vec<_> = hosts.iter().copied().filter(|h| h.runtime() == name).collect();
            if found.is_empty() {
                let mut available: Vec<&str> = hosts.iter().map(|h| h.runtime().name()).collect();
                available.dedup();
                let asked = if asked_by_env {
                    format!("{}={name}", crate::python::INTERPRETER_ENV)
                } else {
                    format!("\"{name}\"")
                };
                return Err(issue(
                    "runtime_hint",
                    format!(
                        "{asked} is not available in this build; available: {}",
                        available.join(", ")
                    ),
                ));
            }
            found
        }
    };
    let mut reasons = Vec::new();
    for host in wanted {
        let cannot_load = |reasons: &[String]| {
            issue(
                "",
                format!(
                    "cannot load class `{class}` from {}: {}",
                    python.source,
                    reasons.join("; ")
                ),
            )
        };
        match host.load(&python) {
            Ok(factory) => {
                tracing::info!(node = %python.node_id, interpreter = %host.runtime(), "loaded Python node `{class}` from {}", python.source);
                if !reasons.is_empty() {
                    tracing::info!(node = %python.node_id, "not run on the interpreters tried first: {}", reasons.join("; "));
                }
                return Ok(PlannedNode {
                    id: Arc::from(python.node_id.as_str()),
                    node_type: Arc::from(class.as_str()),
                    registered: RegisteredNode {
                        descriptor: Arc::new(NodeDescriptor::new(&class).describe("Python node")),
                        factory,
                    },
                    params: Params::default(),
                    runtime: host.runtime(),
                });
            }
            Err(LoadError::Unsupported(e)) => {
                tracing::info!(node = %python.node_id, interpreter = %host.runtime(), "cannot host the node: {e}");
                reasons.push(format!("{}: {e}", host.runtime()));
            }
            // The node's own code failed: it is not run again on another interpreter.
            Err(LoadError::Failed(e)) => {
                reasons.push(format!("{}: {e}", host.runtime()));
                return Err(cannot_load(&reasons));
            }
        }
    }
    Err(issue(
        "",
        format!(
            "cannot load class `{class}` from {}: {}",
            python.source,
            reasons.join("; ")
        ),
    ))
}
