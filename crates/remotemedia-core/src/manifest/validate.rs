//! Semantic checks of a manifest against a registry, producing the execution plan.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{Manifest, NodeSpec, RuntimeHint};
use crate::error::{Error, ManifestIssue, NodeError, Result};
use crate::graph::Graph;
use crate::params::Params;
use crate::python::{InterpreterChoice, PythonNodeSpec, PythonSource};
use crate::registry::NodeDescriptor;
use crate::registry::{RegisteredNode, Registry};
use crate::suggest;
use crate::value::{Map, Value};

/// A node that passed validation.
#[derive(Clone)]
pub(crate) struct PlannedNode {
    pub id: Arc<str>,
    pub node_type: Arc<str>,
    pub registered: RegisteredNode,
    pub params: Params,
    /// What runs it: `native`, or the Python interpreter chosen for it.
    pub runtime: &'static str,
}

/// A validated pipeline: its nodes and graph.
#[derive(Clone)]
pub(crate) struct Plan {
    pub nodes: Vec<PlannedNode>,
    pub graph: Graph,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn backticked<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn did_you_mean(query: &str, candidates: &[&str], known: &str) -> String {
    let close = suggest::closest_many(query, candidates.iter().copied());
    if close.is_empty() {
        format!("; {known}: {}", backticked(candidates.iter().copied()))
    } else {
        format!(
            "; did you mean {}?",
            close
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

/// Checks node ids, node types, params and the graph; collects every problem.
pub(crate) fn plan(
    manifest: &Manifest,
    registry: &Registry,
    origin: &str,
    base_dir: Option<&Path>,
) -> Result<Plan> {
    let mut issues = Vec::new();
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    let mut nodes = Vec::with_capacity(manifest.nodes.len());
    let mut python = load_python_nodes(manifest, registry, base_dir);

    for (i, spec) in manifest.nodes.iter().enumerate() {
        let path = format!("nodes[{i}]");
        if let Some(j) = first_use.get(spec.id.as_str()) {
            issues.push(ManifestIssue::new(
                format!("{path}.id"),
                format!("duplicate node id \"{}\" (already used by nodes[{j}])", spec.id),
            ));
        } else {
            first_use.insert(&spec.id, i);
            if !valid_id(&spec.id) {
                issues.push(ManifestIssue::new(
                    format!("{path}.id"),
                    format!(
                        "invalid node id \"{}\": use only letters, digits, `_` and `-`",
                        spec.id
                    ),
                ));
            }
        }

        if let Some(loaded) = python[i].take() {
            match loaded {
                Ok(planned) => nodes.push(planned),
                Err(found) => issues.extend(found),
            }
            continue;
        }

        let Some(registered) = registry.get(&spec.node_type) else {
            let hint = did_you_mean(
                &spec.node_type,
                &registry.names().collect::<Vec<_>>(),
                "known node types",
            );
            issues.push(ManifestIssue::new(
                format!("{path}.node_type"),
                format!("unknown node type \"{}\"{hint}", spec.node_type),
            ));
            continue;
        };
        let descriptor = &registered.descriptor;

        if spec.runtime_hint == Some(RuntimeHint::Python) {
            issues.push(ManifestIssue::new(
                format!("{path}.runtime_hint"),
                format!(
                    "runtime hint \"python\" asks for the Python implementation of `{}`, which the Rust engine does not run; use \"auto\" or \"rust\", or run the pipeline with the Python executor",
                    descriptor.node_type
                ),
            ));
        }

        let issues_before = issues.len();
        let mut values = Map::new();
        for (name, raw) in &spec.params {
            let param_path = format!("{path}.params.{name}");
            let Some(param) = descriptor.find_param(name) else {
                let hint = if descriptor.params.is_empty() {
                    format!("; `{}` takes no params", descriptor.node_type)
                } else {
                    did_you_mean(
                        name,
                        &descriptor
                            .params
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>(),
                        "known params",
                    )
                };
                issues.push(ManifestIssue::new(
                    param_path,
                    format!("unknown param \"{name}\" for `{}`{hint}", descriptor.node_type),
                ));
                continue;
            };
            match Value::from_json(raw.clone()) {
                Ok(value) => match param.check(&value) {
                    Ok(()) => {
                        values.insert(name.clone(), value);
                    }
                    Err(msg) => issues.push(ManifestIssue::new(param_path, msg)),
                },
                Err(e) => issues.push(ManifestIssue::new(param_path, e.to_string())),
            }
        }
        for param in &descriptor.params {
            if spec.params.contains_key(&param.name) {
                continue;
            }
            match &param.default {
                Some(default) => {
                    values.insert(param.name.clone(), default.clone());
                }
                None if param.required => issues.push(ManifestIssue::new(
                    format!("{path}.params"),
                    format!(
                        "missing required param \"{}\" for `{}` (expected {})",
                        param.name,
                        descriptor.node_type,
                        describe_kind(param)
                    ),
                )),
                None => {}
            }
        }
        let params = Params::new(values);
        if issues.len() == issues_before {
            // Checks the schema cannot express (combinations of params): a manifest problem now,
            // not a failure once data flows.
            if let Err(e) = registered.factory.check(&params) {
                let message = match e {
                    NodeError::InvalidParams(m) => m,
                    other => other.to_string(),
                };
                issues.push(ManifestIssue::new(format!("{path}.params"), message));
            }
        }
        nodes.push(PlannedNode {
            id: Arc::from(spec.id.as_str()),
            node_type: Arc::from(descriptor.node_type.as_str()),
            registered: registered.clone(),
            params,
            runtime: "native",
        });
    }

    let mut edges = Vec::with_capacity(manifest.connections.len());
    let mut seen_edges: HashMap<(&str, &str), usize> = HashMap::new();
    let ids: Vec<&str> = manifest.nodes.iter().map(|n| n.id.as_str()).collect();
    for (k, edge) in manifest.connections.iter().enumerate() {
        let mut endpoint = |field: &str, id: &str| -> Option<usize> {
            let found = first_use.get(id).copied();
            if found.is_none() {
                let hint = did_you_mean(id, &ids, "known nodes");
                issues.push(ManifestIssue::new(
                    format!("connections[{k}].{field}"),
                    format!("unknown node \"{id}\"{hint}"),
                ));
            }
            found
        };
        let (from, to) = (endpoint("from", &edge.from), endpoint("to", &edge.to));
        if let Some(j) = seen_edges.get(&(edge.from.as_str(), edge.to.as_str())) {
            issues.push(ManifestIssue::new(
                format!("connections[{k}]"),
                format!(
                    "duplicate connection {} -> {} (already at connections[{j}])",
                    edge.from, edge.to
                ),
            ));
            continue;
        }
        seen_edges.insert((&edge.from, &edge.to), k);
        if let (Some(from), Some(to)) = (from, to) {
            edges.push((from, to));
        }
    }

    let graph = Graph::new(manifest.nodes.len(), &edges);
    for (cycle, members) in graph.cycles() {
        let path: Vec<&str> = cycle.iter().map(|&i| manifest.nodes[i].id.as_str()).collect();
        let mut message = format!("the graph has a cycle: {}", path.join(" -> "));
        if members.len() + 1 > cycle.len() {
            let all: Vec<&str> = members.iter().map(|&i| manifest.nodes[i].id.as_str()).collect();
            message.push_str(&format!(" (nodes on cycles: {})", all.join(", ")));
        }
        message.push_str("; pipelines must be acyclic");
        issues.push(ManifestIssue::new("connections", message));
    }

    if issues.is_empty() {
        Ok(Plan { nodes, graph })
    } else {
        Err(Error::InvalidManifest {
            origin: origin.to_string(),
            issues,
        })
    }
}

fn describe_kind(param: &crate::params::ParamSpec) -> String {
    match &param.kind {
        crate::params::ParamKind::Choice(c) => format!("one of {}", backticked(c.iter().map(String::as_str))),
        kind => format!("a {}", kind.type_name()),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

type Loaded = std::result::Result<PlannedNode, Vec<ManifestIssue>>;

/// Loads every Python node (by manifest index; `None` for other nodes). Loads are independent and
/// a RustPython interpreter takes tens of milliseconds to start, so several Python nodes load in
/// parallel, one thread each; a single one loads on the calling thread (where a single-stage run
/// then runs it too, which matters to objects bound to the thread that made them, like sqlite3
/// connections). The process-wide interpreter override is read once, here.
fn load_python_nodes(
    manifest: &Manifest,
    registry: &Registry,
    base_dir: Option<&Path>,
) -> Vec<Option<Loaded>> {
    let forced = crate::python::interpreter_override();
    if let Ok(Some(choice)) = &forced
        && manifest.nodes.iter().any(NodeSpec::is_python)
    {
        tracing::info!(
            "{}={choice:?} overrides every Python node's runtime hint",
            crate::python::INTERPRETER_ENV
        );
    }
    let forced = &forced;
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
    forced: &std::result::Result<Option<InterpreterChoice>, String>,
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
        Err(message) => return Err(issue("runtime_hint", message.clone())),
        Ok(Some(choice)) => (*choice, true),
        Ok(None) => match spec.runtime_hint.unwrap_or_default() {
            RuntimeHint::Auto | RuntimeHint::Python => (InterpreterChoice::Auto, false),
            RuntimeHint::RustPython => (InterpreterChoice::RustPython, false),
            RuntimeHint::CPython => (InterpreterChoice::CPython, false),
            RuntimeHint::Rust => {
                return Err(issue(
                    "runtime_hint",
                    "\"rust\" runs native nodes; a Python node runs on \"rustpython\" or \"cpython\" (or \"auto\")".into(),
                ));
            }
        },
    };
    let wanted: Vec<_> = match choice.host() {
        None => hosts,
        Some(name) => {
            let found: Vec<_> = hosts.iter().copied().filter(|h| h.name() == name).collect();
            if found.is_empty() {
                let mut available: Vec<&str> = hosts.iter().map(|h| h.name()).collect();
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
        match host.load(&python) {
            Ok(factory) => {
                tracing::info!(node = %python.node_id, interpreter = host.name(), "loaded Python node `{class}` from {}", python.source);
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
                    runtime: host.name(),
                });
            }
            Err(e) => {
                tracing::info!(node = %python.node_id, interpreter = host.name(), "cannot load: {e}");
                reasons.push(format!("{}: {e}", host.name()));
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
