//! Open a streaming session: send inputs, receive outputs as soon as they are produced, close to
//! flush.
//!
//! `cargo run -p remotemedia-runtime --example streaming`

use remotemedia::{Manifest, Pipeline, Value, builtin_registry};

const MANIFEST: &str = "
version: v1
metadata: {name: batches-of-three}
nodes:
  - {id: double, node_type: MultiplyNode, params: {factor: 2}}
  - {id: batch, node_type: BufferNode, params: {buffer_size: 3}}
";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = Pipeline::new(&Manifest::parse(MANIFEST)?, &builtin_registry())?;
    let (input, mut output) = pipeline.start()?.into_split();

    // Produce from one task while consuming in another.
    let producer = tokio::spawn(async move {
        let mut input = input;
        for i in 1..=7 {
            input.send(Value::Int(i)).await?;
        }
        input.close(); // end of stream: BufferNode flushes its remainder
        Ok::<_, remotemedia::Error>(())
    });

    let mut received = Vec::new();
    while let Some(out) = output.recv().await? {
        println!("{} emitted {}", out.node_id, out.value);
        received.push(out.value);
    }
    producer.await??;
    assert_eq!(received.len(), 3); // [2,4,6], [8,10,12], [14]
    Ok(())
}
