//! `remotemedia-runtime contract`: what the pure-Python fallback and the Python package must
//! agree on with the engine, as one JSON document generated from the engine's own constants
//! (`make schema` writes it to `python/remotemedia/contract.json`; a test keeps it current).

use remotemedia::{
    MAX_INPUT_CHANNELS, MAX_INPUT_SAMPLE_RATE, MAX_NESTING, MIN_INPUT_SAMPLE_RATE, RUST_HINT_ON_PYTHON_NODE,
    RuntimeHint, builtin_registry,
};
use remotemedia_server::{DEFAULT_BIND, defaults};
use serde_json::{Value, json};

use super::serve::TOKEN_ENV;

/// The contract: node specs, audio formats and bounds, value limits, the server's defaults,
/// environment variable names, the runtime-hint vocabulary and the messages the fallback repeats.
pub fn contract() -> Value {
    let nodes: Vec<Value> = builtin_registry().descriptors().map(|d| d.to_json()).collect();
    json!({
        "version": 1,
        "nodes": nodes,
        "audio": {
            "extensions": remotemedia_io::AUDIO_EXTENSIONS,
            "formats": remotemedia_io::FORMATS,
            "min_input_sample_rate": MIN_INPUT_SAMPLE_RATE,
            "max_input_sample_rate": MAX_INPUT_SAMPLE_RATE,
            "max_input_channels": MAX_INPUT_CHANNELS,
        },
        "values": {"max_nesting": MAX_NESTING},
        "server": {
            "bind": DEFAULT_BIND,
            "max_sessions": defaults::MAX_SESSIONS,
            "max_message_bytes": defaults::MAX_MESSAGE_BYTES,
            "idle_timeout_s": defaults::IDLE_TIMEOUT_S,
            "output_queue": defaults::OUTPUT_QUEUE,
            "slow_consumer_timeout_s": defaults::SLOW_CONSUMER_TIMEOUT_S,
            "run_timeout_s": defaults::RUN_TIMEOUT_S,
            "shutdown_timeout_s": defaults::SHUTDOWN_TIMEOUT_S,
        },
        "environment": {
            "interpreter": remotemedia::python::INTERPRETER_ENV,
            "threads": remotemedia::threads::THREADS_ENV,
            "token": TOKEN_ENV,
        },
        "runtime_hints": RuntimeHint::ALL,
        "messages": {
            "not_audio": remotemedia_io::not_audio_reason(),
            "empty_file": remotemedia_io::EMPTY_FILE,
            "rust_hint_on_python_node": RUST_HINT_ON_PYTHON_NODE,
            "no_nodes": remotemedia::NO_NODES,
            "input_sample_rate": remotemedia::input_sample_rate_reason("{rate}"),
            "threads_env": remotemedia::threads::parse_threads(Some("{value}")).err(),
            "no_pipeline_to_serve": remotemedia_server::LoadError::Empty.to_string(),
        },
    })
}

/// The contract as the file holds it: pretty JSON with a final newline.
pub fn contract_text() -> String {
    serde_json::to_string_pretty(&contract()).unwrap_or_default() + "\n"
}
