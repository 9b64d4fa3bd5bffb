"""Built-in nodes: the engine's native nodes as Python objects (same ``node_type``, params,
defaults, outputs and errors). Without the engine they run on the fallback's twins."""

from __future__ import annotations

from .audio import (
    AudioChunkerNode,
    AudioResampleNode,
    ChannelMixNode,
    FormatConverterNode,
    GainNode,
    NormalizeNode,
    SileroVADNode,
    VADNode,
)
from .basic import AddNode, BufferNode, CalculatorNode, MultiplyNode, NativeNode, PassThroughNode
from .speech import PiperTTSNode

__all__ = [
    "AddNode",
    "AudioChunkerNode",
    "AudioResampleNode",
    "BufferNode",
    "CalculatorNode",
    "ChannelMixNode",
    "FormatConverterNode",
    "GainNode",
    "MultiplyNode",
    "NativeNode",
    "NormalizeNode",
    "PassThroughNode",
    "PiperTTSNode",
    "SileroVADNode",
    "VADNode",
    "NODE_TYPES",
]

#: Every built-in node type (and alias) by its manifest name.
NODE_TYPES: dict[str, type[NativeNode]] = {
    "PassThroughNode": PassThroughNode,
    "PassThrough": PassThroughNode,
    "CalculatorNode": CalculatorNode,
    "MultiplyNode": MultiplyNode,
    "AddNode": AddNode,
    "BufferNode": BufferNode,
    "AudioResampleNode": AudioResampleNode,
    "FormatConverterNode": FormatConverterNode,
    "ChannelMixNode": ChannelMixNode,
    "AudioChunkerNode": AudioChunkerNode,
    "GainNode": GainNode,
    "NormalizeNode": NormalizeNode,
    "VADNode": VADNode,
    "SileroVADNode": SileroVADNode,
    "PiperTTSNode": PiperTTSNode,
}
