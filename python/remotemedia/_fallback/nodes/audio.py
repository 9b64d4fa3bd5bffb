"""The fallback's twins of the engine's audio nodes (numpy): the same outputs and error messages
as the native nodes, documented in ``docs/audio.md``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...audio import Audio
from ...errors import NodeError
from ..dsp import resample as _resample
from ..dsp import vad as _vad
from ..dsp.samples import FORMATS, convert, to_float32
from ..params import describe_value
from .basic import Body

__all__ = [
    "AudioChunker",
    "AudioResample",
    "ChannelMix",
    "FormatConverter",
    "Gain",
    "Normalize",
    "SileroVAD",
    "VAD",
    "as_audio",
]


def as_audio(value: Any) -> Audio:
    """``value`` as audio (an ``Audio``, or a ``(samples, sample_rate)`` pair), else the engine's error."""
    if isinstance(value, Audio):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], np.ndarray):
        samples, rate = value
        if not isinstance(rate, int) or isinstance(rate, bool):
            raise NodeError(f"expected audio (or a (samples, sample_rate) pair), found {describe_value(value)}")
        if rate <= 0:
            raise NodeError(f"sample rate must be a positive integer, found {rate}")
        if samples.ndim not in (1, 2):
            raise NodeError(
                f"audio samples must have shape (frames,) or (frames, channels), found {list(samples.shape)}"
            )
        if samples.dtype == np.float64:
            samples = samples.astype(np.float32)
        elif samples.dtype.name not in ("float32", "int16", "int32"):
            raise NodeError(f"audio samples must be float32, float64, int16 or int32, found {samples.dtype.name}")
        return Audio(samples, rate)
    raise NodeError(f"expected audio (or a (samples, sample_rate) pair), found {describe_value(value)}")


_FORMAT_NAMES = {np.dtype(np.float32): "f32", np.dtype(np.int16): "i16", np.dtype(np.int32): "i32"}


class _Stream:
    """The stream's fixed layout, as the engine checks it."""

    def __init__(self) -> None:
        self.layout: tuple[int, int, str] | None = None

    def check(self, audio: Audio) -> tuple[int, int, str]:
        now = (audio.sample_rate, audio.channels, _FORMAT_NAMES[audio.samples.dtype])
        if self.layout is None:
            self.layout = now
        elif self.layout != now:
            first, second = (f"{r} Hz {c}-channel {f}" for r, c, f in (self.layout, now))
            raise NodeError(
                f"the audio stream changed from {first} to {second} mid-stream; a node's state holds one layout"
            )
        return now


class _AudioBody(Body):
    """An audio twin: like every native audio node, it refuses a stream whose layout changes."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._stream = _Stream()


class FormatConverter(_AudioBody):
    """Converts samples to ``target_format`` (``f32``/``i16``/``i32``; round half to even, clip)."""

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        self._stream.check(audio)
        return Audio(convert(audio.samples, FORMATS[self.values["target_format"]]), audio.sample_rate)


def _mean_int(samples: np.ndarray) -> np.ndarray:
    total = samples.astype(np.int64).sum(axis=1)
    return total.astype(np.float64) / samples.shape[1]


class ChannelMix(_AudioBody):
    """``downmix`` to mono, ``upmix`` mono to ``channels``, or ``select`` channel ``channel``."""

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        self._stream.check(audio)
        s, have, mode = audio.samples, audio.channels, self.values["mode"]
        if mode == "downmix":
            if have == 1:
                return audio
            if s.dtype == np.float32:
                acc = s[:, 0].copy()
                for c in range(1, have):
                    acc += s[:, c]
                mixed = acc / np.float32(have)
            else:
                info = np.iinfo(s.dtype)
                mixed = np.clip(np.rint(_mean_int(s)), info.min, info.max).astype(s.dtype)
            return Audio(mixed.reshape(-1, 1), audio.sample_rate)
        if mode == "upmix":
            want = self.values["channels"]
            if have == want:
                return audio
            if have != 1:
                raise NodeError(
                    f"upmix copies mono audio into {want} channels, found {have}-channel audio; downmix it first"
                )
            return Audio(np.repeat(s, want, axis=1), audio.sample_rate)
        c = self.values["channel"]
        if c >= have:
            raise NodeError(f"channel {c} does not exist in {have}-channel audio (channels count from 0)")
        return audio if have == 1 else Audio(np.ascontiguousarray(s[:, c : c + 1]), audio.sample_rate)


class AudioChunker(_AudioBody):
    """Re-cuts audio into chunks of ``chunk_samples`` frames (or ``chunk_ms``, default 20 ms); the
    remainder is emitted at end of stream."""

    def _frames(self, rate: int) -> int:
        if self.values["chunk_samples"] is not None:
            return self.values["chunk_samples"]
        ms = self.values["chunk_ms"] if self.values["chunk_ms"] is not None else 20.0
        return max(math.floor(ms * rate / 1000.0 + 0.5), 1)  # Rust's round(): halves away from 0

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._pending = []

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        rate, _, _ = self._stream.check(audio)
        frames = self._frames(rate)
        if not self._pending and audio.frames == frames:
            yield audio
            return
        self._pending.append(audio.samples)
        held = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        start = 0
        while len(held) - start >= frames:
            yield Audio(held[start : start + frames].copy(), rate)
            start += frames
        self._pending = [held[start:]] if start < len(held) else []

    def flush(self) -> Any:
        if self._pending and self._stream.layout is not None:
            held = np.concatenate(self._pending)
            self._pending = []
            if len(held):
                return Audio(held, self._stream.layout[0])
        return None


def _db_to_factor(db: float) -> float:
    return 10.0 ** (db / 20.0)


def _apply_gain(audio: Audio, factor: float) -> Audio:
    s = audio.samples
    if s.dtype == np.float32:
        return Audio(s * np.float32(factor), audio.sample_rate)
    info = np.iinfo(s.dtype)
    y = np.clip(np.rint(s.astype(np.float64) * factor), info.min, info.max).astype(s.dtype)
    return Audio(y, audio.sample_rate)


class Gain(_AudioBody):
    """Multiplies audio by ``db`` decibels of gain (integer samples saturate)."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._factor = _db_to_factor(float(values["db"]))

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        self._stream.check(audio)
        return audio if self._factor == 1.0 else _apply_gain(audio, self._factor)


