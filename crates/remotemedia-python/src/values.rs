//! The engine's own value helpers for the Python package, so that it uses them instead of copies
//! whenever the extension is installed: tagged JSON (the CLI's and the server's wire format),
//! WAV files, and sample-format conversion. `remotemedia._backend.shared` picks these or the
//! pure-Python fallback's twins.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use remotemedia_core::{SampleFormat, Value};
use remotemedia_cpython::convert::{to_python, to_value};
use remotemedia_io::wav::{self, WavEncoding};

fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(message.to_string())
}

/// `value` as tagged JSON text.
#[pyfunction]
pub fn to_tagged_json(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let json = to_value(value)?.to_json().map_err(value_error)?;
    Ok(json.to_string())
}

/// The value tagged JSON text stands for.
#[pyfunction]
pub fn from_tagged_json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let value = remotemedia_core::value::value_from_json_text(text).map_err(value_error)?;
    to_python(py, &value)
}

fn audio_of(audio: &Bound<'_, PyAny>) -> PyResult<Arc<remotemedia_core::AudioBuffer>> {
    match to_value(audio)? {
        Value::Audio(buffer) => Ok(buffer),
        _ => Err(pyo3::exceptions::PyTypeError::new_err(
            "expected remotemedia.audio.Audio",
        )),
    }
}

/// A WAV file as `Audio`, with the engine's sample mapping (`remotemedia_io::wav`).
#[pyfunction]
pub fn read_wav<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let audio = py.detach(|| wav::read_wav(&path)).map_err(value_error)?;
    to_python(py, &Value::from(audio))
}

/// Writes `audio` to a WAV file, in its own format unless `encoding` says otherwise.
#[pyfunction]
#[pyo3(signature = (path, audio, encoding=None))]
pub fn write_wav(
    py: Python<'_>,
    path: PathBuf,
    audio: &Bound<'_, PyAny>,
    encoding: Option<&str>,
) -> PyResult<()> {
    let encoding = encoding
        .map(|name| {
            WavEncoding::from_name(name).ok_or_else(|| {
                value_error(format!(
                    "unknown WAV encoding '{name}'; expected one of {}",
                    WavEncoding::NAMES.join(", ")
                ))
            })
        })
        .transpose()?;
    let audio = audio_of(audio)?;
    py.detach(|| wav::write_wav(&path, &audio, encoding))
        .map_err(value_error)
}

/// `audio` with its samples stored as `format` (`f32`, `i16`, `i32`), with the engine's rounding
/// and clipping rules (`remotemedia_core::samples`).
#[pyfunction]
pub fn convert_audio<'py>(
    py: Python<'py>,
    audio: &Bound<'py, PyAny>,
    format: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let format = SampleFormat::from_name(format).ok_or_else(|| {
        value_error(format!(
            "unknown sample format '{format}'; expected f32, i16 or i32"
        ))
    })?;
    let converted = remotemedia_core::samples::convert(&audio_of(audio)?, format).map_err(value_error)?;
    to_python(py, &Value::Audio(converted))
}
