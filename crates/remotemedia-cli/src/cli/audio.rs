//! `run` and `stream` over audio: one file or raw PCM streamed through a session, or many files
//! in parallel with one JSON line each. The decoding, feeding and writing are `remotemedia-io`'s;
//! this module chooses where things go and maps outcomes to exit codes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use remotemedia::{NodeMetrics, Pipeline, Value};
use remotemedia_io::{
    AudioChunks, AudioFileSource, AudioSink, BatchEnd, BatchOptions, Collected, IoError, OutputEncoding,
    Progress, ProgressDisplay, ProgressMode, RawFormat, RawPcmSource, RunError, SinkTarget, expand_inputs,
    is_pattern, run_files_shown, run_source,
};

use super::io::{TextOut, is_wav_path, write_outputs};
use super::{AudioInput, CliError, InputFormat, ManyFiles, OutputFormat};

/// Whether `path` names an audio file to stream: a path with an audio extension (`.wav`,
/// `.flac`, `.mp3`, …: so a broken audio file is reported as such, never read as JSON), or a file
/// whose content starts like an audio container.
pub fn is_audio_file(path: &Path) -> bool {
    path != Path::new("-")
        && (remotemedia_io::has_audio_extension(path)
            || remotemedia_io::head_of(path).is_ok_and(|head| remotemedia_io::looks_like_audio(&head)))
}

/// Whether `run`'s inputs call for the many-files mode: several inputs, a folder, a glob pattern,
/// or an output folder.
pub fn is_many(inputs: &[PathBuf], many: &ManyFiles) -> bool {
    inputs.len() > 1 || many.output_dir.is_some() || inputs.iter().any(|i| i.is_dir() || is_pattern(i))
}

/// An audio source for `run`'s single input, if it is audio: an audio file (by content), with its
/// length when the container states it, or raw PCM from a file or stdin (by `--input-format`).
pub fn audio_source(
    input: Option<&Path>,
    format: InputFormat,
    audio: AudioInput,
) -> Result<Option<(AudioChunks, Option<f64>)>, CliError> {
    if let Some(raw) = format.raw() {
        return raw_source(input.unwrap_or(Path::new("-")), raw, audio).map(|s| Some((s, None)));
    }
    match input {
        Some(path) if is_audio_file(path) => {
            let source = AudioFileSource::open(path, audio.chunk_ms)
                .map_err(|e| CliError::usage(format!("invalid input: {e}")))?;
            tracing::info!(
                path = %path.display(),
                rate = source.sample_rate(),
                channels = source.channels(),
                "audio file input"
            );
            let length = source.duration_secs();
            Ok(Some((Box::new(source), length)))
        }
        _ => Ok(None),
    }
}

/// Raw PCM from `path` (`-` for stdin), read chunk by chunk as it arrives.
pub fn raw_source(path: &Path, format: RawFormat, audio: AudioInput) -> Result<AudioChunks, CliError> {
    let rate = audio.sample_rate.ok_or_else(|| {
        CliError::usage("raw PCM input needs `--sample-rate` (and `--channels` unless it is mono)")
    })?;
    let stdin = path == Path::new("-");
    let reader: Box<dyn Read + Send> = if stdin {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path)
                .map_err(|e| CliError::usage(format!("cannot read `{}`: {e}", path.display())))?,
        )
    };
    let name = if stdin {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    Ok(Box::new(RawPcmSource::new(
        reader,
        &name,
        format,
        rate,
        audio.channels,
        audio.chunk_ms,
    )))
}

/// Where audio outputs go (`--output-format`, or a `.wav` `--output`), and then where the other
/// outputs go: stdout, or stderr when the audio takes stdout, or the `--output` file when it is
/// not audio.
pub fn destinations(output: Option<&str>, format: Option<OutputFormat>) -> (Option<AudioSink>, TextOut) {
    let sink = match (format, output) {
        (Some(format), out) => Some(AudioSink::new(
            SinkTarget::from_arg(out.unwrap_or("-")),
            format.encoding(),
        )),
        (None, Some(path)) if is_wav_path(Path::new(path)) => {
            Some(AudioSink::new(SinkTarget::File(path.into()), OutputEncoding::Wav))
        }
        _ => None,
    };
    let text = match (&sink, output) {
        (Some(sink), _) if *sink.target() == SinkTarget::Stdout => TextOut::Stderr,
        (Some(_), _) | (None, None | Some("-")) => TextOut::Stdout,
        (None, Some(path)) => TextOut::File(path.to_string()),
    };
    (sink, text)
}

/// Completes `sink`, or says that no audio came.
pub fn finish_sink(sink: AudioSink) -> Result<(), CliError> {
    let target = sink.target().clone();
    let wrote = sink.finish().map_err(|e| CliError::runtime(e.to_string()))?;
    if !wrote && let SinkTarget::File(path) = target {
        tracing::warn!(
            "the pipeline produced no audio; `{}` was not written",
            path.display()
        );
    }
    Ok(())
}

fn run_error(e: RunError) -> CliError {
    match e {
        RunError::Input(_) => CliError::usage(e.to_string()),
        RunError::Output(_) => CliError::runtime(e.to_string()),
        RunError::Pipeline(e) => e.into(),
    }
}

/// Waits for `work`, or for Ctrl-C (then `None`: the work is dropped, which cancels it).
async fn until_interrupted<T>(work: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        _ = tokio::signal::ctrl_c() => None,
    }
}

