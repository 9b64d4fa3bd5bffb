//! One stage = one tokio task running a fused chain of synchronous nodes, or one async node.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt as _;
use tokio::sync::mpsc;

use super::session::{Item, Shared, SinkItem};
use crate::error::{Error, NodeError};
use crate::node::{NodeInstance, Outputs};
use crate::value::Value;

/// A node inside a running stage.
pub(crate) struct StageNode {
    pub index: usize,
    pub id: Arc<str>,
    pub node_type: Arc<str>,
    pub instance: NodeInstance,
    pub buf: Outputs,
}

/// What a stage sends its outputs to.
pub(crate) struct StageOutputs {
    /// Input channels of downstream stages.
    pub downstream: Vec<mpsc::Sender<Item>>,
    /// The session's output channel, with this stage's sink index, if its last node is a sink.
    pub sink: Option<(usize, mpsc::Sender<SinkItem>)>,
}

/// What a node is asked to do.
enum Call {
    One(Value),
    Batch(Vec<Value>),
    Flush,
    /// The next step of unfinished work (a streaming node: [`crate::Node::has_more`]).
    Resume,
}

/// Most inputs a stage takes from its channel per wake-up.
const BATCH: usize = 32;

pub(crate) struct Stage {
    pub chain: Chain,
    pub input: mpsc::Receiver<Item>,
    pub outputs: StageOutputs,
    pub shared: Arc<Shared>,
    /// The epoch of this stage's last interruption: what leaves it carries at least this one.
    pub stamp: u64,
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}

impl StageNode {
    fn wrap(&self, cause: NodeError) -> Error {
        Error::Node {
            node_id: self.id.to_string(),
            node_type: self.node_type.to_string(),
            cause,
        }
    }

    /// Calls `process` (or `flush` when `input` is `None`), catching panics and recording metrics.
    async fn call(&mut self, input: Option<Value>, shared: &Shared) -> Result<(), Error> {
        self.call_with(input.map_or(Call::Flush, Call::One), shared).await
    }

    async fn call_with(&mut self, call: Call, shared: &Shared) -> Result<(), Error> {
        let start = shared.metrics_enabled().then(Instant::now);
        let consumed = match &call {
            Call::One(_) => 1,
            Call::Batch(items) => items.len() as u64,
            Call::Flush | Call::Resume => 0,
        };
        let buf = &mut self.buf;
        let result = match &mut self.instance {
            // A synchronous node runs every step of a streaming node's work at once.
            NodeInstance::Sync(node) => std::panic::catch_unwind(AssertUnwindSafe(|| {
                match call {
                    Call::One(v) => node.process(v, buf),
                    Call::Batch(items) => items.into_iter().try_for_each(|v| node.process(v, buf)),
                    Call::Flush => node.flush(buf),
                    Call::Resume => Ok(()),
                }?;
                while node.has_more() {
                    node.resume(buf)?;
                }
                Ok(())
            })),
            NodeInstance::Async(node) => {
                let fut = match call {
                    Call::One(v) => node.process(v, buf),
                    Call::Batch(items) => node.process_batch(items, buf),
                    Call::Flush => node.flush(buf),
                    Call::Resume => node.resume(buf),
                };
                AssertUnwindSafe(fut).catch_unwind().await
            }
        };
        if let Some(start) = start {
            shared.record(self.index, consumed, self.buf.len(), start.elapsed());
        }
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(cause)) => Err(self.wrap(cause)),
            Err(panic) => Err(self.wrap(NodeError::Panicked(panic_message(panic)))),
        }
    }

    /// Processes inputs queued together in one call, appending the outputs to `produced`.
    async fn push_batch(
        &mut self,
        items: Vec<Value>,
        produced: &mut Vec<Value>,
        shared: &Shared,
    ) -> Result<(), Error> {
        let call = match <[Value; 1]>::try_from(items) {
            Ok([one]) => Call::One(one),
            Err(items) => Call::Batch(items),
        };
        self.call_with(call, shared).await?;
        produced.extend(self.buf.drain());
        Ok(())
    }

    /// One step of the node's unfinished work, its outputs appended to `produced`.
    async fn resume_step(&mut self, produced: &mut Vec<Value>, shared: &Shared) -> Result<(), Error> {
        self.call_with(Call::Resume, shared).await?;
        produced.extend(self.buf.drain());
        Ok(())
    }

    /// Every step of the node's unfinished work, at once (a batch run delivers nothing early).
    async fn finish_pending(&mut self, produced: &mut Vec<Value>, shared: &Shared) -> Result<(), Error> {
        while self.instance.has_more() {
            self.resume_step(produced, shared).await?;
        }
        Ok(())
    }

    fn call_sync(&mut self, input: Option<Value>, shared: &Shared) -> Result<(), Error> {
        // Synchronous nodes never await, so the future is ready on first poll.
        match self.call(input, shared).now_or_never() {
            Some(result) => result,
            None => Err(self.wrap(NodeError::failed("a synchronous node did not complete"))),
        }
    }
}

