"""Pipeline behaviour, on both runtimes, compared for equality."""

from __future__ import annotations

import asyncio
import logging

import pytest

from conftest import HAVE_EXTENSION, run, run_both
from remotemedia import ManifestError, Node, NodeError, Pipeline, RuntimeSelectionError
from remotemedia.nodes import AddNode, BufferNode, CalculatorNode, MultiplyNode, PassThroughNode


def chain(*nodes: Node, name: str = "test") -> Pipeline:
    return Pipeline(name, nodes)


def test_three_passthrough_nodes():
    out = run_both(lambda: chain(PassThroughNode(), PassThroughNode(), PassThroughNode()), [1, 2, 3, 4, 5])
    assert out == [1, 2, 3, 4, 5]


def test_passthrough_then_add_five():
    out = run_both(lambda: chain(PassThroughNode(), CalculatorNode(operation="add", operand=5)), [1, 2, 3])
    assert out == [6, 7, 8]


@pytest.mark.parametrize(
    ("operation", "operand", "inputs", "expected"),
    [
        ("add", 5, [1, 2.5], [6, 7.5]),
        ("subtract", 1, [1, -1], [0, -2]),
        ("multiply", 2.0, [3], [6.0]),
        ("divide", 3, [6, 7], [2, 7 / 3]),
        ("power", 2, [3, -2], [9, 4]),
        ("power", -1, [2], [0.5]),
        ("modulo", 3, [-7, 7, 7.5], [2, 1, 1.5]),
    ],
)
def test_calculator_keeps_ints_exact(operation, operand, inputs, expected):
    out = run_both(lambda: chain(CalculatorNode(operation=operation, operand=operand)), inputs)
    assert out == expected
    assert [type(v) for v in out] == [type(v) for v in expected]


def test_single_input_none_and_zero_outputs():
    assert run_both(lambda: chain(AddNode(addend=1)), 41) == [42]
    assert run_both(lambda: chain(AddNode(addend=1)), None) == []
    assert run_both(lambda: chain(BufferNode(buffer_size=3)), []) == []


def test_defaults_lists_and_buffer_flush():
    out = run_both(lambda: chain(MultiplyNode(), AddNode(), BufferNode(buffer_size=2)), [1, [2, [3.5]], 4])
    assert out == [[2, [4, [7.0]]], [8]]


def test_fan_out_groups_outputs_by_sink():
    def make() -> Pipeline:
        a, b = MultiplyNode(factor=2, name="a"), AddNode(addend=100, name="b")
        return (
            Pipeline("fan", [a, b])
            .connect("a", "a_out")
            .connect("b", "b_out")
            .add_node(PassThroughNode(name="a_out"))
            .add_node(PassThroughNode(name="b_out"))
        )

    assert run_both(make, [10]) == [20, 110]
    assert run_both(make, [10, 1]) == [20, 2, 110, 101]


def test_diamond_merges_both_paths():
    def make() -> Pipeline:
        p = Pipeline("diamond", [PassThroughNode(name="s"), MultiplyNode(name="l"), AddNode(addend=100, name="r")])
        p.add_node(PassThroughNode(name="m"))
        for a, b in [("s", "l"), ("s", "r"), ("l", "m"), ("r", "m")]:
            p.connect(a, b)
        return p

    rust = run(make(), [1, 2, 3], use_rust=True)
    python = run(make(), [1, 2, 3], use_rust=False)
    for out in (rust, python):
        assert sorted(out) == [2, 4, 6, 101, 102, 103]
        assert [v for v in out if v < 100] == [2, 4, 6]


def test_native_node_errors_match(use_rust):
    p = chain(PassThroughNode(), CalculatorNode(operation="divide", operand=0, name="div"))
    with pytest.raises(NodeError) as info:
        run(p, [4, 5], use_rust=use_rust)
    assert str(info.value) == "node `div` (`CalculatorNode`) failed: division by zero (4 / 0)"
    assert (info.value.node_id, info.value.node_type) == ("div", "CalculatorNode")


def test_wrong_input_type_errors_match(use_rust):
    with pytest.raises(
        NodeError,
        match=r'^node `m` \(`MultiplyNode`\) failed: expected a number or a list of numbers, found string "x"$',
    ):
        run(chain(MultiplyNode(name="m")), ["x"], use_rust=use_rust)


def test_invalid_params_fail_at_construction():
    with pytest.raises(ManifestError) as info:
        CalculatorNode(operation="divde", operand=2)
    assert info.value.issues == [
        "params.operation: expected one of `add`, `subtract`, `multiply`, `divide`, `power`, `modulo`, "
        'found "divde"; did you mean `divide`?'
    ]
    with pytest.raises(ManifestError, match='missing required param "operand"'):
        CalculatorNode(operation="add")
    with pytest.raises(ManifestError, match="0 is out of range; expected a value >= 1"):
        BufferNode(buffer_size=0)


class Raising(Node):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = 0

    def process(self, data):
        self.calls += 1
        if data == 3:
            raise ValueError(f"bad value {data}")
        return data


