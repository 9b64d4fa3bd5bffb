"""The extension's type stub matches the compiled module, and its seed-named entry points work."""

from __future__ import annotations

import ast
import asyncio
import json

import pytest

from conftest import HAVE_EXTENSION, ROOT

STUB = ROOT / "crates" / "remotemedia-python" / "remotemedia_runtime.pyi"
pytestmark = pytest.mark.skipif(not HAVE_EXTENSION, reason="checks the compiled extension")


def stub_names() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    names: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[""].add(node.name)
            names[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            names[""].add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[""].add(node.target.id)
    return names


def test_stub_matches_the_module():
    import remotemedia_runtime as rt

    names = stub_names()
    # maturin may install the module inside a package of the same name: ignore submodules.
    public = {n for n in dir(rt) if not n.startswith("_") and not isinstance(getattr(rt, n), type(rt))}
    public.add("__version__")
    assert names[""] == public
    for cls in ("Plan", "Session", "InlineSession", "AudioFileReader", "HostedServer", "HostedSession"):
        actual = {n for n in dir(getattr(rt, cls)) if not n.startswith("_")}
        assert {n for n in names[cls] if not n.startswith("_")} == actual, cls


def test_seed_entry_points():
    import remotemedia_runtime as rt

    manifest = json.dumps(
        {
            "version": "v1",
            "metadata": {"name": "seeds"},
            "nodes": [
                {"id": "a", "node_type": "PassThroughNode"},
                {"id": "b", "node_type": "CalculatorNode", "params": {"operation": "add", "operand": 5}},
            ],
        }
    )

    async def both():
        return await rt.execute_pipeline_with_input(manifest, [1, 2, 3]), await rt.execute_pipeline(manifest)

    assert asyncio.run(both()) == ([6, 7, 8], [])
    plan = rt.plan(manifest)
    assert (plan.name, plan.node_ids, plan.sink_ids, plan.single_stage) == ("seeds", ["a", "b"], ["b"], True)
    assert rt.__version__ == "0.1.0"
