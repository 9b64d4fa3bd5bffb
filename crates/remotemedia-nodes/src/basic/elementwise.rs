//! `MultiplyNode` and `AddNode`: one arithmetic operation applied to a number or to every number
//! of a (nested) list.

use remotemedia_core::params::describe_value;
use remotemedia_core::{Node, NodeDescriptor, NodeError, NodeInstance, Outputs, ParamSpec, Params, Value};

use crate::arithmetic::{Operation, apply};

pub(crate) fn multiply_descriptor() -> NodeDescriptor {
    NodeDescriptor::new("MultiplyNode")
        .describe("multiplies a number, or every number of a list, by `factor`")
        .param(ParamSpec::number("factor").default(2).describe("the multiplier"))
}

pub(crate) fn add_descriptor() -> NodeDescriptor {
    NodeDescriptor::new("AddNode")
        .describe("adds `addend` to a number, or to every number of a list")
        .param(ParamSpec::number("addend").default(0).describe("the value added"))
}

pub(crate) fn create_multiply(params: &Params) -> Result<NodeInstance, NodeError> {
    Ok(NodeInstance::sync(Elementwise {
        operation: Operation::Multiply,
        operand: params.number("factor")?,
    }))
}

pub(crate) fn create_add(params: &Params) -> Result<NodeInstance, NodeError> {
    Ok(NodeInstance::sync(Elementwise {
        operation: Operation::Add,
        operand: params.number("addend")?,
    }))
}

struct Elementwise {
    operation: Operation,
    operand: Value,
}

impl Elementwise {
    fn map(&self, value: Value) -> Result<Value, NodeError> {
        match value {
            Value::Int(_) | Value::Float(_) => apply(self.operation, &value, &self.operand),
            Value::List(_) => {
                let items = value.into_list().unwrap_or_default();
                let mapped = items
                    .into_iter()
                    .map(|v| self.map(v))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::from(mapped))
            }
            other => Err(NodeError::invalid_input(format!(
                "expected a number or a list of numbers, found {}",
                describe_value(&other)
            ))),
        }
    }
}

impl Node for Elementwise {
    fn process(&mut self, input: Value, out: &mut Outputs) -> Result<(), NodeError> {
        out.emit(self.map(input)?);
        Ok(())
    }
}
