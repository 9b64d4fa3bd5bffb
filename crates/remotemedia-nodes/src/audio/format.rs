//! `FormatConverterNode`: converts audio between `f32`, `i16` and `i32` samples.

use remotemedia_core::{
    Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, SampleFormat, Value,
};

use super::samples::{StreamLayout, convert, expect_audio};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("FormatConverterNode")
        .describe("converts audio samples to `target_format` (round half to even, clip to range)")
        .param(
            ParamSpec::choice("target_format", &["f32", "i16", "i32"])
                .default("f32")
                .describe("sample format of the output"),
        )
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let name = params.text("target_format")?;
    let target = SampleFormat::from_name(name)
        .ok_or_else(|| NodeError::InvalidParams(format!("unknown sample format `{name}`")))?;
    Ok(NodeInstance::sync(FormatConverter { target, layout: None }))
}

struct FormatConverter {
    target: SampleFormat,
    layout: Option<StreamLayout>,
}

impl Node for FormatConverter {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        let audio = &expect_audio(&input)?;
        StreamLayout::check(&mut self.layout, audio)?;
        out.emit(Value::Audio(convert(audio, self.target)?));
        Ok(())
    }
}
