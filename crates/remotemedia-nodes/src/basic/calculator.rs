//! `CalculatorNode`: `input <operation> operand`.

use remotemedia_core::{Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value};

use crate::arithmetic::{Operation, apply};

pub(crate) fn descriptor() -> NodeDescriptor {
    NodeDescriptor::new("CalculatorNode")
        .describe("applies `input <operation> operand` to a number")
        .param(
            ParamSpec::choice("operation", &Operation::NAMES)
                .required()
                .describe("the arithmetic operation"),
        )
        .param(
            ParamSpec::number("operand")
                .required()
                .describe("the right-hand operand"),
        )
}

pub(crate) fn create(params: &Params) -> Result<NodeInstance, NodeError> {
    let name = params.text("operation")?;
    let operation = Operation::from_name(name)
        .ok_or_else(|| NodeError::InvalidParams(format!("unknown operation `{name}`")))?;
    Ok(NodeInstance::sync(Calculator {
        operation,
        operand: params.number("operand")?,
    }))
}

struct Calculator {
    operation: Operation,
    operand: Value,
}

impl Node for Calculator {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        out.emit(apply(self.operation, &input, &self.operand)?);
        Ok(())
    }
}
