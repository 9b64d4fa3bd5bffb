//! A Piper voice cut in two at its decoder's input, so that a sentence can be voiced a window at
//! a time: the encoder half (text encoder, durations, flow: everything random) gives the latent
//! frames `z` (`[1, channels, frames]`, 256 samples each), and the decoder half (HiFi-GAN: purely
//! convolutional, deterministic) turns any stretch of them into audio. The cut is the first input
//! of the node named `/dec/conv_pre…`, as Piper's exports name it; a model without one (or whose
//! decoder needs anything but `z`) is not cut, and is voiced a sentence at a time.

use std::collections::{BTreeSet, HashMap, HashSet};

use prost::Message;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::type_proto::{self, Tensor};
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorShapeProto, TypeProto, ValueInfoProto};

/// The two halves, as ONNX model bytes.
pub struct Halves {
    /// `input`, `input_lengths`, `scales` (and `sid`) → the latent frames.
    pub encoder: Vec<u8>,
    /// The latent frames → `output`.
    pub decoder: Vec<u8>,
    /// The latent's name: the encoder's output and the decoder's input.
    pub latent: String,
}

/// The nodes that compute `targets`, not looking past `stop` (indices, in graph order).
fn needed(nodes: &[NodeProto], targets: &[String], stop: Option<&str>) -> BTreeSet<usize> {
    let producer: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut kept = BTreeSet::new();
    let mut todo: Vec<&str> = targets.iter().map(String::as_str).collect();
    while let Some(name) = todo.pop() {
        if Some(name) == stop {
            continue;
        }
        if let Some(&i) = producer.get(name)
            && kept.insert(i)
        {
            todo.extend(
                nodes[i]
                    .input
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !s.is_empty()),
            );
        }
    }
    kept
}

fn float_tensor(name: &str, rank: usize) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(Tensor {
                elem_type: 1, // FLOAT
                shape: Some(TensorShapeProto {
                    dim: (0..rank)
                        .map(|k| Dimension {
                            denotation: String::new(),
                            value: Some(dimension::Value::DimParam(format!("{name}_{k}"))),
                        })
                        .collect(),
                }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// A graph of `nodes` (indices into `graph.node`) with these inputs and outputs, and the
/// initializers its nodes use.
fn subgraph(
    graph: &GraphProto,
    nodes: &BTreeSet<usize>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
) -> GraphProto {
    let node: Vec<NodeProto> = nodes.iter().map(|&i| graph.node[i].clone()).collect();
    let used: HashSet<&str> = node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .collect();
    GraphProto {
        initializer: graph
            .initializer
            .iter()
            .filter(|t| used.contains(t.name.as_str()))
            .cloned()
            .collect(),
        node,
        name: graph.name.clone(),
        input: inputs,
        output: outputs,
        ..GraphProto::default()
    }
}

/// The model cut at its decoder, or why it cannot be.
pub fn split(model: &[u8]) -> Result<Halves, String> {
    let mut model = ModelProto::decode(model).map_err(|e| format!("not an ONNX model: {e}"))?;
    let graph = model.graph.take().ok_or("the model has no graph")?;
    let latent = graph
        .node
        .iter()
        .find(|n| n.name.starts_with("/dec/conv_pre"))
        .and_then(|n| n.input.first().cloned())
        .ok_or("no `/dec/conv_pre` node: not a Piper (VITS) export")?;
    let outputs: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    let encoder_nodes = needed(&graph.node, std::slice::from_ref(&latent), None);
    let decoder_nodes = needed(&graph.node, &outputs, Some(&latent));
    let graph_inputs: HashSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
    if decoder_nodes.iter().any(|&i| {
        graph.node[i]
            .input
            .iter()
            .any(|s| graph_inputs.contains(s.as_str()))
    }) {
        return Err("the decoder reads the model's inputs, not only the latent".into());
    }
    let latent_info = graph
        .value_info
        .iter()
        .find(|v| v.name == latent)
        .cloned()
        .unwrap_or_else(|| float_tensor(&latent, 3));
    let encoder = subgraph(
        &graph,
        &encoder_nodes,
        graph.input.clone(),
        vec![latent_info.clone()],
    );
    let decoder = subgraph(&graph, &decoder_nodes, vec![latent_info], graph.output.clone());
    let bytes = |g: GraphProto| {
        let mut half = model.clone();
        half.graph = Some(g);
        half.encode_to_vec()
    };
    Ok(Halves {
        encoder: bytes(encoder),
        decoder: bytes(decoder),
        latent,
    })
}
