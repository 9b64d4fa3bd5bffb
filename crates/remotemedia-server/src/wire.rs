//! The WebSocket wire format of `/v1/pipelines/{name}/stream` (docs/protocol.md): the JSON
//! messages each way, the close codes, and the declared PCM format of binary frames.

use remotemedia_core::Value;
use remotemedia_io::RawFormat;
use serde::{Deserialize, Serialize};

/// Close codes the server uses (1000-range codes are RFC 6455's; 4000-range are ours).
pub mod close {
    /// Normal: the input ended and every output was sent (after `done`).
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down (after `done`: the session was flushed).
    pub const GOING_AWAY: u16 = 1001;
    /// A message larger than the limit.
    pub const TOO_BIG: u16 = 1009;
    /// An internal error.
    pub const INTERNAL: u16 = 1011;
    /// A malformed message: bad JSON, an unknown type, a binary frame without a declared format
    /// or not a whole number of frames, a value that cannot be converted.
    pub const BAD_MESSAGE: u16 = 4400;
    /// Nothing received for the idle timeout.
    pub const IDLE: u16 = 4408;
    /// The client did not read its outputs and the bounded output queue filled.
    pub const SLOW_CONSUMER: u16 = 4429;
    /// A node failed (after an `error` message naming it).
    pub const NODE_ERROR: u16 = 4500;
}

/// A message from the client (a text frame).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// One input value, in the CLI's tagged JSON.
    Input {
        /// The value.
        value: serde_json::Value,
    },
    /// The end of the input: flush, send what remains, then `done`.
    End,
    /// Drop what is queued and not yet processed or sent; answered by `cleared`.
    Clear,
}

impl ClientMessage {
    /// Parses a text frame; the error says what is wrong with it (an integer outside 64 bits is
    /// named, not read as a float).
    pub fn parse(text: &str) -> Result<Self, String> {
        remotemedia_core::check_integers(text).map_err(|e| format!("invalid value: {e}"))?;
        serde_json::from_str(text).map_err(|e| {
            let e = remotemedia_core::json_parse_error(&e);
            let e = e.strip_prefix("invalid JSON: ").unwrap_or(&e).to_string();
            format!(r#"not a message this server takes ({{"type": "input"|"end"|"clear"}}): {e}"#)
        })
    }
}

/// A message to the client (a text frame).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// A non-audio output, in the CLI's tagged JSON.
    Output {
        /// The value.
        value: serde_json::Value,
    },
    /// The format of the binary audio frames that follow.
    AudioFormat {
        /// `s16le`, `s32le` or `f32le`.
        format: &'static str,
        /// Hz.
        sample_rate: u32,
        /// Interleaved channels.
        channels: u16,
    },
    /// Everything queued before the `clear` was dropped.
    Cleared,
    /// A node interrupted the session (the user talked over the reply): the outputs queued for
    /// the client were dropped; the client drops the playback it has buffered.
    Interrupted,
    /// Every output was sent; the server closes next.
    Done,
    /// A failure; the server closes next with the code in `code`.
    Error {
        /// What kind of failure: `node`, `bad_message`, `too_big`, `idle`, `slow_consumer`,
        /// `internal`.
        kind: &'static str,
        /// The failed node, for `node`.
        #[serde(skip_serializing_if = "Option::is_none")]
        node_id: Option<String>,
        /// The failed node's type, for `node`.
        #[serde(skip_serializing_if = "Option::is_none")]
        node_type: Option<String>,
        /// What went wrong.
        message: String,
        /// The close code that follows.
        code: u16,
    },
}

impl ServerMessage {
    /// The message as JSON text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                r#"{{"type":"error","kind":"internal","message":"cannot encode a message: {e}","code":1011}}"#
            )
        })
    }
}

/// The PCM layout binary client frames carry, from the query parameters `format`, `sample_rate`
/// and `channels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    /// The sample encoding.
    pub format: RawFormat,
    /// Hz.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
}

