//! A running pipeline: send inputs, receive outputs as soon as they are produced, close to flush.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::metrics::{MetricsCell, NodeMetrics};
use crate::error::{Error, Result};
use crate::value::Value;

/// A value in flight between stages, tagged with the epoch it was sent in (see
/// [`SessionInput::clear`]).
pub(crate) type Item = (u64, Value);

/// A pipeline output in flight: the sink's index, the epoch, the value.
pub(crate) type SinkItem = (usize, u64, Value);

/// The sink index of the notice that the session was interrupted (its epoch is the new one).
const INTERRUPTED: usize = usize::MAX;

/// State shared by a session and all its tasks.
pub(crate) struct Shared {
    cancelled: AtomicBool,
    /// Bumped by every `clear` and every interruption; inputs are sent in the current epoch.
    epoch: AtomicU64,
    /// The epoch of the last `clear`: items of an older one are dropped wherever they are.
    cleared: AtomicU64,
    /// Per node: items of an older epoch arriving at it are dropped (raised by an interruption
    /// upstream of it).
    floors: Vec<AtomicU64>,
    /// Outputs of an older epoch are never received (raised by every interruption).
    output_floor: AtomicU64,
    /// Per node: every node downstream of it.
    downstream: Vec<Vec<usize>>,
    /// Where the notice of an interruption goes: the output channel, without keeping it open.
    outputs: OnceLock<mpsc::WeakSender<SinkItem>>,
    error: Mutex<Option<Error>>,
    tasks: Mutex<Vec<AbortHandle>>,
    metrics: Option<Vec<MetricsCell>>,
    observer: Option<super::CallObserver>,
    names: Vec<(Arc<str>, Arc<str>)>,
}

impl Shared {
    pub fn new(
        names: Vec<(Arc<str>, Arc<str>)>,
        downstream: Vec<Vec<usize>>,
        metrics: bool,
        observer: Option<super::CallObserver>,
    ) -> Self {
        let zeros = || names.iter().map(|_| AtomicU64::new(0)).collect();
        Self {
            cancelled: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            cleared: AtomicU64::new(0),
            floors: zeros(),
            output_floor: AtomicU64::new(0),
            downstream,
            outputs: OnceLock::new(),
            error: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
            metrics: metrics.then(|| names.iter().map(|_| MetricsCell::default()).collect()),
            observer,
            names,
        }
    }

    /// Whether node calls are timed (for metrics or an observer).
    pub fn metrics_enabled(&self) -> bool {
        self.metrics.is_some() || self.observer.is_some()
    }

    pub fn record(&self, node: usize, inputs: u64, outputs: usize, elapsed: Duration) {
        if let Some(cell) = self.metrics.as_ref().and_then(|m| m.get(node)) {
            cell.record(inputs, outputs, elapsed);
        }
        if let Some(observer) = &self.observer {
            (observer.0)(node, elapsed);
        }
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Items of an older epoch arriving at `node` are dropped.
    pub fn floor(&self, node: usize) -> u64 {
        let raised = self.floors.get(node).map_or(0, |f| f.load(Ordering::Acquire));
        raised.max(self.cleared.load(Ordering::Acquire))
    }

    /// Outputs of an older epoch are never received.
    fn output_floor(&self) -> u64 {
        self.output_floor
            .load(Ordering::Acquire)
            .max(self.cleared.load(Ordering::Acquire))
    }

    /// Where interruption notices go (the session's output channel).
    pub fn set_outputs(&self, outputs: mpsc::WeakSender<SinkItem>) {
        let _ = self.outputs.set(outputs);
    }

    /// A `clear`: a new epoch, below which every item is dropped.
    pub fn clear(&self) -> u64 {
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        self.cleared.fetch_max(epoch, Ordering::AcqRel);
        epoch
    }

    /// `node` interrupts the session: a new epoch, returned (what leaves `node` carries it from
    /// now on: its stage stamps it), below which every node downstream of it (and the reader)
    /// drops what it gets. The reader is told in order with the outputs.
    pub async fn interrupt(&self, node: usize) -> u64 {
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        for &d in self.downstream.get(node).map_or(&[][..], Vec::as_slice) {
            if let Some(floor) = self.floors.get(d) {
                floor.fetch_max(epoch, Ordering::AcqRel);
            }
        }
        self.output_floor.fetch_max(epoch, Ordering::AcqRel);
        tracing::debug!(node, epoch, "session interrupted");
        if let Some(outputs) = self.outputs.get().and_then(mpsc::WeakSender::upgrade) {
            let _ = outputs.send((INTERRUPTED, epoch, Value::Null)).await;
        }
        epoch
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    pub fn add_task(&self, handle: AbortHandle) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_cancelled() {
            handle.abort();
        }
        tasks.push(handle);
    }

    /// Records the first error and stops every task of the run.
    pub fn fail(&self, err: Error) {
        {
            let mut slot = self.error.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() && !self.is_cancelled() {
                tracing::debug!(error = %err, "pipeline run failed");
                *slot = Some(err);
            }
        }
        self.cancel();
    }

    /// Stops every task. Outputs not yet received are dropped.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        for task in self.tasks.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            task.abort();
        }
    }

    fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    pub fn metrics(&self) -> Option<Vec<NodeMetrics>> {
        self.metrics.as_ref().map(|cells| {
            cells
                .iter()
                .zip(&self.names)
                .map(|(cell, (id, ty))| cell.snapshot(Arc::clone(id), Arc::clone(ty)))
                .collect()
        })
    }
}

