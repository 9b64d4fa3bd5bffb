//! Node parameters: the declared schema of each parameter ([`ParamSpec`]) and the validated values
//! a node is built from ([`Params`]).

use serde_json::json;

use crate::error::NodeError;
use crate::value::{Map, Value};

/// The type of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// An integer or a float.
    Number,
    /// An integer.
    Integer,
    /// A string.
    String,
    /// One of a fixed set of strings.
    Choice(Vec<String>),
    /// `true` or `false`.
    Bool,
    /// A file path, as a string. A relative path resolves against the manifest's folder (as a
    /// Python node's `file` does), or the working directory for a manifest given as text; the file
    /// must exist when the manifest is validated.
    Path,
    /// Any JSON value.
    Any,
}

impl ParamKind {
    /// The JSON Schema type name (`number`, `integer`, `string`, `boolean`), or `any`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamKind::Number => "number",
            ParamKind::Integer => "integer",
            ParamKind::String | ParamKind::Choice(_) | ParamKind::Path => "string",
            ParamKind::Bool => "boolean",
            ParamKind::Any => "any",
        }
    }

    fn article(&self) -> &'static str {
        match self {
            ParamKind::Integer | ParamKind::Any => "an",
            _ => "a",
        }
    }
}

/// The declared schema of one parameter: used by validation, by `remotemedia-runtime nodes`, and
/// by the generated JSON Schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Parameter name as written in the manifest.
    pub name: String,
    /// Its type.
    pub kind: ParamKind,
    /// Whether the manifest must give it.
    pub required: bool,
    /// Value used when the manifest leaves it out.
    pub default: Option<Value>,
    /// Smallest allowed value (inclusive), for numbers.
    pub min: Option<f64>,
    /// Largest allowed value (inclusive), for numbers.
    pub max: Option<f64>,
    /// One line for humans.
    pub description: String,
}

impl ParamSpec {
    fn new(name: &str, kind: ParamKind) -> Self {
        Self {
            name: name.to_string(),
            kind,
            required: false,
            default: None,
            min: None,
            max: None,
            description: String::new(),
        }
    }

    /// A number parameter (integer or float).
    pub fn number(name: &str) -> Self {
        Self::new(name, ParamKind::Number)
    }

    /// An integer parameter.
    pub fn integer(name: &str) -> Self {
        Self::new(name, ParamKind::Integer)
    }

    /// A string parameter.
    pub fn string(name: &str) -> Self {
        Self::new(name, ParamKind::String)
    }

    /// A file path parameter (see [`ParamKind::Path`]).
    pub fn path(name: &str) -> Self {
        Self::new(name, ParamKind::Path)
    }

    /// A boolean parameter.
    pub fn boolean(name: &str) -> Self {
        Self::new(name, ParamKind::Bool)
    }

    /// A parameter that must be one of `choices`.
    pub fn choice(name: &str, choices: &[&str]) -> Self {
        Self::new(
            name,
            ParamKind::Choice(choices.iter().map(|c| c.to_string()).collect()),
        )
    }

    /// A parameter that takes any value.
    pub fn any(name: &str) -> Self {
        Self::new(name, ParamKind::Any)
    }

    /// Marks the parameter as required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets the default value.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Sets the smallest allowed value (inclusive).
    pub fn min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    /// Sets the largest allowed value (inclusive).
    pub fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// Sets the description.
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// Checks `value` against this spec. The error says what was expected and what was found.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let type_ok = matches!(
            (&self.kind, value),
            (ParamKind::Any, _)
                | (ParamKind::Number, Value::Int(_) | Value::Float(_))
                | (ParamKind::Integer, Value::Int(_))
                | (
                    ParamKind::String | ParamKind::Choice(_) | ParamKind::Path,
                    Value::Text(_)
                )
                | (ParamKind::Bool, Value::Bool(_))
        );
        if !type_ok {
            return Err(format!(
                "expected {} {}, found {}",
                self.kind.article(),
                self.kind.type_name(),
                describe_value(value)
            ));
        }
        if let (ParamKind::Choice(choices), Value::Text(t)) = (&self.kind, value)
            && !choices.iter().any(|c| c == &**t)
        {
            let hint = crate::suggest::closest(t, choices.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!(
                "expected one of {}, found \"{t}\"{hint}",
                choices
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(x) = value.as_f64() {
            let below = self.min.is_some_and(|m| x < m);
            let above = self.max.is_some_and(|m| x > m);
            if below || above || x.is_nan() {
                return Err(format!(
                    "{} is out of range; expected {}",
                    value,
                    self.range_text()
                ));
            }
        }
        Ok(())
    }

    fn range_text(&self) -> String {
        let fmt = |x: f64| {
            if x.fract() == 0.0 {
                format!("{}", x as i64)
            } else {
                x.to_string()
            }
        };
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => format!("a value from {} to {}", fmt(lo), fmt(hi)),
            (Some(lo), None) => format!("a value >= {}", fmt(lo)),
            (None, Some(hi)) => format!("a value <= {}", fmt(hi)),
            (None, None) => "a number".to_string(),
        }
    }

    /// JSON Schema of this parameter's value.
    pub fn json_schema(&self) -> serde_json::Value {
        let mut schema = match &self.kind {
            ParamKind::Any => json!({}),
            ParamKind::Choice(choices) => json!({ "type": "string", "enum": choices }),
            ParamKind::Path => json!({ "type": "string", "format": "path" }),
            kind => json!({ "type": kind.type_name() }),
        };
        if let Some(obj) = schema.as_object_mut() {
            if !self.description.is_empty() {
                obj.insert("description".into(), json!(self.description));
            }
            if let Some(d) = self.default.as_ref().and_then(|d| d.to_json().ok()) {
                obj.insert("default".into(), d);
            }
            if let Some(m) = self.min {
                obj.insert("minimum".into(), json_number(m));
            }
            if let Some(m) = self.max {
                obj.insert("maximum".into(), json_number(m));
            }
        }
        schema
    }
}

