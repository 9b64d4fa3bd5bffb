"""One contract everywhere: the node protocol on every host, manifests checked by one rule set, and
the defects found where copies of the contract had drifted (issue 10)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import HAVE_EXTENSION, MANIFESTS, run
from remotemedia import Node, Pipeline
from remotemedia.audio import Audio, read_wav
from remotemedia.errors import ManifestError, NodeError

needs_engine = pytest.mark.skipif(not HAVE_EXTENSION, reason="needs the remotemedia_runtime extension")

# Every shape `process`/`flush` may return (the node protocol), as node source. Each node emits,
# for input x, the outputs listed in EXPECTED; flush adds "end".
SHAPES = {
    "value": "def process(self, x):\n        return x * 10",
    "none_filters": "def process(self, x):\n        return None",
    "list_is_one_output": "def process(self, x):\n        return [x, x]",
    "generator": "def process(self, x):\n        yield x\n        yield x * 10",
    "async_value": "async def process(self, x):\n        return x * 10",
    "async_none": "async def process(self, x):\n        return None",
    "async_generator": "async def process(self, x):\n        yield x\n        yield x * 10",
    "coroutine_of_generator": "async def process(self, x):\n        return (v for v in (x, x * 10))",
}
EXPECTED = {
    "value": [10, 20, "end"],
    "none_filters": ["end"],
    "list_is_one_output": [[1, 1], [2, 2], "end"],
    "generator": [1, 10, 2, 20, "end"],
    "async_value": [10, 20, "end"],
    "async_none": ["end"],
    "async_generator": [1, 10, 2, 20, "end"],
    "coroutine_of_generator": [1, 10, 2, 20, "end"],
}


def shape_source(shape: str, async_hooks: bool) -> str:
    """A node with the given `process` shape; lifecycle hooks sync or async."""
    hook = "async def" if async_hooks else "def"
    flush = "return 'end'" if async_hooks else "yield 'end'"
    return (
        "from remotemedia import Node\n\n"
        "class Shape(Node):\n"
        f"    {hook} initialize(self):\n        self.ready = True\n\n"
        f"    {SHAPES[shape]}\n\n"
        f"    {hook} flush(self):\n        {flush}\n\n"
        f"    {hook} cleanup(self):\n        self.ready = False\n"
    )


HOSTS = [
    pytest.param("python", id="pure-python"),
    pytest.param("cpython", id="cpython", marks=needs_engine),
    pytest.param("rustpython", id="rustpython", marks=needs_engine),
]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("async_hooks", [False, True], ids=["sync-hooks", "async-hooks"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_protocol_shape_gives_the_same_outputs_on_every_host(shape, async_hooks, host):
    doc = {
        "version": "v1",
        "nodes": [
            {
                "id": "shape",
                "node_type": "Shape",
                "class": "Shape",
                "source": shape_source(shape, async_hooks),
                "runtime_hint": "auto" if host == "python" else host,
            }
        ],
    }
    pipeline = Pipeline.from_manifest(doc)
    out = run(pipeline, [1, 2], use_rust=host != "python")
    assert out == EXPECTED[shape]
    assert pipeline.last_run.nodes == {"shape": host}


# --- defect 1: no crash at exit -------------------------------------------------------------------

EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from remotemedia import Node, Pipeline

    class Live(Node):
        def process(self, x):
            return x + 1

        def cleanup(self):
            self.done = True

    p = Pipeline("exit", [Live(name="live")])
    print(asyncio.run(p.run([1, 2, 3])), p.last_run.nodes["live"])
    """
)


