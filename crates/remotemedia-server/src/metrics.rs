//! `GET /metrics` (Prometheus text format, through `prometheus-client`): sessions open and total,
//! items in and out, errors by kind, and per-node processing time as a histogram.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use remotemedia_core::CallObserver;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PipelineLabel {
    pipeline: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabel {
    pipeline: String,
    node: String,
}

fn call_histogram() -> Histogram {
    // 1 µs to about 16 s, ×4 per bucket.
    Histogram::new(exponential_buckets(1e-6, 4.0, 13))
}

/// The server's counters.
pub struct ServerMetrics {
    registry: Registry,
    sessions_open: Family<PipelineLabel, Gauge>,
    sessions_total: Family<PipelineLabel, Counter>,
    items_in: Family<PipelineLabel, Counter>,
    items_out: Family<PipelineLabel, Counter>,
    errors: Family<ErrorLabel, Counter>,
    node_seconds: Family<NodeLabel, Histogram>,
}

impl Default for ServerMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("remotemedia");
        let sessions_open = Family::<PipelineLabel, Gauge>::default();
        let sessions_total = Family::<PipelineLabel, Counter>::default();
        let items_in = Family::<PipelineLabel, Counter>::default();
        let items_out = Family::<PipelineLabel, Counter>::default();
        let errors = Family::<ErrorLabel, Counter>::default();
        let node_seconds =
            Family::<NodeLabel, Histogram>::new_with_constructor(call_histogram as fn() -> Histogram);
        registry.register(
            "sessions_open",
            "WebSocket sessions open now",
            sessions_open.clone(),
        );
        registry.register(
            "sessions",
            "WebSocket sessions and HTTP runs started",
            sessions_total.clone(),
        );
        registry.register(
            "items_in",
            "Inputs received (values and audio chunks)",
            items_in.clone(),
        );
        registry.register("items_out", "Outputs sent", items_out.clone());
        registry.register("errors", "Failures by kind", errors.clone());
        registry.register(
            "node_call_seconds",
            "Time each node call (process or flush) took",
            node_seconds.clone(),
        );
        Self {
            registry,
            sessions_open,
            sessions_total,
            items_in,
            items_out,
            errors,
            node_seconds,
        }
    }
}

fn label(pipeline: &str) -> PipelineLabel {
    PipelineLabel {
        pipeline: pipeline.to_string(),
    }
}

impl ServerMetrics {
    /// A session (or HTTP run) of `pipeline` started; for a WebSocket session, `open` counts it
    /// as open until [`ServerMetrics::session_closed`].
    pub fn session_started(&self, pipeline: &str, open: bool) {
        self.sessions_total.get_or_create(&label(pipeline)).inc();
        if open {
            self.sessions_open.get_or_create(&label(pipeline)).inc();
        }
    }

    /// A WebSocket session of `pipeline` ended.
    pub fn session_closed(&self, pipeline: &str) {
        self.sessions_open.get_or_create(&label(pipeline)).dec();
    }

    /// `n` inputs of `pipeline` received.
    pub fn items_in(&self, pipeline: &str, n: u64) {
        self.items_in.get_or_create(&label(pipeline)).inc_by(n);
    }

    /// `n` outputs of `pipeline` sent.
    pub fn items_out(&self, pipeline: &str, n: u64) {
        self.items_out.get_or_create(&label(pipeline)).inc_by(n);
    }

    /// One failure of `kind` (the `kind` of an `error` message, or an HTTP error's).
    pub fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&ErrorLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// An observer that records every node call of `pipeline` (whose node ids, in manifest
    /// order, are `nodes`) in the per-node histogram.
    pub fn observer(self: &Arc<Self>, pipeline: &str, nodes: Vec<String>) -> CallObserver {
        let histograms: Vec<Histogram> = nodes
            .into_iter()
            .map(|node| {
                self.node_seconds
                    .get_or_create(&NodeLabel {
                        pipeline: pipeline.to_string(),
                        node,
                    })
                    .clone()
            })
            .collect();
        CallObserver(Arc::new(move |index: usize, elapsed: Duration| {
            if let Some(h) = histograms.get(index) {
                h.observe(elapsed.as_secs_f64());
            }
        }))
    }

    /// Every metric in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
