"""The engine's basic nodes, as Python objects to build pipelines with: the same ``node_type``,
params, defaults and errors. Their params are checked on construction (by the engine when it is
installed); what they do is the engine's native implementation, or the fallback's twin of it
(``remotemedia._fallback.nodes``) when the pipeline runs without the engine or ``process`` is
called directly."""

from __future__ import annotations

from typing import Any, ClassVar

from .. import _shared
from ..core.node import Node
from .spec import MISSING, ParamSpec, declared

__all__ = [
    "NativeNode",
    "PassThroughNode",
    "CalculatorNode",
    "MultiplyNode",
    "AddNode",
    "BufferNode",
]


class NativeNode(Node):
    """A node with a native implementation in the Rust engine.

    Its params are checked on construction, with the engine's rules and messages
    (:class:`~remotemedia.errors.ManifestError`); ``values`` holds them with defaults filled in.
    """

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()
    DESCRIPTION: ClassVar[str] = ""

    def __init__(self, name: str | None = None, runtime_hint: str = "auto", **params: Any) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint)
        given = {k: v for k, v in params.items() if v is not MISSING}
        self.values: dict[str, Any] = _shared.checked_node_params(self.node_type, self.PARAMS, given)
        self._init_kwargs = given
        self._body: Any = None

    def _implementation(self) -> Any:
        """The fallback's twin of this node, with this node's state (made on first use)."""
        if self._body is None:
            from .._fallback.nodes import body_for

            self._body = body_for(self.node_type, self.values)
        return self._body

    def initialize(self) -> None:
        self._body = None

    def process(self, data: Any) -> Any:
        return self._implementation().process(data)

    def flush(self) -> Any:
        return self._implementation().flush()


class PassThroughNode(NativeNode):
    """Emits each input unchanged."""

    DESCRIPTION, PARAMS = declared("PassThroughNode")

    def __init__(self, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint)


class CalculatorNode(NativeNode):
    """``input <operation> operand``; ints stay ints where exact."""

    DESCRIPTION, PARAMS = declared("CalculatorNode")

    def __init__(
        self,
        operation: str = MISSING,
        operand: int | float = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, operation=operation, operand=operand)

    @property
    def operation(self) -> str:
        """The operation (read-only: params are fixed at construction, as in a manifest)."""
        return self.values["operation"]

    @property
    def operand(self) -> int | float:
        """The operand (read-only)."""
        return self.values["operand"]


class MultiplyNode(NativeNode):
    """Multiplies a number, or every number of a (nested) list, by ``factor`` (default 2)."""

    DESCRIPTION, PARAMS = declared("MultiplyNode")

    def __init__(self, factor: int | float = MISSING, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, factor=factor)

    @property
    def factor(self) -> int | float:
        """The multiplier (read-only)."""
        return self.values["factor"]


class AddNode(NativeNode):
    """Adds ``addend`` (default 0) to a number, or to every number of a (nested) list."""

    DESCRIPTION, PARAMS = declared("AddNode")

    def __init__(self, addend: int | float = MISSING, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, addend=addend)

    @property
    def addend(self) -> int | float:
        """The value added (read-only)."""
        return self.values["addend"]


class BufferNode(NativeNode):
    """Emits a list of every ``buffer_size`` inputs (default 10); the remainder at end of stream."""

    DESCRIPTION, PARAMS = declared("BufferNode")

    def __init__(self, buffer_size: int = MISSING, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, buffer_size=buffer_size)

    @property
    def buffer_size(self) -> int:
        """Items per emitted list (read-only)."""
        return self.values["buffer_size"]
