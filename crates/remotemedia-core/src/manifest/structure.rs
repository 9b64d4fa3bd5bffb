//! Structural checks of a manifest document: field presence and types, with a path for each problem.

use serde_json::{Map, Value as Json};

use super::{Connection, MANIFEST_VERSION, Manifest, Metadata, NodeSpec, RuntimeHint};
use crate::error::ManifestIssue;
use crate::suggest;

/// The fields a node may have.
pub(crate) const NODE_FIELDS: [&str; 9] = [
    "id",
    "node_type",
    "params",
    "runtime_hint",
    "module",
    "file",
    "source",
    "class",
    "timeout_ms",
];
const CONNECTION_FIELDS: [&str; 2] = ["from", "to"];

/// JSON type name of a value, for messages.
pub(crate) fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

fn found(v: &Json) -> String {
    match v {
        Json::String(s) => format!("\"{s}\""),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        other => json_type(other).to_string(),
    }
}

struct Checker {
    issues: Vec<ManifestIssue>,
}

impl Checker {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(ManifestIssue::new(path, message));
    }

    fn string(&mut self, obj: &Map<String, Json>, key: &str, base: &str, required: bool) -> Option<String> {
        let path = join(base, key);
        match obj.get(key) {
            Some(Json::String(s)) => Some(s.clone()),
            None | Some(Json::Null) if !required => None,
            None => {
                self.push(path, "missing required field");
                None
            }
            Some(other) => {
                self.push(path, format!("expected a string, found {}", found(other)));
                None
            }
        }
    }

    fn unknown_fields(&mut self, obj: &Map<String, Json>, known: &[&str], base: &str) {
        for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            let hint = suggest::closest(key, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!("; known fields: {}", known.join(", ")));
            self.push(join(base, key), format!("unknown field `{key}`{hint}"));
        }
    }
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Parses the document, collecting every structural problem.
pub(crate) fn parse(doc: Json) -> Result<Manifest, Vec<ManifestIssue>> {
    let mut c = Checker { issues: Vec::new() };
    let Json::Object(top) = doc else {
        return Err(vec![ManifestIssue::new(
            "",
            format!(
                "expected an object at the top level of the manifest, found {}",
                json_type(&doc)
            ),
        )]);
    };

    let version = match top.get("version") {
        Some(Json::String(v)) if v == MANIFEST_VERSION => v.clone(),
        None => {
            c.push(
                "version",
                format!("missing required field; expected \"{MANIFEST_VERSION}\""),
            );
            String::new()
        }
        Some(other) => {
            c.push(
                "version",
                format!(
                    "unsupported manifest version {}; expected \"{MANIFEST_VERSION}\"",
                    found(other)
                ),
            );
            String::new()
        }
    };

    let metadata = match top.get("metadata") {
        None | Some(Json::Null) => Metadata::default(),
        Some(Json::Object(m)) => Metadata {
            name: c.string(m, "name", "metadata", false),
            description: c.string(m, "description", "metadata", false),
            created_at: c.string(m, "created_at", "metadata", false),
        },
        Some(other) => {
            c.push(
                "metadata",
                format!("expected an object, found {}", json_type(other)),
            );
            Metadata::default()
        }
    };

    let nodes = match top.get("nodes") {
        Some(Json::Array(items)) if items.is_empty() => {
            c.push("nodes", super::NO_NODES);
            Vec::new()
        }
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| parse_node(&mut c, n, &format!("nodes[{i}]")))
            .collect(),
        None => {
            c.push(
                "nodes",
                "missing required field; a pipeline needs at least one node",
            );
            Vec::new()
        }
        Some(other) => {
            c.push(
                "nodes",
                format!("expected a list of nodes, found {}", json_type(other)),
            );
            Vec::new()
        }
    };

    let connections = match top.get("connections") {
        None | Some(Json::Null) => nodes
            .windows(2)
            .map(|pair| Connection {
                from: pair[0].id.clone(),
                to: pair[1].id.clone(),
            })
            .collect(),
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, e)| parse_connection(&mut c, e, &format!("connections[{i}]")))
            .collect(),
        Some(other) => {
            c.push(
                "connections",
                format!("expected a list of connections, found {}", json_type(other)),
            );
            Vec::new()
        }
    };

    if c.issues.is_empty() {
        Ok(Manifest {
            version,
            metadata,
            nodes,
            connections,
        })
    } else {
        Err(c.issues)
    }
}

