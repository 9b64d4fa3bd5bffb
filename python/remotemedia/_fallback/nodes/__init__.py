"""The fallback's twins of the engine's built-in nodes: what a :class:`~remotemedia.nodes.NativeNode`
does when the pipeline runs without the engine, or when ``process`` is called directly."""

from __future__ import annotations

from typing import Any, Callable

from .audio import VAD, AudioChunker, AudioResample, ChannelMix, FormatConverter, Gain, Normalize, SileroVAD
from .basic import Body, Buffer, Calculator, Elementwise, PassThrough
from .speech import PiperTTS

__all__ = ["Body", "body_for"]

_BODIES: dict[str, Callable[[dict[str, Any]], Body]] = {
    "PassThroughNode": PassThrough,
    "CalculatorNode": Calculator,
    "MultiplyNode": lambda values: Elementwise(values, "multiply", "factor"),
    "AddNode": lambda values: Elementwise(values, "add", "addend"),
    "BufferNode": Buffer,
    "AudioResampleNode": AudioResample,
    "FormatConverterNode": FormatConverter,
    "ChannelMixNode": ChannelMix,
    "AudioChunkerNode": AudioChunker,
    "GainNode": Gain,
    "NormalizeNode": Normalize,
    "VADNode": VAD,
    "SileroVADNode": SileroVAD,
    "PiperTTSNode": PiperTTS,
}


def body_for(node_type: str, values: dict[str, Any]) -> Body:
    """A fresh twin of built-in node ``node_type`` (its canonical name) with params ``values``."""
    return _BODIES[node_type](values)
