//! Semantic checks of a manifest against a registry (ids, node types, params, the graph),
//! producing the execution plan; the Python nodes are planned in `python_nodes`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::python_nodes::load_python_nodes;
use super::{Manifest, RuntimeHint};
use crate::error::{Error, ManifestIssue, NodeError, Result};
use crate::graph::Graph;
use crate::params::Params;
use crate::python::NodeRuntime;
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
    /// What runs it: native code, or the Python interpreter chosen for it.
    pub runtime: NodeRuntime,
}

/// A validated pipeline: its nodes and graph.
#[derive(Clone)]
pub(crate) struct ExecutionPlan {
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
) -> Result<ExecutionPlan> {
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
                Ok(value) => match param
                    .check(&value)
                    .and_then(|()| resolve_path(param, value, base_dir))
                {
                    Ok(value) => {
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
            runtime: NodeRuntime::Rust,
        });
    }

    let mut edges = Vec::with_capacity(manifest.connections.len());
    let mut seen_edges: HashMap<(&str, &str), usize> = HashMap::new();
    // Each id once, in manifest order (a duplicated id is reported above, not listed twice here).
    let mut ids: Vec<&str> = Vec::with_capacity(manifest.nodes.len());
    for node in &manifest.nodes {
        if !ids.contains(&node.id.as_str()) {
            ids.push(&node.id);
        }
    }
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
        Ok(ExecutionPlan { nodes, graph })
    } else {
        Err(Error::InvalidManifest {
            origin: origin.to_string(),
            issues,
        })
    }
}

/// A [`ParamKind::Path`](crate::params::ParamKind::Path) value made absolute against the
/// manifest's folder, and checked to name a file; other values unchanged.
fn resolve_path(
    param: &crate::params::ParamSpec,
    value: Value,
    base_dir: Option<&Path>,
) -> std::result::Result<Value, String> {
    let (crate::params::ParamKind::Path, Value::Text(text)) = (&param.kind, &value) else {
        return Ok(value);
    };
    let given = Path::new(&**text);
    let resolved = match base_dir {
        Some(dir) if given.is_relative() => dir.join(given),
        _ => given.to_path_buf(),
    };
    if !resolved.is_file() {
        let relative = if given.is_relative() && base_dir.is_some() {
            " (relative paths are read from the manifest's folder)"
        } else {
            ""
        };
        return Err(format!("file not found: {}{relative}", resolved.display()));
    }
    Ok(Value::Text(resolved.to_string_lossy().as_ref().into()))
}

fn describe_kind(param: &crate::params::ParamSpec) -> String {
    match &param.kind {
        crate::params::ParamKind::Choice(c) => format!("one of {}", backticked(c.iter().map(String::as_str))),
        kind => format!("a {}", kind.type_name()),
    }
}
