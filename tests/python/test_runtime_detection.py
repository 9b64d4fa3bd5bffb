"""Runtime detection and selection, as the seeds describe (with REMOTEMEDIA_RUNTIME)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import remotemedia
from conftest import HAVE_EXTENSION, run
from remotemedia import Pipeline, RuntimeSelectionError
from remotemedia import runtime as rm_runtime
from remotemedia.nodes import CalculatorNode, PassThroughNode


def hide_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes `import remotemedia_runtime` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "remotemedia_runtime", None)
    rm_runtime._reset_for_tests()


def test_try_load_returns_the_documented_tuple():
    ok, module, error = remotemedia.try_load_rust_runtime()
    assert ok is HAVE_EXTENSION
    if HAVE_EXTENSION:
        assert module.__name__ == "remotemedia_runtime" and error is None
        assert module.__version__ == "0.1.0"
    else:
        assert module is None and error.startswith("Module not found: ")


def test_try_load_reports_a_missing_module(monkeypatch):
    hide_extension(monkeypatch)
    ok, module, error = remotemedia.try_load_rust_runtime()
    assert (ok, module) == (False, None)
    assert error.startswith("Module not found:")


def test_availability_is_cached_and_consistent():
    first = remotemedia.is_rust_runtime_available()
    assert first is HAVE_EXTENSION
    assert remotemedia.is_rust_runtime_available() is first
    runtime = remotemedia.get_rust_runtime()
    assert (runtime is not None) is first
    assert remotemedia.get_rust_runtime() is runtime


def test_missing_runtime_warns_once_with_reason(monkeypatch):
    hide_extension(monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert remotemedia.is_rust_runtime_available() is False
        assert remotemedia.is_rust_runtime_available() is False
        assert remotemedia.get_rust_runtime() is None
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1, messages
    assert messages[0].startswith("Rust runtime unavailable, falling back to Python execution")
    assert "pip install remotemedia-runtime" in messages[0]
    assert "Reason: Module not found" in messages[0]


def test_import_is_silent():
    code = "import warnings; warnings.simplefilter('error'); import remotemedia, remotemedia.nodes"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_fallback_on_missing_runtime_gives_the_same_results(monkeypatch):
    hide_extension(monkeypatch)
    p = Pipeline("p").add_node(PassThroughNode()).add_node(CalculatorNode(operation="add", operand=5))
    assert run(p, [1, 2, 3]) == [6, 7, 8]
    assert p.last_run.runtime == "python"
    assert "not installed" in p.last_run.fallback_reason


def test_env_python_never_loads_the_runtime():
    code = (
        "import asyncio, sys, warnings; warnings.simplefilter('error');"
        "from remotemedia import Pipeline; from remotemedia.nodes import PassThroughNode;"
        "p = Pipeline().add_node(PassThroughNode());"
        "print(asyncio.run(p.run([1, 2])), p.last_run.runtime, 'remotemedia_runtime' in sys.modules)"
    )
    env = {**__import__("os").environ, "REMOTEMEDIA_RUNTIME": "python"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 2] python False"


def test_env_rust_makes_a_missing_runtime_an_error(monkeypatch):
    hide_extension(monkeypatch)
    monkeypatch.setenv("REMOTEMEDIA_RUNTIME", "rust")
    with pytest.raises(RuntimeSelectionError, match="Rust runtime is not installed"):
        run(Pipeline().add_node(PassThroughNode()), [1])


def test_env_rust_with_runtime_runs_on_rust(monkeypatch):
    monkeypatch.setenv("REMOTEMEDIA_RUNTIME", "rust")
    p = Pipeline().add_node(PassThroughNode())
    if HAVE_EXTENSION:
        assert run(p, [1]) == [1]
        assert p.last_run.runtime == "rust"
    else:
        with pytest.raises(RuntimeSelectionError):
            run(p, [1])


def test_env_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("REMOTEMEDIA_RUNTIME", "fast")
    with pytest.raises(RuntimeSelectionError, match="REMOTEMEDIA_RUNTIME='fast' is not valid"):
        run(Pipeline().add_node(PassThroughNode()), [1])


def test_use_rust_false_runs_python():
    p = Pipeline().add_node(PassThroughNode())
    assert run(p, [1, 2], use_rust=False) == [1, 2]
    assert p.last_run.runtime == "python"
    assert p.last_run.fallback_reason == "use_rust=False"


def test_automatic_selection_prefers_rust():
    p = Pipeline().add_node(PassThroughNode()).add_node(CalculatorNode(operation="multiply", operand=3))
    assert run(p, [1, 2]) == [3, 6]
    assert p.last_run.runtime == ("rust" if HAVE_EXTENSION else "python")
    assert set(p.last_run.nodes.values()) == {p.last_run.runtime}
