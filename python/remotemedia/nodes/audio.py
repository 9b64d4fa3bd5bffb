"""The engine's audio nodes, as Python objects to build pipelines with: the same ``node_type``,
params, defaults and errors, documented in ``docs/audio.md``. Without the engine (or when
``process`` is called directly) the fallback's numpy twins run them.

Inputs are :class:`remotemedia.audio.Audio` values or the seeds' ``(samples, sample_rate)`` pairs
(float32, float64, int16 or int32 arrays of shape ``(frames,)`` or ``(frames, channels)``);
outputs are ``Audio`` values (VAD segments and frame decisions are dicts).
"""

from __future__ import annotations

from .basic import NativeNode
from .spec import MISSING, declared

__all__ = [
    "AudioChunkerNode",
    "AudioResampleNode",
    "ChannelMixNode",
    "FormatConverterNode",
    "GainNode",
    "NormalizeNode",
    "SileroVADNode",
    "VADNode",
]


class FormatConverterNode(NativeNode):
    """Converts samples to ``target_format`` (``f32``/``i16``/``i32``; round half to even, clip)."""

    DESCRIPTION, PARAMS = declared("FormatConverterNode")

    def __init__(self, target_format: str = MISSING, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, target_format=target_format)


class ChannelMixNode(NativeNode):
    """``downmix`` to mono, ``upmix`` mono to ``channels``, or ``select`` channel ``channel``."""

    DESCRIPTION, PARAMS = declared("ChannelMixNode")

    def __init__(
        self,
        mode: str = MISSING,
        channels: int = MISSING,
        channel: int = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, mode=mode, channels=channels, channel=channel)


class AudioChunkerNode(NativeNode):
    """Re-cuts audio into chunks of ``chunk_samples`` frames (or ``chunk_ms``, default 20 ms); the
    remainder is emitted at end of stream."""

    DESCRIPTION, PARAMS = declared("AudioChunkerNode")

    def __init__(
        self,
        chunk_ms: float = MISSING,
        chunk_samples: int = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, chunk_ms=chunk_ms, chunk_samples=chunk_samples)


class GainNode(NativeNode):
    """Multiplies audio by ``db`` decibels of gain (integer samples saturate)."""

    DESCRIPTION, PARAMS = declared("GainNode")

    def __init__(self, db: float = MISSING, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, db=db)


class NormalizeNode(NativeNode):
    """Scales a whole stream so its peak (or RMS) level is ``target_db`` dBFS; emits one audio value
    at end of stream."""

    DESCRIPTION, PARAMS = declared("NormalizeNode")

    def __init__(
        self, mode: str = MISSING, target_db: float = MISSING, name: str | None = None, runtime_hint: str = "auto"
    ) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, mode=mode, target_db=target_db)


class AudioResampleNode(NativeNode):
    """Resamples audio to ``target_sample_rate`` (polyphase windowed sinc; output time-aligned with
    the input). ``target_rate`` is accepted as another name for ``target_sample_rate`` (the seeds)."""

    DESCRIPTION, PARAMS = declared("AudioResampleNode")

    def __init__(
        self,
        target_sample_rate: int = MISSING,
        quality: str = MISSING,
        max_latency_ms: int = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
        target_rate: int = MISSING,
    ) -> None:
        if target_rate is not MISSING and target_sample_rate is MISSING:
            target_sample_rate = target_rate
        super().__init__(
            name=name,
            runtime_hint=runtime_hint,
            target_sample_rate=target_sample_rate,
            quality=quality,
            max_latency_ms=max_latency_ms,
        )

    @property
    def target_sample_rate(self) -> int:
        """Output rate in Hz (read-only)."""
        return self.values["target_sample_rate"]


class VADNode(NativeNode):
    """Voice activity detection on 8 or 16 kHz mono audio, the fast integer detector.

    ``emit="segments"`` (default): a dict ``{"start": s, "end": s}`` per speech segment when it ends;
    ``"frames"``: per input that completed frames, ``{"start": s, "frame_ms": n, "speech": [bool]}``;
    ``"speech"``: the audio of each segment. ``events=True`` adds ``{"event": "speech_started",
    "time": s}`` and ``{"event": "speech_ended", "start": s, "end": s}``; ``interrupt=True`` makes
    the start of speech interrupt the session on the engine (barge-in; docs/protocol.md).
    """

    DESCRIPTION, PARAMS = declared("VADNode")

    def __init__(
        self,
        frame_duration_ms: int = MISSING,
        mode: int = MISSING,
        hangover_ms: int = MISSING,
        min_speech_ms: int = MISSING,
        min_silence_ms: int = MISSING,
        padding_ms: int = MISSING,
        emit: str = MISSING,
        events: bool = MISSING,
        interrupt: bool = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(
            name=name,
            runtime_hint=runtime_hint,
            frame_duration_ms=frame_duration_ms,
            mode=mode,
            hangover_ms=hangover_ms,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            padding_ms=padding_ms,
            emit=emit,
            events=events,
            interrupt=interrupt,
        )


class SileroVADNode(NativeNode):
    """Voice activity detection with the Silero VAD model (v6) on 8 or 16 kHz mono audio, with
    silero-vad's segment rules. The engine runs it natively; the fallback's twin runs it with
    onnxruntime (``pip install onnxruntime``).

    Outputs as ``VADNode``; ``emit="frames"`` adds ``"probability": [p, ...]`` per 32 ms frame.
    ``model``: an ``If``-free Silero ONNX file for the stream's rate (default: the shipped ones).
    """

    DESCRIPTION, PARAMS = declared("SileroVADNode")

    def __init__(
        self,
        threshold: float = MISSING,
        model: str = MISSING,
        execution: str = MISSING,
        min_speech_ms: int = MISSING,
        min_silence_ms: int = MISSING,
        padding_ms: int = MISSING,
        emit: str = MISSING,
        events: bool = MISSING,
        interrupt: bool = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(
            name=name,
            runtime_hint=runtime_hint,
            threshold=threshold,
            model=model,
            execution=execution,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            padding_ms=padding_ms,
            emit=emit,
            events=events,
            interrupt=interrupt,
        )
