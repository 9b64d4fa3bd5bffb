//! Engine [`Value`]s ⇄ RustPython objects, natively (no source text or JSON in between).
//!
//! | engine | inside the VM | back |
//! |---|---|---|
//! | null, bool, int, float, text, bytes | `None`, `bool`, `int`, `float`, `str`, `bytes` | same (`bytearray` → bytes) |
//! | list | `list` | list (`tuple` → list too) |
//! | map | `dict` (str keys) | map |
//! | array | `remotemedia.Array` (`data`: flat `array.array`, `shape`, `dtype`) | array; a bare `array.array` → 1-D array |
//! | audio | `remotemedia.Audio` (`samples`: interleaved `array.array`, `sample_rate`, `channels`, `format`) | audio |
//!
//! Lists and maps nest at most `MAX_NESTING` levels either way (an error past it, never a stack
//! overflow). Arrays and audio samples are copied once into an `array.array` (RustPython objects cannot
//! borrow engine memory), and once back.

use remotemedia_core::{
    AudioBuffer, Buffer, DType, MAX_NESTING, Map, NdArray, NodeError, SampleFormat, Value, nesting_error,
};
use rustpython::vm::builtins::{PyBytes, PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple};
use rustpython::vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};

fn typecode(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool | DType::U8 => "B",
        DType::I8 => "b",
        DType::I16 => "h",
        DType::U16 => "H",
        DType::I32 => "i",
        DType::U32 => "I",
        DType::I64 => "q",
        DType::U64 => "Q",
        DType::F32 => "f",
        DType::F64 => "d",
    }
}

fn dtype_for_typecode(code: &str) -> Option<DType> {
    Some(match code {
        "b" => DType::I8,
        "B" => DType::U8,
        "h" => DType::I16,
        "H" => DType::U16,
        "i" => DType::I32,
        "I" => DType::U32,
        "l" | "q" => DType::I64,
        "L" | "Q" => DType::U64,
        "f" => DType::F32,
        "d" => DType::F64,
        _ => return None,
    })
}

fn prelude_class(vm: &VirtualMachine, name: &'static str) -> PyResult {
    vm.import("remotemedia", 0)?.get_attr(name, vm)
}

fn array_array(vm: &VirtualMachine, code: &str, bytes: &[u8]) -> PyResult {
    let ctor = vm.import("array", 0)?.get_attr("array", vm)?;
    ctor.call((vm.ctx.new_str(code), vm.ctx.new_bytes(bytes.to_vec())), vm)
}

/// An engine value as a Python object.
pub fn to_py(vm: &VirtualMachine, value: &Value) -> PyResult {
    to_py_at(vm, value, 0)
}

fn to_py_at(vm: &VirtualMachine, value: &Value, depth: usize) -> PyResult {
    if matches!(value, Value::List(_) | Value::Map(_)) && depth >= MAX_NESTING {
        return Err(vm.new_value_error(nesting_error()));
    }
    Ok(match value {
        Value::Null => vm.ctx.none(),
        Value::Bool(b) => vm.ctx.new_bool(*b).into(),
        Value::Int(i) => vm.ctx.new_int(*i).into(),
        Value::Float(f) => vm.ctx.new_float(*f).into(),
        Value::Text(t) => vm.ctx.new_str(&**t).into(),
        Value::Bytes(b) => vm.ctx.new_bytes(b.to_vec()).into(),
        Value::List(items) => {
            let converted = items
                .iter()
                .map(|v| to_py_at(vm, v, depth + 1))
                .collect::<PyResult<Vec<_>>>()?;
            vm.ctx.new_list(converted).into()
        }
        Value::Map(map) => {
            let dict = vm.ctx.new_dict();
            for (k, v) in map.iter() {
                dict.set_item(k.as_str(), to_py_at(vm, v, depth + 1)?, vm)?;
            }
            dict.into()
        }
        Value::Array(a) => {
            let data = array_array(vm, typecode(a.dtype()), a.data().as_bytes())?;
            let shape: Vec<PyObjectRef> = a.shape().iter().map(|&d| vm.ctx.new_int(d).into()).collect();
            prelude_class(vm, "Array")?.call(
                (data, vm.ctx.new_tuple(shape), vm.ctx.new_str(a.dtype().name())),
                vm,
            )?
        }
        Value::Audio(a) => {
            let code = match a.format() {
                SampleFormat::F32 => "f",
                SampleFormat::I16 => "h",
                SampleFormat::I32 => "i",
            };
            let samples = array_array(vm, code, a.data().as_bytes())?;
            prelude_class(vm, "Audio")?.call(
                (
                    samples,
                    vm.ctx.new_int(a.sample_rate()),
                    vm.ctx.new_int(a.channels()),
                    vm.ctx.new_str(a.format().name()),
                ),
                vm,
            )?
        }
    })
}

