"""Reading a manifest: a dict, JSON or YAML text, or a file path. The engine checks what is read
(or, without it, the fallback's validator in :mod:`remotemedia._fallback.manifest`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ManifestError

__all__ = ["load_manifest"]


def load_manifest(source: str | os.PathLike[str] | dict[str, Any]) -> tuple[Any, str]:
    """Reads a manifest given as a dict, JSON or YAML text, or a path; returns (document, origin)."""
    if isinstance(source, dict):
        return source, "(inline)"
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and not source.lstrip().startswith("{") and Path(source).exists()
    ):
        path = Path(source)
        try:
            text = path.read_text()
        except OSError as e:
            raise ManifestError(f"cannot read `{path}`: {e}", origin=f"`{path}`") from e
        yaml = path.suffix in (".yaml", ".yml") or (path.suffix != ".json" and not text.lstrip().startswith("{"))
        return _parse_text(text, yaml, f"`{path}`"), f"`{path}`"
    if not isinstance(source, str):
        raise TypeError(f"a manifest is a dict, JSON or YAML text, or a path; got {type(source).__name__}")
    return _parse_text(source, not source.lstrip().startswith("{"), "(inline)"), "(inline)"


def _parse_text(text: str, yaml: bool, origin: str) -> Any:
    if not yaml:
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ManifestError(f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}", origin) from None
    try:
        import yaml as pyyaml
    except ImportError:
        raise ManifestError("YAML manifests need PyYAML: `pip install pyyaml` (or use JSON)", origin) from None
    try:
        return pyyaml.safe_load(text)
    except pyyaml.YAMLError as e:
        raise ManifestError(f"invalid YAML: {e}", origin) from None
