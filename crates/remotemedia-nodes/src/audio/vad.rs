//! Voice activity detection in integer fixed point.
//!
//! The algorithm (identical, step for step, to the Python twin in `remotemedia.dsp.vad`, so both
//! make the same decisions): per frame of 10, 20 or 30 ms of 16-bit mono audio at 8 or 16 kHz,
//!
//! 1. **Band powers.** A Haar pyramid (sums and differences of sample pairs) splits the frame into
//!    octave bands; five are used at both rates (0-250, 250-500, 500-1000, 1000-2000, 2000-4000 Hz).
//!    Each band's exact 64-bit energy becomes a Q8 base-2 logarithm ([`log2_q8`]) of its mean
//!    power per sample.
//! 2. **Noise floor.** Per band, a smoothed level follows the band power; the floor drops quickly
//!    to it and rises slowly (a fixed step per 10 ms plus 1/128 of the gap), so it settles on the
//!    background between words and follows noise that starts or grows. After 200 ms or more of
//!    silence (frames at or below the gate, e.g. digital zeros) the floor has learnt nothing about
//!    the next background, so the first 50 ms of sound after it are checked once: if they are
//!    steady, the floor rises at once to their mean level (see `Vad::settle_after_silence`).
//! 3. **Score.** Each band's ratio over its floor, less a 3 dB margin and capped at 24 dB, is
//!    weighted (speech bands most) and summed; a frame is *raw speech* when the score passes the
//!    mode's threshold and the frame is louder than -70 dBFS.
//! 4. **Smoothing.** A frame is reported as speech when it is raw speech or follows one within
//!    `hangover_ms`. Segments are runs of raw speech merged across gaps shorter than
//!    `min_silence_ms`, kept when at least `min_speech_ms` long, widened by `padding_ms` on each
//!    side (never overlapping the previous segment or reaching past the end of the stream).
//!
//! Only integer additions, multiplications, comparisons and arithmetic shifts follow the
//! conversion to 16-bit samples. Frames are cut from the stream itself, so chunk boundaries never
//! change a decision; a final partial frame is not classified.

/// Per-band weights, lowest band first.
const WEIGHTS: [i64; 5] = [1, 2, 3, 3, 2];
/// Score thresholds of modes 0 (least aggressive) to 3.
pub const MODE_THRESHOLDS: [i64; 4] = [1024, 1536, 2048, 3072];
/// A band's ratio over its floor counts above this (Q8 log2; 256 = 3 dB of power).
const MARGIN: i64 = 256;
/// ... and at most this much (24 dB).
const CAP: i64 = 2048;
/// The longest frame: 30 ms at 16 kHz.
const MAX_FRAME: usize = 480;
/// Frames quieter than this are never speech (Q8 log2 of mean power per sample; -70 dBFS).
const GATE: i64 = 1727;
/// Floor rise per 10 ms (Q8 log2).
const RISE: i64 = 8;
/// Silence (frames at or below the gate) at least this long leaves the floor knowing nothing of the
/// background that follows; shorter gaps (between synthesized words) are pauses within speech.
const SILENCE_MS: u32 = 200;
/// After such silence, the sound is checked for steadiness over this long (after its first frame).
const SETTLE_MS: u32 = 50;
/// ... and is steady when its bands' level spreads (max - min over those frames), weighted like the
/// score, average at most this, for 10, 20 and 30 ms frames (Q8 log2: 640 = 7.5 dB of power).
/// Fewer, longer frames spread less: white, pink and brown noise and the recording's background
/// stay under about 610, 430 and 250 (5, 3 and 2 frames checked); speech onsets mostly spread more.
const STEADY: [i64; 3] = [640, 480, 320];

/// `⌊256 · log2 v⌋`, approximated by the bit length and the next 8 bits (0 for 0).
pub fn log2_q8(v: u64) -> i64 {
    if v == 0 {
        return 0;
    }
    let bits = 63 - i64::from(v.leading_zeros());
    let frac = if bits >= 8 {
        (v >> (bits - 8)) & 0xFF
    } else {
        (v << (8 - bits)) & 0xFF
    };
    bits * 256 + frac as i64
}

