"""The engine and the pure-Python fallback behave the same by construction: each case runs on both
(``use_rust`` fixture) and checks the same values. These are the cases where the two once
drifted apart."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import run
from remotemedia import AudioFileError, AudioReader, ManifestError, Node, NodeError, Pipeline

COUNTER = """
class Counter:
    def __init__(self):
        self.calls = 0

    def process(self, x):
        self.calls += 1
        return self.calls
"""


def manifest(source: str, class_name: str, **extra: object) -> dict:
    node = {"id": "n", "node_type": class_name, "class": class_name, "source": textwrap.dedent(source), **extra}
    return {"version": "v1", "nodes": [node]}


def test_each_run_starts_from_fresh_instances_of_manifest_nodes(use_rust: bool) -> None:
    pipeline = Pipeline.from_manifest(manifest(COUNTER, "Counter"))
    assert [run(pipeline, [0, 0], use_rust=use_rust) for _ in range(3)] == [[1, 2]] * 3


def test_a_live_node_keeps_its_state_between_runs(use_rust: bool) -> None:
    class Live(Node):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def process(self, x: int) -> int:
            self.calls += 1
            return self.calls

    pipeline = Pipeline("live", [Live()])
    assert [run(pipeline, [0], use_rust=use_rust) for _ in range(2)] == [[1], [2]]


PLAIN = """
class Plain:
    def process(self, x):
        if x < 0:
            raise ValueError("negative input")
        return x * 2
"""


def test_a_plain_class_with_process_only_runs(use_rust: bool) -> None:
    pipeline = Pipeline.from_manifest(manifest(PLAIN, "Plain"))
    assert run(pipeline, [1, 2], use_rust=use_rust) == [2, 4]
    # The fallback raises the node's own ValueError; RustPython inside the engine cannot hand over
    # an exception object, so its NodeError carries the class name (docs/python-nodes.md, "Faults").
    with pytest.raises((ValueError, NodeError)) as error:
        run(pipeline, [-1], use_rust=use_rust)
    on_engine = pipeline.last_run.runtime == "rust"
    expected = "node `n` (`Plain`) failed: " + ("ValueError: negative input" if on_engine else "negative input")
    assert str(error.value) == expected


@pytest.mark.parametrize("built", ["manifest", "python"])
def test_rust_on_a_python_node_is_one_rule(use_rust: bool, built: str) -> None:
    message = 'nodes[0].runtime_hint: "rust" runs native nodes; a Python node runs on "rustpython" or "cpython"'
    with pytest.raises(ManifestError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        if built == "manifest":
            pipeline = Pipeline.from_manifest(manifest(PLAIN, "Plain", runtime_hint="rust"))
        else:

            class Doubler(Node):
                def process(self, x: int) -> int:
                    return 2 * x

            pipeline = Pipeline("p", [Doubler(runtime_hint="rust")])
        run(pipeline, [1], use_rust=use_rust)


def test_a_file_that_is_not_audio_is_named_with_the_formats(use_rust: bool, tmp_path: Path) -> None:
    path = tmp_path / "z.flac"
    path.write_bytes(b"hello, not audio")
    with pytest.raises(AudioFileError) as error:
        AudioReader(path, native=None if use_rust else False)
    assert str(error.value) == (
        f"`{path}`: not an audio file this build reads "
        "(WAV, AIFF, FLAC, MP3, Ogg Vorbis, Ogg Opus, AAC and ALAC in MP4/M4A, CAF)"
    )


def test_a_file_declaring_a_sample_rate_out_of_bounds_is_refused(use_rust: bool, tmp_path: Path) -> None:
    import struct

    path = tmp_path / "one_hz.wav"
    data = b"\x00\x00" * 100
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 1, 2, 2, 16)
    path.write_bytes(
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", len(data)) + data
    )
    with pytest.raises(AudioFileError) as error:
        AudioReader(path, native=None if use_rust else False)
    assert str(error.value) == (
        f"`{path}`: a sample rate of 1 Hz is outside the range audio inputs may declare (1000 to 1536000 Hz)"
    )


def test_a_built_in_node_object_starts_each_run_afresh(use_rust: bool) -> None:
    from remotemedia.nodes import BufferNode

    pipeline = Pipeline("buffered", [BufferNode(buffer_size=2)])
    assert [run(pipeline, [n], use_rust=use_rust) for n in (1, 2, 3)] == [[[1]], [[2]], [[3]]]


def test_calling_a_built_in_node_directly_uses_its_twin() -> None:
    from remotemedia.nodes import BufferNode, CalculatorNode

    buffer = BufferNode(buffer_size=2)
    assert [buffer.process(1), buffer.process(2), buffer.process(3), buffer.flush()] == [None, [1, 2], None, [3]]
    buffer.initialize()  # a new run: the state starts over
    assert buffer.flush() is None
    with pytest.raises(NodeError, match=r"division by zero \(1 / 0\)"):
        CalculatorNode(operation="divide", operand=0).process(1)
