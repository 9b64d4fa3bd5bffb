//! JSON conversion of [`Value`].
//!
//! Everything JSON can express round-trips exactly: integers stay integers (`i64`), floats stay
//! floats (`1.0` is written back as `1.0`), objects keep their key order. Values JSON has no syntax
//! for use a single-key tagged object, accepted on input and produced on output:
//!
//! | value | JSON form |
//! |---|---|
//! | bytes | `{"$bytes": "<base64>"}` |
//! | audio | `{"$audio": {"sample_rate": 16000, "channels": 1, "format": "f32", "samples": [..interleaved..]}}` |
//! | array | `{"$array": {"dtype": "float32", "shape": [2, 3], "data": [..row-major..]}}` |
//!
//! Non-finite floats (`NaN`, `inf`) have no JSON form: [`Value::to_json`] refuses them with an
//! error rather than writing `null`, so no data is silently lost.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Number, Value as Json};

use super::{AudioBuffer, Buffer, DType, Map, NdArray, SampleFormat, Value};
use crate::error::{Error, Result};

/// The keys of the tagged objects described in the module docs.
pub const JSON_TAGS: [&str; 3] = ["$bytes", "$audio", "$array"];

/// Parses one JSON document into a [`Value`].
pub fn value_from_json_text(text: &str) -> Result<Value> {
    Value::from_json(parse_json_text(text).map_err(Error::invalid_value)?)
}

/// Parses JSON text that carries values: integer literals outside 64 bits are an error (serde_json
/// would read them as floats), and so is nesting past serde_json's recursion limit, in the words of
/// [`json_parse_error`].
pub fn parse_json_text(text: &str) -> std::result::Result<Json, String> {
    check_integers(text)?;
    serde_json::from_str(text).map_err(|e| json_parse_error(&e))
}

/// Finds integer literals (digits, no fraction or exponent) outside `i64` in JSON text; JSON
/// parsers read them as floats, silently changing the value.
pub fn check_integers(text: &str) -> std::result::Result<(), String> {
    let bytes = text.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                i += 1;
            }
            let token = &text[start..i];
            let integer = !token.contains(['.', 'e', 'E']);
            // More than 18 digits may be out of range; fewer never are.
            if integer
                && token.len() > 18
                && token.parse::<i64>().is_err()
                && token.bytes().skip(1).all(|d| d.is_ascii_digit())
            {
                return Err(out_of_range(token));
            }
            continue;
        }
        i += 1;
    }
    Ok(())
}

fn out_of_range(literal: &str) -> String {
    format!("integer {literal} is out of range: integers must fit in 64 bits (-2^63..2^63-1)")
}

/// The message for JSON text that cannot be parsed; text nested past serde_json's own recursion
/// limit (128) says so in the words of [`super::nesting_error`].
pub fn json_parse_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        return format!(
            "invalid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            super::nesting_error()
        );
    }
    format!("invalid JSON: {text}")
}

fn too_deep() -> Error {
    Error::invalid_value(super::nesting_error())
}

impl Value {
    /// Converts parsed JSON, decoding the tagged forms of bytes, audio and arrays. Lists and
    /// maps nested deeper than [`super::MAX_NESTING`] are an error.
    pub fn from_json(json: Json) -> Result<Value> {
        Self::from_json_at(json, 0)
    }

    fn from_json_at(json: Json, depth: usize) -> Result<Value> {
        if matches!(json, Json::Array(_) | Json::Object(_)) && depth >= super::MAX_NESTING {
            return Err(too_deep());
        }
        Ok(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => number(&n)?,
            Json::String(s) => Value::Text(Arc::from(s)),
            Json::Array(items) => Value::List(Arc::new(
                items
                    .into_iter()
                    .map(|item| Value::from_json_at(item, depth + 1))
                    .collect::<Result<_>>()?,
            )),
            Json::Object(obj) => {
                if obj.len() == 1
                    && let Some((key, body)) = obj.iter().next()
                    && JSON_TAGS.contains(&key.as_str())
                {
                    return tagged(key, body);
                }
                let mut map = Map::with_capacity(obj.len());
                for (k, v) in obj {
                    map.insert(k, Value::from_json_at(v, depth + 1)?);
                }
                Value::Map(Arc::new(map))
            }
        })
    }

    /// Converts to JSON. Fails on non-finite floats, which JSON cannot represent, and on lists
    /// and maps nested deeper than [`super::MAX_NESTING`].
    pub fn to_json(&self) -> Result<Json> {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> Result<Json> {
        if matches!(self, Value::List(_) | Value::Map(_)) && depth >= super::MAX_NESTING {
            return Err(too_deep());
        }
        Ok(match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::Number((*i).into()),
            Value::Float(f) => Json::Number(finite(*f)?),
            Value::Text(s) => Json::String(s.to_string()),
            Value::Bytes(b) => tag(
                "$bytes",
                Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            ),
            Value::List(items) => Json::Array(
                items
                    .iter()
                    .map(|v| v.to_json_at(depth + 1))
                    .collect::<Result<_>>()?,
            ),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json_at(depth + 1)?)))
                    .collect::<Result<_>>()?,
            ),
            Value::Audio(a) => audio_to_json(a)?,
            Value::Array(a) => array_to_json(a)?,
        })
    }
}

