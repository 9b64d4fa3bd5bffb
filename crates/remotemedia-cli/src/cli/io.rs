//! Reading input items and writing outputs as JSON.

use std::io::{IsTerminal, Read, Write};

use remotemedia_io::{AudioFileSource, IoError, RawFormat, RawPcmSource};
use remotemedia_runtime::nodes::audio::wav::{WavEncoding, WavFileWriter};
use remotemedia_runtime::{AudioBuffer, Pipeline, RunReport, Value};

use super::{AudioInput, CliError, InputFormat};

/// Reads the whole input text: a file, `-` for stdin, or (no `--input`) stdin when it is not a
/// terminal.
pub fn read_input_text(input: Option<&str>) -> Result<String, CliError> {
    let mut text = String::new();
    match input {
        Some("-") => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        }
        Some(path) => {
            text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read input `{path}`: {e}")))?;
        }
        None if !std::io::stdin().is_terminal() => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        }
        None => {}
    }
    Ok(text)
}

/// Parses input text into items (see [`InputFormat`]).
pub fn parse_inputs(text: &str, format: InputFormat) -> Result<Vec<Value>, CliError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items = |json: serde_json::Value| -> Result<Vec<Value>, CliError> {
        match Value::from_json(json).map_err(|e| CliError::usage(format!("invalid input: {e}")))? {
            list @ Value::List(_) => Ok(list.into_list().unwrap_or_default()),
            single => Ok(vec![single]),
        }
    };
    match format {
        InputFormat::Jsonl => parse_lines(text),
        // Raw PCM never gets here (see `raw_source`).
        InputFormat::S16le
        | InputFormat::S32le
        | InputFormat::F32le
        | InputFormat::Mulaw
        | InputFormat::Alaw => Err(CliError::usage("raw PCM input is read as audio, not as text")),
        InputFormat::Json => items(
            serde_json::from_str(text)
                .map_err(|e| CliError::usage(format!("invalid input: invalid JSON: {e}")))?,
        ),
        InputFormat::Auto => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => items(json),
            Err(_) => parse_lines(text),
        },
    }
}

/// Parses one JSON Lines line (1-based `number`, for messages).
pub fn parse_line(line: &str, number: usize) -> Result<Value, CliError> {
    let json: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| CliError::usage(format!("invalid input on line {number}: {e}")))?;
    Value::from_json(json).map_err(|e| CliError::usage(format!("invalid input on line {number}: {e}")))
}

fn parse_lines(text: &str) -> Result<Vec<Value>, CliError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| parse_line(line, i + 1))
        .collect()
}

/// Whether a `--input` / `--output` path names a WAV file (by its extension).
pub fn is_wav_path(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// Whether `path` names an audio file to stream: a `.wav` path (so a broken WAV file is reported
/// as such), or a file whose content starts like an audio container.
pub fn is_audio_file(path: &str) -> bool {
    path != "-"
        && (is_wav_path(path)
            || remotemedia_io::head_of(std::path::Path::new(path))
                .is_ok_and(|head| remotemedia_io::looks_like_audio(&head)))
}

/// Audio chunks from a decoder or a reader, made on a blocking thread.
pub type AudioChunks = Box<dyn Iterator<Item = Result<AudioBuffer, IoError>> + Send>;

/// The audio source of `run`'s input, if it is audio: an audio file (by content), or raw PCM from
/// a file or stdin (by `--input-format`).
pub fn audio_source(
    input: Option<&str>,
    format: InputFormat,
    audio: AudioInput,
) -> Result<Option<AudioChunks>, CliError> {
    if let Some(raw) = format.raw() {
        return raw_source(input.unwrap_or("-"), raw, audio).map(Some);
    }
    match input {
        Some(path) if is_audio_file(path) => {
            let source = AudioFileSource::open(std::path::Path::new(path), audio.chunk_ms)
                .map_err(|e| CliError::usage(format!("invalid input: {e}")))?;
            tracing::info!(
                path,
                rate = source.sample_rate(),
                channels = source.channels(),
                "audio file input"
            );
            Ok(Some(Box::new(source)))
        }
        _ => Ok(None),
    }
}

/// Raw PCM from `path` (`-` for stdin), read chunk by chunk as it arrives.
pub fn raw_source(path: &str, format: RawFormat, audio: AudioInput) -> Result<AudioChunks, CliError> {
    let rate = audio.sample_rate.ok_or_else(|| {
        CliError::usage("raw PCM input needs `--sample-rate` (and `--channels` unless it is mono)")
    })?;
    let reader: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).map_err(|e| CliError::usage(format!("cannot read `{path}`: {e}")))?,
        )
    };
    let name = if path == "-" { "stdin" } else { path };
    Ok(Box::new(RawPcmSource::new(
        reader,
        name,
        format,
        rate,
        audio.channels,
        audio.chunk_ms,
    )))
}

