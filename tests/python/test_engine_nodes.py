"""Custom Python nodes inside the engine: live objects on the calling interpreter (CPython) under
"auto", their own RustPython VM with runtime_hint="rustpython", the pure-Python executor with
use_rust=False; CPython fallback for code RustPython cannot run; errors and the override variable."""

from __future__ import annotations

import asyncio
import inspect
import logging

import numpy as np
import pytest

from conftest import HAVE_EXTENSION, run
from remotemedia import Node, Pipeline, RuntimeSelectionError
from remotemedia.nodes import AddNode

needs_engine = pytest.mark.skipif(not HAVE_EXTENSION, reason="needs the remotemedia_runtime extension")


class Accumulator(Node):
    """Window-3 running sum (the issue's example)."""

    def __init__(self, window=3, **kwargs):
        super().__init__(**kwargs)
        self.window = window
        self.recent = []

    def process(self, data):
        self.recent = [*self.recent, data][-self.window :]
        return sum(self.recent)


class WhoRuns(Node):
    """Says which interpreter ran it."""

    def process(self, data):
        import sys

        return [sys.implementation.name, data]


class UsesNumpy(Node):
    def process(self, data):
        return float(np.asarray(data, dtype=np.float64).sum())


class Picky(Node):
    def process(self, data):
        if data < 0:
            raise ValueError(f"negative input {data}")
        return data


@pytest.mark.parametrize(
    ("hint", "use_rust", "ran_on"),
    [("rustpython", True, "rustpython"), ("auto", True, "cpython"), ("auto", False, "python")],
)
def test_window_accumulator_gives_the_same_sums_everywhere(hint, use_rust, ran_on):
    p = Pipeline("acc", [Accumulator(window=3, name="acc", runtime_hint=hint)])
    if use_rust and not HAVE_EXTENSION:
        if hint == "rustpython":  # only the engine can honour it
            with pytest.raises(RuntimeSelectionError, match="the Rust runtime is not installed"):
                run(p, [10], use_rust=use_rust)
            return
        ran_on = "python"  # auto without the engine: the pure-Python executor
    assert run(p, [10, 20, 30, 40], use_rust=use_rust) == [10, 30, 60, 90]
    assert p.last_run.nodes == {"acc": ran_on}
    # A second run starts from the node's state as the pure-Python executor would leave it.
    assert run(p, [1], use_rust=use_rust) == ([71] if ran_on != "rustpython" else [1])


@needs_engine
def test_auto_keeps_the_live_object_and_rustpython_isolates_it():
    live = Accumulator(name="acc")
    run(Pipeline("p", [live]), [1, 2, 3, 4])
    assert live.recent == [2, 3, 4]  # the engine drove this very object
    isolated = Accumulator(name="acc", runtime_hint="rustpython")
    p = Pipeline("p", [isolated])
    assert run(p, [1, 2, 3, 4]) == [1, 3, 6, 9]
    assert isolated.recent == []  # its state lives in its own VM
    assert p.last_run.nodes == {"acc": "rustpython"}


@needs_engine
def test_the_interpreter_is_reported_per_node():
    p = Pipeline(
        "p", [AddNode(addend=1, name="add"), WhoRuns(name="live"), WhoRuns(name="vm", runtime_hint="rustpython")]
    )
    p.connect("add", "live").connect("add", "vm")
    assert run(p, [1]) == [["cpython", 2], ["rustpython", 2]]
    assert p.last_run.runtime == "rust"
    assert p.last_run.nodes == {"add": "rust", "live": "cpython", "vm": "rustpython"}


@needs_engine
def test_a_numpy_node_from_a_manifest_falls_back_to_cpython_and_says_so(caplog):
    caplog.set_level(logging.INFO)
    source = "import numpy as np\nfrom remotemedia import Node\n\n" + inspect.getsource(UsesNumpy)
    p = Pipeline.from_manifest(
        {"version": "v1", "nodes": [{"id": "np", "node_type": "UsesNumpy", "class": "UsesNumpy", "source": source}]}
    )
    assert run(p, [[1, 2, 3.5]]) == [6.5]
    assert p.last_run.nodes == {"np": "cpython"}
    # ... and as a live object, "auto" keeps it on CPython too.
    p = Pipeline("p", [UsesNumpy(name="np")])
    assert run(p, [[1, 2]]) == [3.0]
    assert p.last_run.nodes == {"np": "cpython"}


@needs_engine
def test_a_numpy_node_pinned_to_rustpython_fails_clearly():
    p = Pipeline("p", [UsesNumpy(name="np", runtime_hint="rustpython")])
    with pytest.raises(
        RuntimeSelectionError,
        match=r"(?s)node `np` asks for 'rustpython'.*ModuleNotFoundError: No module named 'numpy'",
    ):
        run(p, [[1, 2]])