fn unsupported(obj: &PyObjectRef) -> NodeError {
    NodeError::invalid_input(format!(
        "a Python node produced a `{}`, which a pipeline cannot carry (supported: None, bool, int, float, str, bytes, list, tuple, dict with str keys, array.array, remotemedia.Array, remotemedia.Audio)",
        obj.class().name()
    ))
}

fn bytes_of(vm: &VirtualMachine, array: &PyObjectRef) -> Result<Vec<u8>, NodeError> {
    let raw = vm
        .call_method(array, "tobytes", ())
        .map_err(|e| crate::worker::python_error(vm, e))?;
    raw.downcast_ref::<PyBytes>()
        .map(|b| b.as_bytes().to_vec())
        .ok_or_else(|| NodeError::failed("array.tobytes() did not return bytes"))
}

fn typed_buffer(dtype: DType, bytes: Vec<u8>) -> Buffer {
    // Re-own as the element type so the engine can view it without copying again.
    match dtype.size() {
        2 => Buffer::from_vec(
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_ne_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        ),
        4 => Buffer::from_vec(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect::<Vec<_>>(),
        ),
        8 => Buffer::from_vec(
            bytes
                .chunks_exact(8)
                .map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect::<Vec<_>>(),
        ),
        _ => Buffer::from_vec(bytes),
    }
}

fn attr(vm: &VirtualMachine, obj: &PyObjectRef, name: &'static str) -> Result<PyObjectRef, NodeError> {
    obj.get_attr(name, vm)
        .map_err(|e| crate::worker::python_error(vm, e))
}

fn class_is(obj: &PyObjectRef, module: &str, name: &str, vm: &VirtualMachine) -> bool {
    let class = obj.class();
    &*class.name() == name
        && class
            .as_object()
            .get_attr("__module__", vm)
            .ok()
            .and_then(|m| m.downcast_ref::<PyStr>().map(|s| s.to_string_lossy() == module))
            .unwrap_or(false)
}

/// A Python object as an engine value. Lists, tuples and dicts nested deeper than
/// [`MAX_NESTING`] are an error.
pub fn from_py(vm: &VirtualMachine, obj: &PyObjectRef) -> Result<Value, NodeError> {
    from_py_at(vm, obj, 0)
}

