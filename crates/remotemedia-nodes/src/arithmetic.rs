//! Exact arithmetic on [`Value`] numbers, shared by the arithmetic nodes.

use remotemedia_core::params::describe_value;
use remotemedia_core::{NodeError, Value};

/// An arithmetic operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `a + b`
    Add,
    /// `a - b`
    Subtract,
    /// `a * b`
    Multiply,
    /// `a / b` (an int when exact)
    Divide,
    /// `a ** b`
    Power,
    /// `a % b`, with the sign of `b`
    Modulo,
}

impl Operation {
    /// Every operation's manifest name.
    pub const NAMES: [&'static str; 6] = ["add", "subtract", "multiply", "divide", "power", "modulo"];

    /// Parses a manifest name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "add" => Operation::Add,
            "subtract" => Operation::Subtract,
            "multiply" => Operation::Multiply,
            "divide" => Operation::Divide,
            "power" => Operation::Power,
            "modulo" => Operation::Modulo,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Operation::Add => "+",
            Operation::Subtract => "-",
            Operation::Multiply => "*",
            Operation::Divide => "/",
            Operation::Power => "**",
            Operation::Modulo => "%",
        }
    }
}

/// `a <op> b` for two numbers, keeping integers exact (see the crate docs).
pub fn apply(op: Operation, a: &Value, b: &Value) -> Result<Value, NodeError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_op(op, *x, *y),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            float_op(op, a.as_f64().unwrap_or_default(), b.as_f64().unwrap_or_default())
        }
        (Value::Int(_) | Value::Float(_), other) | (other, _) => Err(NodeError::invalid_input(format!(
            "expected a number, found {}",
            describe_value(other)
        ))),
    }
}

fn overflow(op: Operation, x: i64, y: i64) -> NodeError {
    NodeError::failed(format!(
        "{x} {} {y} does not fit in a 64-bit integer",
        op.symbol()
    ))
}

fn int_op(op: Operation, x: i64, y: i64) -> Result<Value, NodeError> {
    let exact = match op {
        Operation::Add => x.checked_add(y),
        Operation::Subtract => x.checked_sub(y),
        Operation::Multiply => x.checked_mul(y),
        Operation::Divide => {
            if y == 0 {
                return Err(NodeError::failed(format!("division by zero ({x} / 0)")));
            }
            if x % y != 0 {
                return Ok(Value::Float(x as f64 / y as f64));
            }
            x.checked_div(y)
        }
        Operation::Modulo => {
            if y == 0 {
                return Err(NodeError::failed(format!("modulo by zero ({x} % 0)")));
            }
            x.checked_rem(y)
                .map(|r| if r != 0 && (r < 0) != (y < 0) { r + y } else { r })
        }
        Operation::Power => {
            if y < 0 {
                return float_op(op, x as f64, y as f64);
            }
            u32::try_from(y).ok().and_then(|e| x.checked_pow(e))
        }
    };
    exact.map(Value::Int).ok_or_else(|| overflow(op, x, y))
}

fn float_op(op: Operation, x: f64, y: f64) -> Result<Value, NodeError> {
    let result = match op {
        Operation::Add => x + y,
        Operation::Subtract => x - y,
        Operation::Multiply => x * y,
        Operation::Divide => {
            if y == 0.0 {
                return Err(NodeError::failed(format!("division by zero ({x:?} / {y:?})")));
            }
            x / y
        }
        Operation::Modulo => {
            if y == 0.0 {
                return Err(NodeError::failed(format!("modulo by zero ({x:?} % {y:?})")));
            }
            let r = x % y;
            if r != 0.0 && (r < 0.0) != (y < 0.0) {
                r + y
            } else {
                r
            }
        }
        Operation::Power => {
            if x == 0.0 && y < 0.0 {
                return Err(NodeError::failed(format!(
                    "zero cannot be raised to a negative power ({x:?} ** {y:?})"
                )));
            }
            if x < 0.0 && y.fract() != 0.0 && y.is_finite() {
                return Err(NodeError::failed(format!(
                    "a negative number to a fractional power is not a real number ({x:?} ** {y:?})"
                )));
            }
            x.powf(y)
        }
    };
    Ok(Value::Float(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    fn ok(op: Operation, a: impl Into<Value>, b: impl Into<Value>) -> Value {
        apply(op, &a.into(), &b.into()).expect("defined")
    }

    fn err(op: Operation, a: impl Into<Value>, b: impl Into<Value>) -> String {
        apply(op, &a.into(), &b.into())
            .expect_err("undefined")
            .to_string()
    }

    #[test]
    fn ints_stay_ints_where_exact() {
        assert_eq!(ok(Add, 1, 5), Value::Int(6));
        assert_eq!(ok(Subtract, 1, 5), Value::Int(-4));
        assert_eq!(ok(Multiply, -3, 5), Value::Int(-15));
        assert_eq!(ok(Divide, 6, 3), Value::Int(2));
        assert_eq!(ok(Divide, 7, 2), Value::Float(3.5));
        assert_eq!(ok(Power, 2, 10), Value::Int(1024));
        assert_eq!(ok(Power, 2, -1), Value::Float(0.5));
        assert_eq!(ok(Add, 1, 0.5), Value::Float(1.5));
        assert_eq!(ok(Add, 1.0, 1), Value::Float(2.0));
    }

    #[test]
    fn modulo_follows_python() {
        assert_eq!(ok(Modulo, -7, 3), Value::Int(2));
        assert_eq!(ok(Modulo, 7, -3), Value::Int(-2));
        assert_eq!(ok(Modulo, 7, 3), Value::Int(1));
        assert_eq!(ok(Modulo, -7.5, 2), Value::Float(0.5));
    }

    #[test]
    fn undefined_results_are_errors() {
        assert_eq!(err(Divide, 1, 0), "division by zero (1 / 0)");
        assert_eq!(err(Divide, 1.5, 0.0), "division by zero (1.5 / 0.0)");
        assert_eq!(err(Modulo, 1, 0), "modulo by zero (1 % 0)");
        assert_eq!(
            err(Add, i64::MAX, 1),
            "9223372036854775807 + 1 does not fit in a 64-bit integer"
        );
        assert_eq!(
            err(Power, 0, -1),
            "zero cannot be raised to a negative power (0.0 ** -1.0)"
        );
        assert!(err(Power, -8.0, 0.5).contains("fractional power"));
        assert_eq!(err(Add, "x", 1), "expected a number, found string \"x\"");
        assert_eq!(err(Add, true, 1), "expected a number, found bool true");
    }
}