fn json_number(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// A value as it appears in error messages: its type and, for short scalars, the value itself.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("bool {b}"),
        Value::Int(i) => format!("int {i}"),
        Value::Float(f) => format!("float {f:?}"),
        Value::Text(t) if t.chars().count() <= 40 => format!("string \"{t}\""),
        other => other.type_name().to_string(),
    }
}

/// Validated parameters of one node, with defaults filled in. Node factories read them with the
/// typed getters, which return a [`NodeError::InvalidParams`] when a value is missing or has the
/// wrong type (only possible when a node is created without validation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: Map,
}

impl Params {
    /// Wraps already validated values.
    pub fn new(values: Map) -> Self {
        Self { values }
    }

    /// The raw value, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Every value, in manifest order.
    pub fn values(&self) -> &Map {
        &self.values
    }

    fn require(&self, name: &str) -> Result<&Value, NodeError> {
        self.values
            .get(name)
            .ok_or_else(|| NodeError::InvalidParams(format!("missing parameter `{name}`")))
    }

    fn wrong(name: &str, expected: &str, found: &Value) -> NodeError {
        NodeError::InvalidParams(format!(
            "parameter `{name}`: expected {expected}, found {}",
            describe_value(found)
        ))
    }

    /// A number parameter, keeping integers as integers.
    pub fn number(&self, name: &str) -> Result<Value, NodeError> {
        match self.require(name)? {
            v @ (Value::Int(_) | Value::Float(_)) => Ok(v.clone()),
            other => Err(Self::wrong(name, "a number", other)),
        }
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> Result<i64, NodeError> {
        let v = self.require(name)?;
        v.as_int().ok_or_else(|| Self::wrong(name, "an integer", v))
    }

    /// A float parameter (integers are converted).
    pub fn float(&self, name: &str) -> Result<f64, NodeError> {
        let v = self.require(name)?;
        v.as_f64().ok_or_else(|| Self::wrong(name, "a number", v))
    }

    /// A string parameter.
    pub fn text(&self, name: &str) -> Result<&str, NodeError> {
        let v = self.require(name)?;
        v.as_str().ok_or_else(|| Self::wrong(name, "a string", v))
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> Result<bool, NodeError> {
        match self.require(name)? {
            Value::Bool(b) => Ok(*b),
            other => Err(Self::wrong(name, "a boolean", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_say_expected_and_found() {
        let spec = ParamSpec::number("operand");
        assert_eq!(
            spec.check(&Value::from("five")),
            Err("expected a number, found string \"five\"".into())
        );
        assert_eq!(
            spec.check(&Value::Bool(true)),
            Err("expected a number, found bool true".into())
        );
        assert_eq!(
            ParamSpec::integer("n").check(&Value::Float(2.5)),
            Err("expected an integer, found float 2.5".into())
        );
        assert!(spec.check(&Value::Float(2.5)).is_ok());
    }

    #[test]
    fn range_and_choice_errors() {
        let spec = ParamSpec::integer("buffer_size").min(1.0);
        assert_eq!(
            spec.check(&Value::Int(0)),
            Err("0 is out of range; expected a value >= 1".into())
        );
        let op = ParamSpec::choice("operation", &["add", "subtract"]);
        assert_eq!(
            op.check(&Value::from("ad")),
            Err("expected one of `add`, `subtract`, found \"ad\"; did you mean `add`?".into())
        );
    }

    #[test]
    fn typed_getters() {
        let p = Params::new(Map::from_iter([("a".to_string(), Value::Int(3))]));
        assert_eq!(p.int("a").ok(), Some(3));
        assert_eq!(p.float("a").ok(), Some(3.0));
        assert!(
            p.text("a")
                .unwrap_err()
                .to_string()
                .contains("expected a string, found int 3")
        );
        assert!(
            p.int("b")
                .unwrap_err()
                .to_string()
                .contains("missing parameter `b`")
        );
    }
}
