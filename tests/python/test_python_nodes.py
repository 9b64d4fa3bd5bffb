"""Python nodes described by manifests (module / file / source + class), and how custom nodes are
serialized so the engine can load them."""

from __future__ import annotations

import inspect
import json

import pytest

from conftest import HAVE_EXTENSION, MANIFESTS, run
from remotemedia import ManifestError, Pipeline
from test_engine_nodes import Accumulator


def test_counter_manifest_loads_from_its_file(use_rust):
    p = Pipeline.from_manifest(MANIFESTS / "python_counter.yaml")
    assert run(p, ["a", "b", "c"], use_rust=use_rust) == [
        {"item": "a", "count": 1},
        {"item": "b", "count": 2},
        {"item": "c", "count": 3},
        {"total": 3},
    ]
    if use_rust and HAVE_EXTENSION:
        # Described by a manifest: "auto" loads it in RustPython.
        assert p.last_run.nodes == {"count": "rustpython"}
    else:
        assert p.last_run.nodes == {"count": "python"}


def test_custom_nodes_serialize_with_their_source_and_params():
    p = Pipeline("acc", [Accumulator(window=3, name="acc")])
    (node,) = json.loads(p.serialize())["nodes"]
    # This test module is importable by name, so the manifest points at it.
    assert node["class"] == "Accumulator"
    assert node["params"] == {"window": 3}
    assert ("module" in node) != ("source" in node)
    rebuilt = Pipeline.from_manifest({"version": "v1", "nodes": [{**node, "module": None, "source": SOURCE}]})
    assert run(rebuilt, [10, 20, 30, 40]) == [10, 30, 60, 90]
    assert run(p, [10, 20, 30, 40]) == [10, 30, 60, 90]


SOURCE = "from remotemedia import Node\n\n" + inspect.getsource(Accumulator)


def test_classes_defined_in_main_serialize_as_inline_source(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        SOURCE
        + "\nimport json\nfrom remotemedia import Pipeline\n"
        + "print(json.dumps(Pipeline('p', [Accumulator(window=2)]).to_manifest()['nodes'][0]))\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    node = json.loads(done.stdout)
    assert node["class"] == "Accumulator" and "module" not in node
    assert "class Accumulator(Node)" in node["source"]
    p = Pipeline.from_manifest({"version": "v1", "nodes": [node]})
    assert run(p, [1, 2, 3]) == [1, 3, 5]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"file": "python/counter.py"}, "nodes[0].class: missing required field for a Python node"),
        (
            {"file": "python/counter.py", "module": "counter", "class": "Counter"},
            "nodes[0]: a Python node needs exactly one of `module`, `file` or `source` to find class `Counter`, "
            "found module and file",
        ),
        ({"file": "python/nope.py", "class": "Counter"}, "nodes[0].file: cannot read"),
        ({"file": "python/counter.py", "class": "Countr"}, "cannot load class `Countr` from file"),
        ({"source": "raise ImportError('no numpy here')", "class": "X"}, "python: ImportError: no numpy here"),
        (
            {"file": "python/counter.py", "class": "Counter", "runtime_hint": "rust"},
            'nodes[0].runtime_hint: "rust" runs native nodes',
        ),
    ],
)
def test_python_node_problems_are_manifest_errors(node, message, tmp_path):
    doc = {"version": "v1", "nodes": [{"id": "c", "node_type": "C", **node}]}
    path = MANIFESTS / "_tmp_python_node.json"
    path.write_text(json.dumps(doc))
    try:
        with pytest.raises(ManifestError) as info:
            Pipeline.from_manifest(path)
    finally:
        path.unlink()
    assert any(message in issue for issue in info.value.issues), info.value.issues
