//! `PassThroughNode`: emits each input unchanged.

use remotemedia_core::{Node, NodeDescriptor, NodeError, NodeInstance, Outputs, Params, Value};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("PassThroughNode")
        .alias("PassThrough")
        .describe("emits each input unchanged")
}

pub(crate) fn create(_: &Params) -> Result<NodeInstance, NodeError> {
    Ok(NodeInstance::sync(PassThrough))
}

struct PassThrough;

impl Node for PassThrough {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        out.emit(input);
        Ok(())
    }
}
