//! The streaming DAG executor.
//!
//! A [`Pipeline`] is a validated manifest bound to node factories. Each run creates fresh node
//! instances (so state never leaks between runs), then runs the graph on tokio:
//!
//! - **Stages.** Nodes are grouped into stages, one task each. A linear run of synchronous nodes
//!   (each link being the only edge out of one node and into the next) is *fused* into one stage
//!   that calls the nodes directly, one after the other, with no channel between them; every other
//!   node gets a stage of its own. Fusion is on by default because it is faster (see
//!   `benches/RESULTS.md`); [`RunOptions::fuse`] turns it off.
//! - **Backpressure.** Stages are connected by bounded channels ([`RunOptions::channel_capacity`]).
//!   A slow node fills its input channel, which makes its producers wait, up to the session input:
//!   memory stays bounded whatever the input size. A stage takes whatever is queued (up to 32 items)
//!   per wake-up, so at most about twice the channel capacity is in flight per edge.
//! - **Fan-out** sends the same [`Value`] to every downstream node; values keep their data behind
//!   `Arc`s, so this never deep-copies.
//! - **Fan-in.** A node with several upstream nodes reads one channel they all write to: inputs
//!   are merged in arrival order. Order is preserved along each path, but how two paths interleave
//!   depends on timing.
//! - **Inputs** go to every root node (a node with no upstream).
//! - **Outputs.** Every value a sink (a node with no downstream) emits is a pipeline output.
//!   [`Session::recv`] yields them as they are produced. [`Pipeline::run`] returns them grouped by
//!   sink, sinks in manifest order, each sink's outputs in the order it emitted them.
//! - **End of stream.** Closing the input lets every node flush, upstream first.
//! - **Errors.** The first node error (or panic) stops every task and is returned as
//!   [`Error::Node`] naming the node; a failed run never returns partial outputs.

pub mod compute_pool;
mod inline;
mod metrics;
mod session;
mod stage;

use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::manifest::plan::ExecutionPlan;
use crate::manifest::validate::plan;
use crate::node::Outputs;
use crate::registry::Registry;
use crate::value::Value;

pub use inline::InlineSession;
pub use metrics::NodeMetrics;
pub use session::{Output, Session, SessionEvent, SessionInput, SessionOutput};

use session::Shared;
use stage::{Chain, Stage, StageNode, StageOutputs};

/// Called after every node call with the node's index (manifest order, as
/// [`Pipeline::node_ids`]) and how long the call took, on the node's task: keep it cheap (a
/// histogram observation). A server uses it for live per-node timing across sessions.
#[derive(Clone)]
pub struct CallObserver(pub Arc<dyn Fn(usize, std::time::Duration) + Send + Sync>);

impl std::fmt::Debug for CallObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallObserver(..)")
    }
}

impl PartialEq for CallObserver {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CallObserver {}

/// How a pipeline runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Capacity of each channel between stages (default 64). Smaller bounds memory more tightly;
    /// larger absorbs more jitter.
    pub channel_capacity: usize,
    /// Fuse linear chains of synchronous nodes into one task (default `true`).
    pub fuse: bool,
    /// Collect per-node metrics (default `false`; costs two clock reads per node call).
    pub metrics: bool,
    /// Told of every node call and its duration (default none; costs two clock reads per call).
    pub observer: Option<CallObserver>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            channel_capacity: 64,
            fuse: true,
            metrics: false,
            observer: None,
        }
    }
}

/// The result of [`Pipeline::run_with_report`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Outputs, grouped by sink in manifest order.
    pub outputs: Vec<Value>,
    /// Per-node metrics, if [`RunOptions::metrics`] was set.
    pub metrics: Option<Vec<NodeMetrics>>,
}

