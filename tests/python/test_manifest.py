"""Manifests: serialize / from_manifest, and the same validation messages as the engine."""

from __future__ import annotations

import json

import pytest

from conftest import HAVE_EXTENSION, MANIFESTS, run, run_both
from remotemedia import ManifestError, Pipeline
from remotemedia.nodes import BufferNode, CalculatorNode, PassThroughNode

INVALID = sorted(p for p in (MANIFESTS / "invalid").iterdir() if p.suffix in (".json", ".yaml"))
VALID = [
    *sorted(p for p in (MANIFESTS / "valid").iterdir() if p.suffix in (".json", ".yaml")),
    MANIFESTS / "passthrough_calculator.json",
]


def test_serialize_round_trip():
    p = Pipeline("rt", [PassThroughNode(name="src"), CalculatorNode(operation="power", operand=2, name="sq")])
    doc = json.loads(p.serialize())
    assert doc["version"] == "v1"
    assert doc["metadata"]["name"] == "rt"
    assert doc["nodes"] == [
        {"id": "src", "node_type": "PassThroughNode"},
        {"id": "sq", "node_type": "CalculatorNode", "params": {"operation": "power", "operand": 2}},
    ]
    assert doc["connections"] == [{"from": "src", "to": "sq"}]
    assert p.to_manifest()["nodes"] == doc["nodes"]
    again = Pipeline.from_manifest(p.serialize())
    assert again.node_ids() == ["src", "sq"]
    assert run(again, [3]) == [9]


def test_from_manifest_accepts_dict_text_and_paths():
    path = MANIFESTS / "passthrough_calculator.json"
    for source in (path, str(path), path.read_text(), json.loads(path.read_text())):
        assert run_both(lambda s=source: Pipeline.from_manifest(s), [1, 2, 3]) == [6, 7, 8]
    yaml_path = MANIFESTS / "valid" / "chain_without_connections.yaml"
    assert run_both(lambda: Pipeline.from_manifest(yaml_path), [1, 2.0, 3]) == [[3, 5.0], [7]]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_corpus_runs_the_same_on_both_runtimes(path):
    doc = json.loads(Pipeline.from_manifest(path).serialize())
    merges = {c["to"] for c in doc["connections"]}
    fan_in = len(merges) < len(doc["connections"]) and any(
        sum(c["to"] == m for c in doc["connections"]) > 1 for m in merges
    )
    if not fan_in:
        assert run_both(lambda: Pipeline.from_manifest(path), [1, 2, 3])
        return
    # Fan-in merges in arrival order, which depends on timing: compare as multisets.
    on_rust = run(Pipeline.from_manifest(path), [1, 2, 3], use_rust=True)
    on_python = run(Pipeline.from_manifest(path), [1, 2, 3], use_rust=False)
    assert sorted(on_rust) == sorted(on_python) and on_rust


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_corpus_gives_the_engines_messages(path):
    expected = [line for line in path.with_suffix(".expected").read_text().splitlines() if line.strip()]
    with pytest.raises(ManifestError) as info:
        Pipeline.from_manifest(path)
    issues = info.value.issues
    if path.name not in ("syntax_error.json", "yaml_syntax_error.yaml"):  # parser wording differs
        assert len(issues) == len(expected), issues
        for issue, fragment in zip(issues, expected):
            assert fragment in issue, (issue, fragment)
    if HAVE_EXTENSION and path.suffix == ".json" and path.name != "syntax_error.json":
        import remotemedia_runtime

        with pytest.raises(ManifestError) as engine:
            remotemedia_runtime.plan(path.read_text())
        assert engine.value.issues == issues  # same problems, same words


def test_buffer_node_params_survive_the_manifest():
    p = Pipeline.from_manifest({"version": "v1", "nodes": [{"id": "b", "node_type": "BufferNode"}]})
    assert isinstance(p.nodes[0], BufferNode) and p.nodes[0].buffer_size == 10
