"""Parameter schemas of the native nodes, checked exactly as the Rust engine checks them (same
messages), plus the helpers the Python twins share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..suggest import closest

__all__ = ["ParamSpec", "describe_value", "rust_float", "check_params", "MISSING"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Marks a required parameter that was not given.
MISSING: Any = _Missing()


def rust_float(x: float) -> str:
    """A float as the engine prints it in messages (Rust's ``{:?}``): ``1.0``, ``1e300``, ``NaN``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(x)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


def is_number(value: Any) -> bool:
    """Ints and floats, but not bools (the engine keeps booleans apart)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """The engine's name for a value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "map"
    if type(value).__name__ == "Audio":
        return "audio"
    if type(value).__name__ == "ndarray":
        return "array"
    return type(value).__name__


def describe_value(value: Any) -> str:
    """A value as it appears in error messages (same text as the engine)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"bool {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"int {value}"
    if isinstance(value, float):
        return f"float {rust_float(value)}"
    if isinstance(value, str) and len(value) <= 40:
        return f'string "{value}"'
    return type_name(value)


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else rust_float(float(x))


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter of a node."""

    name: str
    kind: str  # number | integer | string | boolean | any
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""
    path: bool = False  # a file path: resolved against the manifest's folder, must exist

    def check(self, value: Any) -> str | None:
        """``None`` when ``value`` fits, else the engine's message."""
        ok = {
            "any": True,
            "number": is_number(value),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
        }[self.kind]
        if not ok:
            article = "an" if self.kind in ("integer", "any") else "a"
            return f"expected {article} {self.kind}, found {describe_value(value)}"
        if self.choices is not None and value not in self.choices:
            hint = closest(value, self.choices)
            suffix = f"; did you mean `{hint}`?" if hint else ""
            listed = ", ".join(f"`{c}`" for c in self.choices)
            return f'expected one of {listed}, found "{value}"{suffix}'
        if is_number(value):
            below = self.minimum is not None and value < self.minimum
            above = self.maximum is not None and value > self.maximum
            if below or above or (isinstance(value, float) and math.isnan(value)):
                shown = str(value) if isinstance(value, int) else rust_float(value)
                return f"{shown} is out of range; expected {self._range_text()}"
        return None

    def _range_text(self) -> str:
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"a value from {_number_text(lo)} to {_number_text(hi)}"
        if lo is not None:
            return f"a value >= {_number_text(lo)}"
        if hi is not None:
            return f"a value <= {_number_text(hi)}"
        return "a number"

    def expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(f"`{c}`" for c in self.choices)
        return f"a {self.kind}"


def resolve_path(value: str, base_dir: Any = None) -> tuple[str, str | None]:
    """A path param made absolute against the manifest's folder (``base_dir``; the working
    directory for a manifest given as text), and the engine's message when it names no file."""
    from pathlib import Path

    given = Path(value)
    resolved = base_dir / given if base_dir is not None and not given.is_absolute() else given
    if not resolved.is_file():
        relative = (
            " (relative paths are read from the manifest's folder)"
            if base_dir is not None and not given.is_absolute()
            else ""
        )
        return value, f"file not found: {resolved}{relative}"
    return str(resolved), None


def check_params(
    node_type: str, specs: tuple[ParamSpec, ...], given: dict[str, Any], path: str = "params", base_dir: Any = None
) -> tuple[dict[str, Any], list[str]]:
    """Validates ``given`` against ``specs``: returns the values with defaults filled in, and every
    problem as ``"path: message"`` (the engine's wording; ``path`` is ``nodes[i].params`` in a
    manifest). Path params come back resolved against ``base_dir``."""
    issues: list[str] = []
    values: dict[str, Any] = {}
    names = [s.name for s in specs]
    by_name = {s.name: s for s in specs}
    for name, value in given.items():
        spec = by_name.get(name)
        if spec is None:
            if not specs:
                hint = f"; `{node_type}` takes no params"
            else:
                close = closest(name, names)
                hint = (
                    f"; did you mean `{close}`?" if close else "; known params: " + ", ".join(f"`{n}`" for n in names)
                )
            issues.append(f'{path}.{name}: unknown param "{name}" for `{node_type}`{hint}')
            continue
        problem = spec.check(value)
        if problem is None and spec.path:
            value, problem = resolve_path(value, base_dir)
        if problem:
            issues.append(f"{path}.{name}: {problem}")
        else:
            values[name] = value
    for spec in specs:
        if spec.name in given:
            continue
        if spec.required:
            issues.append(
                f'{path}: missing required param "{spec.name}" for `{node_type}` (expected {spec.expected()})'
            )
        else:
            values[spec.name] = spec.default
    return values, issues


def declared(node_type: str) -> tuple[str, tuple[ParamSpec, ...]]:
    """The engine's description and param specs of ``node_type``, from the contract (see
    :mod:`remotemedia._contract`), so a twin's params (names, types, defaults, ranges,
    descriptions) are the engine's."""
    from .._contract import NODE_SPECS

    entry = NODE_SPECS[node_type]
    params = tuple(
        ParamSpec(
            name,
            spec["type"],
            required=spec["required"],
            default=spec["default"],
            minimum=spec.get("min"),
            maximum=spec.get("max"),
            choices=tuple(spec["choices"]) if "choices" in spec else None,
            description=spec["description"],
            path=spec.get("path", False),
        )
        for name, spec in entry["params"].items()
    )
    return entry["description"], params