fn parse_node(c: &mut Checker, node: &Json, path: &str) -> Option<NodeSpec> {
    let Json::Object(obj) = node else {
        c.push(path, format!("expected a node object, found {}", json_type(node)));
        return None;
    };
    let before = c.issues.len();
    c.unknown_fields(obj, &NODE_FIELDS, path);
    let id = c.string(obj, "id", path, true);
    let node_type = c.string(obj, "node_type", path, true);
    let params = match obj.get("params") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(p)) => p.clone(),
        Some(other) => {
            c.push(
                join(path, "params"),
                format!("expected an object, found {}", json_type(other)),
            );
            Map::new()
        }
    };
    let runtime_hint = c.string(obj, "runtime_hint", path, false).and_then(|hint| {
        let parsed = RuntimeHint::from_name(&hint);
        if parsed.is_none() {
            c.push(
                join(path, "runtime_hint"),
                format!(
                    "unknown runtime hint \"{hint}\"; expected one of {}",
                    RuntimeHint::NAMES.join(", ")
                ),
            );
        }
        parsed
    });
    let module = c.string(obj, "module", path, false);
    let file = c.string(obj, "file", path, false);
    let source = c.string(obj, "source", path, false);
    let class = c.string(obj, "class", path, false);
    let timeout_ms = match obj.get("timeout_ms") {
        None | Some(Json::Null) => None,
        Some(Json::Number(n)) if n.as_u64().is_some_and(|ms| ms > 0) => n.as_u64(),
        Some(other) => {
            c.push(
                join(path, "timeout_ms"),
                format!(
                    "expected a positive integer (milliseconds), found {}",
                    found(other)
                ),
            );
            None
        }
    };
    (c.issues.len() == before).then(|| NodeSpec {
        id: id.unwrap_or_default(),
        node_type: node_type.unwrap_or_default(),
        params,
        runtime_hint,
        module,
        file,
        source,
        class,
        timeout_ms,
        live: false,
    })
}

fn parse_connection(c: &mut Checker, edge: &Json, path: &str) -> Option<Connection> {
    let Json::Object(obj) = edge else {
        c.push(
            path,
            format!(
                "expected a connection object with `from` and `to`, found {}",
                json_type(edge)
            ),
        );
        return None;
    };
    c.unknown_fields(obj, &CONNECTION_FIELDS, path);
    let from = c.string(obj, "from", path, true)?;
    let to = c.string(obj, "to", path, true)?;
    Some(Connection { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(doc: Json) -> Vec<String> {
        parse(doc)
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reports_every_structural_problem() {
        let got = issues(serde_json::json!({
            "version": "v2",
            "nodes": [{"id": 3, "node_type": "AddNode", "param": {}}, "x"],
            "connections": [{"from": "a"}],
        }));
        assert_eq!(
            got,
            vec![
                "version: unsupported manifest version \"v2\"; expected \"v1\"",
                "nodes[0].param: unknown field `param`; did you mean `params`?",
                "nodes[0].id: expected a string, found 3",
                "nodes[1]: expected a node object, found a string",
                "connections[0].to: missing required field",
            ]
        );
    }

    #[test]
    fn absent_connections_make_a_chain() {
        let m = parse(serde_json::json!({
            "version": "v1", "extra": true,
            "nodes": [{"id": "a", "node_type": "X"}, {"id": "b", "node_type": "X"}, {"id": "c", "node_type": "X"}],
        }))
        .expect("valid");
        let edges: Vec<_> = m
            .connections
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(edges, vec![("a", "b"), ("b", "c")]);
    }

    #[test]
    fn empty_nodes_and_missing_version() {
        assert_eq!(
            issues(serde_json::json!({"nodes": []})),
            vec![
                "version: missing required field; expected \"v1\"",
                "nodes: a pipeline needs at least one node, found none"
            ]
        );
    }
}
