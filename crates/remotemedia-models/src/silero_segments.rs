//! Silero's rules for turning per-chunk speech probabilities into segments
//! (`get_speech_timestamps` in silero-vad 6.2, without a maximum segment length), applied as the
//! probabilities arrive, so a stream gives the same segments, in samples, as silero-vad gives for
//! the whole recording:
//!
//! - speech starts at the first chunk whose probability is at least `threshold`;
//! - in speech, a chunk below `neg_threshold` (`threshold - 0.15`, at least 0.01) starts a possible
//!   end, which a chunk at or above `threshold` cancels; the segment ends there once the silence
//!   has lasted `min_silence` samples (counted from the start of the first silent chunk to the
//!   start of the current one);
//! - a segment is kept when longer than `min_speech` samples; one still open when the stream ends
//!   ends there;
//! - each kept segment is widened by `pad` samples on each side, except where two segments are
//!   closer than `2 * pad`: then each gets half the gap.
//!
//! A segment is emitted once its padded end is final: when the next kept segment is known, when
//! no later segment can start within `2 * pad` of it, or at the end of the stream.

use remotemedia_nodes::audio::vad::Segment;

/// The thresholds and durations (durations in samples).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentRules {
    /// Speech starts at this probability.
    pub threshold: f32,
    /// In speech, a probability below this is silence.
    pub neg_threshold: f32,
    /// Kept segments are longer than this.
    pub min_speech: u64,
    /// Silence this long ends a segment.
    pub min_silence: u64,
    /// Added before and after each segment.
    pub pad: u64,
}

impl SegmentRules {
    /// silero-vad's rules for `threshold` and durations in milliseconds at `rate`.
    pub fn new(threshold: f32, rate: u32, min_speech_ms: u32, min_silence_ms: u32, pad_ms: u32) -> Self {
        let samples = |ms: u32| u64::from(rate) * u64::from(ms) / 1000;
        Self {
            threshold,
            neg_threshold: (threshold - 0.15).max(0.01),
            min_speech: samples(min_speech_ms),
            min_silence: samples(min_silence_ms),
            pad: samples(pad_ms),
        }
    }
}

/// Segments from a stream of per-chunk probabilities.
#[derive(Debug, Clone)]
pub struct Segmenter {
    rules: SegmentRules,
    chunk: u64,
    /// Chunks seen.
    chunks: u64,
    /// The open segment's first sample, while in speech.
    open: Option<u64>,
    /// Where the silence in the open segment started.
    silence_from: Option<u64>,
    /// A kept segment whose end is not final yet: its padded start and raw end.
    held: Option<(u64, u64)>,
}

impl Segmenter {
    /// A segmenter for chunks of `chunk` samples.
    pub fn new(rules: SegmentRules, chunk: usize) -> Self {
        Self {
            rules,
            chunk: chunk as u64,
            chunks: 0,
            open: None,
            silence_from: None,
            held: None,
        }
    }

    /// Whether the stream is in speech after the chunks so far.
    pub fn in_speech(&self) -> bool {
        self.open.is_some()
    }

    /// The next chunk's probability; appends the segments that became final.
    pub fn push(&mut self, probability: f32, done: &mut Vec<Segment>) {
        let at = self.chunks * self.chunk;
        self.chunks += 1;
        let speech = probability >= self.rules.threshold;
        if speech {
            self.silence_from = None;
        }
        match self.open {
            None if speech => self.open = Some(at),
            Some(start) if probability < self.rules.neg_threshold => {
                let from = *self.silence_from.get_or_insert(at);
                if at - from >= self.rules.min_silence {
                    self.open = None;
                    self.silence_from = None;
                    if from - start > self.rules.min_speech {
                        self.keep(start, from, done);
                    }
                }
            }
            _ => {}
        }
        // No later segment can start within `2 * pad` of the held one: its end is final.
        if let Some((start, end)) = self.held {
            let earliest = self.open.unwrap_or(self.chunks * self.chunk);
            if earliest >= end + 2 * self.rules.pad {
                self.held = None;
                done.push(Segment {
                    start,
                    end: end + self.rules.pad,
                });
            }
        }
    }

    /// A kept segment `start..end` (raw): settles the held one's end against it, and holds it.
    fn keep(&mut self, start: u64, end: u64, done: &mut Vec<Segment>) {
        let pad = self.rules.pad;
        let padded_start = match self.held.take() {
            Some((held_start, held_end)) => {
                let gap = start - held_end;
                if gap < 2 * pad {
                    done.push(Segment {
                        start: held_start,
                        end: held_end + gap / 2,
                    });
                    start - gap / 2
                } else {
                    done.push(Segment {
                        start: held_start,
                        end: held_end + pad,
                    });
                    start.saturating_sub(pad)
                }
            }
            None => start.saturating_sub(pad),
        };
        self.held = Some((padded_start, end));
    }

