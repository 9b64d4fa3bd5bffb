//! Semantic checks of a manifest against a registry (ids, node types, params, the graph),
//! producing the execution plan; the Python nodes are planned in `python_nodes`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::plan::{ExecutionPlan, PlannedNode};
use super::python_nodes::load_python_nodes;
use super::{Manifest, NodeSpec, RuntimeHint};
use crate::error::{Error, ManifestIssue, NodeError, Result};
use crate::graph::Graph;
use crate::params::Params;
use crate::python::NodeRuntime;
use crate::registry::Registry;
use crate::suggest;
use crate::value::{Map, Value};

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
        check_id(i, &spec.id, &mut first_use, &mut issues);
        let planned = match python[i].take() {
            Some(Ok(planned)) => Some(planned),
            Some(Err(found)) => {
                issues.extend(found);
                None
            }
            None => plan_native_node(i, spec, registry, base_dir, &mut issues),
        };
        nodes.extend(planned);
    }
    let edges = check_connections(manifest, &first_use, &mut issues);
    let graph = Graph::new(manifest.nodes.len(), &edges);
    check_acyclic(manifest, &graph, &mut issues);

    if issues.is_empty() {
        Ok(ExecutionPlan { nodes, graph })
    } else {
        Err(Error::InvalidManifest {
            origin: origin.to_string(),
            issues,
        })
    }
}

/// A node id: unique, and made of letters, digits, `_` and `-`. `first_use` maps each id to
/// the node that took it first.
fn check_id<'m>(
    i: usize,
    id: &'m str,
    first_use: &mut HashMap<&'m str, usize>,
    issues: &mut Vec<ManifestIssue>,
) {
    let path = format!("nodes[{i}].id");
    if let Some(j) = first_use.get(id) {
        issues.push(ManifestIssue::new(
            path,
            format!("duplicate node id \"{id}\" (already used by nodes[{j}])"),
        ));
        return;
    }
    first_use.insert(id, i);
    if !valid_id(id) {
        issues.push(ManifestIssue::new(
            path,
            format!("invalid node id \"{id}\": use only letters, digits, `_` and `-`"),
        ));
    }
}

/// A native node: a registered type, a hint the engine honours, and params its schema (and its
/// factory's own checks) accept.
fn plan_native_node(
    i: usize,
    spec: &NodeSpec,
    registry: &Registry,
    base_dir: Option<&Path>,
    issues: &mut Vec<ManifestIssue>,
) -> Option<PlannedNode> {
    let path = format!("nodes[{i}]");
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
        return None;
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
    let params = check_params(&path, spec, descriptor, base_dir, issues);
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
    Some(PlannedNode {
        id: Arc::from(spec.id.as_str()),
        node_type: Arc::from(descriptor.node_type.as_str()),
        registered: registered.clone(),
        params,
        runtime: NodeRuntime::Rust,
    })
}

/// The params of a native node against its schema: every given param known and valid (paths
/// resolved against the manifest's folder), every required one given, defaults filled in.
fn check_params(
    path: &str,
    spec: &NodeSpec,
    descriptor: &crate::registry::NodeDescriptor,
    base_dir: Option<&Path>,
    issues: &mut Vec<ManifestIssue>,
) -> Params {
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
    Params::new(values)
}

/// The connections: both ends name a node, none repeats; returns the edges by node index.
fn check_connections(
    manifest: &Manifest,
    first_use: &HashMap<&str, usize>,
    issues: &mut Vec<ManifestIssue>,
) -> Vec<(usize, usize)> {
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
    edges
}

/// No cycles: each is named by its path, with every node on a cycle.
fn check_acyclic(manifest: &Manifest, graph: &Graph, issues: &mut Vec<ManifestIssue>) {
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
