//! Register a custom native node from the embedding program and use it in a manifest.
//!
//! `cargo run -p remotemedia-runtime --example custom_node`

use remotemedia::{
    Manifest, Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Pipeline, Value,
    builtin_registry,
};

/// Emits a running sum over the last `window` inputs.
struct MovingSum {
    window: usize,
    recent: std::collections::VecDeque<f64>,
}

impl Node for MovingSum {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let x = input.as_f64().ok_or_else(|| {
            NodeError::invalid_input(format!("expected a number, found {}", input.type_name()))
        })?;
        self.recent.push_back(x);
        if self.recent.len() > self.window {
            self.recent.pop_front();
        }
        out.emit(self.recent.iter().sum::<f64>());
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = builtin_registry();
    registry.register(
        NodeDescriptor::new("MovingSumNode")
            .describe("running sum over the last `window` inputs")
            .param(
                ParamSpec::integer("window")
                    .default(3)
                    .min(1.0)
                    .describe("how many inputs to sum"),
            ),
        |params: &Params| {
            let window = usize::try_from(params.int("window")?).unwrap_or(1);
            Ok(NodeInstance::sync(MovingSum {
                window,
                recent: Default::default(),
            }))
        },
    )?;

    let manifest = Manifest::parse(
        r#"{"version": "v1", "nodes": [
            {"id": "sum", "node_type": "MovingSumNode", "params": {"window": 3}},
            {"id": "half", "node_type": "MultiplyNode", "params": {"factor": 0.5}}
        ]}"#,
    )?;
    let pipeline = Pipeline::new(&manifest, &registry)?;
    let out = pipeline.run([10, 20, 30, 40].map(Value::from).to_vec()).await?;
    println!("{}", Value::from(out.clone()));
    assert_eq!(out, [5.0, 15.0, 30.0, 45.0].map(Value::Float).to_vec());
    Ok(())
}