/// The detector's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Aggressiveness 0 (most frames are speech) to 3 (fewest).
    pub mode: u8,
    /// Frame length: 10, 20 or 30 ms.
    pub frame_ms: u32,
    /// How long a frame stays "speech" after raw speech.
    pub hangover_ms: u32,
    /// Shorter runs of speech are not segments.
    pub min_speech_ms: u32,
    /// Shorter pauses do not end a segment.
    pub min_silence_ms: u32,
    /// Added before and after each segment.
    pub padding_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            mode: 2,
            frame_ms: 10,
            hangover_ms: 200,
            min_speech_ms: 100,
            min_silence_ms: 300,
            padding_ms: 30,
        }
    }
}

/// A speech segment, in samples from the start of the stream (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First sample.
    pub start: u64,
    /// One past the last sample.
    pub end: u64,
}

/// What one call to [`Vad::push`] decided.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct VadOutput {
    /// Index of the first frame in `speech`.
    pub first_frame: u64,
    /// Per completed frame: speech (with hangover) or not.
    pub speech: Vec<bool>,
    /// Segments that ended.
    pub segments: Vec<Segment>,
    /// Per completed frame, for detectors that score frames: the probability of speech.
    pub probability: Vec<f32>,
}

/// A streaming voice activity detector for 16-bit mono audio.
#[derive(Debug)]
pub struct Vad {
    config: VadConfig,
    rate: u32,
    frame_len: usize,
    /// `hangover_ms`, `min_speech_ms`, `min_silence_ms`, [`SILENCE_MS`] and [`SETTLE_MS`] in whole
    /// frames (rounded up).
    hangover_frames: u64,
    min_speech_frames: u64,
    min_silence_frames: u64,
    silence_frames: u64,
    settle_frames: u64,
    /// `padding_ms` in samples.
    pad: u64,
    levels: usize,
    partial: Vec<i16>,
    frames_done: u64,
    smooth: [i64; 5],
    floor: [i64; 5],
    started: bool,
    /// Consecutive frames at or below the gate, up to the last one.
    quiet: u64,
    /// Frames louder than the gate since the last one at or below it, while the check after
    /// silence is pending (`None`: no long silence yet, or checked).
    since_quiet: Option<u64>,
    /// Per band: lowest, highest and summed level of the frames checked so far.
    low: [i64; 5],
    high: [i64; 5],
    sum: [i64; 5],
    since_speech: u64,
    open: Option<(u64, u64)>,
    last_end: u64,
}

impl Vad {
    /// A detector for audio at `rate` (8000 or 16000 Hz).
    pub fn new(rate: u32, config: VadConfig) -> Result<Self, String> {
        let levels = match rate {
            16000 => 5,
            8000 => 4,
            other => {
                return Err(format!(
                    "voice activity detection needs 8000 or 16000 Hz audio, found {other} Hz; \
                     put an AudioResampleNode (target_sample_rate: 16000) before it"
                ));
            }
        };
        if ![10, 20, 30].contains(&config.frame_ms) {
            return Err(format!(
                "frame_duration_ms must be 10, 20 or 30, found {}",
                config.frame_ms
            ));
        }
        if config.mode > 3 {
            return Err(format!("mode must be 0 to 3, found {}", config.mode));
        }
        let frames = |ms: u32| u64::from(ms.div_ceil(config.frame_ms));
        Ok(Self {
            config,
            rate,
            frame_len: (rate * config.frame_ms / 1000) as usize,
            hangover_frames: frames(config.hangover_ms),
            min_speech_frames: frames(config.min_speech_ms),
            min_silence_frames: frames(config.min_silence_ms),
            silence_frames: frames(SILENCE_MS),
            settle_frames: frames(SETTLE_MS),
            pad: u64::from(rate) * u64::from(config.padding_ms) / 1000,
            levels,
            partial: Vec::new(),
            frames_done: 0,
            smooth: [0; 5],
            floor: [0; 5],
            started: false,
            quiet: 0,
            since_quiet: None,
            low: [0; 5],
            high: [0; 5],
            sum: [0; 5],
            since_speech: u64::MAX,
            open: None,
            last_end: 0,
        })
    }

    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Sample rate in Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Band powers and total power of one frame (Q8 log2 of mean power per sample).
    pub fn band_levels(&self, frame: &[i16]) -> ([i64; 5], i64) {
        // Haar sums grow by one bit per level: 16 + 5 bits fit an i32; squares are summed in i64.
        let mut buf = [0i32; MAX_FRAME];
        let mut len = frame.len().min(MAX_FRAME);
        let mut total = 0i64;
        for (slot, &x) in buf.iter_mut().zip(frame) {
            *slot = i32::from(x);
            total += i64::from(x) * i64::from(x);
        }
        let mut bands = [0i64; 5];
        for level in 1..=self.levels {
            let half = len / 2;
            let mut energy = 0i64;
            for i in 0..half {
                let (even, odd) = (buf[2 * i], buf[2 * i + 1]);
                let d = i64::from(even - odd);
                energy += d * d;
                buf[i] = even + odd;
            }
            len = half;
            if level + 4 > self.levels {
                // Highest band first here; stored lowest first.
                bands[self.levels - level + 1] = log2_q8(energy as u64) - 256 * level as i64;
            }
        }
        let low: i64 = buf[..len].iter().map(|&x| i64::from(x) * i64::from(x)).sum();
        bands[0] = log2_q8(low as u64) - 256 * self.levels as i64;
        let n = log2_q8(frame.len() as u64);
        (bands.map(|b| b - n), log2_q8(total as u64) - n)
    }