def exit_loop(runs: int) -> list[tuple[int, str]]:
    """Runs the live-node script ``runs`` times, two at a time; returns every failed run."""
    failures = []
    pending: list[subprocess.Popen[str]] = []

    def reap(proc: subprocess.Popen[str]) -> None:
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 0 or out.strip() != "[2, 3, 4] cpython":
            failures.append((proc.returncode, (out + err)[-400:]))

    for _ in range(runs):
        pending.append(
            subprocess.Popen(
                [sys.executable, "-c", EXIT_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
        if len(pending) >= 2:
            reap(pending.pop(0))
    for proc in pending:
        reap(proc)
    return failures


@needs_engine
def test_a_script_with_a_live_node_exits_cleanly_every_time():
    # `make test-exit-loop` runs 1,000 of these; here enough to catch a 1-in-10 crash.
    import os

    runs = int(os.environ.get("REMOTEMEDIA_EXIT_RUNS", "60"))
    failures = exit_loop(runs)
    assert failures == [], f"{len(failures)} of {runs} runs failed, e.g. {failures[:3]}"


# --- defect 3: RustPython answers like CPython ------------------------------------------------------


@needs_engine
@pytest.mark.parametrize(
    "expr", ["round(2.675, 2)", "round(0.35, 1)", "round(-0.5)", "round(2.5)", "round(1234.5678, -2)"]
)
def test_round_gives_cpythons_answer_on_rustpython(expr):
    source = (
        "from remotemedia import Node\nclass Eval(Node):\n    def process(self, e):\n        return repr(eval(e))\n"
    )
    doc = {
        "version": "v1",
        "nodes": [{"id": "e", "node_type": "Eval", "class": "Eval", "source": source, "runtime_hint": "rustpython"}],
    }
    assert run(Pipeline.from_manifest(doc), [expr]) == [repr(eval(expr))]


# --- defect 6: classes only this process can import are written as source -------------------------


class DefinedInATestFile(Node):
    def process(self, data):
        return data * 3


def test_a_class_from_a_test_file_serializes_as_source_the_binary_can_load(tmp_path):
    doc = json.loads(Pipeline("t", [DefinedInATestFile(name="triple")]).serialize())
    node = doc["nodes"][0]
    assert "module" not in node
    assert node["class"] == "DefinedInATestFile"
    assert "class DefinedInATestFile(Node):" in node["source"]
    # A separate process that never saw this test module loads and runs it.
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    script = (
        "import asyncio, sys\nfrom remotemedia import Pipeline\n"
        f"print(asyncio.run(Pipeline.from_manifest(sys.argv[1]).run([1, 2], use_rust={HAVE_EXTENSION})))"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "[3, 6]", out.stderr


def test_an_installed_module_serializes_by_name():
    import json as stdlib_json

    import remotemedia.nodes.basic as installed
    from remotemedia.core.locate import importable_elsewhere

    assert importable_elsewhere(stdlib_json)
    assert importable_elsewhere(installed)
    assert not importable_elsewhere(sys.modules[__name__])


# --- defect 7: YAML out of the box ------------------------------------------------------------------


def test_the_documented_yaml_manifest_loads_and_runs(use_rust):
    pipeline = Pipeline.from_manifest(str(MANIFESTS / "voice_activity.yaml"))
    assert [n.node_type for n in pipeline.nodes] == ["ChannelMixNode", "AudioResampleNode", "SileroVADNode"]
    audio = read_wav(MANIFESTS / "data" / "arctic_a0007.wav")
    assert run(pipeline, audio, use_rust=use_rust) == [{"start": 0.386, "end": 3.55}]


# --- defect 8: a manifest node's module runs once -------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "python"])
def test_a_manifest_nodes_module_runs_only_where_the_node_runs(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("REMOTEMEDIA_RUNTIME", mode)
    marker = tmp_path / "loads.txt"
    node_file = tmp_path / "counted.py"
    node_file.write_text(
        textwrap.dedent(
            f"""
            import sys
            with open({str(marker)!r}, "a") as f:
                f.write(sys.implementation.name + "\\n")

            from remotemedia import Node

            class Counted(Node):
                def process(self, x):
                    return x + 1
            """
        )
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: v1\nnodes:\n  - {id: c, node_type: Counted, file: counted.py, class: Counted}\n")
    pipeline = Pipeline.from_manifest(str(manifest))
    assert run(pipeline, [1, 2]) == [2, 3]
    assert run(pipeline, [5]) == [6]
    engine = HAVE_EXTENSION and mode == "auto"
    assert pipeline.last_run.nodes == {"c": "rustpython" if engine else "python"}
    # Loaded once, where it runs: in the engine's RustPython, never also in this interpreter.
    assert marker.read_text().split() == (["rustpython"] if engine else [sys.implementation.name])


# --- defect 11: timeout_ms on the pure-Python executor ----------------------------------------------


class Sleepy(Node):
    def process(self, seconds):
        time.sleep(seconds)
        return seconds


class AsyncSleepy(Node):
    async def process(self, seconds):
        await asyncio.sleep(seconds)
        return seconds


@pytest.mark.parametrize("cls", [Sleepy, AsyncSleepy])
def test_timeout_ms_limits_each_call_on_both_runtimes(cls, use_rust):
    pipeline = Pipeline("t", [cls(name="slow", timeout_ms=300)])
    assert run(pipeline, [0.0, 0.01], use_rust=use_rust) == [0.0, 0.01]
    started = time.monotonic()
    with pytest.raises(NodeError, match=r"^node `slow` \(`" + cls.__name__ + r"`\) failed: timed out after 300 ms$"):
        run(pipeline, [0.0, 5.0], use_rust=use_rust)
    assert time.monotonic() - started < 3.0


def test_timeout_ms_is_written_to_the_manifest_and_checked():
    doc = Pipeline("t", [Sleepy(name="slow", timeout_ms=250)]).to_manifest()
    assert doc["nodes"][0]["timeout_ms"] == 250
    assert "timeout_ms" not in doc["nodes"][0].get("params", {})
    with pytest.raises(ValueError, match="timeout_ms=0 is not valid"):
        Sleepy(timeout_ms=0)


def test_the_python_validator_checks_timeout_ms(monkeypatch):
    monkeypatch.setenv("REMOTEMEDIA_RUNTIME", "python")
    path = MANIFESTS / "invalid" / "bad_timeout.yaml"
    with pytest.raises(ManifestError) as info:
        Pipeline.from_manifest(path)
    assert info.value.issues == path.with_suffix(".expected").read_text().splitlines()


# --- defect 12: memory Python can write is never lent to the engine --------------------------------


@needs_engine
def test_writable_arrays_are_copied_and_read_only_arrays_are_shared():
    class Keep(Node):
        def process(self, data):
            return data

    writable = np.arange(6, dtype=np.float32)
    frozen = np.arange(6, dtype=np.float32)
    frozen.setflags(write=False)
    pipeline = Pipeline("k", [Keep(name="keep")])
    out_writable, out_frozen = run(pipeline, [writable, frozen])
    assert not np.shares_memory(out_writable, writable)
    assert np.shares_memory(out_frozen, frozen)
    writable[0] = 99.0  # the engine's copy does not change
    assert out_writable[0] == 0.0
    audio = Audio(np.zeros(16, dtype=np.int16), 16000)
    (back,) = run(pipeline, [audio])
    assert not np.shares_memory(back.samples, audio.samples)


# --- the manifest contract: the engine's problems, in its words ---------------------------------------


@needs_engine
def test_from_manifest_reports_the_engines_problems():
    path = MANIFESTS / "invalid" / "many_problems.yaml"
    with pytest.raises(ManifestError) as info:
        Pipeline.from_manifest(path)
    import remotemedia_runtime

    with pytest.raises(ManifestError) as engine:
        remotemedia_runtime.plan(json.dumps(__import__("yaml").safe_load(path.read_text())), origin=f"`{path}`")
    assert info.value.issues == engine.value.issues
    assert str(info.value) == str(engine.value)


# --- live objects are handed to the engine as objects --------------------------------------------


@needs_engine
def test_the_extension_takes_live_objects_for_nodes_the_manifest_only_names():
    import remotemedia_runtime

    class Scale(Node):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
            self.calls = 0

        def process(self, x):
            self.calls += 1
            return x * self.factor

    scale = Scale(3)
    doc = {"version": "v1", "nodes": [{"id": "s", "node_type": "Scale"}, {"id": "a", "node_type": "AddNode"}]}
    plan = remotemedia_runtime.plan(json.dumps(doc), {"s": scale})
    assert asyncio.run(plan.run([1, 2])) == [3, 6]
    assert scale.calls == 2  # the very object ran
    assert dict(plan.node_runtimes) == {"s": "cpython", "a": "rust"}
    with pytest.raises(ValueError, match="`live` names node `x`, which the manifest does not have"):
        remotemedia_runtime.plan(json.dumps(doc), {"s": scale, "x": scale})
