//! Python values ⇄ engine [`Value`]s.
//!
//! | Python | engine | back to Python |
//! |---|---|---|
//! | `None`, `bool`, `int` (64-bit; larger is an error), `float`, `str` | same | same |
//! | `bytes`, `bytearray` | bytes (copied) | `bytes` |
//! | `list`, `tuple` | list | `list` (tuples come back as lists) |
//! | `dict` with `str` keys | map | `dict` |
//! | numpy array, any numeric dtype | array | read-only numpy array |
//! | `remotemedia.audio.Audio` | audio (interleaved) | `Audio` with a read-only `(frames, channels)` array |
//! | numpy scalar | its Python value | int / float / bool |
//!
//! Lists and maps nest at most `MAX_NESTING` levels either way (a `ValueError` past it).
//!
//! Numpy arrays (and audio samples) that are C-contiguous and aligned cross **without a copy** in
//! both directions: the engine holds a reference to the numpy array, and arrays handed back to
//! Python view the engine's memory (read-only). Other layouts (strided views, Fortran order) are
//! copied into C order once.

use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use remotemedia_core::{AudioBuffer, DType, MAX_NESTING, Map, NdArray, SampleFormat, Value, nesting_error};

use crate::buffers::{copy_numpy, numpy_view, wrap_numpy};

/// Converts one Python object. Lists, tuples and dicts nested deeper than [`MAX_NESTING`] are an
/// error (`ValueError`), never a stack overflow.
pub fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value_at(obj, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    let container =
        obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyDict>();
    if container && depth >= MAX_NESTING {
        return Err(PyValueError::new_err(nesting_error()));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().map(Value::Int).map_err(|_| {
            PyValueError::new_err(format!(
                "integer {obj} is out of range: the engine carries 64-bit integers (-2**63 .. 2**63-1)"
            ))
        });
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(obj.extract::<f64>()?));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::from(s.to_cow()?.as_ref()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(bytes::Bytes::copy_from_slice(b.as_bytes())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Value::Bytes(bytes::Bytes::from(b.to_vec())));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| to_value_at(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::from);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| to_value_at(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::from);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "dict keys must be str to cross into the engine, found {} {}",
                    k.get_type().name().map(|n| n.to_string()).unwrap_or_default(),
                    k.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            map.insert(key.to_cow()?.into_owned(), to_value_at(&v, depth + 1)?);
        }
        return Ok(Value::from(map));
    }
    if let Ok(array) = obj.cast::<PyUntypedArray>() {
        return array_to_value(array).map(Value::from);
    }
    if is_audio(obj)? {
        return audio_to_value(obj);
    }
    // numpy scalars (np.int32(3), np.float32(1.5), np.bool_(True)) carry a plain Python value.
    if obj.hasattr("dtype")? && obj.hasattr("item")? {
        return to_value(&obj.call_method0("item")?);
    }
    Err(PyTypeError::new_err(format!(
        "cannot pass a `{}` through a pipeline; supported: None, bool, int, float, str, bytes, list, tuple, dict, numpy arrays and remotemedia.audio.Audio",
        obj.get_type().name()?
    )))
}

fn is_audio(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = obj.py();
    match py.import("remotemedia.audio").and_then(|m| m.getattr("Audio")) {
        Ok(cls) => obj.is_instance(&cls),
        Err(_) => Ok(false),
    }
}

fn dtype_of(array: &Bound<'_, PyUntypedArray>) -> PyResult<DType> {
    let descr = array.dtype();
    let kind: char = descr.kind().into();
    let size = descr.itemsize();
    let dtype = match (kind, size) {
        ('b', 1) => DType::Bool,
        ('i', 1) => DType::I8,
        ('i', 2) => DType::I16,
        ('i', 4) => DType::I32,
        ('i', 8) => DType::I64,
        ('u', 1) => DType::U8,
        ('u', 2) => DType::U16,
        ('u', 4) => DType::U32,
        ('u', 8) => DType::U64,
        ('f', 4) => DType::F32,
        ('f', 8) => DType::F64,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "numpy dtype `{}` is not supported yet; supported: bool, int8..int64, uint8..uint64, float32, float64",
                descr.str()?
            )));
        }
    };
    if !descr.is_native_byteorder().unwrap_or(true) {
        return Err(PyTypeError::new_err(format!(
            "numpy arrays in non-native byte order (`{}`) are not supported yet; convert with `arr.astype(arr.dtype.newbyteorder('='))`",
            descr.str()?
        )));
    }
    Ok(dtype)
}