    /// Raw decision for one frame, updating the noise floor.
    fn raw_decision(&mut self, frame: &[i16]) -> bool {
        let (power, total) = self.band_levels(frame);
        if !self.started {
            self.smooth = power;
            self.floor = power;
            self.started = true;
        }
        let mut score = 0i64;
        for b in 0..5 {
            let ratio = power[b] - self.floor[b] - MARGIN;
            if ratio > 0 {
                score += WEIGHTS[b] * ratio.min(CAP);
            }
        }
        let speech = score > MODE_THRESHOLDS[usize::from(self.config.mode)] && total > GATE;
        let rise = RISE * i64::from(self.config.frame_ms) / 10;
        for ((smooth, floor), level) in self.smooth.iter_mut().zip(&mut self.floor).zip(power) {
            *smooth += (level - *smooth) >> 1;
            let gap = *smooth - *floor;
            *floor += if gap < 0 { gap >> 1 } else { (gap >> 7) + rise };
        }
        self.settle_after_silence(power, total);
        speech
    }

    /// The floor's one quick correction after silence.
    ///
    /// The floor drops fast and rises slowly, so speech never lifts it for long. The one case where
    /// rising slowly is wrong is after silence (frames at or below the gate: digital zeros, a muted
    /// input): the floor has followed the silence down to nothing and would take seconds to climb
    /// to the background that follows, which meanwhile counts as speech. Silence tells nothing
    /// about that background, so after [`SILENCE_MS`] or more of it the floor gets one quick
    /// correction, a short minimum-statistics-like check: the first [`SETTLE_MS`] of sound
    /// (skipping its first frame, which may straddle the edge of the silence) are kept as per-band
    /// lowest, highest and summed levels (a silent frame meanwhile restarts the check). If they are
    /// steady (their level spreads, weighted like the score, average at most [`STEADY`] for the
    /// frame length), the sound is taken as a new stationary background and the floor rises at once
    /// to its mean level (it is never lowered here); the usual tracking then takes it down to the
    /// background's quiet end within a few frames, as it drops fast.
    ///
    /// Speech is rarely steady over the 50 ms after its onset (levels move by tens of dB across
    /// syllables), so it fails the check and the floor stays down: it is detected as before. A
    /// steady onset that is speech (a held vowel) lifts the floor only to its own mean: what rises
    /// above it still counts, and the floor falls back at the next dip. Until the check the sound
    /// counts as speech, so a background that starts after silence costs one frame plus
    /// [`SETTLE_MS`] of speech frames, shorter than the default `min_speech_ms` (no segment). There
    /// is one check per silence: sound that is not steady then is left to the usual slow rise.
    /// Shorter silences are pauses within speech (between synthesized words), and the sound after
    /// them is not checked.
    fn settle_after_silence(&mut self, power: [i64; 5], total: i64) {
        if total <= GATE {
            self.quiet = self.quiet.saturating_add(1);
            if self.quiet >= self.silence_frames || self.since_quiet.is_some() {
                self.since_quiet = Some(0);
            }
            return;
        }
        self.quiet = 0;
        let Some(count) = self.since_quiet else {
            return;
        };
        let count = count + 1;
        self.since_quiet = Some(count);
        // Frames checked, this one included (the first after silence is skipped).
        let checked = count - 1;
        if checked == 1 {
            self.low = power;
            self.high = power;
            self.sum = power;
        } else if checked > 1 {
            for (b, level) in power.into_iter().enumerate() {
                self.low[b] = self.low[b].min(level);
                self.high[b] = self.high[b].max(level);
                self.sum[b] += level;
            }
        }
        if checked == self.settle_frames {
            let spread: i64 = (0..5).map(|b| WEIGHTS[b] * (self.high[b] - self.low[b])).sum();
            let steady = STEADY[self.config.frame_ms as usize / 10 - 1];
            if spread <= steady * WEIGHTS.iter().sum::<i64>() {
                // Floor division, as in the twin (`//`), also for negative sums.
                let frames = self.settle_frames as i64;
                for (floor, sum) in self.floor.iter_mut().zip(self.sum) {
                    *floor = (*floor).max(sum.div_euclid(frames));
                }
            }
            self.since_quiet = None;
        }
    }