/// `run` over one audio source: fed in chunks; audio outputs written as they are produced when a
/// sink is given; the other outputs written at the end, grouped by sink.
pub async fn run_one(
    pipeline: &Pipeline,
    (source, length): (AudioChunks, Option<f64>),
    output: Option<&str>,
    format: Option<OutputFormat>,
    jsonl: bool,
    progress_mode: ProgressMode,
) -> Result<Option<Vec<NodeMetrics>>, CliError> {
    let (mut sink, text) = destinations(output, format);
    let progress = Arc::new(Progress::default());
    if let Some(secs) = length {
        progress.set_total_audio(secs);
    }
    let display = ProgressDisplay::start(Arc::clone(&progress), progress_mode);
    let mut collected = Collected::new(pipeline, sink.as_mut());
    let run = until_interrupted(run_source(pipeline, source, &progress, |node_id, value| {
        collected.take(node_id, value)
    }))
    .await;
    let outputs = collected.outputs();
    if let Some(display) = display {
        display.finish();
    }
    let finished = sink.map_or(Ok(()), finish_sink);
    let Some(metrics) = run else {
        // What came before Ctrl-C is written, as valid JSON (and a valid WAV file).
        finished?;
        write_outputs(&outputs, &text, jsonl)?;
        eprintln!("interrupted: {}", progress.summary());
        return Err(CliError::interrupted());
    };
    let metrics = metrics.map_err(run_error)?;
    finished?;
    write_outputs(&outputs, &text, jsonl)?;
    Ok(metrics)
}

/// `stream` over raw PCM: each output written as soon as it is produced (audio to the sink, the
/// rest as flushed JSON lines).
pub async fn stream_audio(
    pipeline: &Pipeline,
    source: AudioChunks,
    output: Option<&str>,
    format: Option<OutputFormat>,
) -> Result<(), CliError> {
    let (mut sink, text) = destinations(output, format);
    let progress = Progress::default();
    let run = until_interrupted(run_source(pipeline, source, &progress, |_, value| {
        emit(value, sink.as_mut(), &text)
    }))
    .await;
    let finished = sink.map_or(Ok(()), finish_sink);
    match run {
        None => {
            finished?;
            Err(CliError::interrupted())
        }
        Some(result) => {
            result.map_err(run_error)?;
            finished
        }
    }
}

/// One output as it is produced: audio to `sink` (when given), anything else as a flushed JSON
/// line to `text`.
pub fn emit(value: Value, sink: Option<&mut AudioSink>, text: &TextOut) -> Result<(), RunError> {
    let value = match sink {
        Some(sink) => sink.take(value).map_err(RunError::Output)?,
        None => Some(value),
    };
    let Some(value) = value else {
        return Ok(());
    };
    let failed = |message: String| {
        RunError::Output(IoError::Write {
            path: text.label().into(),
            message,
        })
    };
    let json = value
        .to_json()
        .map_err(|e| failed(format!("cannot write an output as JSON: {e}")))?;
    let line = serde_json::to_string(&json).map_err(|e| failed(e.to_string()))? + "\n";
    text.write_text(&line, true).map_err(|e| failed(e.to_string()))
}

/// `run` over many files: one JSON line per file on stdout (in input order), audio outputs under
/// `--output-dir`, a progress bar and a summary on stderr, and exit code 3 when any file failed.
pub async fn run_many(
    pipeline: &Pipeline,
    inputs: &[PathBuf],
    many: &ManyFiles,
    audio: AudioInput,
    format: Option<OutputFormat>,
) -> Result<(), CliError> {
    let files = expand_inputs(inputs).map_err(|e| CliError::usage(format!("invalid input: {e}")))?;
    if files.is_empty() {
        return Err(CliError::usage(format!(
            "invalid input: no audio files in {}",
            inputs
                .iter()
                .map(|i| format!("`{}`", i.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let jobs = many.jobs.map_or_else(BatchOptions::default_jobs, |j| j as usize);
    let options = BatchOptions {
        jobs,
        chunk_ms: audio.chunk_ms,
        output_dir: many.output_dir.clone(),
        encoding: format.map_or(OutputEncoding::Wav, OutputFormat::encoding),
        fail_fast: many.fail_fast,
    };
    tracing::info!(files = files.len(), jobs, "running many files");
    let progress = Arc::new(Progress::default());
    let mut write_failure = None;
    // A line that cannot be written (stdout gone) stops the run: its results would be lost.
    let mode = many.progress.mode();
    let run = until_interrupted(run_files_shown(
        pipeline,
        &files,
        &options,
        Arc::clone(&progress),
        mode,
        |result| {
            let line = result
                .to_json()
                .and_then(|json| serde_json::to_string(&json).map_err(|e| e.to_string()));
            let written = match line {
                Ok(line) => TextOut::Stdout.write_line(&line),
                Err(e) => Err(CliError::runtime(e)),
            };
            write_failure = written.err();
            write_failure.is_none()
        },
    ))
    .await;
    if let Some(err) = write_failure {
        return Err(err);
    }
    let (ok, failed) = progress.files_done();
    match run {
        None => {
            eprintln!("interrupted: {}", progress.summary());
            Err(CliError::interrupted())
        }
        Some((end, _)) => {
            let mut summary = progress.summary();
            if end == BatchEnd::FailedFast {
                let left = files.len() as u64 - ok - failed;
                summary.push_str(&format!(
                    "; stopped at the first failure (--fail-fast), {left} not run"
                ));
            }
            eprintln!("{summary}");
            if failed > 0 {
                Err(CliError::files_failed(format!(
                    "{failed} of {} files failed (each has an \"error\" line)",
                    files.len()
                )))
            } else {
                Ok(())
            }
        }
    }
}