/// Runs the pipeline over audio chunks made on a blocking thread and fed to a session, so the
/// whole input is never in memory and the session's bounded input holds the source back. Outputs
/// come grouped by sink, as a batch run gives them.
///
/// With `wav`, audio outputs are written to that WAV file as they are produced (so memory does not
/// grow with the output either) and only the other outputs are returned.
pub async fn run_audio(
    pipeline: &Pipeline,
    source: AudioChunks,
    wav: Option<&str>,
) -> Result<RunReport, CliError> {
    let invalid = |e: IoError| CliError::usage(format!("invalid input: {e}"));
    let sinks: Vec<String> = pipeline.sink_ids().into_iter().map(str::to_string).collect();
    let (mut input, mut output) = pipeline.start()?.into_split();
    let (decoder, mut chunks) = spawn_source(source);
    let feed = async move {
        let mut result = Ok(());
        while let Some(chunk) = chunks.recv().await {
            match chunk {
                Ok(audio) => {
                    if input.send(Value::Audio(audio.into())).await.is_err() {
                        break; // the run failed: the outputs side reports why
                    }
                }
                Err(e) => {
                    result = Err(invalid(e));
                    input.cancel();
                    break;
                }
            }
        }
        input.close();
        result
    };
    let collect = async {
        let mut per_sink: Vec<Vec<Value>> = vec![Vec::new(); sinks.len()];
        let mut sink = wav.map(WavSink::new);
        while let Some(out) = output.recv().await? {
            let value = match &mut sink {
                Some(sink) => sink.take(out.value)?,
                None => Some(out.value),
            };
            if let Some(value) = value {
                let k = sinks.iter().position(|s| **s == *out.node_id).unwrap_or(0);
                per_sink[k].push(value);
            }
        }
        if let Some(sink) = sink {
            sink.finish()?;
        }
        Ok::<_, CliError>(per_sink)
    };
    let (fed, collected) = tokio::join!(feed, collect);
    fed?;
    let outputs = collected?.concat();
    decoder
        .await
        .map_err(|e| CliError::runtime(format!("the decoder stopped unexpectedly: {e}")))?;
    Ok(RunReport {
        outputs,
        metrics: output.metrics(),
    })
}

/// Runs `source` on a blocking thread, handing its chunks over a small channel.
pub fn spawn_source(
    source: AudioChunks,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::mpsc::Receiver<Result<AudioBuffer, IoError>>,
) {
    let (tx, chunks) = tokio::sync::mpsc::channel(2);
    let handle = tokio::task::spawn_blocking(move || {
        for chunk in source {
            if tx.blocking_send(chunk).is_err() {
                break;
            }
        }
    });
    (handle, chunks)
}