    /// Feeds samples; returns the decisions of every frame completed and the segments that ended.
    pub fn push(&mut self, samples: &[i16]) -> VadOutput {
        let mut out = VadOutput {
            first_frame: self.frames_done,
            ..VadOutput::default()
        };
        let mut rest = samples;
        while !rest.is_empty() {
            if self.partial.is_empty() && rest.len() >= self.frame_len {
                // Whole frames straight from the input.
                let (frame, tail) = rest.split_at(self.frame_len);
                let raw = self.raw_decision(frame);
                out.speech.push(self.step(raw, &mut out.segments));
                rest = tail;
                continue;
            }
            let take = (self.frame_len - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() == self.frame_len {
                let frame = std::mem::take(&mut self.partial);
                let raw = self.raw_decision(&frame);
                self.partial = frame;
                self.partial.clear();
                out.speech.push(self.step(raw, &mut out.segments));
            }
        }
        out
    }

    /// Hangover and segment tracking for the next frame.
    fn step(&mut self, raw: bool, segments: &mut Vec<Segment>) -> bool {
        let i = self.frames_done;
        self.frames_done += 1;
        self.since_speech = if raw {
            0
        } else {
            self.since_speech.saturating_add(1)
        };
        let min_silence = self.min_silence_frames;
        match (&mut self.open, raw) {
            (None, true) => self.open = Some((i, i + 1)),
            (Some((_, end)), true) => *end = i + 1,
            (Some((start, end)), false) => {
                if i + 1 - *end >= min_silence {
                    let (s, e) = (*start, *end);
                    self.open = None;
                    segments.extend(self.close(s, e, u64::MAX));
                }
            }
            (None, false) => {}
        }
        self.since_speech <= self.hangover_frames
    }

    /// The segment for frames `start..end`, if long enough, padded and clipped.
    fn close(&mut self, start: u64, end: u64, stream_end: u64) -> Option<Segment> {
        if end - start < self.min_speech_frames {
            return None;
        }
        let frame = self.frame_len as u64;
        let segment = Segment {
            start: (start * frame).saturating_sub(self.pad).max(self.last_end),
            end: (end * frame + self.pad).min(stream_end),
        };
        self.last_end = segment.end;
        Some(segment)
    }

    /// The first sample a future segment can include (audio before it is no longer needed).
    pub fn keep_from(&self) -> u64 {
        let first = self.open.map_or(self.frames_done, |(s, _)| s);
        (first * self.frame_len as u64)
            .saturating_sub(self.pad)
            .max(self.last_end)
    }

    /// Ends the stream: closes an open segment (clipped to the samples received).
    pub fn finish(&mut self) -> Vec<Segment> {
        let total = self.frames_done * self.frame_len as u64 + self.partial.len() as u64;
        self.open
            .take()
            .and_then(|(s, e)| self.close(s, e, total))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_q8_matches_definition() {
        assert_eq!(log2_q8(0), 0);
        assert_eq!(log2_q8(1), 0);
        assert_eq!(log2_q8(2), 256);
        assert_eq!(log2_q8(3), 256 + 128);
        assert_eq!(log2_q8(1 << 40), 40 * 256);
        assert_eq!(log2_q8(u64::MAX), 63 * 256 + 255);
    }

    fn noisy_tone(rate: u32, seconds: f64, loud: impl Fn(f64) -> bool) -> Vec<i16> {
        let mut seed = 12345u32;
        (0..(f64::from(rate) * seconds) as usize)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let noise = f64::from((seed >> 16) as i16 % 64);
                let t = i as f64 / f64::from(rate);
                let tone = if loud(t) {
                    8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                } else {
                    0.0
                };
                (tone + noise) as i16
            })
            .collect()
    }