class Normalize(_AudioBody):
    """Scales a whole stream so its peak (or RMS) level is ``target_db`` dBFS; emits one audio value
    at end of stream."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._held = []

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        self._stream.check(audio)
        self._held.append(audio.samples)
        return None

    def flush(self) -> Any:
        if self._stream.layout is None:
            return None
        whole = Audio(np.concatenate(self._held), self._stream.layout[0])
        self._held = []
        x = to_float32(whole.samples).astype(np.float64).reshape(-1)
        if self.values["mode"] == "rms":
            squares = float(np.cumsum(x * x)[-1]) if len(x) else 0.0
            level = (squares / max(float(len(x)), 1.0)) ** 0.5
        else:
            level = float(np.abs(x).max()) if len(x) else 0.0
        if level > 0.0 and np.isfinite(level):
            return _apply_gain(whole, _db_to_factor(float(self.values["target_db"])) / level)
        return whole


class AudioResample(_AudioBody):
    """Resamples audio to ``target_sample_rate`` (polyphase windowed sinc; output time-aligned with
    the input). ``target_rate`` is accepted as another name for ``target_sample_rate`` (the seeds)."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._resampler = None

    def _out(self, y: np.ndarray) -> Audio | None:
        if not len(y) or self._stream.layout is None:
            return None
        fmt = FORMATS[self._stream.layout[2]]
        return Audio(convert(y.astype(np.float32), fmt), self.values["target_sample_rate"])

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        rate, channels, _ = self._stream.check(audio)
        target = self.values["target_sample_rate"]
        if rate == target:
            return audio
        if self._resampler is None:
            try:
                self._resampler = _resample.Resampler(
                    rate, target, channels, self.values["quality"], self.values["max_latency_ms"]
                )
            except ValueError as e:
                raise NodeError(str(e)) from None
        return self._out(self._resampler.process(to_float32(audio.samples)))

    def flush(self) -> Any:
        return None if self._resampler is None else self._out(self._resampler.flush())


