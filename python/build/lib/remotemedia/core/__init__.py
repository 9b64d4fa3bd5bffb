"""Core classes: :class:`Node` and :class:`Pipeline`."""

from .node import Node
from .pipeline import Pipeline

__all__ = ["Node", "Pipeline"]
