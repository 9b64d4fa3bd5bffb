"""Pure-Python twins of the engine's basic nodes: same ``node_type``, params, defaults, outputs
and error messages."""

from __future__ import annotations

from typing import Any, ClassVar

from ..core.node import Node
from ..errors import ManifestError, NodeError
from .arithmetic import apply
from .spec import MISSING, ParamSpec, check_params, declared, describe_value, is_number

__all__ = [
    "NativeNode",
    "PassThroughNode",
    "CalculatorNode",
    "MultiplyNode",
    "AddNode",
    "BufferNode",
]


class NativeNode(Node):
    """A node that also has a native implementation in the Rust engine.

    Its params are checked on construction with the engine's rules and messages.
    """

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()
    DESCRIPTION: ClassVar[str] = ""

    def __init__(self, name: str | None = None, runtime_hint: str = "auto", **params: Any) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint)
        given = {k: v for k, v in params.items() if v is not MISSING}
        values, issues = check_params(self.node_type, self.PARAMS, given)
        if not issues:
            issues = [f"params: {m}" for m in self.check_values(values)]
        if issues:
            raise ManifestError(issues, origin=f"`{self.node_type}`")
        self._init_kwargs = given
        self.values = values

    @classmethod
    def check_values(cls, values: dict[str, Any]) -> list[str]:
        """Problems the param schema cannot express (combinations of params), in the engine's
        words; checked on construction and when a manifest is validated."""
        return []


class PassThroughNode(NativeNode):
    """Emits each input unchanged."""

    DESCRIPTION, PARAMS = declared("PassThroughNode")

    def __init__(self, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint)

    def process(self, data: Any) -> Any:
        # A generator, so that a `None` input is passed on (returning `None` would filter it).
        yield data


class CalculatorNode(NativeNode):
    """``input <operation> operand``; ints stay ints where exact (see :mod:`.arithmetic`)."""

    DESCRIPTION, PARAMS = declared("CalculatorNode")

    def __init__(
        self,
        operation: str = MISSING,
        operand: int | float = MISSING,
        name: str | None = None,
        runtime_hint: str = "auto",
    ) -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, operation=operation, operand=operand)
        self._operation: str = self.values["operation"]
        self._operand: int | float = self.values["operand"]

    @property
    def operation(self) -> str:
        """The operation (read-only: params are fixed at construction, as in a manifest)."""
        return self._operation

    @property
    def operand(self) -> int | float:
        """The operand (read-only)."""
        return self._operand

    def process(self, data: Any) -> Any:
        return apply(self._operation, data, self._operand)


class _Elementwise(NativeNode):
    _op: ClassVar[str]
    _param: ClassVar[str]

    def _map(self, value: Any) -> Any:
        if is_number(value):
            return apply(self._op, value, self.values[self._param])
        if isinstance(value, (list, tuple)):
            return [self._map(v) for v in value]
        raise NodeError(f"expected a number or a list of numbers, found {describe_value(value)}")

    def process(self, data: Any) -> Any:
        return self._map(data)


class MultiplyNode(_Elementwise):
    """Multiplies a number, or every number of a (nested) list, by ``factor`` (default 2)."""

    DESCRIPTION, PARAMS = declared("MultiplyNode")
    _op = "multiply"
    _param = "factor"

    def __init__(self, factor: int | float = MISSING, name: str | None = None, runtime_hint: str = "auto") -> None:
        super().__init__(name=name, runtime_hint=runtime_hint, factor=factor)

    @property
    def factor(self) -> int | float:
        """The multiplier (read-only)."""
        return self.values["factor"]


class AddNode(_Elementwise):
    """Adds ``addend`` (default 0) to a number, or to every number of a (nested) list."""

    DESCRIPTION, PARAMS = declared("AddNode")
    _op = "add"
    _param = "addend"

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
        self._items: list[Any] = []

    @property
    def buffer_size(self) -> int:
        """Items per emitted list (read-only)."""
        return self.values["buffer_size"]

    def initialize(self) -> None:
        self._items = []

    def process(self, data: Any) -> Any:
        self._items.append(data)
        if len(self._items) >= self.values["buffer_size"]:
            full, self._items = self._items, []
            return full
        return None

    def flush(self) -> Any:
        if self._items:
            rest, self._items = self._items, []
            return rest
        return None