fn number(n: &Number) -> Result<Value> {
    if let Some(i) = n.as_i64() {
        Ok(Value::Int(i))
    } else if n.is_u64() {
        Err(Error::invalid_value(out_of_range(&n.to_string())))
    } else {
        n.as_f64()
            .map(Value::Float)
            .ok_or_else(|| Error::invalid_value(format!("number {n} cannot be represented")))
    }
}

fn finite(f: f64) -> Result<Number> {
    Number::from_f64(f).ok_or_else(|| {
        Error::invalid_value(format!(
            "the float {f} has no JSON representation (only finite floats do)"
        ))
    })
}

fn tag(key: &str, body: Json) -> Json {
    let mut obj = serde_json::Map::new();
    obj.insert(key.to_string(), body);
    Json::Object(obj)
}

fn tagged(key: &str, body: &Json) -> Result<Value> {
    let bad = |what: &str| Error::invalid_value(format!("`{key}` object: {what}"));
    if key == "$bytes" {
        let text = body.as_str().ok_or_else(|| bad("expected a base64 string"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| bad(&format!("invalid base64: {e}")))?;
        return Ok(Value::Bytes(bytes.into()));
    }
    let obj = body.as_object().ok_or_else(|| bad("expected an object"))?;
    let field = |name: &str| {
        obj.get(name)
            .ok_or_else(|| bad(&format!("missing field `{name}`")))
    };
    let uint = |name: &str| -> Result<u64> {
        field(name)?
            .as_u64()
            .ok_or_else(|| bad(&format!("field `{name}` must be a non-negative integer")))
    };
    let numbers = |name: &str| -> Result<&Vec<Json>> {
        field(name)?
            .as_array()
            .ok_or_else(|| bad(&format!("field `{name}` must be a list of numbers")))
    };
    if key == "$audio" {
        let rate = u32::try_from(uint("sample_rate")?).map_err(|_| bad("`sample_rate` is too large"))?;
        super::check_input_sample_rate(rate).map_err(|e| bad(&e))?;
        let channels = u16::try_from(uint("channels")?).map_err(|_| bad("`channels` is too large"))?;
        let format_name = field("format")?.as_str().unwrap_or_default();
        let format = SampleFormat::from_name(format_name).ok_or_else(|| {
            bad(&format!(
                "unknown sample format `{format_name}`; expected f32, i16 or i32"
            ))
        })?;
        let samples = numbers("samples")?;
        let data = match format {
            SampleFormat::F32 => typed_buffer::<f32>(samples, |n| n.as_f64().map(|f| f as f32)),
            SampleFormat::I16 => {
                typed_buffer::<i16>(samples, |n| n.as_i64().and_then(|i| i16::try_from(i).ok()))
            }
            SampleFormat::I32 => {
                typed_buffer::<i32>(samples, |n| n.as_i64().and_then(|i| i32::try_from(i).ok()))
            }
        }
        .map_err(|i| bad(&format!("sample {i} is not a valid `{format_name}` value")))?;
        return AudioBuffer::new(rate, channels, format, data).map(Value::from);
    }
    let dtype_name = field("dtype")?.as_str().unwrap_or_default();
    let dtype =
        DType::from_name(dtype_name).ok_or_else(|| bad(&format!("unsupported dtype `{dtype_name}`")))?;
    let shape = field("shape")?
        .as_array()
        .and_then(|dims| {
            dims.iter()
                .map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| bad("field `shape` must be a list of non-negative integers"))?;
    let data = numbers("data")?;
    let int = |n: &Json| n.as_i64();
    let buffer = match dtype {
        DType::Bool => typed_buffer::<u8>(data, |n| {
            n.as_bool()
                .map(u8::from)
                .or_else(|| n.as_u64().filter(|v| *v <= 1).map(|v| v as u8))
        }),
        DType::I8 => typed_buffer::<i8>(data, |n| int(n).and_then(|i| i8::try_from(i).ok())),
        DType::I16 => typed_buffer::<i16>(data, |n| int(n).and_then(|i| i16::try_from(i).ok())),
        DType::I32 => typed_buffer::<i32>(data, |n| int(n).and_then(|i| i32::try_from(i).ok())),
        DType::I64 => typed_buffer::<i64>(data, int),
        DType::U8 => typed_buffer::<u8>(data, |n| n.as_u64().and_then(|i| u8::try_from(i).ok())),
        DType::U16 => typed_buffer::<u16>(data, |n| n.as_u64().and_then(|i| u16::try_from(i).ok())),
        DType::U32 => typed_buffer::<u32>(data, |n| n.as_u64().and_then(|i| u32::try_from(i).ok())),
        DType::U64 => typed_buffer::<u64>(data, Json::as_u64),
        DType::F32 => typed_buffer::<f32>(data, |n| n.as_f64().map(|f| f as f32)),
        DType::F64 => typed_buffer::<f64>(data, Json::as_f64),
    }
    .map_err(|i| bad(&format!("element {i} is not a valid `{dtype_name}` value")))?;
    NdArray::new(dtype, shape, buffer).map(Value::from)
}

/// Converts JSON numbers into a typed buffer; on failure returns the index of the bad element.
fn typed_buffer<T: bytemuck::Pod + Send + Sync>(
    items: &[Json],
    convert: impl Fn(&Json) -> Option<T>,
) -> std::result::Result<Buffer, usize> {
    let values = items
        .iter()
        .enumerate()
        .map(|(i, n)| convert(n).ok_or(i))
        .collect::<std::result::Result<Vec<T>, usize>>()?;
    Ok(Buffer::from_vec(values))
}

fn float_list(values: impl Iterator<Item = f64>) -> Result<Json> {
    Ok(Json::Array(
        values
            .map(|f| finite(f).map(Json::Number))
            .collect::<Result<_>>()?,
    ))
}

fn int_list<T: Into<Number> + Copy>(values: &[T]) -> Json {
    Json::Array(values.iter().map(|v| Json::Number((*v).into())).collect())
}

fn audio_to_json(a: &AudioBuffer) -> Result<Json> {
    let samples = match a.format() {
        SampleFormat::F32 => float_list(
            a.data()
                .to_vec::<f32>()
                .unwrap_or_default()
                .into_iter()
                .map(f64::from),
        )?,
        SampleFormat::I16 => int_list(&a.data().to_vec::<i16>().unwrap_or_default()),
        SampleFormat::I32 => int_list(&a.data().to_vec::<i32>().unwrap_or_default()),
    };
    Ok(tag(
        "$audio",
        serde_json::json!({
            "sample_rate": a.sample_rate(),
            "channels": a.channels(),
            "format": a.format().name(),
            "samples": samples,
        }),
    ))
}

fn array_to_json(a: &NdArray) -> Result<Json> {
    let d = a.data();
    let data = match a.dtype() {
        DType::Bool => Json::Array(d.as_bytes().iter().map(|b| Json::Bool(*b != 0)).collect()),
        DType::I8 => int_list(&d.to_vec::<i8>().unwrap_or_default()),
        DType::I16 => int_list(&d.to_vec::<i16>().unwrap_or_default()),
        DType::I32 => int_list(&d.to_vec::<i32>().unwrap_or_default()),
        DType::I64 => int_list(&d.to_vec::<i64>().unwrap_or_default()),
        DType::U8 => int_list(&d.to_vec::<u8>().unwrap_or_default()),
        DType::U16 => int_list(&d.to_vec::<u16>().unwrap_or_default()),
        DType::U32 => int_list(&d.to_vec::<u32>().unwrap_or_default()),
        DType::U64 => int_list(&d.to_vec::<u64>().unwrap_or_default()),
        DType::F32 | DType::F64 => float_list(a.to_f64_vec().into_iter())?,
    };
    Ok(tag(
        "$array",
        serde_json::json!({ "dtype": a.dtype().name(), "shape": a.shape(), "data": data }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let v = value_from_json_text(text).expect("valid");
        serde_json::to_string(&v.to_json().expect("finite")).expect("serializable")
    }

    #[test]
    fn ints_stay_ints_and_floats_stay_floats() {
        assert_eq!(round_trip("[1,1.0,-3,2.5,1e3]"), "[1,1.0,-3,2.5,1000.0]");
        assert_eq!(value_from_json_text("1.0").expect("float"), Value::Float(1.0));
        assert_eq!(value_from_json_text("1").expect("int"), Value::Int(1));
    }

    #[test]
    fn objects_keep_key_order() {
        assert_eq!(
            round_trip(r#"{"z":1,"a":{"y":null,"b":[true,"x"]}}"#),
            r#"{"z":1,"a":{"y":null,"b":[true,"x"]}}"#
        );
    }

    #[test]
    fn huge_integers_are_rejected() {
        let err = value_from_json_text("18446744073709551615").expect_err("u64 max");
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn non_finite_floats_are_refused() {
        let err = Value::Float(f64::NAN).to_json().expect_err("NaN");
        assert!(err.to_string().contains("no JSON representation"), "{err}");
    }

    #[test]
    fn tagged_values_round_trip() {
        let bytes = r#"{"$bytes":"AAEC/w=="}"#;
        assert_eq!(round_trip(bytes), bytes);
        assert_eq!(
            value_from_json_text(bytes).expect("bytes"),
            Value::Bytes(vec![0u8, 1, 2, 255].into())
        );
        let audio = r#"{"$audio":{"sample_rate":8000,"channels":2,"format":"i16","samples":[1,-2,3,-4]}}"#;
        assert_eq!(round_trip(audio), audio);
        let a = value_from_json_text(audio).expect("audio");
        assert_eq!(a.as_audio().map(AudioBuffer::frames), Some(2));
        let array = r#"{"$array":{"dtype":"float32","shape":[2,2],"data":[1.0,2.5,-3.0,4.0]}}"#;
        assert_eq!(round_trip(array), array);
    }

    #[test]
    fn bad_tagged_values_say_what_is_wrong() {
        let err = value_from_json_text(r#"{"$array":{"dtype":"int8","shape":[2],"data":[1,300]}}"#)
            .expect_err("300 > i8");
        assert!(
            err.to_string().contains("element 1 is not a valid `int8` value"),
            "{err}"
        );
        let err = value_from_json_text(
            r#"{"$audio":{"sample_rate":8000,"channels":1,"format":"f64","samples":[]}}"#,
        )
        .expect_err("f64");
        assert!(err.to_string().contains("unknown sample format `f64`"), "{err}");
    }

    #[test]
    fn the_reported_float_reads_exactly() {
        // Read inexactly before serde_json's `float_roundtrip` feature: ...783e-10.
        assert_eq!(round_trip("[9.313225746154785e-10]"), "[9.313225746154785e-10]");
        assert_eq!(
            value_from_json_text("9.313225746154785e-10").expect("float"),
            Value::Float(9.313_225_746_154_785e-10)
        );
    }

    proptest::proptest! {
        #[test]
        fn every_finite_float_round_trips_bit_exactly(bits in proptest::num::u64::ANY) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            // Written the way JSON producers write floats (shortest round-trip form), and read back.
            let text = serde_json::to_string(&Value::Float(f).to_json().expect("finite")).expect("text");
            let read = value_from_json_text(&text).expect("valid");
            match read {
                Value::Float(g) => proptest::prop_assert_eq!(g.to_bits(), f.to_bits(), "{}", text),
                // Integral floats are written with `.0` and stay floats.
                other => proptest::prop_assert!(false, "{text} read as {other:?}"),
            }
            // Python's repr and exponent forms too.
            for form in [format!("{f:e}"), format!("{f:?}")] {
                if let Ok(Value::Float(g)) = value_from_json_text(&form) {
                    proptest::prop_assert_eq!(g.to_bits(), f.to_bits(), "{}", form);
                }
            }
        }
    }
}
