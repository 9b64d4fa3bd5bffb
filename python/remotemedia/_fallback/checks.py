"""The fallback's checks of a pipeline, with the engine's rules and messages: a manifest through
the pure-Python validator (:mod:`remotemedia.manifest`), and a pipeline built in Python (ids and
edges)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _contract
from ..errors import ManifestError

if TYPE_CHECKING:
    from ..core.pipeline import Pipeline

__all__ = ["from_checked_manifest", "validated"]


def from_checked_manifest(cls: type[Pipeline], doc: Any, origin: str, base_dir: Path | None) -> Pipeline:
    """A pipeline from a manifest the fallback's validator accepts (its Python nodes are loaded
    into this interpreter now); raises :class:`ManifestError` listing every problem."""
    from ..core.described import DescribedNode
    from ..nodes import NODE_TYPES
    from .manifest import validate_manifest

    plan = validate_manifest(doc, origin, base_dir=base_dir)
    pipeline = cls(plan.name)
    for decl in plan.nodes:
        hint = decl.runtime_hint or "auto"
        if decl.instance is not None:
            location = {k: v for k, v in decl.python.items() if k != "timeout_ms"}
            timeout_ms = decl.python.get("timeout_ms")
            node = DescribedNode(
                decl.id, decl.node_type, location, decl.params, hint, timeout_ms, base_dir, instance=decl.instance
            )
            pipeline.add_node(node)
            continue
        pipeline.add_node(NODE_TYPES[decl.node_type](name=decl.id, runtime_hint=hint, **decl.params))
    ids = [d.id for d in plan.nodes]
    pipeline._connections = [(ids[a], ids[b]) for a, b in plan.edges]
    return pipeline


def validated(pipeline: Pipeline) -> tuple[list[str], list[tuple[int, int]]]:
    """The pipeline's ids and edges (by index) after the engine's checks of ids and the graph;
    kept until the pipeline changes."""
    from .manifest import check_graph, check_id

    key = pipeline._structure_key()
    if pipeline._checked is not None and pipeline._checked[0] == key:
        return pipeline._checked[1], pipeline._checked[2]
    ids = pipeline.node_ids()
    issues = [] if pipeline.nodes else [f"nodes: {_contract.MESSAGES['no_nodes']}"]
    first_use: dict[str, int] = {}
    for i, node_id in enumerate(ids):
        issues.extend(check_id(i, node_id, first_use))
    edges, graph_issues = check_graph(ids, first_use, pipeline._edges())
    issues.extend(graph_issues)
    if issues:
        raise ManifestError(issues, origin=f"pipeline {pipeline.name!r}")
    pipeline._checked = (key, ids, edges)
    return ids, edges
