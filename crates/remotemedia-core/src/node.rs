//! The node interface: what a pipeline step implements.
//!
//! A node consumes one input at a time and emits zero or more outputs for it (zero filters the
//! input out, several expand it). It may keep state between inputs, and may emit more outputs at
//! the end of the stream from [`Node::flush`]. Most nodes are synchronous ([`Node`]) and cheap:
//! the executor can fuse a chain of them into one task. Nodes that wait on something (another
//! thread, a timer, I/O) implement [`AsyncNode`] instead and always get a task of their own, so
//! they never block a tokio worker thread.

use std::future::Future;
use std::pin::Pin;

use crate::error::NodeError;
use crate::value::Value;

/// The outputs a node emits for one input (or for its flush).
#[derive(Debug, Default)]
pub struct Outputs {
    items: Vec<Value>,
    interrupt: bool,
}

impl Outputs {
    /// Interrupts the session (barge-in from inside the pipeline: a voice detector when the user
    /// starts talking over a reply). Everything downstream of this node that it has not taken
    /// yet is dropped, and so is the unfinished work of downstream streaming nodes and every
    /// output not yet received; the session's reader is told (`SessionEvent::Interrupted`; the
    /// server sends `{"type":"interrupted"}`). What this node emits in the same call, and
    /// everything after, goes through. Nodes keep their state. See "Interruptions" in
    /// ARCHITECTURE.md.
    pub fn interrupt(&mut self) {
        self.interrupt = true;
    }

    /// Whether the node asked to interrupt, resetting the request.
    pub(crate) fn take_interrupt(&mut self) -> bool {
        std::mem::take(&mut self.interrupt)
    }

    /// Emits one output.
    pub fn emit(&mut self, value: impl Into<Value>) {
        self.items.push(value.into());
    }

    /// How many outputs are waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was emitted.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, Value> {
        self.items.drain(..)
    }
}

/// A synchronous node. Implement this for anything that computes without waiting.
///
/// ```
/// use remotemedia_core::{Node, NodeError, Outputs, Value};
///
/// /// Emits every input twice.
/// struct Twice;
///
/// impl Node for Twice {
///     fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
///         out.emit(input.clone());
///         out.emit(input);
///         Ok(())
///     }
/// }
/// ```
pub trait Node: Send + 'static {
    /// Handles one input, emitting zero or more outputs.
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError>;

    /// Called once when the input stream ends, to emit whatever the node still holds.
    fn flush(&mut self, _out: &mut Outputs) -> Result<(), NodeError> {
        Ok(())
    }

    /// Whether the node holds work it has not finished for the inputs it took: a streaming node
    /// (text to speech) does one step per call, so that its first outputs leave before its last
    /// are made. The executor then delivers what was emitted and calls [`Node::resume`] for the
    /// next step, until this is false, before the next input (see "Streaming nodes" in
    /// ARCHITECTURE.md). A node in a fused chain runs every step at once.
    fn has_more(&self) -> bool {
        false
    }

    /// Does the next step of the unfinished work, emitting its outputs.
    fn resume(&mut self, _out: &mut Outputs) -> Result<(), NodeError> {
        Ok(())
    }

    /// Drops the unfinished work: the session was cleared (or interrupted), so whatever it would
    /// emit belongs to what came before. The node keeps the rest of its state.
    fn discard_pending(&mut self) {}
}

/// A boxed, sendable future, as returned by [`AsyncNode`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An asynchronous node: one that waits (on another thread, a timer, I/O) while it works.
pub trait AsyncNode: Send + 'static {
    /// Handles one input, emitting zero or more outputs.
    fn process<'a>(&'a mut self, input: Value, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>>;

    /// Handles inputs that were already queued, in order, emitting their outputs in order. The
    /// executor calls it whenever more than one input is waiting. The default calls
    /// [`AsyncNode::process`] for each; a node that pays a fixed cost per call (a hand-off to
    /// another thread or interpreter) overrides it to pay that cost once per batch.
    fn process_batch<'a>(
        &'a mut self,
        inputs: Vec<Value>,
        out: &'a mut Outputs,
    ) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            for input in inputs {
                self.process(input, out).await?;
            }
            Ok(())
        })
    }

    /// Called once when the input stream ends.
    fn flush<'a>(&'a mut self, _out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async { Ok(()) })
    }

    /// As [`Node::has_more`].
    fn has_more(&self) -> bool {
        false
    }

    /// As [`Node::resume`].
    fn resume<'a>(&'a mut self, _out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async { Ok(()) })
    }

    /// As [`Node::discard_pending`].
    fn discard_pending(&mut self) {}
}

/// A created node, ready to run.
pub enum NodeInstance {
    /// A synchronous node (may be fused with its neighbours).
    Sync(Box<dyn Node>),
    /// An asynchronous node (always runs in its own task).
    Async(Box<dyn AsyncNode>),
}

impl NodeInstance {
    /// Wraps a synchronous node.
    pub fn sync(node: impl Node) -> Self {
        NodeInstance::Sync(Box::new(node))
    }

    /// Wraps an asynchronous node.
    pub fn new_async(node: impl AsyncNode) -> Self {
        NodeInstance::Async(Box::new(node))
    }

