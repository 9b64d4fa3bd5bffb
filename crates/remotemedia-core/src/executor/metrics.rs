//! Optional per-node metrics: items in and out, total, mean and max processing time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters of one node, as read by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeMetrics {
    /// The node's id.
    pub node_id: Arc<str>,
    /// The node's type.
    pub node_type: Arc<str>,
    /// Inputs processed.
    pub items_in: u64,
    /// Outputs emitted (including those emitted by flush).
    pub items_out: u64,
    /// Calls to `process` and `flush`.
    pub calls: u64,
    /// Time spent in `process` and `flush`.
    pub total_time: Duration,
    /// Longest single `process` or `flush` call.
    pub max_time: Duration,
}

impl NodeMetrics {
    /// Mean time per call (zero before the first).
    pub fn mean_time(&self) -> Duration {
        if self.calls == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(
                u64::try_from(self.total_time.as_nanos() / u128::from(self.calls)).unwrap_or(u64::MAX),
            )
        }
    }
}

/// Live counters, updated by the node's task and read by the session at any time.
#[derive(Debug, Default)]
pub(crate) struct MetricsCell {
    items_in: AtomicU64,
    items_out: AtomicU64,
    calls: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl MetricsCell {
    pub fn record(&self, inputs: u64, outputs: usize, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.items_in.fetch_add(inputs, Ordering::Relaxed);
        self.items_out.fetch_add(outputs as u64, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.total_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    pub fn snapshot(&self, node_id: Arc<str>, node_type: Arc<str>) -> NodeMetrics {
        NodeMetrics {
            node_id,
            node_type,
            items_in: self.items_in.load(Ordering::Relaxed),
            items_out: self.items_out.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
            total_time: Duration::from_nanos(self.total_ns.load(Ordering::Relaxed)),
            max_time: Duration::from_nanos(self.max_ns.load(Ordering::Relaxed)),
        }
    }
}
