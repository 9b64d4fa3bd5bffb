"""The declared parameters of the built-in nodes, read from the engine's contract (see
:mod:`remotemedia._contract`): names, types, defaults, ranges and descriptions. They are checked by
the engine when it is installed, else by the fallback (``remotemedia._fallback.params``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ParamSpec", "MISSING", "declared"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Marks a parameter that was not given.
MISSING: Any = _Missing()


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


def declared(node_type: str) -> tuple[str, tuple[ParamSpec, ...]]:
    """The engine's description and param specs of ``node_type``, from the contract."""
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