/// Pushes `value` through a fused chain of synchronous nodes, depth first (so order is kept along
/// the path), appending what leaves the chain to `out`.
pub(crate) fn push_sync(
    nodes: &mut [StageNode],
    value: Value,
    out: &mut Vec<Value>,
    shared: &Shared,
) -> Result<(), Error> {
    let Some((first, rest)) = nodes.split_first_mut() else {
        out.push(value);
        return Ok(());
    };
    first.call_sync(Some(value), shared)?;
    drain_into(first, rest, out, shared)
}

fn drain_into(
    node: &mut StageNode,
    rest: &mut [StageNode],
    out: &mut Vec<Value>,
    shared: &Shared,
) -> Result<(), Error> {
    if rest.is_empty() {
        out.extend(node.buf.drain());
        return Ok(());
    }
    let mut pending = std::mem::take(&mut node.buf);
    let result = pending.drain().try_for_each(|v| push_sync(rest, v, out, shared));
    node.buf = pending;
    result
}

/// The nodes of one stage, called in order.
pub(crate) struct Chain {
    pub nodes: Vec<StageNode>,
}

impl Chain {
    /// Pushes one input through the chain, appending what leaves it to `produced`.
    pub async fn push(
        &mut self,
        value: Value,
        produced: &mut Vec<Value>,
        shared: &Shared,
    ) -> Result<(), Error> {
        match self.batching_node() {
            Some(node) => node.push_batch(vec![value], produced, shared).await,
            None => push_sync(&mut self.nodes, value, produced, shared),
        }
    }

    /// The chain's only node, when it is asynchronous: it takes inputs queued together in one
    /// call (see [`crate::AsyncNode::process_batch`]).
    fn batching_node(&mut self) -> Option<&mut StageNode> {
        match self.nodes.as_mut_slice() {
            [node] if !node.instance.is_sync() => Some(node),
            _ => None,
        }
    }

    /// Flushes node `k`, passing what it emits through the rest of the chain.
    pub async fn flush(&mut self, k: usize, produced: &mut Vec<Value>, shared: &Shared) -> Result<(), Error> {
        let (head, rest) = self.nodes.split_at_mut(k + 1);
        let node = &mut head[k];
        node.call(None, shared).await?;
        drain_into(node, rest, produced, shared)
    }

    /// Runs a whole batch through the chain in the calling task: the single-stage fast path of
    /// `Pipeline::run` (no task, no channel; same order and flush semantics as a stage task).
    pub async fn run_batch(&mut self, inputs: Vec<Value>, shared: &Shared) -> Result<Vec<Value>, Error> {
        let mut produced = Vec::with_capacity(inputs.len());
        if let Some(node) = self.batching_node() {
            let mut inputs = inputs.into_iter().peekable();
            while inputs.peek().is_some() {
                let items: Vec<Value> = inputs.by_ref().take(BATCH).collect();
                node.push_batch(items, &mut produced, shared).await?;
                node.finish_pending(&mut produced, shared).await?;
            }
        } else {
            for value in inputs {
                self.push(value, &mut produced, shared).await?;
            }
        }
        for k in 0..self.nodes.len() {
            self.flush(k, &mut produced, shared).await?;
            if let Some(node) = self.batching_node() {
                node.finish_pending(&mut produced, shared).await?;
            }
        }
        Ok(produced)
    }
}

