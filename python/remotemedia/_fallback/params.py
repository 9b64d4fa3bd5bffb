"""The fallback's checks of the built-in nodes' params, with the engine's rules and messages (the
engine's are ``remotemedia_core::params`` and the factories' own checks), and the value helpers
its node bodies share."""

from __future__ import annotations

import math
from typing import Any

from ..nodes.spec import ParamSpec
from .suggest import closest

__all__ = [
    "check_params",
    "check_value",
    "describe_value",
    "is_number",
    "node_param_issues",
    "resolve_path",
    "rust_float",
]


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


def check_value(spec: ParamSpec, value: Any) -> str | None:
    """``None`` when ``value`` fits ``spec``, else the engine's message."""
    ok = {
        "any": True,
        "number": is_number(value),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
    }[spec.kind]
    if not ok:
        article = "an" if spec.kind in ("integer", "any") else "a"
        return f"expected {article} {spec.kind}, found {describe_value(value)}"
    if spec.choices is not None and value not in spec.choices:
        hint = closest(value, spec.choices)
        suffix = f"; did you mean `{hint}`?" if hint else ""
        listed = ", ".join(f"`{c}`" for c in spec.choices)
        return f'expected one of {listed}, found "{value}"{suffix}'
    if is_number(value):
        below = spec.minimum is not None and value < spec.minimum
        above = spec.maximum is not None and value > spec.maximum
        if below or above or (isinstance(value, float) and math.isnan(value)):
            shown = str(value) if isinstance(value, int) else rust_float(value)
            return f"{shown} is out of range; expected {_range_text(spec)}"
    return None


def _range_text(spec: ParamSpec) -> str:
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None:
        return f"a value from {_number_text(lo)} to {_number_text(hi)}"
    if lo is not None:
        return f"a value >= {_number_text(lo)}"
    if hi is not None:
        return f"a value <= {_number_text(hi)}"
    return "a number"


def _expected(spec: ParamSpec) -> str:
    if spec.choices is not None:
        return "one of " + ", ".join(f"`{c}`" for c in spec.choices)
    return f"a {spec.kind}"


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
        problem = check_value(spec, value)
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
                f'{path}: missing required param "{spec.name}" for `{node_type}` (expected {_expected(spec)})'
            )
        else:
            values[spec.name] = spec.default
    return values, issues


def _combination_issues(node_type: str, values: dict[str, Any]) -> list[str]:
    """What a param schema cannot express (combinations of params, what a node needs installed),
    in the factories' words."""
    if node_type == "AudioChunkerNode" and values["chunk_ms"] is not None and values["chunk_samples"] is not None:
        return ["give either `chunk_ms` or `chunk_samples`, not both"]
    if node_type == "VADNode" and values["frame_duration_ms"] not in (10, 20, 30):
        return [f"`frame_duration_ms` must be 10, 20 or 30, found {values['frame_duration_ms']}"]
    if node_type == "PiperTTSNode":
        from .speech.piper import voice_issues

        return voice_issues(values)
    return []


def node_param_issues(
    node_type: str, given: dict[str, Any], path: str = "params", base_dir: Any = None
) -> tuple[dict[str, Any], list[str]]:
    """The params of built-in node ``node_type`` with defaults filled in, and every problem with
    them as ``"path: message"``, as the engine plans them."""
    from ..nodes.spec import declared

    _, specs = declared(node_type)
    values, issues = check_params(node_type, specs, given, path, base_dir)
    if not issues:
        issues = [f"{path}: {m}" for m in _combination_issues(node_type, values)]
    return values, issues
