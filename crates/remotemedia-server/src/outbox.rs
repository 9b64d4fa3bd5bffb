//! What a session sends its client, and the task that writes it: a bounded queue of output
//! frames that holds the pipeline back when full (backpressure), beside a control lane that never
//! waits behind the data (`cleared`, and the final `done`/`error` and close frame).
//!
//! A client is a slow consumer only when one frame it was sent has not been taken for
//! `slow_consumer_timeout`: however large a burst, a client that keeps reading is never cut off.
//! A slow consumer's session ends at once (its pipeline and queued outputs are dropped); the
//! connection is kept for one more `slow_consumer_timeout` so that `error` (`slow_consumer`) and
//! close 4429 reach the client if it reads again, then dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message};
use futures::{Sink, SinkExt};
use tokio::sync::mpsc;

use crate::wire::{ServerMessage, close};

/// One output ready to send, tagged with the epoch of the inputs it came from (a `clear` drops
/// the outputs of older epochs still queued).
pub(crate) struct DataFrame {
    pub epoch: u64,
    pub body: FrameBody,
}

/// An output's frame: JSON text, or PCM bytes in a layout (`audio_format` is announced by the
/// writer, before the first audio frame and whenever the layout changes).
pub(crate) enum FrameBody {
    Text(String),
    Audio { layout: AudioLayout, pcm: Vec<u8> },
}

/// The `audio_format` of binary output frames: format name, sample rate, channels.
pub(crate) type AudioLayout = (&'static str, u32, u16);

/// Frames that bypass the data queue.
enum Control {
    /// Answer a `clear`: drop queued outputs older than this epoch, send `cleared` now.
    Cleared(u64),
    /// A node interrupted the session: drop queued outputs older than this epoch, send
    /// `interrupted` now.
    Interrupted(u64),
    /// The session is over: send the queued outputs, then these frames (`done` or `error`, and
    /// the close frame), then close.
    Finish(Vec<Message>),
}

/// The session's side of the outbox.
pub(crate) struct Outbox {
    control: mpsc::Sender<Control>,
}

/// The pump's side: outputs in, waiting while the queue is full.
pub(crate) struct DataSender(mpsc::Sender<DataFrame>);

impl DataSender {
    /// Queues one output; waits while the queue is full. `false` once the writer has gone.
    pub async fn send(&self, frame: DataFrame) -> bool {
        self.0.send(frame).await.is_ok()
    }
}

/// The writer's side.
pub(crate) struct OutboxReceiver {
    data: mpsc::Receiver<DataFrame>,
    control: mpsc::Receiver<Control>,
}

/// An outbox holding at most `capacity` output frames.
pub(crate) fn channel(capacity: usize) -> (Outbox, DataSender, OutboxReceiver) {
    let (data_tx, data) = mpsc::channel(capacity.max(1));
    // A few control frames at most are in flight: one `cleared` per `clear` (the reader waits for
    // room, so a client sending many clears is slowed down), one `Finish`.
    let (control_tx, control) = mpsc::channel(4);
    (
        Outbox { control: control_tx },
        DataSender(data_tx),
        OutboxReceiver { data, control },
    )
}

impl Outbox {
    /// `cleared` for the `clear` that started `epoch`. `false` once the writer has gone.
    pub async fn cleared(&self, epoch: u64) -> bool {
        self.control.send(Control::Cleared(epoch)).await.is_ok()
    }

    /// `interrupted` for the interruption that started `epoch`. `false` once the writer has gone.
    pub async fn interrupted(&self, epoch: u64) -> bool {
        self.control.send(Control::Interrupted(epoch)).await.is_ok()
    }

    /// The end of the session: the queued outputs, then `frames`, then close.
    pub async fn finish(&self, frames: Vec<Message>) {
        let _ = self.control.send(Control::Finish(frames)).await;
    }
}

/// A close frame with a short reason.
pub(crate) fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.chars().take(100).collect::<String>().into(),
    }))
}

/// `error` then the close frame with its code.
pub(crate) fn failure_frames(message: ServerMessage, code: u16, reason: &str) -> Vec<Message> {
    vec![Message::Text(message.to_text().into()), close_frame(code, reason)]
}

/// When the client last took a frame or sent one: a session is idle only when neither happened
/// for the idle timeout (a client that only reads a long answer is not idle).
#[derive(Clone)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Something went through the connection now.
    pub fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// When the connection was last used.
    pub fn last(&self) -> tokio::time::Instant {
        let at = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        tokio::time::Instant::from_std(at)
    }
}

/// How the writer ended.
pub(crate) enum WriterEnd {
    /// The final frames were written (or the session ended without any).
    Closed,
    /// The socket failed: the client went away.
    Disconnected,
    /// A frame was not taken within the slow-consumer timeout.
    SlowConsumer,
}