    /// Wraps a synchronous node whose calls take long (model inference): each call runs on the
    /// engine's compute threads (as many as its workers, shared by every pipeline), so the async
    /// workers stay free for light work (other sessions, the server) and the process stays within
    /// its thread cap. The node gets a task of its own (it is not fused), and each call pays a
    /// hand-off to the pool (a few microseconds); queued inputs are handed over together. A panic
    /// in the node becomes its error, as for an inline node.
    pub fn blocking(node: impl Node) -> Self {
        NodeInstance::Async(Box::new(OnComputeThreads {
            node: Some(Box::new(node)),
        }))
    }

    /// Whether the executor may fuse this node with its neighbours.
    pub fn is_sync(&self) -> bool {
        matches!(self, NodeInstance::Sync(_))
    }

    /// Whether the node holds unfinished work ([`Node::has_more`]).
    pub fn has_more(&self) -> bool {
        match self {
            NodeInstance::Sync(node) => node.has_more(),
            NodeInstance::Async(node) => node.has_more(),
        }
    }

    /// Drops the node's unfinished work ([`Node::discard_pending`]).
    pub fn discard_pending(&mut self) {
        match self {
            NodeInstance::Sync(node) => node.discard_pending(),
            NodeInstance::Async(node) => node.discard_pending(),
        }
    }
}

impl std::fmt::Debug for NodeInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_sync() {
            "NodeInstance::Sync"
        } else {
            "NodeInstance::Async"
        })
    }
}

/// A synchronous node run on the engine's compute threads ([`NodeInstance::blocking`]).
struct OnComputeThreads {
    /// Lent to the pool during a call; `None` only after a call panicked.
    node: Option<Box<dyn Node>>,
}

type BlockingCall = Box<dyn FnOnce(&mut dyn Node, &mut Outputs) -> Result<(), NodeError> + Send>;

impl OnComputeThreads {
    async fn run(&mut self, out: &mut Outputs, call: BlockingCall) -> Result<(), NodeError> {
        let mut node = self
            .node
            .take()
            .ok_or_else(|| NodeError::failed("the node is unusable after an earlier panic"))?;
        let mut buf = std::mem::take(out);
        let (node, buf, result) = crate::executor::compute_pool::run(move || {
            let result = call(&mut *node, &mut buf);
            (node, buf, result)
        })
        .await;
        self.node = Some(node);
        *out = buf;
        result
    }
}

impl AsyncNode for OnComputeThreads {
    fn process<'a>(&'a mut self, input: Value, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(self.run(out, Box::new(move |node, buf| node.process(input, buf))))
    }

    fn process_batch<'a>(
        &'a mut self,
        inputs: Vec<Value>,
        out: &'a mut Outputs,
    ) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(self.run(
            out,
            Box::new(move |node, buf| inputs.into_iter().try_for_each(|v| node.process(v, buf))),
        ))
    }

    fn flush<'a>(&'a mut self, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(self.run(out, Box::new(|node, buf| node.flush(buf))))
    }

    fn has_more(&self) -> bool {
        self.node.as_ref().is_some_and(|node| node.has_more())
    }

    fn resume<'a>(&'a mut self, out: &'a mut Outputs) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(self.run(out, Box::new(|node, buf| node.resume(buf))))
    }

    fn discard_pending(&mut self) {
        if let Some(node) = self.node.as_mut() {
            node.discard_pending();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{Manifest, NodeDescriptor, Pipeline, Registry};

    /// Emits each input with the name of the thread that ran it; panics on `0`.
    struct Where;

    impl Node for Where {
        fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
            assert_ne!(input, Value::Int(0), "zero");
            let name = std::thread::current().name().unwrap_or("").to_string();
            out.emit(Value::list([input, Value::Text(name.into())]));
            Ok(())
        }

        fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
            out.emit(Value::Text("flushed".into()));
            Ok(())
        }
    }

    fn pipeline() -> Pipeline {
        let mut registry = Registry::new();
        registry
            .register(NodeDescriptor::new("Where"), |_: &crate::Params| {
                Ok(NodeInstance::blocking(Where))
            })
            .unwrap();
        let manifest: Manifest = r#"{"version": "v1", "nodes": [{"id": "w", "node_type": "Where"}]}"#
            .parse()
            .unwrap();
        Pipeline::new(&manifest, &registry).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blocking_nodes_run_on_the_compute_threads_in_order() {
        let out = pipeline().run((1..=50).map(Value::Int).collect()).await.unwrap();
        assert_eq!(out.len(), 51);
        for (i, v) in out[..50].iter().enumerate() {
            let Value::List(pair) = v else { panic!("{v:?}") };
            assert_eq!(pair[0], Value::Int(i as i64 + 1));
            assert_eq!(
                pair[1],
                Value::Text(crate::executor::compute_pool::COMPUTE_THREAD_NAME.into())
            );
        }
        assert_eq!(out[50], Value::Text("flushed".into()));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_in_a_blocking_node_is_its_error() {
        let err = pipeline()
            .run(vec![Value::Int(1), Value::Int(0)])
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("w") && text.contains("zero"), "{text}");
    }
}
