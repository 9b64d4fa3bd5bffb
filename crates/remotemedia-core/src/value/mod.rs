//! The value type that flows between nodes.
//!
//! [`Value`] is small and cheap to clone: every variant that owns heap memory keeps it behind an
//! `Arc` (or a shared [`Buffer`]), so fan-out to several downstream nodes never deep-copies data.
//! A node that wants to change a list it received can call [`Value::into_list`], which reuses the
//! allocation when nobody else holds it and copies only when it is shared.

mod array;
mod audio;
mod buffer;
mod json;

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

pub use array::{DType, Element, NdArray};
pub use audio::{
    AudioBuffer, MAX_INPUT_CHANNELS, MAX_INPUT_SAMPLE_RATE, MIN_INPUT_SAMPLE_RATE, SampleFormat,
    check_input_sample_rate, input_sample_rate_reason,
};
pub use buffer::Buffer;
pub use json::{JSON_TAGS, check_integers, json_parse_error, parse_json_text, value_from_json_text};

/// How deep lists and maps may nest in one value: `[[1]]` is 2 levels deep. Every conversion into
/// or out of a value checks it (JSON and tagged JSON, Python objects on RustPython and CPython,
/// numpy), so that no input and no node output can exhaust a thread's stack; past it the
/// conversion fails with [`nesting_error`]'s message.
pub const MAX_NESTING: usize = 100;

/// The message of a value that nests deeper than [`MAX_NESTING`].
pub fn nesting_error() -> String {
    format!("the value nests lists and maps deeper than {MAX_NESTING} levels, the engine's limit")
}

/// String-keyed map that keeps insertion order (as JSON objects and Python dicts do).
pub type Map = IndexMap<String, Value>;

/// One item flowing through a pipeline.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Nothing (`null` in JSON, `None` in Python).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer. Stays an integer through JSON and arithmetic where exact.
    Int(i64),
    /// A 64-bit float. `1.0` stays a float through JSON.
    Float(f64),
    /// UTF-8 text.
    Text(Arc<str>),
    /// Raw bytes.
    Bytes(bytes::Bytes),
    /// An ordered list of values.
    List(Arc<Vec<Value>>),
    /// A string-keyed map, in insertion order.
    Map(Arc<Map>),
    /// PCM audio (interleaved; see [`AudioBuffer`]).
    Audio(Arc<AudioBuffer>),
    /// An n-dimensional numeric array.
    Array(Arc<NdArray>),
}

impl Value {
    /// Short name of the variant, as used in error messages (`int`, `text`, `audio`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Audio(_) => "audio",
            Value::Array(_) => "array",
        }
    }

    /// A list from any iterator of values.
    pub fn list<I: IntoIterator<Item = Value>>(items: I) -> Value {
        Value::List(Arc::new(items.into_iter().collect()))
    }

    /// A map from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(entries: I) -> Value {
        Value::Map(Arc::new(
            entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }

    /// The integer, if this is an `Int`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as `f64`, if this is an `Int` or a `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The text, if this is `Text`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is a `List`.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries, if this is a `Map`.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The audio, if this is `Audio`.
    pub fn as_audio(&self) -> Option<&AudioBuffer> {
        match self {
            Value::Audio(a) => Some(a),
            _ => None,
        }
    }

    /// The array, if this is an `Array`.
    pub fn as_array(&self) -> Option<&NdArray> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Takes the items of a `List`, without copying when this value is their only owner.
    pub fn into_list(self) -> Result<Vec<Value>, Value> {
        match self {
            Value::List(l) => Ok(Arc::try_unwrap(l).unwrap_or_else(|shared| (*shared).clone())),
            other => Err(other),
        }
    }
}

/// Equality by content. Floats compare with `==` (so `NaN != NaN`); an `Int` never equals a
/// `Float`, because the engine keeps the two apart.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Audio(a), Value::Audio(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            _ => false,
        }
    }
}

/// Compact JSON, as the CLI prints it (see [`Value::to_json`]); values JSON cannot carry are
/// shown in their tagged form, non-finite floats as `NaN`/`inf`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_json() {
            Ok(json) => write!(f, "{json}"),
            Err(_) => write!(f, "{self:?}"),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => { $(impl From<$t> for Value { fn from(v: $t) -> Self { Value::Int(i64::from(v)) } })* };
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Arc::from(v))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Arc::from(v))
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(Arc::new(v))
    }
}
impl From<Map> for Value {
    fn from(v: Map) -> Self {
        Value::Map(Arc::new(v))
    }
}
impl From<AudioBuffer> for Value {
    fn from(v: AudioBuffer) -> Self {
        Value::Audio(Arc::new(v))
    }
}
impl From<NdArray> for Value {
    fn from(v: NdArray) -> Self {
        Value::Array(Arc::new(v))
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_memory() {
        let list = Value::list((0..1000).map(Value::from));
        let copy = list.clone();
        match (&list, &copy) {
            (Value::List(a), Value::List(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => unreachable!("both are lists"),
        }
    }

    #[test]
    fn into_list_reuses_unique_allocation() {
        let v = Value::list([Value::Int(1), Value::Int(2)]);
        let ptr = v.as_list().map(<[Value]>::as_ptr);
        let items = v.into_list().expect("a list");
        assert_eq!(Some(items.as_ptr()), ptr);
        assert_eq!(Value::Int(3).into_list(), Err(Value::Int(3)));
    }

    #[test]
    fn int_and_float_are_distinct() {
        assert_ne!(Value::Int(1), Value::Float(1.0));
        assert_eq!(Value::Float(1.0), Value::Float(1.0));
        assert_eq!(Value::from(7u8).type_name(), "int");
    }
}
