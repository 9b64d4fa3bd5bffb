//! The subcommands.

use std::path::{Path, PathBuf};

use remotemedia::{
    INTERPRETER_ENV, InterpreterChoice, NodeMetrics, NodeRuntime, Pipeline, PythonSetup, Registry,
    RunOptions, builtin_registry, builtin_registry_with, manifest_schema,
};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::audio::{
    audio_source, destinations, emit, finish_sink, is_many, raw_source, run_many, run_one, stream_audio,
};
use super::io::{parse_inputs, parse_line, read_input_text, write_outputs};
use super::{CliError, Command, InputFormat, OutputFormat};

pub async fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run {
            manifest,
            input,
            input_format,
            output,
            audio_output,
            jsonl,
            many,
            audio,
            metrics,
        } => {
            let pipeline = load(&manifest)?.with_options(RunOptions {
                metrics,
                ..RunOptions::default()
            });
            let format = audio_output.output_format;
            if is_many(&input, &many) {
                if output.is_some() {
                    return Err(CliError::usage(
                        "with many input files, audio outputs go to `--output-dir` (one file per input) and results to stdout; `--output` names one file",
                    ));
                }
                if metrics {
                    return Err(CliError::usage("`--metrics` is for one input, not many files"));
                }
                if input_format != InputFormat::Auto {
                    return Err(CliError::usage(
                        "with many input files, each file's format is detected from its content; `--input-format` is for one input",
                    ));
                }
                return run_many(&pipeline, &input, &many, audio, format).await;
            }
            let single = input.first().map(PathBuf::as_path);
            let report_metrics = match audio_source(single, input_format, audio)? {
                // Streamed in, and audio written out as it is produced.
                Some(source) => {
                    run_one(
                        &pipeline,
                        source,
                        output.as_deref(),
                        format,
                        jsonl,
                        many.progress.mode(),
                    )
                    .await?
                }
                None => {
                    let inputs = parse_inputs(&read_input_text(single)?, input_format)?;
                    tracing::info!(pipeline = pipeline.name(), inputs = inputs.len(), "running");
                    let report = pipeline.run_with_report(inputs).await?;
                    let (mut sink, text) = destinations(output.as_deref(), format);
                    let mut rest = Vec::new();
                    for value in report.outputs {
                        match &mut sink {
                            Some(sink) => {
                                rest.extend(sink.take(value).map_err(|e| CliError::runtime(e.to_string()))?)
                            }
                            None => rest.push(value),
                        }
                    }
                    if let Some(sink) = sink {
                        finish_sink(sink)?;
                    }
                    write_outputs(&rest, &text, jsonl)?;
                    report.metrics
                }
            };
            if let Some(metrics) = report_metrics {
                print_metrics(&metrics);
            }
            Ok(())
        }
        Command::Stream {
            manifest,
            input_format,
            audio,
            output,
            audio_output,
        } => {
            let pipeline = load(&manifest)?;
            let format = audio_output.output_format;
            match input_format.raw() {
                Some(raw) => {
                    stream_audio(
                        &pipeline,
                        raw_source(Path::new("-"), raw, audio)?,
                        output.as_deref(),
                        format,
                    )
                    .await
                }
                None if input_format == InputFormat::Json => Err(CliError::usage(
                    "`stream` reads JSON Lines (`--input-format auto` or `jsonl`) or raw PCM",
                )),
                None => stream(&pipeline, output.as_deref(), format).await,
            }
        }
        Command::Serve(args) => super::serve::serve(args, registry()?).await,
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
        Command::Contract => print_text(&super::contract::contract_text()),
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

/// JSON Lines in; each output written as soon as it is produced (audio to the `--output-format`
/// sink when given, the rest as flushed JSON lines).
async fn stream(
    pipeline: &Pipeline,
    output: Option<&str>,
    format: Option<OutputFormat>,
) -> Result<(), CliError> {
    let (mut input, mut session_output) = pipeline.start()?.into_split();
    let (mut sink, text) = destinations(output, format);
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
    let writer = async {
        while let Some(out) = session_output.recv().await? {
            emit(out.value, sink.as_mut(), &text).map_err(|e| CliError::runtime(e.to_string()))?;
        }
        Ok::<(), CliError>(())
    };
    let written = {
        tokio::pin!(reader, writer);
        tokio::select! {
            read = &mut reader => {
                read?;
                writer.await
            }
            written = &mut writer => written,
        }
    };
    written?;
    sink.map_or(Ok(()), finish_sink)
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
            if let remotemedia::ParamKind::Choice(c) = &p.kind {
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
