//! Manifest v1: the JSON/YAML description of a pipeline.
//!
//! ```json
//! {
//!   "version": "v1",
//!   "metadata": {"name": "add-five", "description": "optional", "created_at": "optional"},
//!   "nodes": [
//!     {"id": "src", "node_type": "PassThroughNode"},
//!     {"id": "calc", "node_type": "CalculatorNode", "params": {"operation": "add", "operand": 5},
//!      "runtime_hint": "auto"}
//!   ],
//!   "connections": [{"from": "src", "to": "calc"}]
//! }
//! ```
//!
//! Unknown top-level fields are ignored (so newer writers stay readable); unknown fields inside a
//! node or a connection are errors, because there they are almost always typos. If `connections`
//! is absent, the nodes form a linear chain in the order they are listed; an explicit empty list
//! means no connections.
//!
//! Loading happens in two steps, each reporting every problem it finds with the path of the
//! offending field: [`Manifest::parse`] checks the document's structure, and
//! [`crate::Pipeline::new`] checks it against a [`crate::Registry`] (node types, params, graph).

pub(crate) mod plan;
mod python_nodes;
mod schema;
mod structure;
pub(crate) mod validate;

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, ManifestIssue, Result};

pub use schema::manifest_schema;

/// The only manifest version this engine reads.
pub const MANIFEST_VERSION: &str = "v1";

/// A parsed (structurally valid) manifest.
///
/// The only way in is the checking parser ([`Manifest::parse`], [`Manifest::from_json_value`],
/// [`Manifest::from_path`]), which reports every problem with its path; the type is deliberately
/// not `Deserialize`, so no second, laxer reading of manifests exists. It serializes back to
/// manifest JSON ([`Manifest::to_json_string`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// Always `"v1"`.
    pub version: String,
    /// Descriptive metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// The nodes, in declaration order.
    pub nodes: Vec<NodeSpec>,
    /// Directed edges between nodes.
    #[serde(default)]
    pub connections: Vec<Connection>,
}

/// Descriptive metadata; none of it affects execution.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metadata {
    /// The pipeline's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the manifest was written (free text, usually ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// One node of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSpec {
    /// Unique id, made of letters, digits, `_` and `-`.
    pub id: String,
    /// Registered node type (or alias).
    pub node_type: String,
    /// Constructor parameters.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Which implementation to prefer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_hint: Option<RuntimeHint>,
    /// Python node: an importable module defining `class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Python node: a `.py` file (relative to the manifest's folder) defining `class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Python node: inline source defining `class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Python node: the class to instantiate with `params` as keyword arguments.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "class")]
    pub class: Option<String>,
    /// Longest a single call of the node may take, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// A Python node whose object the embedding program hands over as it is (the Python package's
    /// own node objects); never read from manifest text, set with [`Manifest::mark_live`].
    #[serde(skip)]
    pub live: bool,
}

impl NodeSpec {
    /// Whether the manifest describes this node as a Python class (or it is a live object).
    pub fn is_python(&self) -> bool {
        self.live
            || self.class.is_some()
            || self.module.is_some()
            || self.file.is_some()
            || self.source.is_some()
    }
}

/// Why a manifest without nodes is refused (after its `nodes: ` path); the fallback reads it
/// from the contract.
pub const NO_NODES: &str = "a pipeline needs at least one node, found none";

/// Why `runtime_hint: rust` is refused on a Python node (the issue's text, after its
/// `nodes[i].runtime_hint: ` path); the pure-Python fallback reads it from the contract.
pub const RUST_HINT_ON_PYTHON_NODE: &str =
    "\"rust\" runs native nodes; a Python node runs on \"rustpython\" or \"cpython\" (or \"auto\")";

impl RuntimeHint {
    /// Every hint, in the order the docs list them.
    pub const ALL: [RuntimeHint; 5] = [
        RuntimeHint::Auto,
        RuntimeHint::Rust,
        RuntimeHint::Python,
        RuntimeHint::RustPython,
        RuntimeHint::CPython,
    ];
}

/// Which implementation of a node to prefer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeHint {
    /// Let the runtime choose (native when there is one).
    #[default]
    Auto,
    /// The native Rust implementation.
    Rust,
    /// The Python implementation.
    Python,
    /// A Python node on the embedded RustPython interpreter.
    #[serde(rename = "rustpython")]
    RustPython,
    /// A Python node on CPython.
    #[serde(rename = "cpython")]
    CPython,
}

