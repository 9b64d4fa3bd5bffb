"""The fallback's twins of the engine's basic nodes: the same outputs and error messages."""

from __future__ import annotations

from typing import Any

from ...errors import NodeError
from ..params import describe_value, is_number
from .arithmetic import apply

__all__ = ["Body", "PassThrough", "Calculator", "Elementwise", "Buffer"]


class Body:
    """What a twin does for one run of one node: ``process`` and ``flush`` with the node's params
    (``values``, defaults filled in) and its own state."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def process(self, data: Any) -> Any:
        raise NotImplementedError

    def flush(self) -> Any:
        return None


class PassThrough(Body):
    def process(self, data: Any) -> Any:
        # A generator, so that a `None` input is passed on (returning `None` would filter it).
        yield data


class Calculator(Body):
    def process(self, data: Any) -> Any:
        return apply(self.values["operation"], data, self.values["operand"])


class Elementwise(Body):
    """``MultiplyNode`` (``op="multiply"``, by ``factor``) and ``AddNode`` (``add``, ``addend``)."""

    def __init__(self, values: dict[str, Any], op: str, param: str) -> None:
        super().__init__(values)
        self.op, self.operand = op, values[param]

    def _map(self, value: Any) -> Any:
        if is_number(value):
            return apply(self.op, value, self.operand)
        if isinstance(value, (list, tuple)):
            return [self._map(v) for v in value]
        raise NodeError(f"expected a number or a list of numbers, found {describe_value(value)}")

    def process(self, data: Any) -> Any:
        return self._map(data)


class Buffer(Body):
    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._items: list[Any] = []

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
