"""Compatibility path used by the seeds' examples: ``from remotemedia.nodes.base import PassThroughNode``."""

from .basic import AddNode, BufferNode, CalculatorNode, MultiplyNode, PassThroughNode

__all__ = ["AddNode", "BufferNode", "CalculatorNode", "MultiplyNode", "PassThroughNode"]