@needs_engine
def test_a_manifest_node_that_needs_cpython_loads_there_before_data_flows(tmp_path, caplog):
    (tmp_path / "cp_only.py").write_text(
        "import sys\nif sys.implementation.name != 'cpython':\n    raise ImportError('needs CPython')\n"
        "from remotemedia import Node\nclass Only(Node):\n    def process(self, x):\n        return x + 1\n"
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: v1\nnodes:\n  - {id: only, node_type: Only, file: cp_only.py, class: Only}\n")
    p = Pipeline.from_manifest(manifest)
    assert run(p, [1, 2]) == [2, 3]
    assert p.last_run.nodes == {"only": "cpython"}


@pytest.mark.parametrize("hint", ["auto", "rustpython"])
def test_exceptions_name_the_node_and_the_next_run_works(hint):
    p = Pipeline("p", [Picky(name="picky", runtime_hint=hint)])
    if hint == "rustpython" and not HAVE_EXTENSION:
        with pytest.raises(RuntimeSelectionError, match="the Rust runtime is not installed"):
            run(p, [1])
        return
    expected = ValueError if hint == "auto" else Exception
    with pytest.raises(expected, match=r"node `picky` \(`Picky`\) failed: (ValueError: )?negative input -2") as info:
        run(p, [1, -2, 3])
    if hint == "auto":
        assert type(info.value) is ValueError  # the node's own exception, as on the Python executor
    assert run(p, [5]) == [5]


@needs_engine
def test_values_the_engine_cannot_carry_are_a_clear_error():
    class ReturnsSet(Node):
        def process(self, data):
            return {data}

    with pytest.raises(TypeError, match=r"node `bad` \(`ReturnsSet`\) failed: cannot pass a `set` through a pipeline"):
        run(Pipeline("p", [ReturnsSet(name="bad")]), [1])


@needs_engine
def test_numpy_arrays_reach_a_cpython_node_without_a_copy():
    class Keep(Node):
        def process(self, data):
            self.seen = data
            return data.sum()

    keep = Keep(name="keep")
    samples = np.arange(1000, dtype=np.float32)
    samples.setflags(write=False)  # only memory Python cannot write is lent to the engine
    assert run(Pipeline("p", [keep]), [samples]) == [float(samples.sum())]
    assert np.shares_memory(keep.seen, samples)


@needs_engine
def test_the_override_variable_moves_every_python_node(monkeypatch):
    monkeypatch.setenv("REMOTEMEDIA_PYTHON_INTERPRETER", "rustpython")
    p = Pipeline("p", [WhoRuns(name="who")])
    assert run(p, [1]) == [["rustpython", 1]]
    assert p.last_run.nodes == {"who": "rustpython"}
    monkeypatch.setenv("REMOTEMEDIA_PYTHON_INTERPRETER", "cpython")
    assert run(p, [1]) == [["cpython", 1]]
    monkeypatch.setenv("REMOTEMEDIA_PYTHON_INTERPRETER", "pypy")
    with pytest.raises(Exception, match='REMOTEMEDIA_PYTHON_INTERPRETER="pypy" is not valid'):
        run(Pipeline("p", [WhoRuns(name="who")]), [1])


def test_pinned_interpreters_need_the_engine():
    p = Pipeline("p", [Accumulator(name="acc", runtime_hint="rustpython")])
    with pytest.raises(RuntimeSelectionError, match="runtime_hint='rustpython' but the Rust runtime is disabled"):
        run(p, [1], use_rust=False)


@needs_engine
def test_the_engine_reports_the_time_spent_in_each_node():
    p = Pipeline("p", [AddNode(addend=1, name="add"), Accumulator(name="acc", runtime_hint="rustpython")])
    run(p, [1])
    plan = p._choose(True).plan

    async def measured():
        return await plan.run_with_metrics([1, 2, 3])

    outputs, metrics = asyncio.run(measured())
    assert outputs == [2, 5, 9]
    assert set(metrics) == {"add", "acc"}
    assert metrics["acc"]["items_in"] == 3 and metrics["acc"]["items_out"] == 3
    assert 0 < metrics["acc"]["max_s"] <= metrics["acc"]["total_s"]


class AsyncLife(Node):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.events = []

    async def initialize(self):
        await asyncio.sleep(0.001)
        self.events.append("init")

    async def process(self, x):
        await asyncio.sleep(0)
        return x * 2

    async def flush(self):
        yield "end"

    def cleanup(self):
        self.events.append("cleanup")


def test_streaming_a_live_node_with_async_methods(use_rust):
    node = AsyncLife(name="life")
    p = Pipeline("p", [node])

    async def source():
        for i in range(3):
            yield i

    async def consume():
        return [out async for out in p.process(source(), use_rust=use_rust)]

    assert asyncio.run(consume()) == [0, 2, 4, "end"]
    assert node.events == ["init", "cleanup"]
    assert p.last_run.nodes == {"life": "cpython" if use_rust and HAVE_EXTENSION else "python"}