/// A validated pipeline, ready to run any number of times.
///
/// ```
/// # use remotemedia_core::*;
/// # struct AddOne;
/// # impl Node for AddOne {
/// #     fn process(&mut self, v: Value, o: &mut Outputs) -> Result<(), NodeError> {
/// #         o.emit(v.as_int().unwrap_or_default() + 1); Ok(())
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> remotemedia_core::Result<()> {
/// let mut registry = Registry::new();
/// registry.register(NodeDescriptor::new("AddOne"), |_: &Params| Ok(NodeInstance::sync(AddOne)))?;
/// let manifest = Manifest::parse(r#"
/// version: v1
/// nodes:
///   - {id: a, node_type: AddOne}
///   - {id: b, node_type: AddOne}
/// "#)?;
/// let pipeline = Pipeline::new(&manifest, &registry)?;
/// assert_eq!(pipeline.run(vec![Value::Int(1), Value::Int(5)]).await?, vec![Value::Int(3), Value::Int(7)]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pipeline {
    name: String,
    plan: Arc<ExecutionPlan>,
    options: RunOptions,
}

impl Pipeline {
    /// Validates `manifest` against `registry`. Every problem is reported at once, in
    /// [`Error::InvalidManifest`].
    pub fn new(manifest: &Manifest, registry: &Registry) -> Result<Self> {
        Self::with_origin(manifest, registry, "(inline)", None)
    }

    /// Like [`Pipeline::new`]; relative Python `file` paths resolve against `base_dir`.
    pub fn with_base_dir(manifest: &Manifest, registry: &Registry, base_dir: &Path) -> Result<Self> {
        Self::with_origin(manifest, registry, "(inline)", Some(base_dir))
    }

