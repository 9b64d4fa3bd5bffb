//! The pipelines a server serves: planned once at start-up (validated, Python nodes loaded), each
//! under its manifest's `metadata.name`. Clients can only name them; they never send manifests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use remotemedia_core::{Error, Manifest, Pipeline, Registry, RunOptions};

use crate::metrics::ServerMetrics;

/// One served pipeline.
#[derive(Clone)]
pub struct ServedPipeline {
    /// The name it is served under (`metadata.name`).
    pub name: String,
    /// `metadata.description`, if any.
    pub description: Option<String>,
    /// `(id, node_type)` of each node, in manifest order.
    pub nodes: Vec<(String, String)>,
    /// The plan every session starts from.
    pub pipeline: Pipeline,
}

impl ServedPipeline {
    /// The JSON `GET /v1/pipelines` lists for it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "nodes": self.nodes.iter().map(|(id, ty)| serde_json::json!({"id": id, "node_type": ty})).collect::<Vec<_>>(),
        })
    }
}

/// Why the pipelines cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A manifest is unreadable or invalid, or a node cannot be loaded.
    #[error(transparent)]
    Pipeline(#[from] Error),
    /// A manifest without `metadata.name`.
    #[error("`{0}`: a served pipeline needs `metadata.name` (the name clients use)")]
    Unnamed(String),
    /// Two manifests with the same name.
    #[error("two manifests are named `{name}`: `{first}` and `{second}`")]
    Duplicate {
        /// The name.
        name: String,
        /// The first manifest.
        first: String,
        /// The second.
        second: String,
    },
    /// No manifest at all.
    #[error("no pipeline to serve: give at least one manifest")]
    Empty,
}

/// The served pipelines by name.
pub type Served = Arc<BTreeMap<String, ServedPipeline>>;

/// Loads and plans every manifest (in order), with the per-node timing of `metrics`.
pub fn load_all(
    paths: &[impl AsRef<Path>],
    registry: &Registry,
    metrics: &Arc<ServerMetrics>,
) -> Result<Served, LoadError> {
    if paths.is_empty() {
        return Err(LoadError::Empty);
    }
    let mut served = BTreeMap::new();
    let mut origins: BTreeMap<String, String> = BTreeMap::new();
    for path in paths {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let manifest = Manifest::from_path(path)?;
        let name = manifest
            .metadata
            .name
            .clone()
            .ok_or_else(|| LoadError::Unnamed(shown.clone()))?;
        if let Some(first) = origins.get(&name) {
            return Err(LoadError::Duplicate {
                name,
                first: first.clone(),
                second: shown,
            });
        }
        // One read and parse of the file: the metadata and the plan come from the same manifest.
        let pipeline = Pipeline::from_manifest_file(&manifest, path, registry)?;
        let node_ids: Vec<String> = pipeline.node_ids().map(str::to_string).collect();
        let pipeline = pipeline.with_options(RunOptions {
            observer: Some(metrics.observer(&name, node_ids)),
            ..RunOptions::default()
        });
        let nodes = manifest
            .nodes
            .iter()
            .map(|n| (n.id.clone(), n.node_type.clone()))
            .collect();
        origins.insert(name.clone(), shown);
        served.insert(
            name.clone(),
            ServedPipeline {
                name,
                description: manifest.metadata.description.clone(),
                nodes,
                pipeline,
            },
        );
    }
    Ok(Arc::new(served))
}
