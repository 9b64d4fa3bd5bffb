//! The JSON Schema of manifest v1, generated from a registry so that it always matches the code.

use serde_json::{Value as Json, json};

use super::structure::NODE_FIELDS;
use super::{MANIFEST_VERSION, RuntimeHint};
use crate::registry::Registry;

/// JSON Schema (draft 2020-12) of a manifest whose nodes come from `registry`, with the params of
/// every node type.
pub fn manifest_schema(registry: &Registry) -> Json {
    let per_type: Vec<Json> = registry
        .descriptors()
        .map(|d| {
            let names: Vec<&str> = std::iter::once(d.node_type.as_str())
                .chain(d.aliases.iter().map(String::as_str))
                .collect();
            let properties: serde_json::Map<String, Json> = d
                .params
                .iter()
                .map(|p| (p.name.clone(), p.json_schema()))
                .collect();
            let required: Vec<&str> = d
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name.as_str())
                .collect();
            let mut params = json!({
                "type": "object",
                "properties": properties,
                "additionalProperties": false,
            });
            if !required.is_empty() {
                params["required"] = json!(required);
            }
            let mut then = json!({ "properties": { "params": params } });
            if !required.is_empty() {
                then["required"] = json!(["params"]);
            }
            json!({
                "if": { "properties": { "node_type": { "enum": names } } },
                "then": then,
            })
        })
        .collect();
    let node_types: Vec<&str> = registry.names().collect();
    let node_properties: serde_json::Map<String, Json> = NODE_FIELDS
        .iter()
        .map(|&field| {
            let schema = match field {
                "id" => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]+$" }),
                "node_type" => json!({ "type": "string" }),
                "params" => json!({ "type": "object" }),
                "runtime_hint" => json!({ "type": "string", "enum": RuntimeHint::NAMES }),
                "module" => json!({ "type": "string", "description": "Python node: an importable module defining `class`" }),
                "file" => json!({ "type": "string", "description": "Python node: a .py file (relative to the manifest) defining `class`" }),
                "source" => json!({ "type": "string", "description": "Python node: inline source defining `class`" }),
                "class" => json!({ "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "Python node: the class to instantiate with `params` as keyword arguments" }),
                "timeout_ms" => json!({ "type": "integer", "minimum": 1, "description": "longest a single call may take" }),
                other => json!({ "description": other }),
            };
            (field.to_string(), schema)
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://remotemedia.dev/schema/manifest-v1.json",
        "title": "remotemedia pipeline manifest v1",
        "type": "object",
        "required": ["version", "nodes"],
        "properties": {
            "version": { "const": MANIFEST_VERSION },
            "metadata": {
                "type": "object",
                "properties": {
                    "name": { "type": "string" },
                    "description": { "type": "string" },
                    "created_at": { "type": "string" }
                }
            },
            "nodes": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["id", "node_type"],
                    "properties": node_properties,
                    "additionalProperties": false,
                    "allOf": [
                        {
                            "description": "a native node: `node_type` names a registered type and `params` follow its schema",
                            "if": { "not": { "required": ["class"] } },
                            "then": {
                                "properties": { "node_type": { "enum": node_types } },
                                "allOf": per_type,
                            },
                        },
                        {
                            "description": "a Python node: `class` and exactly one of `module`, `file`, `source`",
                            "if": { "required": ["class"] },
                            "then": {
                                "oneOf": [
                                    { "required": ["module"] },
                                    { "required": ["file"] },
                                    { "required": ["source"] },
                                ],
                            },
                        },
                    ],
                }
            },
            "connections": {
                "description": "edges between node ids; when absent, the nodes form a chain in listed order",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": { "from": { "type": "string" }, "to": { "type": "string" } },
                    "additionalProperties": false
                }
            }
        }
    })
}