fn from_py_at(vm: &VirtualMachine, obj: &PyObjectRef, depth: usize) -> Result<Value, NodeError> {
    let container = obj.downcast_ref::<PyList>().is_some()
        || obj.downcast_ref::<PyTuple>().is_some()
        || obj.downcast_ref::<PyDict>().is_some();
    if container && depth >= MAX_NESTING {
        return Err(NodeError::invalid_input(nesting_error()));
    }
    if vm.is_none(obj) {
        return Ok(Value::Null);
    }
    if obj.class().is(vm.ctx.types.bool_type) {
        return Ok(Value::Bool(
            obj.clone()
                .try_to_bool(vm)
                .map_err(|e| crate::worker::python_error(vm, e))?,
        ));
    }
    if let Some(i) = obj.downcast_ref::<PyInt>() {
        return i.try_to_primitive::<i64>(vm).map(Value::Int).map_err(|_| {
            NodeError::invalid_input(format!(
                "integer {} is out of range: the engine carries 64-bit integers",
                i.as_bigint()
            ))
        });
    }
    if let Some(f) = obj.downcast_ref::<PyFloat>() {
        return Ok(Value::Float(f.to_f64()));
    }
    if let Some(s) = obj.downcast_ref::<PyStr>() {
        return Ok(Value::from(&*s.to_string_lossy()));
    }
    if let Some(b) = obj.downcast_ref::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec().into()));
    }
    if let Some(list) = obj.downcast_ref::<PyList>() {
        let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
        return items
            .iter()
            .map(|o| from_py_at(vm, o, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from);
    }
    if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        return tuple
            .as_slice()
            .iter()
            .map(|o| from_py_at(vm, o, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from);
    }
    if let Some(dict) = obj.downcast_ref::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict {
            let key = k.downcast_ref::<PyStr>().ok_or_else(|| {
                NodeError::invalid_input(format!(
                    "dict keys must be str to leave a Python node, found `{}`",
                    k.class().name()
                ))
            })?;
            map.insert(key.to_string_lossy().into_owned(), from_py_at(vm, &v, depth + 1)?);
        }
        return Ok(Value::from(map));
    }
    let class_name = obj.class().name().to_string();
    if class_name == "bytearray" {
        let copy = vm
            .ctx
            .types
            .bytes_type
            .as_object()
            .call((obj.clone(),), vm)
            .map_err(|e| crate::worker::python_error(vm, e))?;
        return from_py(vm, &copy);
    }
    if class_name == "array" && class_is(obj, "array", "array", vm) {
        let code = attr(vm, obj, "typecode")?;
        let code = code
            .downcast_ref::<PyStr>()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dtype = dtype_for_typecode(&code).ok_or_else(|| {
            NodeError::invalid_input(format!("array.array typecode `{code}` is not supported"))
        })?;
        let bytes = bytes_of(vm, obj)?;
        let len = bytes.len() / dtype.size();
        return NdArray::new(dtype, vec![len], typed_buffer(dtype, bytes))
            .map(Value::from)
            .map_err(|e| NodeError::invalid_input(e.to_string()));
    }
    if class_is(obj, "remotemedia", "Array", vm) {
        let dtype_name = attr(vm, obj, "dtype")?;
        let dtype_name = dtype_name
            .downcast_ref::<PyStr>()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dtype = DType::from_name(&dtype_name)
            .ok_or_else(|| NodeError::invalid_input(format!("unsupported array dtype `{dtype_name}`")))?;
        let shape = match from_py(vm, &attr(vm, obj, "shape")?)? {
            Value::List(dims) => dims
                .iter()
                .map(|d| d.as_int().map(|d| d as usize))
                .collect::<Option<Vec<_>>>(),
            _ => None,
        }
        .ok_or_else(|| NodeError::invalid_input("Array.shape must be a tuple of ints"))?;
        let bytes = bytes_of(vm, &attr(vm, obj, "data")?)?;
        return NdArray::new(dtype, shape, typed_buffer(dtype, bytes))
            .map(Value::from)
            .map_err(|e| NodeError::invalid_input(e.to_string()));
    }
    if class_is(obj, "remotemedia", "Audio", vm) {
        let int = |name: &'static str| -> Result<i64, NodeError> {
            from_py(vm, &attr(vm, obj, name)?)?
                .as_int()
                .ok_or_else(|| NodeError::invalid_input(format!("Audio.{name} must be an int")))
        };
        let format_name = from_py(vm, &attr(vm, obj, "format")?)?;
        let format = format_name
            .as_str()
            .and_then(SampleFormat::from_name)
            .ok_or_else(|| NodeError::invalid_input("Audio.format must be \"f32\", \"i16\" or \"i32\""))?;
        let bytes = bytes_of(vm, &attr(vm, obj, "samples")?)?;
        let dtype = match format {
            SampleFormat::F32 => DType::F32,
            SampleFormat::I16 => DType::I16,
            SampleFormat::I32 => DType::I32,
        };
        let rate =
            u32::try_from(int("sample_rate")?).map_err(|_| NodeError::invalid_input("bad sample_rate"))?;
        let channels =
            u16::try_from(int("channels")?).map_err(|_| NodeError::invalid_input("bad channel count"))?;
        return AudioBuffer::new(rate, channels, format, typed_buffer(dtype, bytes))
            .map(Value::from)
            .map_err(|e| NodeError::invalid_input(e.to_string()));
    }
    Err(unsupported(obj))
}
