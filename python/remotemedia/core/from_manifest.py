"""``Pipeline.from_manifest``: a manifest (dict, JSON or YAML text, or file path) checked by the
engine when it will run the pipeline, else by the fallback's validator, and built into nodes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _backend

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["build"]


def build(cls: type[Pipeline], source: str | os.PathLike[str] | dict[str, Any]) -> Pipeline:
    """See :meth:`Pipeline.from_manifest`."""
    from .manifest_source import load_manifest

    doc, origin = load_manifest(source)
    base_dir = None
    if isinstance(source, os.PathLike) or (isinstance(source, str) and origin != "(inline)"):
        base_dir = Path(source).resolve().parent
    module = _backend.engine_for_manifest(doc)
    if module is None:
        from .._fallback.checks import from_checked_manifest

        return from_checked_manifest(cls, doc, origin, base_dir)
    plan = module.plan(json.dumps(doc), None, origin=origin, base_dir=str(base_dir) if base_dir else None)
    pipeline = _from_engine_checked(cls, doc, base_dir)
    pipeline._planned = (pipeline._structure_key(), module, plan)
    return pipeline


def _from_engine_checked(cls: type[Pipeline], doc: dict[str, Any], base_dir: Path | None) -> Pipeline:
    """Builds the pipeline's nodes from a manifest the engine has checked (so nothing here can
    fail); Python nodes stay descriptions (see :class:`~remotemedia.core.described.DescribedNode`)."""
    from ..nodes import NODE_TYPES
    from .described import DescribedNode

    pipeline = cls((doc.get("metadata") or {}).get("name"))
    for raw in doc["nodes"]:
        params = raw.get("params") or {}
        hint = raw.get("runtime_hint") or "auto"
        if "class" in raw:
            location = {k: raw[k] for k in ("module", "file", "source", "class") if k in raw}
            pipeline.add_node(
                DescribedNode(raw["id"], raw["node_type"], location, params, hint, raw.get("timeout_ms"), base_dir)
            )
        else:
            node_cls = NODE_TYPES[raw["node_type"]]
            for spec in node_cls.PARAMS:
                # The engine found the file, from the manifest's folder: the node is built with that path.
                if spec.path and spec.name in params and base_dir is not None:
                    params = {**params, spec.name: str(base_dir / params[spec.name])}
            pipeline.add_node(node_cls(name=raw["id"], runtime_hint=hint, **params))
    if doc.get("connections") is not None:
        pipeline._connections = [(c["from"], c["to"]) for c in doc["connections"]]
    return pipeline