    /// Like [`Pipeline::new`]; `origin` names the manifest in error messages, and relative
    /// Python `file` paths resolve against `base_dir`.
    pub fn with_origin(
        manifest: &Manifest,
        registry: &Registry,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Self> {
        let plan = plan(manifest, registry, origin, base_dir)?;
        Ok(Self {
            name: manifest
                .metadata
                .name
                .clone()
                .unwrap_or_else(|| "pipeline".to_string()),
            plan: Arc::new(plan),
            options: RunOptions::default(),
        })
    }

    /// Reads, parses and validates a manifest file.
    pub fn from_path(path: impl AsRef<Path>, registry: &Registry) -> Result<Self> {
        let path = path.as_ref();
        Self::from_manifest_file(&Manifest::from_path(path)?, path, registry)
    }

    /// Validates `manifest`, already read from the file `path` (which names it in errors, and
    /// against whose folder relative Python `file` paths resolve).
    pub fn from_manifest_file(manifest: &Manifest, path: &Path, registry: &Registry) -> Result<Self> {
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::with_origin(
            manifest,
            registry,
            &format!("`{}`", path.display()),
            Some(base_dir),
        )
    }

    /// Sets the run options.
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    /// The run options.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The pipeline's name (from the manifest's metadata, or `pipeline`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Node ids in manifest order.
    pub fn node_ids(&self) -> impl Iterator<Item = &str> {
        self.plan.nodes.iter().map(|n| &*n.id)
    }

    /// What runs each node, in manifest order: `native`, `rustpython` or `cpython`.
    pub fn node_runtimes(&self) -> Vec<(&str, crate::python::NodeRuntime)> {
        self.plan.nodes.iter().map(|n| (&*n.id, n.runtime)).collect()
    }

    /// Ids of the sink nodes (whose outputs are the pipeline's outputs), in manifest order.
    pub fn sink_ids(&self) -> Vec<&str> {
        self.plan
            .graph
            .sinks()
            .into_iter()
            .map(|i| &*self.plan.nodes[i].id)
            .collect()
    }

    /// How nodes are grouped into tasks under the current options (ids per stage, upstream first).
    pub fn stages(&self) -> Result<Vec<Vec<String>>> {
        let fusable = self
            .plan
            .nodes
            .iter()
            .map(|n| match n.registered.factory.sync_instances() {
                Some(sync) => Ok(sync),
                None => create_instance(n).map(|instance| instance.is_sync()),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self
            .plan
            .graph
            .stages(&fusable, self.options.fuse)
            .into_iter()
            .map(|s| s.into_iter().map(|i| self.plan.nodes[i].id.to_string()).collect())
            .collect())
    }

    /// Runs the pipeline over `inputs` and returns every output (grouped by sink, in manifest
    /// order). Must be called inside a tokio runtime.
    pub async fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>> {
        Ok(self.run_with_report(inputs).await?.outputs)
    }

    /// Like [`Pipeline::run`], also returning metrics when enabled.
    pub async fn run_with_report(&self, inputs: Vec<Value>) -> Result<RunReport> {
        let nodes = self.create_nodes()?;
        let fusable: Vec<bool> = nodes.iter().map(|n| n.instance.is_sync()).collect();
        let stages = self.plan.graph.stages(&fusable, self.options.fuse);
        if stages.len() == 1 {
            // One stage (a fused chain, or a single node): run it in this task. Same outputs, in
            // the same order, without a task hop or a channel.
            let shared = self.shared();
            let mut chain = Chain { nodes };
            let outputs = chain.run_batch(inputs, &shared).await?;
            return Ok(RunReport {
                outputs,
                metrics: shared.metrics(),
            });
        }
        let sinks = self.plan.graph.sinks().len();
        let (mut input, mut output) = self.launch(nodes, &stages)?.into_split();
        let feed = async move {
            for value in inputs {
                if input.send(value).await.is_err() {
                    break;
                }
            }
            input.close();
        };
        let collect = async {
            let mut per_sink: Vec<Vec<Value>> = vec![Vec::new(); sinks];
            while let Some((sink, value)) = output.recv_indexed().await? {
                per_sink[sink].push(value);
            }
            Ok::<_, Error>(per_sink)
        };
        let ((), collected) = tokio::join!(feed, collect);
        Ok(RunReport {
            outputs: collected?.concat(),
            metrics: output.metrics(),
        })
    }

    fn shared(&self) -> Arc<Shared> {
        let names = self
            .plan
            .nodes
            .iter()
            .map(|n| (Arc::clone(&n.id), Arc::clone(&n.node_type)))
            .collect();
        Arc::new(Shared::new(
            names,
            reachable(&self.plan.graph.downstream),
            self.options.metrics,
            self.options.observer.clone(),
        ))
    }

    fn create_nodes(&self) -> Result<Vec<StageNode>> {
        self.plan
            .nodes
            .iter()
            .enumerate()
            .map(|(index, n)| {
                let instance = create_instance(n)?;
                Ok(StageNode {
                    index,
                    id: Arc::clone(&n.id),
                    node_type: Arc::clone(&n.node_type),
                    instance,
                    buf: Outputs::default(),
                })
            })
            .collect()
    }

    /// Starts a run the caller drives input by input on its own thread ([`InlineSession`]), when
    /// the whole pipeline is one fused chain of synchronous nodes; `None` otherwise (use
    /// [`Pipeline::start`]). Same outputs, order and flush semantics as a [`Session`], without a
    /// task or a channel.
    pub fn start_inline(&self) -> Result<Option<InlineSession>> {
        // Factories of costly instances (interpreters, live objects) say whether they are
        // synchronous, so none is made (and cleaned up) for nothing; cheap native nodes are made
        // and looked at.
        let known_async = self
            .plan
            .nodes
            .iter()
            .any(|n| n.registered.factory.sync_instances() == Some(false));
        let fusable = vec![true; self.plan.nodes.len()];
        if known_async || self.plan.graph.stages(&fusable, self.options.fuse).len() != 1 {
            return Ok(None);
        }
        let nodes = self.create_nodes()?;
        if !nodes.iter().all(|n| n.instance.is_sync()) {
            return Ok(None);
        }
        Ok(Some(InlineSession::new(nodes, self.shared())))
    }

    /// Creates fresh node instances and starts the run; feed it through the returned [`Session`].
    /// Fails before any data flows if a node cannot be created. Must be called inside a tokio
    /// runtime.
    pub fn start(&self) -> Result<Session> {
        let nodes = self.create_nodes()?;
        let fusable: Vec<bool> = nodes.iter().map(|n| n.instance.is_sync()).collect();
        let stages = self.plan.graph.stages(&fusable, self.options.fuse);
        self.launch(nodes, &stages)
    }

    /// Spawns one task per stage (`stages` as computed by `Graph::stages` for these nodes).
    fn launch(&self, nodes: Vec<StageNode>, stages: &[Vec<usize>]) -> Result<Session> {
        let graph = &self.plan.graph;
        let mut nodes: Vec<Option<StageNode>> = nodes.into_iter().map(Some).collect();
        let capacity = self.options.channel_capacity.max(1);

        // One input channel per stage; a node that starts a stage is reached through it.
        let mut stage_of_head = vec![usize::MAX; graph.len()];
        let mut senders = Vec::with_capacity(stages.len());
        let mut receivers = Vec::with_capacity(stages.len());
        for (s, stage) in stages.iter().enumerate() {
            stage_of_head[stage[0]] = s;
            let (tx, rx) = mpsc::channel(capacity);
            senders.push(tx);
            receivers.push(Some(rx));
        }

        let sinks = graph.sinks();
        let sink_ids: Arc<[Arc<str>]> = sinks
            .iter()
            .map(|&i| Arc::clone(&self.plan.nodes[i].id))
            .collect();
        let (out_tx, out_rx) = mpsc::channel(capacity);
        let shared = self.shared();
        shared.set_outputs(out_tx.downgrade());

        let roots: Vec<mpsc::Sender<session::Item>> = graph
            .roots()
            .into_iter()
            .map(|r| senders[stage_of_head[r]].clone())
            .collect();

        for (s, chain) in stages.iter().enumerate() {
            let last = chain[chain.len() - 1];
            let outputs = StageOutputs {
                downstream: graph.downstream[last]
                    .iter()
                    .map(|&d| senders[stage_of_head[d]].clone())
                    .collect(),
                sink: sinks
                    .iter()
                    .position(|&k| k == last)
                    .map(|pos| (pos, out_tx.clone())),
            };
            let stage = Stage {
                chain: Chain {
                    nodes: chain.iter().filter_map(|&i| nodes[i].take()).collect(),
                },
                input: receivers[s]
                    .take()
                    .ok_or_else(|| Error::invalid_value("stage input taken twice"))?,
                outputs,
                shared: Arc::clone(&shared),
                stamp: 0,
            };
            let handle = tokio::spawn(stage.run());
            shared.add_task(handle.abort_handle());
        }
        Ok(Session::new(roots, out_rx, sink_ids, shared))
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("nodes", &self.node_ids().collect::<Vec<_>>())
            .field("options", &self.options)
            .finish()
    }
}

/// Per node, every node downstream of it (`downstream`: the direct edges of a DAG).
fn reachable(downstream: &[Vec<usize>]) -> Vec<Vec<usize>> {
    (0..downstream.len())
        .map(|start| {
            let mut seen = vec![false; downstream.len()];
            let mut todo = downstream[start].clone();
            while let Some(n) = todo.pop() {
                if !std::mem::replace(&mut seen[n], true) {
                    todo.extend_from_slice(&downstream[n]);
                }
            }
            (0..downstream.len()).filter(|&n| seen[n]).collect()
        })
        .collect()
}

/// A fresh instance of a planned node; a failure names the node.
fn create_instance(n: &crate::manifest::plan::PlannedNode) -> Result<crate::NodeInstance> {
    n.registered
        .factory
        .create(&n.params)
        .map_err(|cause| Error::Node {
            node_id: n.id.to_string(),
            node_type: n.node_type.to_string(),
            cause,
        })
}
