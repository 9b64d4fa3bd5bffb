//! Feeding a pipeline's session from an audio source: chunks are made on a blocking thread and
//! sent through the session's bounded input, so the whole input is never in memory and a slow
//! pipeline holds the decoder back.

use remotemedia_core::{AudioBuffer, NodeMetrics, Pipeline, RunReport, Value};

use crate::progress::Progress;
use crate::sink::AudioSink;
use crate::source::IoError;

/// Audio chunks from a decoder or a reader (run on a blocking thread).
pub type AudioChunks = Box<dyn Iterator<Item = Result<AudioBuffer, IoError>> + Send>;

/// Why a run over an audio source failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The input could not be read or decoded.
    #[error("invalid input: {0}")]
    Input(IoError),
    /// An output could not be written.
    #[error("{0}")]
    Output(IoError),
    /// The pipeline failed.
    #[error(transparent)]
    Pipeline(#[from] remotemedia_core::Error),
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

/// Runs a session of `pipeline` over `source`, calling `on_output(sink_id, value)` for each
/// output as soon as it is produced; the audio fed is counted in `progress`. Returns the
/// per-node metrics if the pipeline collects them.
///
/// An input error cancels the session and is returned; an error from `on_output` stops the run.
pub async fn run_source<F>(
    pipeline: &Pipeline,
    source: AudioChunks,
    progress: &Progress,
    mut on_output: F,
) -> Result<Option<Vec<NodeMetrics>>, RunError>
where
    F: FnMut(&str, Value) -> Result<(), RunError>,
{
    let (mut input, mut output) = pipeline.start()?.into_split();
    let (_decoder, mut chunks) = spawn_source(source);
    let feed = async move {
        while let Some(chunk) = chunks.recv().await {
            match chunk {
                Ok(audio) => {
                    progress.add_audio(audio.duration_secs());
                    if input.send(Value::Audio(audio.into())).await.is_err() {
                        break; // the run failed: the outputs side reports why
                    }
                }
                Err(e) => {
                    input.cancel();
                    return Err(RunError::Input(e));
                }
            }
        }
        input.close();
        Ok(())
    };
    let collect = async {
        while let Some(out) = output.recv().await? {
            on_output(&out.node_id, out.value)?;
        }
        Ok::<_, RunError>(output.metrics())
    };
    tokio::pin!(feed, collect);
    // An input error wins over the session error it causes; a failed output stops the feeding.
    tokio::select! {
        fed = &mut feed => {
            fed?;
            collect.await
        }
        collected = &mut collect => {
            let metrics = collected?;
            feed.await?;
            Ok(metrics)
        }
    }
}

/// Outputs kept as they come, grouped by sink in manifest order (as a batch run gives them); audio
/// outputs go to an [`AudioSink`] instead when one is given.
pub struct Collected<'a> {
    sinks: Vec<String>,
    per_sink: Vec<Vec<Value>>,
    audio: Option<&'a mut AudioSink>,
}

impl<'a> Collected<'a> {
    /// An empty collection for `pipeline`'s sinks.
    pub fn new(pipeline: &Pipeline, audio: Option<&'a mut AudioSink>) -> Self {
        let sinks: Vec<String> = pipeline.sink_ids().into_iter().map(str::to_string).collect();
        Self {
            per_sink: vec![Vec::new(); sinks.len()],
            sinks,
            audio,
        }
    }

    /// Keeps (or writes) one output of node `node_id`.
    pub fn take(&mut self, node_id: &str, value: Value) -> Result<(), RunError> {
        let value = match self.audio.as_deref_mut() {
            Some(sink) => sink.take(value).map_err(RunError::Output)?,
            None => Some(value),
        };
        if let Some(value) = value {
            let k = self.sinks.iter().position(|s| s == node_id).unwrap_or(0);
            self.per_sink[k].push(value);
        }
        Ok(())
    }

    /// The outputs kept so far, grouped by sink.
    pub fn outputs(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.per_sink).concat()
    }
}

/// Runs `pipeline` over `source`: audio outputs go to `sink` (when given) as they are produced,
/// and every other output is returned, grouped by sink in manifest order as a batch run gives them.
pub async fn run_to_report(
    pipeline: &Pipeline,
    source: AudioChunks,
    sink: Option<&mut AudioSink>,
    progress: &Progress,
) -> Result<RunReport, RunError> {
    let mut collected = Collected::new(pipeline, sink);
    let metrics = run_source(pipeline, source, progress, |node_id, value| {
        collected.take(node_id, value)
    })
    .await?;
    Ok(RunReport {
        outputs: collected.outputs(),
        metrics,
    })
}
