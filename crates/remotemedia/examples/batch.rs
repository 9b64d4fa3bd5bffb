//! Load a manifest file and run a batch.
//!
//! `cargo run -p remotemedia-runtime --example batch`

use remotemedia::{Value, load_pipeline};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../manifests/passthrough_calculator.json"
    );
    let pipeline = load_pipeline(path)?;
    let outputs = pipeline
        .run(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
        .await?;
    let printed: Vec<String> = outputs.iter().map(ToString::to_string).collect();
    println!("{} -> [{}]", pipeline.name(), printed.join(", "));
    assert_eq!(outputs, vec![Value::Int(6), Value::Int(7), Value::Int(8)]);
    Ok(())
}