impl Stage {
    pub async fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        if let Err(err) = self.run_inner().await {
            shared.fail(err);
        }
    }

    async fn run_inner(&mut self) -> Result<(), Error> {
        let shared = Arc::clone(&self.shared);
        let head = self.chain.nodes.first().map_or(0, |n| n.index);
        let mut produced = Vec::new();
        // Take everything already queued per wake-up: fewer task switches under load, and no
        // extra latency when inputs arrive one at a time.
        let mut batch = Vec::with_capacity(BATCH);
        while self.input.recv_many(&mut batch, BATCH).await > 0 {
            // Inputs sent before a `clear` (or an interruption upstream) are skipped.
            let floor = shared.floor(head);
            batch.retain(|(e, _)| *e >= floor);
            if let Some(node) = self.chain.batching_node() {
                let Some(epoch) = batch.iter().map(|(e, _)| *e).max() else {
                    continue;
                };
                // One call for everything queued: an async node hands it off once.
                let items = batch.drain(..).map(|(_, v)| v).collect();
                node.push_batch(items, &mut produced, &shared).await?;
                self.raise_interrupts().await;
                if !self.deliver(&mut produced, epoch).await
                    || !self.step_pending(&mut produced, epoch).await?
                {
                    return Ok(());
                }
                continue;
            }
            for (e, value) in batch.drain(..) {
                if e < shared.floor(head) {
                    continue;
                }
                self.chain.push(value, &mut produced, &shared).await?;
                self.raise_interrupts().await;
                if !self.deliver(&mut produced, e).await {
                    return Ok(());
                }
            }
        }
        // End of stream: flush each node in order, passing its outputs through the rest of the chain.
        if shared.is_cancelled() {
            return Ok(());
        }
        for k in 0..self.chain.nodes.len() {
            self.chain.flush(k, &mut produced, &shared).await?;
            self.raise_interrupts().await;
            let epoch = shared.epoch();
            if !self.deliver(&mut produced, epoch).await || !self.step_pending(&mut produced, epoch).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Steps an async node through the work it still holds, delivering each step's outputs as
    /// they are made (a streaming node's first outputs leave before its last exist). A `clear`
    /// or an interruption upstream since `epoch` drops the rest. Returns false when the run is
    /// over.
    async fn step_pending(&mut self, produced: &mut Vec<Value>, epoch: u64) -> Result<bool, Error> {
        let shared = Arc::clone(&self.shared);
        while let Some(node) = self.chain.batching_node()
            && node.instance.has_more()
        {
            if shared.floor(node.index) > epoch {
                node.instance.discard_pending();
                break;
            }
            node.resume_step(produced, &shared).await?;
            self.raise_interrupts().await;
            if !self.deliver(produced, epoch).await {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Interrupts the session for each node of the chain that asked to in its last call
    /// ([`crate::Outputs::interrupt`]), before its outputs are delivered.
    async fn raise_interrupts(&mut self) {
        for node in &mut self.chain.nodes {
            if node.buf.take_interrupt() {
                self.stamp = self.stamp.max(self.shared.interrupt(node.index).await);
            }
        }
    }

    /// Sends every produced value downstream (sharing, never copying, on fan-out). Returns false
    /// when the run is over (a consumer is gone or another node failed).
    async fn deliver(&mut self, produced: &mut Vec<Value>, epoch: u64) -> bool {
        if produced.is_empty() {
            return true;
        }
        if self.shared.is_cancelled() {
            return false;
        }
        // After a node of this chain interrupted the session, what leaves it is of the new epoch.
        let epoch = epoch.max(self.stamp);
        let StageOutputs { downstream, sink } = &self.outputs;
        for value in produced.drain(..) {
            for tx in downstream {
                if tx.send((epoch, value.clone())).await.is_err() {
                    return false;
                }
            }
            if let Some((index, tx)) = sink
                && tx.send((*index, epoch, value)).await.is_err()
            {
                return false;
            }
        }
        true
    }
}
