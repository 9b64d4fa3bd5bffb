"""Silero VAD in pure Python (onnxruntime): the twin of the engine's ``SileroVADNode``
(``crates/remotemedia-models``), on the same model files, streamed the same way (the previous
chunk's last 64 samples, 32 at 8 kHz, before each 512-sample chunk, 256 at 8 kHz; the state fed
back; a last partial chunk zero-padded), with silero-vad's segment rules applied as the
probabilities arrive (:class:`Segmenter`, step for step the engine's). Probabilities agree with
the engine's within 1e-4, and segments are identical (``tests/python/test_silero.py``).

onnxruntime is needed only here: ``pip install onnxruntime`` (or ``remotemedia[silero]``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...models import SILERO_VAD

__all__ = ["RATES", "SegmentRules", "Segmenter", "SileroVad", "load_session"]

#: The rates the model runs at.
RATES = (8000, 16000)
_STATE = (2, 1, 128)


def chunk_len(rate: int) -> int:
    return 512 if rate == 16000 else 256


def context_len(rate: int) -> int:
    return 64 if rate == 16000 else 32


def rate_error(rate: int) -> str:
    return (
        f"Silero VAD runs on 8000 or 16000 Hz audio, found {rate} Hz; "
        "put an AudioResampleNode (target_sample_rate: 16000) before it"
    )


def load_session(path: str | Path | None, rate: int):
    """An onnxruntime session on ``path`` (default: the shipped model for ``rate``), one thread
    (as the engine runs one stream per call)."""
    if rate not in RATES:
        raise ValueError(rate_error(rate))
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError(
            "SileroVADNode in the pure-Python executor needs onnxruntime: pip install onnxruntime "
            '(or pip install "remotemedia[silero]"); the remotemedia_runtime extension runs it natively without it'
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model = Path(path) if path is not None else SILERO_VAD[rate]
    try:
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise ValueError(f"cannot load the Silero VAD model: {model}: {e}") from None


class SileroVad:
    """One stream: probabilities of speech per 32 ms chunk."""

    def __init__(self, session, rate: int) -> None:
        self.session, self.rate = session, rate
        self.chunk, self.context = chunk_len(rate), context_len(rate)
        self.reset()

    def reset(self) -> None:
        self.state = np.zeros(_STATE, np.float32)
        self.input = np.zeros((1, self.context + self.chunk), np.float32)

    def probability(self, chunk: np.ndarray) -> float:
        if len(chunk) != self.chunk:
            raise ValueError(f"Silero VAD takes chunks of {self.chunk} samples at this rate, found {len(chunk)}")
        self.input[0, self.context :] = chunk
        out, self.state = self.session.run(None, {"input": self.input, "state": self.state})
        self.input[0, : self.context] = self.input[0, -self.context :]
        return float(out.reshape(-1)[0])


class SegmentRules:
    """silero-vad's thresholds and durations (durations in samples)."""

    def __init__(self, threshold: float, rate: int, min_speech_ms: int, min_silence_ms: int, pad_ms: int) -> None:
        # The engine keeps the threshold as a 32-bit float.
        self.threshold = float(np.float32(threshold))
        self.neg_threshold = float(max(np.float32(threshold) - np.float32(0.15), np.float32(0.01)))
        self.min_speech = rate * min_speech_ms // 1000
        self.min_silence = rate * min_silence_ms // 1000
        self.pad = rate * pad_ms // 1000


class Segmenter:
    """silero-vad's ``get_speech_timestamps`` rules (no maximum length), streamed: the engine's
    ``remotemedia_models::silero_segments::Segmenter``, step for step."""

    def __init__(self, rules: SegmentRules, chunk: int) -> None:
        self.rules, self.chunk = rules, chunk
        self.chunks = 0
        self.open: int | None = None
        self.silence_from: int | None = None
        self.held: tuple[int, int] | None = None

    @property
    def in_speech(self) -> bool:
        return self.open is not None

    def push(self, p: float, done: list[tuple[int, int]]) -> None:
        r = self.rules
        at = self.chunks * self.chunk
        self.chunks += 1
        speech = p >= r.threshold
        if speech:
            self.silence_from = None
        if self.open is None:
            if speech:
                self.open = at
        elif p < r.neg_threshold:
            if self.silence_from is None:
                self.silence_from = at
            start, end = self.open, self.silence_from
            if at - end >= r.min_silence:
                self.open = self.silence_from = None
                if end - start > r.min_speech:
                    self._keep(start, end, done)
        if self.held is not None:
            earliest = self.open if self.open is not None else self.chunks * self.chunk
            if earliest >= self.held[1] + 2 * r.pad:
                done.append((self.held[0], self.held[1] + r.pad))
                self.held = None

    def _keep(self, start: int, end: int, done: list[tuple[int, int]]) -> None:
        pad = self.rules.pad
        padded = max(start - pad, 0)
        if self.held is not None:
            held_start, held_end = self.held
            gap = start - held_end
            if gap < 2 * pad:
                done.append((held_start, held_end + gap // 2))
                padded = start - gap // 2
            else:
                done.append((held_start, held_end + pad))
        self.held = (padded, end)

    def finish(self, length: int, done: list[tuple[int, int]]) -> None:
        if self.open is not None and length - self.open > self.rules.min_speech:
            self._keep(self.open, length, done)
        self.open = self.silence_from = None
        if self.held is not None:
            done.append((self.held[0], min(self.held[1] + self.rules.pad, length)))
            self.held = None

    def keep_from(self) -> int:
        if self.held is not None:
            return self.held[0]
        if self.open is not None:
            return max(self.open - self.rules.pad, 0)
        return max(self.chunks * self.chunk - self.rules.pad, 0)


class Detector:
    """Model + segmenter + the samples of an unfinished chunk: what ``SileroVADNode`` runs."""

    def __init__(self, session, rate: int, rules: SegmentRules) -> None:
        self.vad = SileroVad(session, rate)
        self.frame_len = self.vad.chunk
        self.frame_ms = 32
        self.segmenter = Segmenter(rules, self.frame_len)
        self.partial = np.zeros(0, np.float32)
        self.samples = 0

    def _score(self, chunk: np.ndarray, out: tuple) -> None:
        p = self.vad.probability(chunk)
        self.segmenter.push(np.float32(p), out[2])
        out[1].append(self.segmenter.in_speech)
        out[3].append(p)

    def push(self, samples: np.ndarray) -> tuple[int, list[bool], list[tuple[int, int]], list[float]]:
        """Samples in -1..1 (float32); returns (first chunk, in-speech per chunk, segments, probabilities)."""
        out: tuple = (self.segmenter.chunks, [], [], [])
        self.samples += len(samples)
        data = np.concatenate([self.partial, samples]) if len(self.partial) else samples
        whole = len(data) // self.frame_len * self.frame_len
        for i in range(0, whole, self.frame_len):
            self._score(data[i : i + self.frame_len], out)
        self.partial = np.array(data[whole:], np.float32)
        return out

    def finish(self) -> tuple[int, list[bool], list[tuple[int, int]], list[float]]:
        out: tuple = (self.segmenter.chunks, [], [], [])
        if len(self.partial):
            self._score(np.pad(self.partial, (0, self.frame_len - len(self.partial))), out)
            self.partial = np.zeros(0, np.float32)
        self.segmenter.finish(self.samples, out[2])
        return out

    def keep_from(self) -> int:
        return self.segmenter.keep_from()
