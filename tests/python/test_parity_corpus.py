"""The parity corpus (``tests/parity/cases.yaml``): every documented behaviour of a run, on the
engine and on the pure-Python fallback. The engine's results are recorded in
``tests/parity/expected.json`` (and checked against the engine by ``tests/parity.rs``), so the
fallback is held to them whether the extension is installed or not; with the extension, the
engine is held to them too. ``REMOTEMEDIA_UPDATE_PARITY=1`` rewrites the record from the engine.
"""

from __future__ import annotations

import copy
import json
import math
import os
from typing import Any

import pytest
import yaml

from conftest import HAVE_EXTENSION, ROOT, run
from remotemedia import ManifestError, NodeError, Pipeline
from remotemedia.tagged_json import from_tagged, to_tagged

CORPUS = ROOT / "tests" / "parity"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())
EXPECTED_FILE = CORPUS / "expected.json"
EXPECTED: dict[str, Any] = json.loads(EXPECTED_FILE.read_text()) if EXPECTED_FILE.exists() else {}
UPDATE = os.environ.get("REMOTEMEDIA_UPDATE_PARITY") == "1"


def outcome(case: dict[str, Any], use_rust: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What a case gives: ``{"outputs": [...]}`` (tagged JSON), ``{"error": message}`` (a node
    failed) or ``{"manifest_error": [issues]}``."""
    with monkeypatch.context() as env:
        if not use_rust:
            env.setenv("REMOTEMEDIA_RUNTIME", "python")
        try:
            pipeline = Pipeline.from_manifest(copy.deepcopy(case["manifest"]))
            outputs = run(pipeline, [from_tagged(v) for v in case["inputs"]], use_rust=use_rust)
        except ManifestError as e:
            return {"manifest_error": e.issues}
        except NodeError as e:
            return {"error": str(e)}
        assert pipeline.last_run.runtime == ("rust" if use_rust else "python")
    return {"outputs": [to_tagged(v) for v in outputs]}


def differences(got: Any, want: Any, tolerance: float, where: str = "") -> list[str]:
    """Where ``got`` and ``want`` differ; ints and floats never equal each other, and floats
    differ by at most ``tolerance``."""
    if isinstance(want, bool) or isinstance(got, bool) or not isinstance(want, (int, float)):
        if type(got) is not type(want):
            return [f"{where or 'value'}: {got!r} != {want!r}"]
    elif type(got) is not type(want):
        return [f"{where or 'value'}: {got!r} ({type(got).__name__}) != {want!r} ({type(want).__name__})"]
    if isinstance(want, dict):
        if set(got) != set(want):
            return [f"{where or 'value'}: keys {sorted(got)} != {sorted(want)}"]
        return [d for k in want for d in differences(got[k], want[k], tolerance, f"{where}.{k}")]
    if isinstance(want, list):
        if len(got) != len(want):
            return [f"{where or 'value'}: {len(got)} items != {len(want)}"]
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in differences(g, w, tolerance, f"{where}[{i}]")]
    if isinstance(want, float) and not isinstance(want, bool):
        if math.isclose(got, want, rel_tol=0, abs_tol=tolerance) or got == want:
            return []
        return [f"{where or 'value'}: {got!r} != {want!r}"]
    if isinstance(want, int) and not isinstance(want, bool):
        return [] if abs(got - want) <= tolerance else [f"{where or 'value'}: {got!r} != {want!r}"]
    return [] if got == want else [f"{where or 'value'}: {got!r} != {want!r}"]


def check(case: dict[str, Any], got: dict[str, Any]) -> None:
    want = EXPECTED.get(case["name"])
    assert want is not None, f"no recorded result for {case['name']}: run with REMOTEMEDIA_UPDATE_PARITY=1"
    found = differences(got, want, float(case.get("tolerance", 0)))
    assert not found, "\n".join(found[:10])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_fallback_gives_the_engines_result(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    check(case, outcome(case, use_rust=False, monkeypatch=monkeypatch))


@pytest.mark.skipif(not HAVE_EXTENSION, reason="needs the extension")
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_engine_gives_its_recorded_result(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    got = outcome(case, use_rust=True, monkeypatch=monkeypatch)
    if UPDATE:
        record = json.loads(EXPECTED_FILE.read_text()) if EXPECTED_FILE.exists() else {}
        record[case["name"]] = got
        EXPECTED_FILE.write_text(json.dumps(dict(sorted(record.items())), indent=1) + "\n")
        EXPECTED[case["name"]] = got
    check(case, got)


def test_the_record_holds_exactly_the_corpus() -> None:
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names), "case names must be unique"
    if not UPDATE:
        assert sorted(EXPECTED) == sorted(names)
    for case in CASES:
        assert set(case) <= {"name", "doc", "manifest", "inputs", "tolerance"}, case["name"]
        assert case.get("doc"), f"{case['name']}: say where the behaviour is documented"


def test_the_comparison_tells_ints_from_floats_and_respects_the_tolerance() -> None:
    assert differences([2], [2.0], 0) != []
    assert differences({"a": 0.5}, {"a": 0.5000001}, 1e-6) == []
    assert differences({"a": 0.5}, {"a": 0.51}, 1e-6) != []
    assert differences([True], [1], 0) != []
    assert differences([398], [399], 1) == []
    assert differences([398], [399], 0) != []
    assert differences({"x": [1, 2]}, {"x": [1, 2, 3]}, 0) != []
