//! Opus packets (from symphonia's Ogg demuxer) decoded by `opus-rs`, a pure-Rust port of libopus:
//! symphonia has no Opus decoder, and the C-based crates need cmake.

/// The longest Opus packet: 120 ms at 48 kHz, per channel.
const MAX_FRAMES: usize = 5760;

/// An Opus decoder for one track (always 48 kHz, the rate Ogg Opus is decoded at).
pub(crate) struct OpusTrack {
    decoder: opus_rs::OpusDecoder,
    channels: usize,
    pcm: Vec<f32>,
}

impl OpusTrack {
    /// A decoder for a mono or stereo stream.
    pub(crate) fn new(channels: usize) -> Result<Self, String> {
        if !(1..=2).contains(&channels) {
            return Err(format!(
                "Opus with {channels} channels (multistream) is not supported yet (mono and stereo are)"
            ));
        }
        let decoder = opus_rs::OpusDecoder::new(48_000, channels).map_err(str::to_string)?;
        Ok(Self {
            decoder,
            channels,
            pcm: vec![0.0; MAX_FRAMES * channels],
        })
    }

    /// Decodes one packet into interleaved samples.
    pub(crate) fn decode(&mut self, packet: &[u8]) -> Result<&[f32], String> {
        let frames = self
            .decoder
            .decode(packet, MAX_FRAMES, &mut self.pcm)
            .map_err(|e| format!("Opus: {e}"))?;
        Ok(&self.pcm[..frames * self.channels])
    }
}
