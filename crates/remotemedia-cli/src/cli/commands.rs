//! The subcommands.

use std::path::Path;

use remotemedia_runtime::{
    INTERPRETER_ENV, InterpreterChoice, NodeMetrics, NodeRuntime, Pipeline, PythonSetup, Registry,
    RunOptions, SessionOutput, Value, builtin_registry, builtin_registry_with, manifest_schema,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::io::{
    AudioChunks, audio_source, is_wav_path, parse_inputs, parse_line, raw_source, read_input_text, run_audio,
    spawn_source, to_json_text, write_outputs, write_wav_output,
};
use super::{CliError, Command, InputFormat};

pub async fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run {
            manifest,
            input,
            input_format,
            output,
            jsonl,
            audio,
            metrics,
        } => {
            let pipeline = load(&manifest)?.with_options(RunOptions {
                metrics,
                ..RunOptions::default()
            });
            let wav = output.as_deref().filter(|path| is_wav_path(path));
            let (report, wav_written) = match audio_source(input.as_deref(), input_format, audio)? {
                // Streamed in, and audio written out as it is produced.
                Some(source) => (run_audio(&pipeline, source, wav).await?, true),
                None => {
                    let inputs = parse_inputs(&read_input_text(input.as_deref())?, input_format)?;
                    tracing::info!(pipeline = pipeline.name(), inputs = inputs.len(), "running");
                    (pipeline.run_with_report(inputs).await?, false)
                }
            };
            match wav {
                Some(path) => {
                    let rest = if wav_written {
                        report.outputs
                    } else {
                        write_wav_output(report.outputs, path)?
                    };
                    write_outputs(&rest, None, jsonl)?;
                }
                None => write_outputs(&report.outputs, output.as_deref(), jsonl)?,
            }
            if let Some(metrics) = report.metrics {
                print_metrics(&metrics);
            }
            Ok(())
        }
        Command::Stream {
            manifest,
            input_format,
            audio,
        } => {
            let pipeline = load(&manifest)?;
            match input_format.raw() {
                Some(raw) => stream_audio(&pipeline, raw_source("-", raw, audio)?).await,
                None if input_format == InputFormat::Json => Err(CliError::usage(
                    "`stream` reads JSON Lines (`--input-format auto` or `jsonl`) or raw PCM",
                )),
                None => stream(&pipeline).await,
            }
        }
        Command::Validate { manifest } => {
            let pipeline = load(&manifest)?;
            let nodes = pipeline.node_ids().count();
            let mut text = format!(
                "OK: `{}` is a valid v1 manifest ({nodes} node{}, sinks: {})\n",
                manifest.display(),
                if nodes == 1 { "" } else { "s" },
                pipeline.sink_ids().join(", ")
            );
            for (id, runtime) in pipeline.node_runtimes() {
                if runtime != NodeRuntime::Rust {
                    text.push_str(&format!("  node `{id}` runs on {runtime}\n"));
                }
            }
            print_text(&text)
        }
        Command::Nodes { json } => {
            let registry = builtin_registry();
            if json {
                let all: Vec<serde_json::Value> = registry.descriptors().map(|d| d.to_json()).collect();
                print_text(&(serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"))
            } else {
                print_text(&nodes_text(&registry))
            }
        }
        Command::Schema => {
            let schema = manifest_schema(&builtin_registry());
            print_text(&(serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"))
        }
    }
}

/// Writes `text` to stdout. A reader that went away (`remotemedia-runtime nodes | head`) is not an
/// error; any other write failure is (exit code 1).
fn print_text(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::runtime(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn load(path: &Path) -> Result<Pipeline, CliError> {
    Ok(Pipeline::from_path(path, &registry()?)?)
}

/// Every native node and Python interpreter of this build, set up from the environment (the one
/// place the binary reads [`INTERPRETER_ENV`] and `VIRTUAL_ENV`).
fn registry() -> Result<Registry, CliError> {
    let value = std::env::var(INTERPRETER_ENV).ok();
    let interpreter = InterpreterChoice::from_env_value(value.as_deref()).map_err(CliError::usage)?;
    let virtual_env = std::env::var_os("VIRTUAL_ENV").map(std::path::PathBuf::from);
    Ok(builtin_registry_with(&PythonSetup {
        interpreter,
        virtual_env,
    }))
}

/// Writes each output of a session to stdout as one JSON line, flushed, as soon as it is produced.
async fn write_as_produced(output: &mut SessionOutput) -> Result<(), CliError> {
    let mut stdout = tokio::io::stdout();
    while let Some(out) = output.recv().await? {
        let mut line = to_json_text(&out.value)?;
        line.push('\n');
        stdout
            .write_all(line.as_bytes())
            .await
            .and(stdout.flush().await)
            .map_err(|e| CliError::runtime(format!("cannot write to stdout: {e}")))?;
    }
    Ok(())
}

/// Raw PCM from stdin, chunk by chunk as it arrives; each output written (and flushed) as a JSON
/// line as soon as it is produced.
async fn stream_audio(pipeline: &Pipeline, source: AudioChunks) -> Result<(), CliError> {
    let (mut input, mut output) = pipeline.start()?.into_split();
    let (_reader, mut chunks) = spawn_source(source);
    let feed = async move {
        while let Some(chunk) = chunks.recv().await {
            let audio = chunk.map_err(|e| CliError::usage(format!("invalid input: {e}")))?;
            if input.send(Value::Audio(audio.into())).await.is_err() {
                break; // the run failed: the writer reports why
            }
        }
        input.close();
        Ok::<(), CliError>(())
    };
    let writer = write_as_produced(&mut output);
    let (fed, written) = tokio::join!(feed, writer);
    fed?;
    written
}

/// JSON Lines in, JSON Lines out, each output written (and flushed) as soon as it is produced.
async fn stream(pipeline: &Pipeline) -> Result<(), CliError> {
    let (mut input, mut output) = pipeline.start()?.into_split();
    let reader = async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        let mut number = 0;
        while let Some(line) = lines
            .next_line()
            .await
            .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?
        {
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            if input.send(parse_line(&line, number)?).await.is_err() {
                break; // the run failed; the writer reports why
            }
        }
        input.close();
        Ok::<(), CliError>(())
    };
    let writer = write_as_produced(&mut output);
    tokio::pin!(reader, writer);
    tokio::select! {
        read = &mut reader => {
            read?;
            writer.await
        }
        written = &mut writer => written,
    }
}

fn nodes_text(registry: &Registry) -> String {
    let mut text = String::new();
    for d in registry.descriptors() {
        text.push_str(&d.node_type);
        if !d.aliases.is_empty() {
            text.push_str(&format!(" (alias: {})", d.aliases.join(", ")));
        }
        text.push_str(&format!("\n    {}\n", d.description));
        if d.params.is_empty() {
            text.push_str("    params: none\n");
        }
        for p in &d.params {
            let mut kind = p.kind.type_name().to_string();
            if let remotemedia_runtime::ParamKind::Choice(c) = &p.kind {
                kind = format!("one of {}", c.join("|"));
            }
            let default = match (&p.default, p.required) {
                (_, true) => "required".to_string(),
                (Some(d), _) => format!("default {d}"),
                (None, false) => "optional".to_string(),
            };
            let range = match (p.min, p.max) {
                (Some(lo), Some(hi)) => format!(", {lo}..={hi}"),
                (Some(lo), None) => format!(", >= {lo}"),
                (None, Some(hi)) => format!(", <= {hi}"),
                (None, None) => String::new(),
            };
            text.push_str(&format!(
                "    - {}: {kind} ({default}{range}) {}\n",
                p.name, p.description
            ));
        }
    }
    let hosts: Vec<&str> = registry
        .python_hosts()
        .iter()
        .map(|h| h.runtime().name())
        .collect();
    text.push_str(
        "Python nodes (any class: `class` plus one of `module`, `file` or `source`; params are keyword arguments)\n",
    );
    if hosts.is_empty() {
        text.push_str("    not supported by this build\n");
    } else {
        text.push_str(&format!("    interpreters in this build: {}\n", hosts.join(", ")));
    }
    text
}

fn print_metrics(metrics: &[NodeMetrics]) {
    eprintln!(
        "{:<20} {:<18} {:>10} {:>10} {:>12} {:>12} {:>12}",
        "node", "type", "in", "out", "total", "mean", "max"
    );
    for m in metrics {
        eprintln!(
            "{:<20} {:<18} {:>10} {:>10} {:>12?} {:>12?} {:>12?}",
            m.node_id,
            m.node_type,
            m.items_in,
            m.items_out,
            m.total_time,
            m.mean_time(),
            m.max_time
        );
    }
}
