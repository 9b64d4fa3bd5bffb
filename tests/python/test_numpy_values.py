"""numpy arrays and audio through both runtimes; zero-copy through the engine."""

from __future__ import annotations

import pytest

from conftest import HAVE_EXTENSION, run
from remotemedia import Pipeline
from remotemedia.nodes import PassThroughNode

numpy = pytest.importorskip("numpy", reason="numpy is an optional dependency")
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_arrays_of_every_dtype_round_trip(dtype):
    array = (numpy.arange(24) % 7).astype(dtype).reshape(2, 3, 4)
    for use_rust in (True, False):
        (out,) = run(passthrough(), [array], use_rust=use_rust)
        assert out.dtype == array.dtype and out.shape == array.shape
        assert numpy.array_equal(out, array)


@pytest.mark.skipif(not HAVE_EXTENSION, reason="proves the engine's zero-copy path")
def test_read_only_arrays_cross_without_a_copy_and_writable_ones_are_copied_once():
    array = numpy.linspace(0, 1, 1_000_000, dtype=numpy.float32).reshape(1000, 1000).copy()  # owns its data
    array.setflags(write=False)
    (out,) = run(passthrough(), [array])
    assert numpy.shares_memory(array, out)  # Python -> engine -> Python: same memory
    assert not out.flags.writeable  # the engine's memory is shared, so numpy sees it read-only
    # Memory Python may still write is copied (the engine reads it from other threads).
    writable = numpy.arange(10, dtype=numpy.float32)
    (copied,) = run(passthrough(), [writable])
    assert numpy.array_equal(copied, writable) and not numpy.shares_memory(copied, writable)
    # A read-only view of a writable array can still change through its base: copied too.
    view = writable[:]
    view.setflags(write=False)
    (from_view,) = run(passthrough(), [view])
    assert not numpy.shares_memory(from_view, writable)
    strided = array[:, ::2]
    (from_strided,) = run(passthrough(), [strided])
    assert numpy.array_equal(from_strided, strided) and not numpy.shares_memory(from_strided, array)
    # What comes back from the engine goes in again without a copy.
    (again,) = run(passthrough(), [out])
    assert numpy.shares_memory(again, array)


def test_audio_round_trips():
    from remotemedia.audio import Audio

    samples = (numpy.arange(480 * 2, dtype=numpy.int16) - 480).reshape(480, 2).copy()
    samples.setflags(write=False)
    audio = Audio(samples, 48_000)
    for use_rust in (True, False):
        (out,) = run(passthrough(), [audio], use_rust=use_rust)
        assert out == audio and out.channels == 2 and out.sample_rate == 48_000
        if use_rust and HAVE_EXTENSION:
            assert numpy.shares_memory(out.samples, samples)


def passthrough() -> Pipeline:
    return Pipeline("values", [PassThroughNode()])
