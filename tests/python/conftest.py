"""Shared fixtures: both runtimes, and a way to compare them."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any, Callable

import pytest

import remotemedia
from remotemedia import runtime as rm_runtime

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
HAVE_EXTENSION = importlib.util.find_spec("remotemedia_runtime") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the extension there is no native node to compare a twin with: skip those tests."""
    if HAVE_EXTENSION:
        return
    skip = pytest.mark.skip(reason="twin parity needs the native nodes (the extension)")
    for item in items:
        if item.get_closest_marker("twin_parity"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_detection(monkeypatch: pytest.MonkeyPatch):
    """Each test starts with no cached runtime detection and no REMOTEMEDIA_RUNTIME."""
    monkeypatch.delenv("REMOTEMEDIA_RUNTIME", raising=False)
    rm_runtime._reset_for_tests()
    yield
    rm_runtime._reset_for_tests()


@pytest.fixture(params=[True, False], ids=["use_rust", "python"])
def use_rust(request: pytest.FixtureRequest) -> bool:
    return request.param


def run(pipeline: remotemedia.Pipeline, data: Any = None, use_rust: bool = True) -> list[Any]:
    return asyncio.run(pipeline.run(data, use_rust=use_rust))


_RUSTPYTHON_PIPELINES: dict[tuple[str, str], remotemedia.Pipeline] = {}


def run_on_rustpython(class_name: str, source: str, item: Any) -> Any:
    """The one output of a node (class `class_name` of `source`) run on RustPython inside the
    engine for `item`; the pipeline is built once per source."""
    key = (class_name, source)
    if key not in _RUSTPYTHON_PIPELINES:
        node = {"id": "n", "node_type": class_name, "class": class_name, "source": source, "runtime_hint": "rustpython"}
        _RUSTPYTHON_PIPELINES[key] = remotemedia.Pipeline.from_manifest({"version": "v1", "nodes": [node]})
    pipeline = _RUSTPYTHON_PIPELINES[key]
    (out,) = run(pipeline, [item])
    assert pipeline.last_run.nodes == {"n": "rustpython"}
    return out


def run_both(make: Callable[[], remotemedia.Pipeline], data: Any = None) -> list[Any]:
    """Runs a fresh pipeline on each runtime; asserts equal outputs; returns them."""
    rust_side = make()
    on_rust = run(rust_side, data, use_rust=True)
    on_python = run(make(), data, use_rust=False)
    assert on_rust == on_python, f"runtimes differ: {on_rust!r} != {on_python!r}"
    assert_types_equal(on_rust, on_python)
    expected = "rust" if HAVE_EXTENSION and rust_side.last_run.fallback_reason is None else "python"
    assert rust_side.last_run.runtime == expected
    return on_rust


def assert_types_equal(a: Any, b: Any) -> None:
    """`1 == 1.0` in Python; the runtimes must agree on int vs float too."""
    assert type(a) is type(b), f"{a!r} ({type(a).__name__}) vs {b!r} ({type(b).__name__})"
    if isinstance(a, list):
        for x, y in zip(a, b):
            assert_types_equal(x, y)
    if isinstance(a, dict):
        for k in a:
            assert_types_equal(a[k], b[k])
