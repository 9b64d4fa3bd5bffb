//! Audio files for Python through `remotemedia-io`: a streaming reader of `Audio` chunks
//! (`AudioFileReader`), one file fed to a plan's session in chunks (`Plan.run_audio_file`), and
//! many files in parallel with a progress bar (`Plan.run_files`), all decoded natively.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use remotemedia_core::{Pipeline, Value};
use remotemedia_cpython::convert::{to_list, to_python};
use remotemedia_io::{
    AudioChunks, AudioFileSource, BatchOptions, FileResult, InputError, OutputEncoding, Progress,
    ProgressMode, RawFormat, RunError, expand_inputs, run_files_shown, run_to_report,
};

use crate::awaitable;
use crate::errors::{audio_file_error, audio_input_error, to_py_err};

/// A streaming reader of an audio file: iterating yields `remotemedia.audio.Audio` chunks of
/// `chunk_ms` milliseconds (the last one shorter), decoded without the GIL, one at a time.
#[pyclass(name = "AudioFileReader", module = "remotemedia_runtime")]
pub struct PyAudioFileReader {
    source: Option<AudioFileSource>,
    #[pyo3(get)]
    path: String,
    #[pyo3(get)]
    sample_rate: u32,
    #[pyo3(get)]
    channels: u16,
    #[pyo3(get)]
    chunk_ms: u32,
    /// The file's length in seconds, when its container states it.
    #[pyo3(get)]
    duration: Option<f64>,
}

#[pymethods]
impl PyAudioFileReader {
    #[new]
    #[pyo3(signature = (path, chunk_ms = 100))]
    fn new(py: Python<'_>, path: PathBuf, chunk_ms: u32) -> PyResult<Self> {
        if chunk_ms == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "chunk_ms must be at least 1",
            ));
        }
        let source = py
            .detach(|| AudioFileSource::open(&path, chunk_ms))
            .map_err(|e| audio_file_error(py, &e))?;
        Ok(Self {
            path: path.display().to_string(),
            sample_rate: source.sample_rate(),
            channels: source.channels(),
            duration: source.duration_secs(),
            chunk_ms,
            source: Some(source),
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(source) = self.source.as_mut() else {
            return Ok(None);
        };
        match py.detach(|| source.next_chunk()) {
            Ok(Some(chunk)) => Ok(Some(to_python(py, &Value::Audio(chunk.into()))?)),
            Ok(None) => {
                self.source = None;
                Ok(None)
            }
            Err(e) => {
                self.source = None;
                Err(audio_file_error(py, &e))
            }
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<remotemedia_runtime.AudioFileReader {:?} {} Hz, {} ch, chunks of {} ms>",
            self.path, self.sample_rate, self.channels, self.chunk_ms
        )
    }
}

impl PyAudioFileReader {
    /// The decoder, taken out of the reader (which then yields nothing more).
    pub fn take_source(&mut self) -> Option<AudioFileSource> {
        self.source.take()
    }
}

fn run_error(py: Python<'_>, e: RunError) -> PyErr {
    match e {
        RunError::Input(e) => audio_file_error(py, &e),
        RunError::Output(e) => pyo3::exceptions::PyOSError::new_err(e.to_string()),
        RunError::Pipeline(e) => to_py_err(py, e),
    }
}

/// Runs `pipeline` over the reader's remaining audio (fed through a session's bounded input, in
/// the reader's chunks); an awaitable of every output, grouped by sink.
pub fn run_audio_file<'py>(
    py: Python<'py>,
    pipeline: Pipeline,
    reader: &mut PyAudioFileReader,
) -> PyResult<Bound<'py, PyAny>> {
    let source = reader.take_source().ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("the reader of `{}` was already read", reader.path))
    })?;
    awaitable::spawn(
        py,
        async move {
            let chunks: AudioChunks = Box::new(source);
            run_to_report(&pipeline, chunks, None, &Progress::default()).await
        },
        |py, result| match result {
            Ok(report) => Ok(to_list(py, &report.outputs)?.into_any().unbind()),
            Err(e) => Err(run_error(py, e)),
        },
    )
}

/// The options of `Plan.run_files`, as Python passes them.
pub struct FilesRequest {
    pub inputs: Vec<PathBuf>,
    pub jobs: Option<usize>,
    pub chunk_ms: u32,
    pub output_dir: Option<PathBuf>,
    pub output_format: String,
    pub fail_fast: bool,
    pub progress: String,
    /// Results as the CLI's JSON lines (`str`) instead of dicts.
    pub as_json: bool,
}