fn array_to_value(array: &Bound<'_, PyUntypedArray>) -> PyResult<NdArray> {
    let dtype = dtype_of(array)?;
    let shape = array.shape().to_vec();
    // Frozen memory is shared; anything Python could write meanwhile (or strided, unaligned) is
    // copied into C order once.
    let buffer = match wrap_numpy(array, dtype.size())? {
        Some(buffer) => buffer,
        None => copy_numpy(array, dtype.size())?,
    };
    NdArray::new(dtype, shape, buffer).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn audio_to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let samples = obj.getattr("samples")?;
    let rate: u32 = obj.getattr("sample_rate")?.extract()?;
    let array = samples
        .cast::<PyUntypedArray>()
        .map_err(|_| PyTypeError::new_err("Audio.samples must be a numpy array"))?;
    let nd = array_to_value(array)?;
    let format = match nd.dtype() {
        DType::F32 => SampleFormat::F32,
        DType::I16 => SampleFormat::I16,
        DType::I32 => SampleFormat::I32,
        other => {
            return Err(PyTypeError::new_err(format!(
                "Audio.samples must be float32, int16 or int32, found {}",
                other.name()
            )));
        }
    };
    let channels = match nd.shape() {
        [_] => 1,
        [_, c] => u16::try_from(*c).map_err(|_| PyValueError::new_err("too many audio channels"))?,
        other => {
            return Err(PyValueError::new_err(format!(
                "Audio.samples must have shape (frames,) or (frames, channels), found {other:?}"
            )));
        }
    };
    AudioBuffer::new(rate, channels, format, nd.data().clone())
        .map(Value::from)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Converts one engine value to Python.
pub fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    to_python_at(py, value, 0)
}

fn to_python_at<'py>(py: Python<'py>, value: &Value, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    if matches!(value, Value::List(_) | Value::Map(_)) && depth >= MAX_NESTING {
        return Err(PyValueError::new_err(nesting_error()));
    }
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Text(t) => PyString::new(py, t).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        Value::List(items) => {
            let converted = items
                .iter()
                .map(|v| to_python_at(py, v, depth + 1))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, converted)?.into_any()
        }
        Value::Map(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map.iter() {
                dict.set_item(k, to_python_at(py, v, depth + 1)?)?;
            }
            dict.into_any()
        }
        Value::Array(array) => array_to_python(py, array.dtype(), array.data(), array.shape())?,
        Value::Audio(audio) => {
            let dtype = match audio.format() {
                SampleFormat::F32 => DType::F32,
                SampleFormat::I16 => DType::I16,
                SampleFormat::I32 => DType::I32,
            };
            let shape = [audio.frames(), audio.channels() as usize];
            let samples = array_to_python(py, dtype, audio.data(), &shape)?;
            py.import("remotemedia.audio")?
                .getattr("Audio")?
                .call1((samples, audio.sample_rate()))?
        }
    })
}

fn array_to_python<'py>(
    py: Python<'py>,
    dtype: DType,
    data: &remotemedia_core::Buffer,
    shape: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    match dtype {
        DType::Bool => numpy_view::<u8>(py, data, shape)?.call_method1("view", ("bool",)),
        DType::I8 => numpy_view::<i8>(py, data, shape),
        DType::I16 => numpy_view::<i16>(py, data, shape),
        DType::I32 => numpy_view::<i32>(py, data, shape),
        DType::I64 => numpy_view::<i64>(py, data, shape),
        DType::U8 => numpy_view::<u8>(py, data, shape),
        DType::U16 => numpy_view::<u16>(py, data, shape),
        DType::U32 => numpy_view::<u32>(py, data, shape),
        DType::U64 => numpy_view::<u64>(py, data, shape),
        DType::F32 => numpy_view::<f32>(py, data, shape),
        DType::F64 => numpy_view::<f64>(py, data, shape),
    }
}

/// Converts a Python sequence of inputs.
pub fn to_values(inputs: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    if let Ok(list) = inputs.cast::<PyList>() {
        return list.iter().map(|item| to_value(&item)).collect();
    }
    inputs.try_iter()?.map(|item| to_value(&item?)).collect()
}

/// Converts engine outputs to a Python list.
pub fn to_list<'py>(py: Python<'py>, values: &[Value]) -> PyResult<Bound<'py, PyList>> {
    let converted = values
        .iter()
        .map(|v| to_python(py, v))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, converted)
}
