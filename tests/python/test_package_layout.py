"""The Python package's layout holds: no import circles among its modules (imports that run, at
module level or in functions; those under ``TYPE_CHECKING`` are for annotations only), and the
fallback is fenced off: with the engine installed, importing and running never loads
``remotemedia._fallback``."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import HAVE_EXTENSION, ROOT

PACKAGE = ROOT / "python" / "remotemedia"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names[name] = path
    return names


def runtime_nodes(tree: ast.AST):
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
                graph[name].update(s for s in subs if s != name)
                # `from package import name` imports the package too, unless it is an ancestor.
                own = target == name or name.startswith(target + ".")
                if len(subs) < len(node.names) and target in modules and not own:
                    graph[name].add(target)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules and a.name != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_circles() -> None:
    graph = import_graph()
    assert "remotemedia._fallback.executor" in graph["remotemedia._backend"]  # the graph sees imports
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.skipif(not HAVE_EXTENSION, reason="the fence matters when the engine is installed")
def test_the_engine_path_never_imports_the_fallback(tmp_path: Path) -> None:
    program = textwrap.dedent(
        f"""
        import asyncio, sys
        import numpy as np
        from remotemedia import ManifestError, Pipeline, read_audio
        from remotemedia.audio import Audio, read_wav, write_wav
        from remotemedia.nodes import AddNode, AudioChunkerNode, GainNode, VADNode
        from remotemedia.tagged_json import from_tagged, to_tagged

        source = "class P:\\n    def process(self, x):\\n        return x * 2\\n"
        manifest = {{"version": "v1", "nodes": [
            {{"id": "add", "node_type": "AddNode", "params": {{"addend": 1}}}},
            {{"id": "py", "node_type": "P", "class": "P", "source": source}},
        ]}}
        built = Pipeline("built", [AddNode(addend=2)])
        loaded = Pipeline.from_manifest(manifest)
        print(asyncio.run(built.run([1])), asyncio.run(loaded.run([1])), built.last_run.runtime)
        try:
            VADNode(frame_duration_ms=15)
        except ManifestError as e:
            print(e.issues)
        audio = Audio(np.zeros((160, 1), dtype=np.int16), 16000)
        write_wav({str(tmp_path / "a.wav")!r}, audio)
        back = read_wav({str(tmp_path / "a.wav")!r})
        chunks = list(read_audio({str(tmp_path / "a.wav")!r}, chunk_ms=5))
        audio_out = asyncio.run(Pipeline("a", [GainNode(db=0), AudioChunkerNode(chunk_samples=80)]).run([back]))
        print(back == audio, len(chunks), len(audio_out), from_tagged(to_tagged(b"x")))
        print(sorted(m for m in sys.modules if m.startswith("remotemedia._fallback")))
        """
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:4] == [
        "[3] [4] rust",
        "['params: `frame_duration_ms` must be 10, 20 or 30, found 15']",
        "True 2 2 b'x'",
        "[]",
    ]
