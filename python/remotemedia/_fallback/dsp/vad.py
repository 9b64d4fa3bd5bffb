"""Voice activity detection in integer fixed point: the algorithm of the engine's ``VADNode``,
step for step, so both give identical decisions.

Per frame (10, 20 or 30 ms of 16-bit mono audio at 8 or 16 kHz):

1. **Band powers.** A Haar wavelet-packet pyramid (sums and differences of sample pairs, integers
   only) splits the frame into octave bands; five are used at both rates: 0-250, 250-500,
   500-1000, 1000-2000 and 2000-4000 Hz. Each band's energy (an exact 64-bit sum of squares, scaled
   by the level's gain) is turned into a Q8 base-2 logarithm (``log2_q8``: 256 units per octave).
2. **Noise floor.** Per band, a smoothed level follows the band power; the floor drops quickly to
   it and rises slowly (a fixed amount per 10 ms plus 1/128 of the gap), so it settles on the
   background between words and follows noise that starts or grows. After ``SILENCE_MS`` or more
   of silence (frames at or below the gate, e.g. digital zeros) the floor has learnt nothing about
   the next background, so the first ``SETTLE_MS`` of sound after it are checked once: if they are
   steady, the floor rises at once to their mean level (see ``decide``).
3. **Score.** Each band's signal-to-floor ratio above ``margin``, capped, is weighted (speech bands
   weigh most) and summed; a frame is *raw speech* when the score passes the mode's threshold and
   the frame is louder than an absolute gate (-70 dBFS), so digital silence never counts.
4. **Smoothing.** A frame is reported as speech when it is raw speech or follows one within
   ``hangover_ms``. Segments are runs of raw speech merged across gaps shorter than
   ``min_silence_ms``, kept when at least ``min_speech_ms`` long, and widened by ``padding_ms``.

Only integer additions, multiplications, comparisons and arithmetic shifts are used after the
samples are 16-bit, so Rust and numpy compute the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["MODES", "Vad", "VadConfig", "VadState", "band_levels", "log2_q8", "decide"]

#: Per-band weights, lowest band first (0-250, 250-500, 500-1k, 1-2k, 2-4k Hz).
WEIGHTS = (1, 2, 3, 3, 2)
#: Score thresholds of modes 0 (least aggressive: more frames are speech) to 3.
MODES = (1024, 1536, 2048, 3072)
#: A band's ratio over its floor counts only above this (Q8 log2: 256 = 3 dB of power).
MARGIN = 256
#: ... and at most this much (8 octaves of power, 24 dB).
CAP = 2048
#: Frames quieter than this are never speech (Q8 log2 of mean power per sample; -70 dBFS).
GATE = 1727  # 30 octaves (full scale) - 70 dB
#: Floor rise per 10 ms, Q8 log2.
RISE = 8
#: Silence (frames at or below the gate) at least this long leaves the floor knowing nothing of the
#: background that follows; shorter gaps (between synthesized words) are pauses within speech.
SILENCE_MS = 200
#: After such silence, the sound is checked for steadiness over this long (after its first frame).
SETTLE_MS = 50
#: ... and is steady when its bands' level spreads (max - min over those frames), weighted like the
#: score, average at most this, for 10, 20 and 30 ms frames (Q8 log2: 640 = 7.5 dB of power).
#: Fewer, longer frames spread less: white, pink and brown noise and the recording's background
#: stay under about 610, 430 and 250 (5, 3 and 2 frames checked); speech onsets mostly spread more.
STEADY = (640, 480, 320)


def log2_q8(v: np.ndarray) -> np.ndarray:
    """``floor(256 · log2 v)`` approximated by the bit length and the next 8 bits (0 for 0)."""
    v = np.asarray(v, dtype=np.int64)
    mant, exp = np.frexp(v.astype(np.float64))  # exact: v < 2^53
    bits = exp.astype(np.int64) - 1
    frac = np.floor((mant * 2.0 - 1.0) * 256.0).astype(np.int64)
    return np.where(v > 0, bits * 256 + frac, 0)


def band_levels(frames: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Band powers (``frames x 5``) and total power (``frames``) of int16 frames, Q8 log2 of
    mean power per sample."""
    levels = 5 if rate == 16000 else 4
    n = frames.shape[1]
    a = frames.astype(np.int64)
    total = (a * a).sum(axis=1)
    bands = []
    for level in range(1, levels + 1):
        even, odd = a[:, 0::2], a[:, 1::2]
        d = even - odd
        a = even + odd
        if level > levels - 4:
            bands.append(log2_q8((d * d).sum(axis=1)) - 256 * level)
    bands.append(log2_q8((a * a).sum(axis=1)) - 256 * levels)
    n_q8 = int(log2_q8(np.array([n]))[0])
    power = np.stack(bands[::-1], axis=1) - n_q8
    return power, log2_q8(total) - n_q8


