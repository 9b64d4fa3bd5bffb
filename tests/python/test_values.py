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
