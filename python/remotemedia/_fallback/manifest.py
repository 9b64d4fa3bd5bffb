"""Manifest v1 validation in Python, with the engine's rules and messages, so the pure-Python
executor rejects exactly what the engine rejects (the manifest corpus checks them file by file).
Reading a manifest is :mod:`remotemedia.core.manifest_source`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _contract
from ..core.node import RUNTIME_HINTS
from ..errors import ManifestError
from ..nodes import NODE_TYPES
from .params import node_param_issues
from .suggest import closest_many

__all__ = ["NodeDecl", "CheckedManifest", "validate_manifest", "MANIFEST_VERSION"]

MANIFEST_VERSION = "v1"
NODE_FIELDS = ("id", "node_type", "params", "runtime_hint", "module", "file", "source", "class", "timeout_ms")
CONNECTION_FIELDS = ("from", "to")


@dataclass
class NodeDecl:
    id: str
    node_type: str
    params: dict[str, Any] = field(default_factory=dict)
    runtime_hint: str | None = None
    #: Python node fields (module | file | source, and class).
    python: dict[str, Any] = field(default_factory=dict)
    #: For Python nodes: the instance loaded in this interpreter.
    instance: Any = None


@dataclass
class CheckedManifest:
    name: str
    nodes: list[NodeDecl]
    edges: list[tuple[int, int]]


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _found(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return _json_type(v)


def _did_you_mean(query: str, candidates: list[str], known: str) -> str:
    close = closest_many(query, candidates)
    if not close:
        return f"; {known}: " + ", ".join(f"`{c}`" for c in candidates)
    return "; did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


def _string(obj: dict[str, Any], key: str, base: str, required: bool, issues: list[str]) -> str | None:
    path = f"{base}.{key}" if base else key
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if value is None and key not in obj and required:
        issues.append(f"{path}: missing required field")
    elif value is None and not required:
        return None
    elif value is None:
        issues.append(f"{path}: missing required field")
    else:
        issues.append(f"{path}: expected a string, found {_found(value)}")
    return None


def _unknown_fields(obj: dict[str, Any], known: tuple[str, ...], base: str, issues: list[str]) -> None:
    for key in obj:
        if key in known:
            continue
        close = closest_many(key, known)
        hint = f"; did you mean `{close[0]}`?" if close else f"; known fields: {', '.join(known)}"
        issues.append(f"{base}.{key}: unknown field `{key}`{hint}")


def validate_manifest(
    doc: Any, origin: str = "(inline)", allow_python_hint: bool = True, base_dir: Path | None = None
) -> CheckedManifest:
    """Checks structure, node types, params and the graph; raises :class:`ManifestError` listing
    every problem (the engine's messages)."""
    if not isinstance(doc, dict):
        raise ManifestError(f"expected an object at the top level of the manifest, found {_json_type(doc)}", origin)
    issues: list[str] = []
    version = doc.get("version")
    if "version" not in doc:
        issues.append(f'version: missing required field; expected "{MANIFEST_VERSION}"')
    elif version != MANIFEST_VERSION:
        issues.append(f'version: unsupported manifest version {_found(version)}; expected "{MANIFEST_VERSION}"')

    name = "pipeline"
    metadata = doc.get("metadata")
    if isinstance(metadata, dict):
        name = _string(metadata, "name", "metadata", False, issues) or name
        _string(metadata, "description", "metadata", False, issues)
        _string(metadata, "created_at", "metadata", False, issues)
    elif metadata is not None:
        issues.append(f"metadata: expected an object, found {_json_type(metadata)}")

    decls: list[NodeDecl] = []
    raw_nodes = doc.get("nodes")
    if "nodes" not in doc:
        issues.append("nodes: missing required field; a pipeline needs at least one node")
    elif not isinstance(raw_nodes, list):
        issues.append(f"nodes: expected a list of nodes, found {_json_type(raw_nodes)}")
    elif not raw_nodes:
        issues.append(f"nodes: {_contract.MESSAGES['no_nodes']}")
    else:
        for i, raw in enumerate(raw_nodes):
            path = f"nodes[{i}]"
            if not isinstance(raw, dict):
                issues.append(f"{path}: expected a node object, found {_json_type(raw)}")
                continue
            before = len(issues)
            _unknown_fields(raw, NODE_FIELDS, path, issues)
            node_id = _string(raw, "id", path, True, issues)
            node_type = _string(raw, "node_type", path, True, issues)
            params = raw.get("params")
            if params is None:
                params = {}
            elif not isinstance(params, dict):
                issues.append(f"{path}.params: expected an object, found {_json_type(params)}")
            hint = _string(raw, "runtime_hint", path, False, issues)
            if hint is not None and hint not in RUNTIME_HINTS:
                issues.append(
                    f'{path}.runtime_hint: unknown runtime hint "{hint}"; expected one of {", ".join(RUNTIME_HINTS)}'
                )
            python = {k: raw[k] for k in ("module", "file", "source", "class") if raw.get(k) is not None}
            for key in ("module", "file", "source", "class"):
                if key in python and not isinstance(python[key], str):
                    issues.append(f"{path}.{key}: expected a string, found {_found(python[key])}")
            timeout = raw.get("timeout_ms")
            if timeout is not None and (type(timeout) is not int or timeout <= 0):
                issues.append(f"{path}.timeout_ms: expected a positive integer (milliseconds), found {_found(timeout)}")
            elif timeout is not None:
                python["timeout_ms"] = timeout
            if len(issues) == before:
                decls.append(NodeDecl(node_id or "", node_type or "", dict(params), hint, python))

    raw_edges = doc.get("connections")
    edges_by_id: list[tuple[str, str]] = []
    if raw_edges is None:
        edges_by_id = [(a.id, b.id) for a, b in zip(decls, decls[1:])]
    elif not isinstance(raw_edges, list):
        issues.append(f"connections: expected a list of connections, found {_json_type(raw_edges)}")
    else:
        for k, raw in enumerate(raw_edges):
            path = f"connections[{k}]"
            if not isinstance(raw, dict):
                issues.append(f"{path}: expected a connection object with `from` and `to`, found {_json_type(raw)}")
                continue
            _unknown_fields(raw, CONNECTION_FIELDS, path, issues)
            src = _string(raw, "from", path, True, issues)
            if src is None:
                continue
            dst = _string(raw, "to", path, True, issues)
            if dst is None:
                continue
            edges_by_id.append((src, dst))
    if issues:
        raise ManifestError(issues, origin)
    return _check_semantics(name, decls, edges_by_id, origin, allow_python_hint, base_dir)


_ID = re.compile(r"[A-Za-z0-9_-]+")


def _valid_id(node_id: str) -> bool:
    return _ID.fullmatch(node_id) is not None


def _check_semantics(
    name: str,
    decls: list[NodeDecl],
    edges_by_id: list[tuple[str, str]],
    origin: str,
    allow_python_hint: bool,
    base_dir: Path | None,
) -> CheckedManifest:
    issues: list[str] = []
    first_use: dict[str, int] = {}
    names = [n for n in NODE_TYPES if n != "PassThrough"] + ["PassThrough"]
    for i, d in enumerate(decls):
        path = f"nodes[{i}]"
        issues.extend(check_id(i, d.id, first_use))
        if d.python:
            issues.extend(_load_python_node(i, d, base_dir))
            continue
        cls = NODE_TYPES.get(d.node_type)
        if cls is None:
            issues.append(
                f'{path}.node_type: unknown node type "{d.node_type}"'
                + _did_you_mean(d.node_type, names, "known node types")
            )
            continue
        if d.runtime_hint == "python" and not allow_python_hint:
            issues.append(
                f'{path}.runtime_hint: runtime hint "python" asks for the Python implementation of `{cls.node_type}`, '
                'which the Rust engine does not run; use "auto" or "rust", or run the pipeline with the Python executor'
            )
        values, param_issues = node_param_issues(cls.node_type, d.params, f"{path}.params", base_dir)
        # Path params, resolved against the manifest's folder, are what the node is built with.
        d.params = {
            **d.params,
            **{s.name: values[s.name] for s in cls.PARAMS if s.path and s.name in d.params and s.name in values},
        }
        issues.extend(param_issues)

    ids = [d.id for d in decls]
    edges, graph_issues = check_graph(ids, first_use, edges_by_id)
    issues.extend(graph_issues)
    if issues:
        raise ManifestError(issues, origin)
    return CheckedManifest(name, decls, edges)


def _load_python_node(i: int, d: NodeDecl, base_dir: Path | None) -> list[str]:
    """Checks a Python node described by ``module``/``file``/``source`` + ``class`` and loads it
    into this interpreter, for the pure-Python executor (the engine's checks and messages); sets
    ``d.instance``."""
    from ..core.described import LoadError, load_class_instance

    path = f"nodes[{i}]"
    cls_name = d.python.get("class")
    if cls_name is None:
        return [f"{path}.class: missing required field for a Python node (the class to instantiate)"]
    if not cls_name.isidentifier():
        return [f'{path}.class: "{cls_name}" is not a Python class name']
    given = [k for k in ("module", "file", "source") if k in d.python]
    if len(given) != 1:
        found = " and ".join(given) if given else "none"
        return [
            f"{path}: a Python node needs exactly one of `module`, `file` or `source` to find class `{cls_name}`, "
            f"found {found}"
        ]
    if d.runtime_hint == "rust":
        return [_contract.rust_on_python_node(i)]
    try:
        d.instance = load_class_instance(d.id, d.python, d.params, base_dir)
    except LoadError as e:
        field = ".file" if str(e).startswith("cannot read") else ""
        return [f"{path}{field}: {e}"]
    if d.runtime_hint is not None:
        d.instance.runtime_hint = d.runtime_hint
    d.instance.name = d.id
    d.instance.timeout_ms = d.python.get("timeout_ms")
    return []


def check_id(i: int, node_id: str, first_use: dict[str, int]) -> list[str]:
    """Problems with the id of node ``i`` (records its first use in ``first_use``)."""
    if node_id in first_use:
        return [f'nodes[{i}].id: duplicate node id "{node_id}" (already used by nodes[{first_use[node_id]}])']
    first_use[node_id] = i
    if not _valid_id(node_id):
        return [f'nodes[{i}].id: invalid node id "{node_id}": use only letters, digits, `_` and `-`']
    return []


def check_graph(
    ids: list[str], first_use: dict[str, int], edges_by_id: list[tuple[str, str]]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Resolves connections to node indices and checks them (unknown ends, duplicates, cycles)."""
    issues: list[str] = []
    edges: list[tuple[int, int]] = []
    seen: dict[tuple[str, str], int] = {}
    for k, (src, dst) in enumerate(edges_by_id):
        ends = []
        for fld, node_id in (("from", src), ("to", dst)):
            if node_id not in first_use:
                hint = _did_you_mean(node_id, list(dict.fromkeys(ids)), "known nodes")
                issues.append(f'connections[{k}].{fld}: unknown node "{node_id}"{hint}')
            ends.append(first_use.get(node_id))
        if (src, dst) in seen:
            issues.append(
                f"connections[{k}]: duplicate connection {src} -> {dst} (already at connections[{seen[(src, dst)]}])"
            )
            continue
        seen[(src, dst)] = k
        if ends[0] is not None and ends[1] is not None:
            edges.append((ends[0], ends[1]))
    for path_ids, members in find_cycles(len(ids), edges):
        message = "the graph has a cycle: " + " -> ".join(ids[i] for i in path_ids)
        if len(members) + 1 > len(path_ids):
            message += " (nodes on cycles: " + ", ".join(ids[i] for i in members) + ")"
        issues.append(f"connections: {message}; pipelines must be acyclic")
    return edges, issues


def find_cycles(n: int, edges: list[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """One closed path per strongly connected component that has a cycle (as the engine finds it)."""
    down: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        down[a].append(b)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    sccs: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, child = work[-1]
            if child == 0 and index[v] == -1:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if child < len(down[v]):
                work[-1] = (v, child + 1)
                w = down[v][child]
                if index[w] == -1:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                scc = []
                while stack:
                    w = stack.pop()
                    on_stack[w] = False
                    scc.append(w)
                    if w == v:
                        break
                sccs.append(scc)
    out = []
    for scc in sccs:
        if len(scc) == 1 and scc[0] not in down[scc[0]]:
            continue
        members = sorted(scc)
        out.append((_cycle_through(members[0], members, down), members))
    return out


def _cycle_through(start: int, members: list[int], down: list[list[int]]) -> list[int]:
    prev: dict[int, int] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in down[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                path.reverse()
                return [*path, start]
            if nxt in members and nxt not in prev and nxt != start:
                prev[nxt] = node
                queue.append(nxt)
    return [start, start]