/// Stops the session's tasks when the last half of the session is dropped.
pub(crate) struct TaskGuard(pub Arc<Shared>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// One pipeline output: which sink node produced it, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Id of the sink node that emitted the value.
    pub node_id: Arc<str>,
    /// The value.
    pub value: Value,
    /// The epoch of the inputs it came from: 0, plus one per [`SessionInput::clear`] before them.
    pub epoch: u64,
}

/// What a session's reader receives ([`SessionOutput::recv_event`]).
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// An output.
    Output(Output),
    /// A node interrupted the session ([`crate::Outputs::interrupt`]): the outputs of epochs
    /// before `epoch` are dropped from now on; a reader that buffers outputs (a server's send
    /// queue, a client's playback) drops what it holds of them.
    Interrupted {
        /// The new epoch: the outputs after this notice carry it or a later one.
        epoch: u64,
    },
}

/// A running pipeline (see [`crate::Pipeline::start`]).
///
/// ```
/// # use remotemedia_core::*;
/// # fn registry() -> Registry {
/// #     let mut r = Registry::new();
/// #     r.register(NodeDescriptor::new("PassThroughNode"), |_: &Params| {
/// #         struct P; impl Node for P { fn process(&mut self, v: Value, o: &mut Outputs) -> Result<(), NodeError> { o.emit(v); Ok(()) } }
/// #         Ok(NodeInstance::sync(P))
/// #     }).unwrap();
/// #     r
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> remotemedia_core::Result<()> {
/// let manifest = Manifest::parse(r#"{"version":"v1","nodes":[{"id":"a","node_type":"PassThroughNode"}]}"#)?;
/// let pipeline = Pipeline::new(&manifest, &registry())?;
/// let mut session = pipeline.start()?;
/// session.send(Value::Int(1)).await?;
/// // The output is available before the input is closed.
/// assert_eq!(session.recv().await?.map(|o| o.value), Some(Value::Int(1)));
/// session.close_input();
/// assert_eq!(session.recv().await?, None);
/// # Ok(()) }
/// ```
pub struct Session {
    input: SessionInput,
    output: SessionOutput,
}

/// The sending half of a [`Session`].
pub struct SessionInput {
    roots: Option<Vec<mpsc::Sender<Item>>>,
    shared: Arc<Shared>,
    _guard: Arc<TaskGuard>,
}

/// The receiving half of a [`Session`].
pub struct SessionOutput {
    rx: mpsc::Receiver<SinkItem>,
    sink_ids: Arc<[Arc<str>]>,
    shared: Arc<Shared>,
    done: bool,
    _guard: Arc<TaskGuard>,
}

impl Session {
    pub(crate) fn new(
        roots: Vec<mpsc::Sender<Item>>,
        rx: mpsc::Receiver<SinkItem>,
        sink_ids: Arc<[Arc<str>]>,
        shared: Arc<Shared>,
    ) -> Self {
        let guard = Arc::new(TaskGuard(Arc::clone(&shared)));
        Self {
            input: SessionInput {
                roots: Some(roots),
                shared: Arc::clone(&shared),
                _guard: Arc::clone(&guard),
            },
            output: SessionOutput {
                rx,
                sink_ids,
                shared,
                done: false,
                _guard: guard,
            },
        }
    }

    /// Sends one input to every root node; waits while the pipeline is full (backpressure).
    pub async fn send(&self, value: Value) -> Result<()> {
        self.input.send(value).await
    }

    /// Ends the input stream: nodes flush, and [`Session::recv`] returns `None` once every output
    /// has been received.
    pub fn close_input(&mut self) {
        self.input.close();
    }

    /// The next output, as soon as one is produced. `Ok(None)` when the run has finished. When a
    /// node fails, the outputs already produced are still delivered, then the error is returned
    /// once, then `Ok(None)`. ([`crate::Pipeline::run`] returns only the error: a failed batch
    /// never looks like a complete one.)
    pub async fn recv(&mut self) -> Result<Option<Output>> {
        self.output.recv().await
    }

    /// See [`SessionOutput::recv_event`].
    pub async fn recv_event(&mut self) -> Result<Option<SessionEvent>> {
        self.output.recv_event().await
    }

    /// Closes the input and collects every remaining output.
    pub async fn finish(mut self) -> Result<Vec<Output>> {
        self.close_input();
        let mut out = Vec::new();
        while let Some(o) = self.recv().await? {
            out.push(o);
        }
        Ok(out)
    }

    /// Stops the run now; remaining outputs are dropped. Dropping the session does the same.
    pub fn cancel(&self) {
        self.input.shared.cancel();
    }

    /// Current per-node metrics, if enabled with [`crate::RunOptions::metrics`].
    pub fn metrics(&self) -> Option<Vec<NodeMetrics>> {
        self.input.shared.metrics()
    }

    /// See [`SessionInput::clear`].
    pub fn clear(&self) -> u64 {
        self.input.clear()
    }

    /// Splits into a sending and a receiving half, to use from two tasks.
    pub fn into_split(self) -> (SessionInput, SessionOutput) {
        (self.input, self.output)
    }
}

impl SessionInput {
    /// See [`Session::send`].
    pub async fn send(&self, value: Value) -> Result<()> {
        let roots = self.roots.as_ref().ok_or(Error::SessionClosed)?;
        if self.shared.is_cancelled() {
            return Err(Error::SessionClosed);
        }
        let epoch = self.shared.epoch();
        if let Some((last, rest)) = roots.split_last() {
            for tx in rest {
                tx.send((epoch, value.clone()))
                    .await
                    .map_err(|_| Error::SessionClosed)?;
            }
            last.send((epoch, value))
                .await
                .map_err(|_| Error::SessionClosed)?;
        }
        Ok(())
    }

    /// Drops every input and output queued inside the pipeline and not yet processed or
    /// received (barge-in): whatever was sent before this call is skipped by every node that has
    /// not taken it yet, and its outputs are never received. A call already running finishes.
    /// Nodes keep their state (a node's own buffer, such as a chunker's partial chunk, is kept).
    /// Returns the new epoch (see [`Output::epoch`]).
    pub fn clear(&self) -> u64 {
        self.shared.clear()
    }

    /// Sends one input if there is room right now, without waiting: `Ok(None)` when sent,
    /// `Ok(Some(value))` (the input back) when the pipeline is full or feeds several roots (then
    /// use [`SessionInput::send`], which waits).
    pub fn try_send(&self, value: Value) -> Result<Option<Value>> {
        let roots = self.roots.as_ref().ok_or(Error::SessionClosed)?;
        if self.shared.is_cancelled() {
            return Err(Error::SessionClosed);
        }
        match roots.as_slice() {
            [only] => match only.try_send((self.shared.epoch(), value)) {
                Ok(()) => Ok(None),
                Err(mpsc::error::TrySendError::Full((_, value))) => Ok(Some(value)),
                Err(mpsc::error::TrySendError::Closed(_)) => Err(Error::SessionClosed),
            },
            _ => Ok(Some(value)),
        }
    }

    /// See [`Session::close_input`].
    pub fn close(&mut self) {
        self.roots = None;
    }

    /// See [`Session::cancel`].
    pub fn cancel(&self) {
        self.shared.cancel();
    }
}

impl SessionOutput {
    /// See [`Session::recv`].
    pub async fn recv(&mut self) -> Result<Option<Output>> {
        loop {
            match self.recv_item().await? {
                Some((INTERRUPTED, _, _)) => continue,
                Some(item) => return Ok(Some(self.output(item))),
                None => return Ok(None),
            }
        }
    }

    /// Every output produced so far, up to `max`, without waiting: `Ok(Some(outputs))` (possibly
    /// empty), or `Ok(None)` once the run has finished (after its error, if it failed).
    pub fn try_recv_many(&mut self, max: usize) -> Result<Option<Vec<Output>>> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        while out.len() < max {
            match self.rx.try_recv() {
                Ok(item) if self.is_stale(&item) => {}
                Ok(item) => out.push(self.output(item)),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    if !out.is_empty() {
                        break; // the end is reported by the next call
                    }
                    self.done = true;
                    return match self.shared.take_error() {
                        Some(err) => Err(err),
                        None => Ok(None),
                    };
                }
            }
        }
        Ok(Some(out))
    }

    /// Waits for at least one output, then takes every other one already produced, up to `max`:
    /// one wake-up for a whole batch. `Ok(None)` once the run has finished.
    pub async fn recv_many(&mut self, max: usize) -> Result<Option<Vec<Output>>> {
        let Some(first) = self.recv().await? else {
            return Ok(None);
        };
        let mut out = vec![first];
        // The end (or the run's error) is left for the next call, after these outputs.
        while out.len() < max {
            match self.rx.try_recv() {
                Ok(item) if self.is_stale(&item) || item.0 == INTERRUPTED => {}
                Ok(item) => out.push(self.output(item)),
                Err(_) => break,
            }
        }
        Ok(Some(out))
    }

    fn output(&self, (sink, epoch, value): SinkItem) -> Output {
        Output {
            node_id: Arc::clone(&self.sink_ids[sink]),
            value,
            epoch,
        }
    }

    /// Whether an output comes from inputs sent before the last `clear` or interruption.
    fn is_stale(&self, item: &SinkItem) -> bool {
        item.1 < self.shared.output_floor()
    }

    /// Like `recv`, with the sink's index (position among the sinks, in manifest order).
    pub(crate) async fn recv_indexed(&mut self) -> Result<Option<(usize, Value)>> {
        loop {
            match self.recv_item().await? {
                Some((INTERRUPTED, _, _)) => continue,
                Some((sink, _, value)) => return Ok(Some((sink, value))),
                None => return Ok(None),
            }
        }
    }

    /// The next output, or the notice that a node interrupted the session: what a reader that
    /// buffers outputs needs to drop what it holds (see [`SessionEvent`]). `Ok(None)` once the
    /// run has finished.
    pub async fn recv_event(&mut self) -> Result<Option<SessionEvent>> {
        Ok(self.recv_item().await?.map(|item| match item {
            (INTERRUPTED, epoch, _) => SessionEvent::Interrupted { epoch },
            item => SessionEvent::Output(self.output(item)),
        }))
    }

    /// The next output of the current epoch (or interruption notice), with its sink index and
    /// epoch.
    async fn recv_item(&mut self) -> Result<Option<SinkItem>> {
        if self.done {
            return Ok(None);
        }
        // A failed or cancelled run aborts its tasks, which closes this channel once the outputs
        // already in it are received.
        loop {
            let item = self.rx.recv().await;
            match item {
                Some(item) if self.is_stale(&item) => continue,
                Some(item) => return Ok(Some(item)),
                None => {
                    self.done = true;
                    if let Some(err) = self.shared.take_error() {
                        return Err(err);
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// See [`Session::metrics`].
    pub fn metrics(&self) -> Option<Vec<NodeMetrics>> {
        self.shared.metrics()
    }

    /// See [`Session::cancel`].
    pub fn cancel(&self) {
        self.shared.cancel();
    }
}