/// Writes every audio output, in order, to the WAV file `path`; returns the other outputs.
///
/// The file takes the first audio output's rate, channel count and sample format; with no audio
/// output, no file is written (a warning says so).
pub fn write_wav_output(outputs: Vec<Value>, path: &str) -> Result<Vec<Value>, CliError> {
    let mut sink = WavSink::new(path);
    let mut rest = Vec::new();
    for value in outputs {
        rest.extend(sink.take(value)?);
    }
    sink.finish()?;
    Ok(rest)
}

/// Audio outputs written to a WAV file as they come (the file takes the first audio output's rate,
/// channel count and sample format); other values are handed back.
pub struct WavSink<'a> {
    path: &'a str,
    writer: Option<WavFileWriter>,
}

impl<'a> WavSink<'a> {
    /// A sink for `path`; the file is created by the first audio output.
    pub fn new(path: &'a str) -> Self {
        Self { path, writer: None }
    }

    /// Writes `value` if it is audio; otherwise gives it back.
    pub fn take(&mut self, value: Value) -> Result<Option<Value>, CliError> {
        let failed = |e: String| CliError::runtime(format!("cannot write output: {e}"));
        let Value::Audio(audio) = value else {
            return Ok(Some(value));
        };
        let writer = match &mut self.writer {
            Some(w) => w,
            slot @ None => slot.insert(
                WavFileWriter::create(
                    std::path::Path::new(self.path),
                    audio.sample_rate(),
                    audio.channels(),
                    WavEncoding::natural(audio.format()),
                )
                .map_err(failed)?,
            ),
        };
        writer.write(&audio).map_err(failed)?;
        Ok(None)
    }

    /// Completes the file (its header), or says that no audio came.
    pub fn finish(self) -> Result<(), CliError> {
        match self.writer {
            Some(w) => w
                .finalize()
                .map_err(|e| CliError::runtime(format!("cannot write output: {e}"))),
            None => {
                tracing::warn!("the pipeline produced no audio; `{}` was not written", self.path);
                Ok(())
            }
        }
    }
}

/// One value as compact JSON text.
pub fn to_json_text(value: &Value) -> Result<String, CliError> {
    let json = value
        .to_json()
        .map_err(|e| CliError::runtime(format!("cannot write an output as JSON: {e}")))?;
    serde_json::to_string(&json)
        .map_err(|e| CliError::runtime(format!("cannot write an output as JSON: {e}")))
}

/// Writes every output (a JSON array, or JSON Lines) to `path` or stdout.
pub fn write_outputs(outputs: &[Value], path: Option<&str>, jsonl: bool) -> Result<(), CliError> {
    let mut text = String::new();
    if jsonl {
        for v in outputs {
            text.push_str(&to_json_text(v)?);
            text.push('\n');
        }
    } else {
        let items = outputs.iter().map(to_json_text).collect::<Result<Vec<_>, _>>()?;
        text = format!("[{}]\n", items.join(","));
    }
    match path {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| CliError::runtime(format!("cannot write to stdout: {e}")))
        }
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::runtime(format!("cannot write output `{path}`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(text: &str, format: InputFormat) -> Vec<Value> {
        parse_inputs(text, format).expect("valid input")
    }

    #[test]
    fn auto_detects_arrays_single_values_and_lines() {
        assert_eq!(
            ints("[1, 2.0]", InputFormat::Auto),
            vec![Value::Int(1), Value::Float(2.0)]
        );
        assert_eq!(ints("42", InputFormat::Auto), vec![Value::Int(42)]);
        assert_eq!(ints("1\n\n[2]\n{\"a\":3}\n", InputFormat::Auto).len(), 3);
        assert_eq!(ints("  \n", InputFormat::Auto), Vec::<Value>::new());
        assert_eq!(
            ints("[1,2]", InputFormat::Jsonl),
            vec![Value::list([Value::Int(1), Value::Int(2)])]
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = parse_inputs("1\n2\nnope\n", InputFormat::Auto).expect_err("line 3");
        assert!(format!("{err:?}").contains("invalid input on line 3"), "{err:?}");
    }
}