    /// 16 kHz mono through a default detector: segments in seconds, and per-frame decisions.
    fn detect(x: &[i16]) -> (Vec<(f64, f64)>, Vec<bool>) {
        let mut vad = Vad::new(16000, VadConfig::default()).expect("valid");
        let out = vad.push(x);
        let mut segments = out.segments;
        segments.extend(vad.finish());
        let seconds = segments
            .iter()
            .map(|s| (s.start as f64 / 16000.0, s.end as f64 / 16000.0))
            .collect();
        (seconds, out.speech)
    }

    #[test]
    fn finds_a_tone_burst_in_noise() {
        let (segments, speech) = detect(&noisy_tone(16000, 3.0, |t| (1.0..2.0).contains(&t)));
        assert_eq!(segments.len(), 1, "{segments:?}");
        let (s, e) = segments[0];
        assert!((s - 1.0).abs() < 0.05 && (e - 2.0).abs() < 0.05, "{s} {e}");
        assert_eq!(speech.len(), 300);
        assert!(!speech[50] && speech[150] && !speech[280]);
    }

    #[test]
    fn background_after_digital_silence_is_not_speech() {
        // 1 s of zeros, then the noisy tone: the noise that starts at 1 s is a new background (at
        // most its first 60 ms count as speech, too short for a segment); the tone (2 s to 3 s) is
        // speech.
        let mut x = vec![0i16; 16000];
        x.extend(noisy_tone(16000, 3.0, |t| (1.0..2.0).contains(&t)));
        let (segments, speech) = detect(&x);
        assert_eq!(segments.len(), 1, "{segments:?}");
        let (s, e) = segments[0];
        assert!((s - 2.0).abs() < 0.05 && (e - 3.0).abs() < 0.05, "{s} {e}");
        assert_eq!(speech.len(), 400);
        assert!(!speech[150] && speech[250] && !speech[350]);
    }

    #[test]
    fn speech_after_digital_silence_is_still_speech() {
        // 1 s of zeros, then a tone whose level rises and falls four times a second, like
        // syllables: it is not steady, so the floor stays down and all of it is speech.
        let mut x = vec![0i16; 16000];
        x.extend((0_i32..16000).map(|i| {
            let t = f64::from(i) / 16000.0;
            let envelope = (2.0 * std::f64::consts::PI * 4.0 * t).sin().abs();
            (8000.0 * envelope * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
        }));
        let (segments, speech) = detect(&x);
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert!((segments[0].0 - 1.0).abs() < 0.05, "{segments:?}");
        assert!(speech[100..].iter().all(|&s| s));
    }

    #[test]
    fn chunking_does_not_change_decisions() {
        let x = noisy_tone(8000, 2.0, |t| (0.5..0.9).contains(&t) || (1.3..1.6).contains(&t));
        let run = |size: usize| {
            let mut vad = Vad::new(
                8000,
                VadConfig {
                    frame_ms: 20,
                    ..VadConfig::default()
                },
            )
            .expect("valid");
            let (mut speech, mut segments) = (Vec::new(), Vec::new());
            for chunk in x.chunks(size) {
                let out = vad.push(chunk);
                speech.extend(out.speech);
                segments.extend(out.segments);
            }
            segments.extend(vad.finish());
            (speech, segments)
        };
        let whole = run(x.len());
        assert_eq!(whole.1.len(), 2);
        for size in [1, 7, 160, 1000] {
            assert_eq!(run(size), whole, "chunks of {size}");
        }
    }

    #[test]
    fn rejects_unsupported_rates() {
        let err = Vad::new(44100, VadConfig::default()).expect_err("44.1 kHz");
        assert!(err.contains("AudioResampleNode"), "{err}");
    }
}