/// Runs `pipeline` over many files (`remotemedia_io::run_files`, the CLI's runner): an awaitable
/// of one dict per file, in input order, as the CLI's JSON lines.
pub fn run_many<'py>(
    py: Python<'py>,
    pipeline: Pipeline,
    request: FilesRequest,
) -> PyResult<Bound<'py, PyAny>> {
    let value_error = pyo3::exceptions::PyValueError::new_err;
    let encoding = match request.output_format.as_str() {
        "wav" => OutputEncoding::Wav,
        name => OutputEncoding::Raw(RawFormat::from_name(name).ok_or_else(|| {
            value_error(format!(
                "output_format must be `wav` or one of {}, found `{name}`",
                RawFormat::NAMES.join(", ")
            ))
        })?),
    };
    let mode = ProgressMode::from_name(&request.progress).ok_or_else(|| {
        value_error(format!(
            "progress must be `auto`, `always` or `never`, found `{}`",
            request.progress
        ))
    })?;
    if request.chunk_ms == 0 {
        return Err(value_error("chunk_ms must be at least 1".to_string()));
    }
    let files = expand(py, &request.inputs)?;
    let as_json = request.as_json;
    let options = BatchOptions {
        jobs: request.jobs.unwrap_or_else(BatchOptions::default_jobs).max(1),
        chunk_ms: request.chunk_ms,
        output_dir: request.output_dir,
        encoding,
        fail_fast: request.fail_fast,
    };
    awaitable::spawn(
        py,
        async move {
            let progress = Arc::new(Progress::default());
            let mut results: Vec<FileResult> = Vec::with_capacity(files.len());
            let (_, shown) = run_files_shown(&pipeline, &files, &options, Arc::clone(&progress), mode, |r| {
                results.push(r);
                true
            })
            .await;
            if shown {
                eprintln!("{}", progress.summary());
            }
            results
        },
        move |py, results| {
            let list = pyo3::types::PyList::empty(py);
            for result in results {
                if as_json {
                    list.append(json_line(&result))?;
                    continue;
                }
                let entry = PyDict::new(py);
                entry.set_item("file", result.file.to_string_lossy())?;
                match result.outcome {
                    Ok(outputs) => {
                        if let Some(output) = &result.output {
                            entry.set_item("output", output.to_string_lossy())?;
                        }
                        entry.set_item("outputs", to_list(py, &outputs)?)?;
                    }
                    Err(error) => entry.set_item("error", error)?,
                }
                list.append(entry)?;
            }
            Ok(list.into_any().unbind())
        },
    )
}

fn expand(py: Python<'_>, inputs: &[PathBuf]) -> PyResult<Vec<remotemedia_io::InputFile>> {
    expand_inputs(inputs).map_err(|e| {
        let path = match &e {
            InputError::Missing(path) => path.clone(),
            InputError::Pattern { pattern, .. } => pattern.clone(),
            InputError::List { path, .. } => path.display().to_string(),
        };
        audio_input_error(py, e.to_string(), path)
    })
}

/// `expand_audio_inputs(inputs)`: the audio files `inputs` name, as the CLI lists them (paths
/// kept, folders searched recursively and sorted, glob patterns expanded); `AudioFileError` for a
/// path that does not exist or a pattern that matches nothing.
#[pyfunction]
pub fn expand_audio_inputs(py: Python<'_>, inputs: Vec<PathBuf>) -> PyResult<Vec<String>> {
    Ok(expand(py, &inputs)?
        .into_iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect())
}

/// A file's result as the CLI's JSON line; a result that cannot be written as JSON becomes the
/// file's error.
fn json_line(result: &FileResult) -> String {
    let record = result
        .to_json()
        .unwrap_or_else(|error| serde_json::json!({"file": result.file.to_string_lossy(), "error": error}));
    record.to_string()
}

/// Runs `pipeline` over an audio file in memory: an awaitable of its CLI JSON line.
pub fn run_bytes<'py>(
    py: Python<'py>,
    pipeline: Pipeline,
    data: Vec<u8>,
    name: PathBuf,
    chunk_ms: u32,
) -> PyResult<Bound<'py, PyAny>> {
    if chunk_ms == 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "chunk_ms must be at least 1",
        ));
    }
    awaitable::spawn(
        py,
        async move {
            let result =
                remotemedia_io::run_bytes(&pipeline, &name, data, chunk_ms, &Progress::default()).await;
            json_line(&result)
        },
        |py, line| Ok(line.into_pyobject(py)?.into_any().unbind()),
    )
}