/// The writer's limits.
#[derive(Clone, Copy)]
pub(crate) struct WriterLimits {
    /// How long one frame may wait for the client to take it.
    pub slow_consumer_timeout: Duration,
    /// How long a slow consumer's connection is kept for its `error` and close frame.
    pub grace: Duration,
}

/// Writes the outbox to the client until the session's final frames are written, the client is
/// gone, or it stops reading. On a slow consumer it writes `error` (`slow_consumer`) and close 4429
/// itself, within `limits.grace`, after reporting the stall through `stalled`.
pub(crate) async fn write_frames<K: Sink<Message> + Unpin>(
    mut ws_tx: K,
    mut outbox: OutboxReceiver,
    limits: WriterLimits,
    activity: Activity,
    stalled: tokio_util::sync::CancellationToken,
) -> WriterEnd {
    let mut writer = Writer {
        ws_tx: &mut ws_tx,
        timeout: limits.slow_consumer_timeout,
        activity,
        announced: None,
        oldest_epoch: 0,
    };
    let end = writer.run(&mut outbox).await;
    if let WriterEnd::SlowConsumer = end {
        stalled.cancel();
        let seconds = limits.slow_consumer_timeout.as_secs_f64();
        let frames = failure_frames(
            ServerMessage::Error {
                kind: "slow_consumer",
                node_id: None,
                node_type: None,
                message: format!("the client took nothing it was sent for {seconds} s"),
                code: close::SLOW_CONSUMER,
            },
            close::SLOW_CONSUMER,
            "slow_consumer",
        );
        // Everything else is dropped now; the frame already in the socket's buffer goes first.
        drop(outbox);
        let _ = tokio::time::timeout(limits.grace, async {
            for frame in frames {
                if writer.ws_tx.send(frame).await.is_err() {
                    break;
                }
            }
        })
        .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws_tx.close()).await;
    end
}

struct Writer<'a, K> {
    ws_tx: &'a mut K,
    timeout: Duration,
    activity: Activity,
    /// The `audio_format` last sent.
    announced: Option<AudioLayout>,
    /// Outputs of an epoch older than this were cleared.
    oldest_epoch: u64,
}

/// Why a write did not happen.
enum Stop {
    Disconnected,
    Stalled,
}

impl<K: Sink<Message> + Unpin> Writer<'_, K> {
    async fn run(&mut self, outbox: &mut OutboxReceiver) -> WriterEnd {
        let result = async {
            let mut finish: Option<Vec<Message>> = None;
            let mut data_open = true;
            loop {
                if let Some(frames) = &mut finish
                    && !data_open
                {
                    for frame in std::mem::take(frames) {
                        self.write(frame).await?;
                    }
                    return Ok(());
                }
                tokio::select! {
                    biased;
                    control = outbox.control.recv(), if finish.is_none() => match control {
                        Some(Control::Cleared(epoch)) => {
                            self.oldest_epoch = self.oldest_epoch.max(epoch);
                            self.write(Message::Text(ServerMessage::Cleared.to_text().into())).await?;
                        }
                        Some(Control::Interrupted(epoch)) => {
                            self.oldest_epoch = self.oldest_epoch.max(epoch);
                            self.write(Message::Text(ServerMessage::Interrupted.to_text().into())).await?;
                        }
                        Some(Control::Finish(frames)) => finish = Some(frames),
                        // The session ended without final frames (the client went away).
                        None if !data_open => return Ok(()),
                        None => finish = Some(Vec::new()),
                    },
                    data = outbox.data.recv(), if data_open => match data {
                        Some(frame) => self.write_data(frame).await?,
                        None => data_open = false,
                    },
                }
            }
        }
        .await;
        match result {
            Ok(()) => WriterEnd::Closed,
            Err(Stop::Disconnected) => WriterEnd::Disconnected,
            Err(Stop::Stalled) => WriterEnd::SlowConsumer,
        }
    }

    async fn write_data(&mut self, frame: DataFrame) -> Result<(), Stop> {
        if frame.epoch < self.oldest_epoch {
            return Ok(()); // its inputs were cleared
        }
        match frame.body {
            FrameBody::Text(text) => self.write(Message::Text(text.into())).await,
            FrameBody::Audio { layout, pcm } => {
                if self.announced != Some(layout) {
                    let announce = ServerMessage::AudioFormat {
                        format: layout.0,
                        sample_rate: layout.1,
                        channels: layout.2,
                    };
                    self.write(Message::Text(announce.to_text().into())).await?;
                    self.announced = Some(layout);
                }
                self.write(Message::Binary(pcm.into())).await
            }
        }
    }

    /// One frame to the client, within the slow-consumer timeout.
    async fn write(&mut self, message: Message) -> Result<(), Stop> {
        match tokio::time::timeout(self.timeout, self.ws_tx.send(message)).await {
            Ok(Ok(())) => {
                self.activity.touch();
                Ok(())
            }
            Ok(Err(_)) => Err(Stop::Disconnected),
            Err(_) => Err(Stop::Stalled),
        }
    }
}