/// The query string of the stream route.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// `s16le`, `s32le`, `f32le` (also `mulaw`, `alaw`).
    pub format: Option<String>,
    /// Hz.
    pub sample_rate: Option<u32>,
    /// Interleaved channels (default 1).
    pub channels: Option<u16>,
    /// The bearer token, for clients that cannot set headers (browsers).
    pub token: Option<String>,
}

impl StreamQuery {
    /// The declared PCM format, if any; an error says which parameter is wrong.
    pub fn pcm(&self) -> Result<Option<PcmFormat>, String> {
        let Some(name) = &self.format else {
            if self.sample_rate.is_some() || self.channels.is_some() {
                return Err("`sample_rate` and `channels` need `format` (s16le, s32le or f32le)".into());
            }
            return Ok(None);
        };
        let format = RawFormat::from_name(name).ok_or_else(|| {
            format!(
                "unknown `format` `{name}`; expected one of {}",
                RawFormat::NAMES.join(", ")
            )
        })?;
        let sample_rate = self.sample_rate.ok_or("`format` needs `sample_rate` (Hz)")?;
        remotemedia_core::check_input_sample_rate(sample_rate).map_err(|e| format!("`sample_rate`: {e}"))?;
        let channels = self.channels.unwrap_or(1);
        let most = remotemedia_core::MAX_INPUT_CHANNELS;
        if !(1..=most).contains(&channels) {
            return Err(format!("`channels` {channels} is out of range (1..={most})"));
        }
        Ok(Some(PcmFormat {
            format,
            sample_rate,
            channels,
        }))
    }
}

/// A value from the client's tagged JSON.
pub fn value_from_json(json: serde_json::Value) -> Result<Value, String> {
    Value::from_json(json).map_err(|e| format!("invalid value: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_and_print_as_documented() {
        let input: ClientMessage =
            serde_json::from_str(r#"{"type":"input","value":{"a":1}}"#).expect("input");
        assert!(matches!(input, ClientMessage::Input { value } if value["a"] == 1));
        assert!(matches!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"end"}"#),
            Ok(ClientMessage::End)
        ));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"start"}"#).is_err());
        // Unknown fields are ignored (a newer client may add some).
        assert!(matches!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"end","x":1}"#),
            Ok(ClientMessage::End)
        ));
        assert_eq!(
            ServerMessage::AudioFormat {
                format: "s16le",
                sample_rate: 16000,
                channels: 1
            }
            .to_text(),
            r#"{"type":"audio_format","format":"s16le","sample_rate":16000,"channels":1}"#
        );
        assert_eq!(ServerMessage::Cleared.to_text(), r#"{"type":"cleared"}"#);
        assert_eq!(ServerMessage::Interrupted.to_text(), r#"{"type":"interrupted"}"#);
        let error = ServerMessage::Error {
            kind: "node",
            node_id: Some("vad".into()),
            node_type: Some("VADNode".into()),
            message: "boom".into(),
            code: close::NODE_ERROR,
        };
        assert_eq!(
            error.to_text(),
            r#"{"type":"error","kind":"node","node_id":"vad","node_type":"VADNode","message":"boom","code":4500}"#
        );
    }

    #[test]
    fn the_pcm_format_comes_from_the_query() {
        let query = |format: Option<&str>, rate: Option<u32>, channels: Option<u16>| StreamQuery {
            format: format.map(str::to_string),
            sample_rate: rate,
            channels,
            token: None,
        };
        assert_eq!(query(None, None, None).pcm(), Ok(None));
        assert_eq!(
            query(Some("s16le"), Some(16000), None).pcm(),
            Ok(Some(PcmFormat {
                format: RawFormat::S16le,
                sample_rate: 16000,
                channels: 1
            }))
        );
        assert_eq!(
            query(Some("s16le"), None, None).pcm(),
            Err("`format` needs `sample_rate` (Hz)".to_string())
        );
        assert!(query(Some("mp3"), Some(1), None).pcm().is_err());
        assert!(query(None, Some(16000), None).pcm().is_err());
        assert!(query(Some("f32le"), Some(48000), Some(0)).pcm().is_err());
    }
}