def test_user_exception_keeps_its_class_and_is_not_rerun(use_rust):
    node = Raising(name="checker")
    p = chain(PassThroughNode(), node)
    with pytest.raises(ValueError) as info:
        run(p, [1, 2, 3, 4], use_rust=use_rust)
    assert str(info.value) == "node `checker` (`Raising`) failed: bad value 3"
    assert info.value.node_id == "checker"
    assert node.calls == 3  # same count on both runtimes: never retried elsewhere


class Lifecycle(Node):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.events: list[str] = []

    async def initialize(self):
        self.events.append("init")

    def process(self, data):
        if data % 2:
            return None  # filtered

        def expand():
            yield data
            yield data * 10

        return expand()

    async def flush(self):
        self.events.append("flush")
        return "end"

    def cleanup(self):
        self.events.append("cleanup")


def test_custom_node_lifecycle_filter_expand_flush(use_rust):
    node = Lifecycle(name="life")
    out = run(chain(node, PassThroughNode()), [1, 2, 3, 4], use_rust=use_rust)
    assert out == [2, 20, 4, 40, "end"]
    assert node.events == ["init", "flush", "cleanup"]


class AsyncDouble(Node):
    async def process(self, data):
        await asyncio.sleep(0)
        return data * 2


class AsyncExpand(Node):
    async def process(self, data):
        for i in range(data):
            yield i


def test_async_process_and_async_generators():
    assert run_both(lambda: chain(AsyncDouble(), AsyncExpand()), [1, 2]) == [0, 1, 0, 1, 2, 3]


def test_custom_nodes_run_inside_the_engine_on_the_calling_interpreter(caplog):
    caplog.set_level(logging.INFO, logger="remotemedia")
    p = chain(PassThroughNode(), AsyncDouble(name="dbl"))
    assert run(p, [1]) == [2]
    if HAVE_EXTENSION:
        assert p.last_run.runtime == "rust"
        assert p.last_run.nodes == {"PassThroughNode_0": "rust", "dbl": "cpython"}
        assert p.last_run.fallback_reason is None
    else:
        assert p.last_run.nodes == {"PassThroughNode_0": "python", "dbl": "python"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_runtime_hints():
    p = chain(PassThroughNode(runtime_hint="python"), AddNode(addend=1))
    assert run(p, [1]) == [2]
    assert p.last_run.runtime == "python"
    # One rule, one class and one message, whoever checks it: the engine, the manifest validator
    # or the choice of runtime for a pipeline built in Python.
    with pytest.raises(ManifestError, match=r'nodes\[0\]\.runtime_hint: "rust" runs native nodes'):
        run(chain(AsyncDouble(runtime_hint="rust")), [1])
    with pytest.raises(RuntimeSelectionError, match="Rust runtime is disabled"):
        run(chain(AddNode(runtime_hint="rust")), [1], use_rust=False)
    p = chain(AddNode(runtime_hint="rust"))
    if HAVE_EXTENSION:
        assert run(p, [1]) == [1]
        assert p.last_run.runtime == "rust"
    else:
        with pytest.raises(RuntimeSelectionError, match="not installed"):
            run(p, [1])
    with pytest.raises(ValueError, match="runtime_hint='gpu' is not valid"):
        PassThroughNode(runtime_hint="gpu")


def test_process_streams_before_input_ends(use_rust):
    p = chain(PassThroughNode(), CalculatorNode(operation="add", operand=5))
    first_seen = asyncio.Event()

    async def source():
        yield 1
        await asyncio.wait_for(first_seen.wait(), 10)  # only continues once an output arrived
        yield 2

    async def consume():
        out = []
        async for item in p.process(source(), use_rust=use_rust):
            out.append(item)
            first_seen.set()
        return out

    assert asyncio.run(consume()) == [6, 7]
    assert p.last_run.runtime == ("rust" if use_rust and HAVE_EXTENSION else "python")


def test_process_propagates_errors(use_rust):
    p = chain(CalculatorNode(operation="modulo", operand=0, name="mod"))

    async def source():
        yield 1

    async def consume():
        return [x async for x in p.process(source(), use_rust=use_rust)]

    with pytest.raises(NodeError, match=r"node `mod` \(`CalculatorNode`\) failed: modulo by zero \(1 % 0\)"):
        asyncio.run(consume())


def test_duplicate_names_and_cycles_are_manifest_errors(use_rust):
    with pytest.raises(ManifestError, match=r'nodes\[1\]\.id: duplicate node id "x"'):
        run(chain(PassThroughNode(name="x"), AddNode(name="x")), [1], use_rust=use_rust)
    p = Pipeline("loop", [PassThroughNode(name="a"), PassThroughNode(name="b")]).connect("a", "b").connect("b", "a")
    with pytest.raises(ManifestError, match="the graph has a cycle: a -> b -> a"):
        run(p, [1], use_rust=use_rust)


def test_add_node_returns_the_pipeline_and_checks_types():
    p = Pipeline()
    assert p.add_node(PassThroughNode()) is p
    with pytest.raises(TypeError, match="add_node\\(\\) takes a remotemedia Node, got int"):
        p.add_node(3)
