//! What validation produces: the execution plan, its nodes checked and their runtimes chosen.
//! `validate` builds it and `python_nodes` plans the Python nodes in it; the executor runs it.

use std::sync::Arc;

use crate::graph::Graph;
use crate::params::Params;
use crate::python::NodeRuntime;
use crate::registry::RegisteredNode;

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
