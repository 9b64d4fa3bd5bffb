//! A run driven by its caller, input by input, on the calling thread.
//!
//! When a whole pipeline is one fused chain of synchronous nodes, a streaming run needs no task and
//! no channel: each input goes through the nodes depth first, exactly as the stage task would take
//! it, and what leaves the chain is handed back at once. A caller that already has its own event
//! loop (the Python extension's `Pipeline.process()`) then pays one call per input instead of a
//! thread hop each way.

use std::sync::Arc;

use futures::FutureExt as _;

use super::session::Shared;
use super::stage::{Chain, StageNode, push_sync};
use crate::error::{Error, NodeError, Result};
use crate::value::Value;

/// A run of a single fused chain, fed and drained by the caller (see the module docs). Created by
/// [`super::Pipeline::start_inline`]. Dropping it ends the run (the nodes' `cleanup`).
pub struct InlineSession {
    chain: Chain,
    shared: Arc<Shared>,
    /// Set once `finish` ran or a node failed: the session takes no more input.
    over: bool,
}

impl InlineSession {
    pub(super) fn new(nodes: Vec<StageNode>, shared: Arc<Shared>) -> Self {
        Self {
            chain: Chain { nodes },
            shared,
            over: false,
        }
    }

    /// Pushes one input through every node; appends what leaves the pipeline to `out`, in order.
    /// After a node error (returned here) the session takes no more input.
    pub fn push_into(&mut self, value: Value, out: &mut Vec<Value>) -> Result<()> {
        self.usable()?;
        let result = push_sync(&mut self.chain.nodes, value, out, &self.shared);
        self.over = result.is_err();
        result
    }

    /// [`InlineSession::push_into`] returning the outputs.
    pub fn push(&mut self, value: Value) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        self.push_into(value, &mut out)?;
        Ok(out)
    }

    /// Ends the input: flushes each node in order (its outputs pass through the rest of the chain)
    /// and returns what leaves the pipeline.
    pub fn finish(&mut self) -> Result<Vec<Value>> {
        self.usable()?;
        self.over = true;
        let mut out = Vec::new();
        for k in 0..self.chain.nodes.len() {
            // Synchronous nodes never await, so each flush is ready on its first poll.
            match self.chain.flush(k, &mut out, &self.shared).now_or_never() {
                Some(result) => result?,
                None => {
                    return Err(Error::Node {
                        node_id: self.chain.nodes[k].id.to_string(),
                        node_type: self.chain.nodes[k].node_type.to_string(),
                        cause: NodeError::failed("a synchronous node did not complete its flush"),
                    });
                }
            }
        }
        Ok(out)
    }

    fn usable(&self) -> Result<()> {
        if self.over {
            Err(Error::SessionClosed)
        } else {
            Ok(())
        }
    }
}