    /// Ends a stream of `length` samples; appends the last segments.
    pub fn finish(&mut self, length: u64, done: &mut Vec<Segment>) {
        if let Some(start) = self.open.take()
            && length.saturating_sub(start) > self.rules.min_speech
        {
            self.keep(start, length, done);
        }
        self.silence_from = None;
        if let Some((start, end)) = self.held.take() {
            done.push(Segment {
                start,
                end: (end + self.rules.pad).min(length),
            });
        }
    }

    /// The first sample a future segment can include.
    pub fn keep_from(&self) -> u64 {
        match (self.held, self.open) {
            (Some((start, _)), _) => start,
            (None, Some(start)) => start.saturating_sub(self.rules.pad),
            (None, None) => (self.chunks * self.chunk).saturating_sub(self.rules.pad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// silero-vad's `get_speech_timestamps_from_probs` (no maximum length), transcribed as
    /// written there (the whole list at once), to check the streamed version against.
    fn batch(probs: &[f32], rules: SegmentRules, chunk: u64, length: u64) -> Vec<(u64, u64)> {
        let (mut triggered, mut temp_end, mut start) = (false, 0u64, 0u64);
        let mut speeches: Vec<(u64, u64)> = Vec::new();
        for (i, &p) in probs.iter().enumerate() {
            let cur = chunk * i as u64;
            if p >= rules.threshold && temp_end != 0 {
                temp_end = 0;
            }
            if p >= rules.threshold && !triggered {
                triggered = true;
                start = cur;
                continue;
            }
            if p < rules.neg_threshold && triggered {
                if temp_end == 0 {
                    temp_end = cur;
                }
                if cur - temp_end < rules.min_silence {
                    continue;
                }
                if temp_end - start > rules.min_speech {
                    speeches.push((start, temp_end));
                }
                temp_end = 0;
                triggered = false;
            }
        }
        if triggered && length - start > rules.min_speech {
            speeches.push((start, length));
        }
        let pad = rules.pad;
        let n = speeches.len();
        for i in 0..n {
            if i == 0 {
                speeches[0].0 = speeches[0].0.saturating_sub(pad);
            }
            if i + 1 < n {
                let gap = speeches[i + 1].0 - speeches[i].1;
                if gap < 2 * pad {
                    speeches[i].1 += gap / 2;
                    speeches[i + 1].0 = speeches[i + 1].0.saturating_sub(gap / 2);
                } else {
                    speeches[i].1 = (speeches[i].1 + pad).min(length);
                    speeches[i + 1].0 = speeches[i + 1].0.saturating_sub(pad);
                }
            } else {
                speeches[i].1 = (speeches[i].1 + pad).min(length);
            }
        }
        speeches
    }

    fn streamed(probs: &[f32], rules: SegmentRules, chunk: u64, length: u64) -> Vec<(u64, u64)> {
        let mut s = Segmenter::new(rules, chunk as usize);
        let mut done = Vec::new();
        for &p in probs {
            s.push(p, &mut done);
        }
        s.finish(length, &mut done);
        done.iter().map(|g| (g.start, g.end)).collect()
    }

    #[test]
    fn streamed_segments_equal_silero_batch_rules() {
        // Random walks of probabilities under many rule sets, including pads wider than the
        // minimum silence (where neighbouring segments split their gap).
        let mut seed = 7u64;
        let mut rand = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f32 / (1u64 << 31) as f32
        };
        let mut checked_segments = 0;
        for case in 0..400 {
            let rules = SegmentRules::new(
                0.3 + 0.4 * rand(),
                16_000,
                [0, 100, 250][case % 3],
                [0, 30, 100, 300][case % 4],
                [0, 30, 200][case % 3 / 2 + case % 2],
            );
            let mut p = rand();
            let probs: Vec<f32> = (0..300)
                .map(|_| {
                    p = (p + (rand() - 0.5) * 0.6).clamp(0.0, 1.0);
                    p
                })
                .collect();
            let length = 512 * 300 - (case as u64 % 500);
            let expected = batch(&probs, rules, 512, length);
            assert_eq!(
                streamed(&probs, rules, 512, length),
                expected,
                "case {case}: {rules:?}"
            );
            checked_segments += expected.len();
        }
        assert!(checked_segments > 1000, "{checked_segments}");
    }

    #[test]
    fn a_segment_is_emitted_once_its_end_is_final() {
        let rules = SegmentRules::new(0.5, 16_000, 250, 100, 30);
        let mut s = Segmenter::new(rules, 512);
        let mut done = Vec::new();
        let speech = 20; // chunks of speech (640 ms), from chunk 5
        for i in 0..40 {
            s.push(if (5..5 + speech).contains(&i) { 0.9 } else { 0.05 }, &mut done);
            if i < 5 + speech + 4 {
                assert!(done.is_empty(), "chunk {i}");
            }
        }
        assert_eq!(
            done,
            vec![Segment {
                start: 5 * 512 - 480,
                end: 25 * 512 + 480
            }]
        );
    }
}