@dataclass
class VadConfig:
    """The detector's settings (the ``VADNode`` params)."""

    mode: int = 2
    frame_ms: int = 10
    hangover_ms: int = 200
    min_speech_ms: int = 100
    min_silence_ms: int = 300
    padding_ms: int = 30

    @property
    def threshold(self) -> int:
        return MODES[self.mode]

    @property
    def rise(self) -> int:
        return RISE * self.frame_ms // 10

    def frames(self, ms: int) -> int:
        """``ms`` in whole frames, rounded up."""
        return -(-ms // self.frame_ms)


@dataclass
class VadState:
    """Everything carried from one frame to the next."""

    smooth: list[int] = field(default_factory=list)
    floor: list[int] = field(default_factory=list)
    #: Consecutive frames at or below the gate, up to the last one.
    quiet: int = 0
    #: Frames louder than the gate since the last one at or below it, while the check after
    #: silence is pending (``None``: no long silence yet, or checked).
    since_quiet: int | None = None
    #: Per band: lowest, highest and summed level of the frames checked so far.
    low: list[int] = field(default_factory=lambda: [0] * 5)
    high: list[int] = field(default_factory=lambda: [0] * 5)
    sum: list[int] = field(default_factory=lambda: [0] * 5)


def decide(power: np.ndarray, total: np.ndarray, config: VadConfig, state: VadState) -> np.ndarray:
    """Raw speech decisions for consecutive frames, updating ``state``.

    The floor drops fast and rises slowly, so speech never lifts it for long. The one case where
    rising slowly is wrong is after silence (frames at or below the gate: digital zeros, a muted
    input): the floor has followed the silence down to nothing and would take seconds to climb to
    the background that follows, which meanwhile counts as speech. Silence tells nothing about that
    background, so after ``SILENCE_MS`` or more of it the floor gets one quick correction, a short
    minimum-statistics-like check: the first ``SETTLE_MS`` of sound (skipping its first frame, which
    may straddle the edge of the silence) are kept as per-band lowest, highest and summed levels (a
    silent frame meanwhile restarts the check). If they are steady (their level spreads, weighted
    like the score, average at most ``STEADY`` for the frame length), the sound is taken as a new
    stationary background and the floor rises at once to its mean level (it is never lowered here);
    the usual tracking then takes it down to the background's quiet end within a few frames, as it
    drops fast.

    Speech is rarely steady over the 50 ms after its onset (levels move by tens of dB across
    syllables), so it fails the check and the floor stays down: it is detected as before. A steady
    onset that is speech (a held vowel) lifts the floor only to its own mean: what rises above it
    still counts, and the floor falls back at the next dip. Until the check the sound counts as
    speech, so a background that starts after silence costs one frame plus ``SETTLE_MS`` of speech
    frames, shorter than the default ``min_speech_ms`` (no segment). There is one check per
    silence: sound that is not steady then is left to the usual slow rise. Shorter silences are
    pauses within speech (between synthesized words), and the sound after them is not checked.
    """
    out = np.zeros(len(power), dtype=bool)
    rows = power.tolist()
    totals = total.tolist()
    threshold, rise = config.threshold, config.rise
    settle, silence = config.frames(SETTLE_MS), config.frames(SILENCE_MS)
    smooth, floor = state.smooth, state.floor
    low, high, acc = state.low, state.high, state.sum
    for i, row in enumerate(rows):
        if not floor:
            smooth[:] = row
            floor[:] = row
        score = 0
        for b in range(5):
            ratio = row[b] - floor[b] - MARGIN
            if ratio > 0:
                score += WEIGHTS[b] * min(ratio, CAP)
        out[i] = score > threshold and totals[i] > GATE
        for b in range(5):
            smooth[b] += (row[b] - smooth[b]) >> 1
            gap = smooth[b] - floor[b]
            if gap < 0:
                floor[b] += gap >> 1
            else:
                floor[b] += (gap >> 7) + rise
        if totals[i] <= GATE:
            state.quiet += 1
            if state.quiet >= silence or state.since_quiet is not None:
                state.since_quiet = 0
            continue
        state.quiet = 0
        if state.since_quiet is not None:
            state.since_quiet += 1
            n = state.since_quiet - 1  # frames checked, this one included (the first is skipped)
            if n == 1:
                low[:] = row
                high[:] = row
                acc[:] = row
            elif n > 1:
                for b in range(5):
                    low[b] = min(low[b], row[b])
                    high[b] = max(high[b], row[b])
                    acc[b] += row[b]
            if n == settle:
                spread = sum(WEIGHTS[b] * (high[b] - low[b]) for b in range(5))
                if spread <= STEADY[config.frame_ms // 10 - 1] * sum(WEIGHTS):
                    for b in range(5):
                        floor[b] = max(floor[b], acc[b] // settle)
                state.since_quiet = None
    return out


class Vad:
    """A streaming detector for int16 mono audio at 8 or 16 kHz (the engine's ``Vad``)."""

    def __init__(self, rate: int, config: VadConfig) -> None:
        if rate not in (8000, 16000):
            raise ValueError(
                f"voice activity detection needs 8000 or 16000 Hz audio, found {rate} Hz; "
                "put an AudioResampleNode (target_sample_rate: 16000) before it"
            )
        self.rate = rate
        self.config = config
        self.frame_len = rate * config.frame_ms // 1000
        self._hangover = config.frames(config.hangover_ms)
        self._min_speech = config.frames(config.min_speech_ms)
        self._min_silence = config.frames(config.min_silence_ms)
        self._pad = rate * config.padding_ms // 1000
        self._state = VadState()
        self._partial = np.zeros(0, dtype=np.int16)
        self.frames_done = 0
        self._since_speech: int | None = None
        self._open: list[int] | None = None
        self._last_end = 0

    def push(self, samples: np.ndarray) -> tuple[int, list[bool], list[tuple[int, int]]]:
        """Feeds int16 samples; returns (first frame index, per-frame decisions, ended segments in
        samples)."""
        first = self.frames_done
        data = np.concatenate([self._partial, np.asarray(samples, dtype=np.int16).reshape(-1)])
        whole = len(data) // self.frame_len * self.frame_len
        self._partial = data[whole:]
        speech: list[bool] = []
        segments: list[tuple[int, int]] = []
        if whole:
            power, total = band_levels(data[:whole].reshape(-1, self.frame_len), self.rate)
            for raw in decide(power, total, self.config, self._state).tolist():
                speech.append(self._step(raw, segments))
        return first, speech, segments

    def _step(self, raw: bool, segments: list[tuple[int, int]]) -> bool:
        i = self.frames_done
        self.frames_done += 1
        if raw:
            self._since_speech = 0
        elif self._since_speech is not None:
            self._since_speech += 1
        if raw:
            if self._open is None:
                self._open = [i, i + 1]
            else:
                self._open[1] = i + 1
        elif self._open is not None and i + 1 - self._open[1] >= self._min_silence:
            start, end = self._open
            self._open = None
            segments.extend(self._close(start, end, None))
        return self._since_speech is not None and self._since_speech <= self._hangover

    def _close(self, start: int, end: int, stream_end: int | None) -> list[tuple[int, int]]:
        if end - start < self._min_speech:
            return []
        first = max(start * self.frame_len - self._pad, 0, self._last_end)
        last = end * self.frame_len + self._pad
        if stream_end is not None:
            last = min(last, stream_end)
        self._last_end = last
        return [(first, last)]

    def keep_from(self) -> int:
        """The first sample a future segment can include."""
        first = self._open[0] if self._open is not None else self.frames_done
        return max(first * self.frame_len - self._pad, 0, self._last_end)

    def finish(self) -> list[tuple[int, int]]:
        """Ends the stream: closes an open segment."""
        total = self.frames_done * self.frame_len + len(self._partial)
        if self._open is None:
            return []
        start, end = self._open
        self._open = None
        return self._close(start, end, total)
