"""Values cross between Python and the engine losslessly; numpy and audio without copying."""

from __future__ import annotations

import pytest

from conftest import HAVE_EXTENSION, run, run_both
from remotemedia import Pipeline
from remotemedia.nodes import PassThroughNode

VALUES = [
    None,
    True,
    False,
    0,
    -5,
    2**63 - 1,
    -(2**63),
    1.5,
    1.0,
    -0.0,
    "héllo ✓",
    b"\x00\xff",
    [1, [2, [3.0]], []],
    {"a": {"b": [1, None]}, "z": "last"},
]


def passthrough() -> Pipeline:
    return Pipeline("values", [PassThroughNode()])


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_round_trip_on_both_runtimes(value):
    assert run_both(passthrough, [value]) == [value]


def test_tuples_come_back_as_lists():
    assert run_both(passthrough, [(1, (2, 3)), {"t": (4,)}]) == [[1, [2, 3]], {"t": [4]}]


def test_dict_key_order_is_kept():
    out = run_both(passthrough, [{"z": 1, "a": 2, "m": 3}])
    assert list(out[0]) == ["z", "a", "m"]


@pytest.mark.skipif(not HAVE_EXTENSION, reason="engine-side conversion errors need the extension")
def test_values_the_engine_cannot_carry_are_clear_errors():
    with pytest.raises(ValueError, match=r"integer 9223372036854775808 is out of range"):
        run(passthrough(), [2**63])
    with pytest.raises(TypeError, match=r"dict keys must be str to cross into the engine, found int 1"):
        run(passthrough(), [{1: "x"}])
    with pytest.raises(TypeError, match=r"cannot pass a `object` through a pipeline"):
        run(passthrough(), [object()])


def nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def test_values_nest_up_to_the_limit_on_both_runtimes():
    # 100 levels of lists and maps (the engine's MAX_NESTING) cross both ways.
    deep = nested(99)
    deep = {"top": deep}
    assert run_both(passthrough, [deep]) == [deep]


@pytest.mark.parametrize("depth", [101, 7_000, 50_000])
def test_input_nested_past_the_limit_is_a_value_error_on_both_runtimes(depth: int, use_rust: bool):
    # Never a stack overflow (a signal): a ValueError naming the limit, on both runtimes.
    with pytest.raises(ValueError, match=r"nests lists and maps deeper than 100 levels"):
        run(passthrough(), [nested(depth)], use_rust=use_rust)


@pytest.mark.parametrize("hint", ["auto", "cpython"])
@pytest.mark.parametrize("depth", [101, 2_000, 20_000])
def test_a_node_output_nested_past_the_limit_is_a_node_error_on_both_runtimes(depth: int, hint: str, use_rust: bool):
    from remotemedia import Node, NodeError

    if hint == "cpython" and not (use_rust and HAVE_EXTENSION):
        pytest.skip("runtime_hint='cpython' needs the engine")

    class DeepNode(Node):
        def process(self, n: int) -> object:
            return nested(n)

    pipeline = Pipeline("deep", [DeepNode(name="deep", runtime_hint=hint)])
    with pytest.raises(NodeError, match=r"node `deep` .*nests lists and maps deeper than 100 levels") as info:
        run(pipeline, [depth], use_rust=use_rust)
    assert info.value.node_id == "deep"
    assert run(pipeline, [100], use_rust=use_rust) == [nested(100)]