class _Speech(_AudioBody):
    """What the speech detectors share (the engine's ``SpeechNode``): mono input, a detector made
    for the stream's rate from its first chunk, and the ``emit`` outputs."""

    node_type: str

    def _make_detector(self, rate: int) -> Any:
        raise NotImplementedError

    def _samples(self, audio: Audio) -> np.ndarray:
        raise NotImplementedError

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._detector: Any = None
        self._held = np.zeros(0)
        self._held_start = 0
        self._speaking = False

    def _segments(self, segments: list[tuple[int, int]], rate: int) -> list[Any]:
        out: list[Any] = []
        for start, end in segments:
            if self.values["emit"] == "segments":
                out.append({"start": start / rate, "end": end / rate})
            elif self.values["emit"] == "speech":
                a = min(max(start - self._held_start, 0), len(self._held))
                b = min(max(end - self._held_start, 0), len(self._held))
                out.append(Audio(self._held[a:b].reshape(-1, 1).copy(), rate))
            if self.values["events"]:
                out.append({"event": "speech_ended", "start": start / rate, "end": end / rate})
        return out

    def _starts(self, first: int, speech: list[bool], rate: int) -> list[Any]:
        """``speech_started`` events where the frames turn to speech (``events``); the fallback
        has no session to interrupt, so ``interrupt`` changes nothing here."""
        out: list[Any] = []
        for k, frame in enumerate(speech):
            if frame and not self._speaking and self.values["events"]:
                out.append({"event": "speech_started", "time": (first + k) * self._detector.frame_len / rate})
            self._speaking = frame
        return out

    def _outputs(self, decided: tuple, rate: int) -> list[Any]:
        first, speech, segments = decided[:3]
        out: list[Any] = self._starts(first, speech, rate)
        if self.values["emit"] == "frames" and speech:
            frames = {
                "start": first * self._detector.frame_len / rate,
                "frame_ms": self._detector.frame_ms,
                "speech": speech,
            }
            if len(decided) > 3:
                frames["probability"] = decided[3]
            out.append(frames)
        return out + self._segments(segments, rate)

    def process(self, data: Any) -> Any:
        audio = as_audio(data)
        rate, channels, _ = self._stream.check(audio)
        if channels != 1:
            raise NodeError(
                f"{self.node_type} needs mono audio, found {channels} channels; "
                "put a ChannelMixNode (mode: downmix) before it"
            )
        if self._detector is None:
            self._detector = self._make_detector(rate)
        decided = self._detector.push(self._samples(audio))
        if self.values["emit"] == "speech":
            s = audio.samples.reshape(-1)
            self._held = np.concatenate([self._held, s]) if len(self._held) else s
        out = self._outputs(decided, rate)
        keep = self._detector.keep_from()
        if self.values["emit"] == "speech" and keep > self._held_start:
            drop = min(keep - self._held_start, len(self._held))
            self._held = self._held[drop:]
            self._held_start += drop
        yield from out

    def flush(self) -> Any:
        if self._detector is None or self._stream.layout is None:
            return None
        yield from self._outputs(self._detector.finish(), self._stream.layout[0])


class VAD(_Speech):
    """``VADNode``: the fast integer detector (``dsp.vad``)."""

    node_type = "VADNode"

    def _make_detector(self, rate: int) -> Any:
        v = self.values
        config = _vad.VadConfig(
            mode=v["mode"],
            frame_ms=v["frame_duration_ms"],
            hangover_ms=v["hangover_ms"],
            min_speech_ms=v["min_speech_ms"],
            min_silence_ms=v["min_silence_ms"],
            padding_ms=v["padding_ms"],
        )
        try:
            vad = _vad.Vad(rate, config)
        except ValueError as e:
            raise NodeError(str(e)) from None
        vad.frame_ms = config.frame_ms
        return _IntegerDetector(vad)

    def _samples(self, audio: Audio) -> np.ndarray:
        return convert(audio.samples, np.int16).reshape(-1)


class _IntegerDetector:
    """``dsp.vad.Vad`` with the detector interface ``_Speech`` drives."""

    def __init__(self, vad: Any) -> None:
        self.vad, self.frame_len, self.frame_ms = vad, vad.frame_len, vad.frame_ms

    def push(self, samples: np.ndarray) -> tuple:
        return self.vad.push(samples)

    def finish(self) -> tuple:
        return (self.vad.frames_done, [], self.vad.finish())

    def keep_from(self) -> int:
        return self.vad.keep_from()


class SileroVAD(_Speech):
    """``SileroVADNode``, run with onnxruntime (``pip install onnxruntime``; see ``dsp.silero``)."""

    node_type = "SileroVADNode"

    def _make_detector(self, rate: int) -> Any:
        from ..dsp import silero

        v = self.values
        try:
            session = silero.load_session(v.get("model"), rate)
        except ValueError as e:
            raise NodeError(str(e)) from None
        rules = silero.SegmentRules(v["threshold"], rate, v["min_speech_ms"], v["min_silence_ms"], v["padding_ms"])
        return silero.Detector(session, rate, rules)

    def _samples(self, audio: Audio) -> np.ndarray:
        return to_float32(audio.samples).reshape(-1)