impl RuntimeHint {
    /// Every hint, as written in manifests.
    pub const NAMES: [&'static str; 5] = ["auto", "rust", "python", "rustpython", "cpython"];

    /// Parses a manifest value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(RuntimeHint::Auto),
            "rust" => Some(RuntimeHint::Rust),
            "python" => Some(RuntimeHint::Python),
            "rustpython" => Some(RuntimeHint::RustPython),
            "cpython" => Some(RuntimeHint::CPython),
            _ => None,
        }
    }

    /// The name as written in manifests.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A directed edge: every output of `from` becomes an input of `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Upstream node id.
    pub from: String,
    /// Downstream node id.
    pub to: String,
}

/// How deep a manifest document may nest: serde_json's recursion limit, which JSON manifests meet
/// first; YAML manifests are held to the same.
const MAX_DOCUMENT_DEPTH: usize = 128;

/// Where YAML flow collections (`[`, `{`) first nest deeper than `limit`, if they do: line and
/// column, from 1. The YAML parser slows down quadratically with flow depth (100,000 levels take
/// over 20 s before it fails), so this cheap scan runs first. Quoted scalars, comments and block
/// scalars (`|`, `>`: Python sources) are skipped; a bracket inside a plain scalar counts, which
/// could only make a document with over `limit` unbalanced brackets in plain text fail here
/// rather than in the parser.
fn flow_too_deep(text: &str, limit: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    // Inside a block scalar: the indentation of the line that opened it.
    let mut block: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block = None;
        }
        let mut prev = ' ';
        let mut code_end = line.len();
        for (column, c) in line.char_indices() {
            match quote {
                Some('"') if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if prev.is_whitespace() => {
                        code_end = column;
                        break;
                    }
                    '"' | '\'' if prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':') => {
                        quote = Some(c);
                    }
                    '[' | '{' => {
                        depth += 1;
                        if depth > limit {
                            return Some((index + 1, line[..column].chars().count() + 1));
                        }
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
        // `key: |`, `- >-` and the like open a block scalar on the lines below.
        let code = line[..code_end].trim_end();
        let indicator = code.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
        if quote.is_none()
            && depth == 0
            && (indicator.ends_with(" |")
                || indicator.ends_with(" >")
                || indicator == "|"
                || indicator == ">")
        {
            block = Some(indent);
        }
    }
    None
}

/// Manifest text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl Manifest {
    /// Parses manifest text, choosing JSON when it starts with `{` and YAML otherwise.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_as(text, detect_format(text), "(inline)")
    }

    /// Parses manifest text in the given format; `origin` names it in error messages.
    pub fn parse_as(text: &str, format: Format, origin: &str) -> Result<Self> {
        let doc = match format {
            Format::Json => serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| ManifestIssue::new("", format!("invalid JSON: {e}"))),
            Format::Yaml => match flow_too_deep(text, MAX_DOCUMENT_DEPTH) {
                Some((line, column)) => Err(ManifestIssue::new(
                    "",
                    format!(
                        "invalid YAML: recursion limit exceeded at line {line} column {column} \
                         (more than {MAX_DOCUMENT_DEPTH} nested levels)"
                    ),
                )),
                None => serde_norway::from_str::<serde_json::Value>(text)
                    .map_err(|e| ManifestIssue::new("", format!("invalid YAML: {e}"))),
            },
        };
        let doc = doc.map_err(|issue| Error::InvalidManifest {
            origin: origin.to_string(),
            issues: vec![issue],
        })?;
        Self::from_json_value(doc, origin)
    }

    /// Checks the structure of an already-parsed document.
    pub fn from_json_value(doc: serde_json::Value, origin: &str) -> Result<Self> {
        structure::parse(doc).map_err(|issues| Error::InvalidManifest {
            origin: origin.to_string(),
            issues,
        })
    }

    /// Reads and parses a manifest file (`.yaml`/`.yml` as YAML, `.json` as JSON, anything else
    /// by its first character).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            _ => detect_format(&text),
        };
        Self::parse_as(&text, format, &format!("`{}`", path.display()))
    }

    /// Marks the nodes with these ids as live objects: Python nodes whose objects the embedding
    /// program hands to a host (see `remotemedia_cpython::LiveObjects`) instead of a place to load
    /// a class from. Returns the ids that name no node.
    pub fn mark_live<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut unknown = Vec::new();
        for id in ids {
            match self.nodes.iter_mut().find(|n| n.id == id) {
                Some(node) => node.live = true,
                None => unknown.push(id),
            }
        }
        unknown
    }

    /// The manifest as compact JSON text.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn detect_format(text: &str) -> Format {
    if text.trim_start().starts_with('{') {
        Format::Json
    } else {
        Format::Yaml
    }
}

impl std::str::FromStr for Manifest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}
