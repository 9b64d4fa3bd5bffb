//! `BufferNode`: groups inputs into lists of `buffer_size`.

use remotemedia_core::{Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("BufferNode")
        .describe("emits a list of every `buffer_size` inputs; the remainder at end of stream")
        .param(
            ParamSpec::integer("buffer_size")
                .default(10)
                .min(1.0)
                .describe("items per emitted list"),
        )
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let size = params.int("buffer_size")?;
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| NodeError::InvalidParams(format!("`buffer_size` must be >= 1, found {size}")))?;
    Ok(NodeInstance::sync(Buffer {
        size,
        items: Vec::with_capacity(size.min(4096)),
    }))
}

struct Buffer {
    size: usize,
    items: Vec<Value>,
}

impl Node for Buffer {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        self.items.push(input);
        if self.items.len() >= self.size {
            out.emit(std::mem::take(&mut self.items));
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Outputs) -> Result<(), NodeError> {
        if !self.items.is_empty() {
            out.emit(std::mem::take(&mut self.items));
        }
        Ok(())
    }
}
