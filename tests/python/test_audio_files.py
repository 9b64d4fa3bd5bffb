"""Audio files from Python: the streaming reader (native through the extension, or the pure RIFF
reader), ``Pipeline.run``/``process`` over a reader, and ``run_files`` over a folder, on both
runtimes with the same results."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import remotemedia
from conftest import HAVE_EXTENSION, MANIFESTS
from remotemedia import AudioFileError, AudioReader, read_audio
from remotemedia._fallback.dsp.wav import read_samples  # the reference reader of test data
from remotemedia.audio import Audio

SPEECH = MANIFESTS / "data" / "arctic_a0007.wav"
SEGMENTS = [{"start": 0.386, "end": 3.55}]


def reader(path: Path, chunk_ms: int, use_rust: bool) -> AudioReader:
    """The public reader (native when the engine is installed), or the pure-Python one."""
    return read_audio(path, chunk_ms) if use_rust else AudioReader(path, chunk_ms, native=False)


def test_the_reader_yields_the_file_in_chunks(use_rust: bool) -> None:
    r = reader(SPEECH, 30, use_rust)
    assert r.native == (use_rust and HAVE_EXTENSION)
    assert (r.sample_rate, r.channels, r.duration) == (16000, 1, 4.0)
    chunks = list(r)
    # 30 ms at 16 kHz = 480 frames: 133 full chunks and one of 160.
    assert [c.frames for c in chunks[:2]] == [480, 480]
    assert len(chunks) == 134 and chunks[-1].frames == 160
    assert all(isinstance(c, Audio) and c.samples.dtype == np.int16 for c in chunks)
    samples, _ = read_samples(SPEECH)
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), samples)
    assert list(r) == []  # one pass


def test_run_and_process_take_a_reader(use_rust: bool) -> None:
    pipeline = remotemedia.Pipeline.from_manifest(MANIFESTS / "voice_activity.yaml")
    assert asyncio.run(pipeline.run(reader(SPEECH, 100, use_rust), use_rust=use_rust)) == SEGMENTS

    async def streamed() -> list:
        return [out async for out in pipeline.process(reader(SPEECH, 20, use_rust), use_rust=use_rust)]

    assert asyncio.run(streamed()) == SEGMENTS


def test_a_wav_written_to_a_pipe_is_read_to_its_end(tmp_path: Path, use_rust: bool) -> None:
    samples, _ = read_samples(SPEECH)
    data = SPEECH.read_bytes()
    # The engine's header for a pipe: RIFF and data sizes 0xFFFFFFFF ("unknown length").
    piped = tmp_path / "piped.wav"
    header = bytearray(data[:44])
    header[4:8] = header[40:44] = b"\xff\xff\xff\xff"
    piped.write_bytes(bytes(header) + data[44:])
    chunks = list(reader(piped, 100, use_rust))
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), samples)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.wav", b"", "the file is empty"),
        ("notes.wav", b"these are notes, not audio", "not an audio file this build reads"),
    ],
)
def test_bad_files_raise_an_error_naming_the_file(
    tmp_path: Path, use_rust: bool, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioFileError) as info:
        reader(path, 100, use_rust)
    assert message in str(info.value) and name in str(info.value)
    assert info.value.path == str(path)
    assert isinstance(info.value, ValueError)
    with pytest.raises(AudioFileError, match="cannot read"):
        reader(tmp_path / "missing.flac", 100, use_rust)


needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox makes the FLAC (installed by .ci/run)")


@needs_sox
def test_compressed_files_natively_or_a_clear_error(tmp_path: Path, use_rust: bool) -> None:
    flac = tmp_path / "speech.flac"
    subprocess.run(["sox", str(SPEECH), str(flac)], check=True)
    if use_rust and HAVE_EXTENSION:
        chunks = list(reader(flac, 100, use_rust))
        samples, _ = read_samples(SPEECH)
        assert np.array_equal(np.concatenate([c.samples for c in chunks]), samples)
        return
    try:
        import soundfile  # noqa: F401
    except ImportError:
        with pytest.raises(AudioFileError, match="is FLAC; the pure-Python package reads WAV only: install"):
            reader(flac, 100, use_rust)
        return
    chunks = list(reader(flac, 100, use_rust))
    assert sum(c.frames for c in chunks) == 64000


def mixed_folder(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    shutil.copy(SPEECH, root / "a.wav")
    shutil.copy(SPEECH, root / "sub" / "a.wav")
    (root / "b_empty.wav").write_bytes(b"")
    (root / "c_notes.wav").write_bytes(b"not audio")
    (root / "README.txt").write_text("skipped")


def test_run_files_gives_one_result_per_file_in_input_order(tmp_path: Path, use_rust: bool) -> None:
    root = tmp_path / "in"
    mixed_folder(root)
    pipeline = remotemedia.Pipeline.from_manifest(MANIFESTS / "voice_activity.yaml")
    results = asyncio.run(pipeline.run_files([root], jobs=2, progress="never", use_rust=use_rust))
    assert [Path(r["file"]).relative_to(root).as_posix() for r in results] == [
        "a.wav",
        "b_empty.wav",
        "c_notes.wav",
        "sub/a.wav",
    ]
    assert results[0] == {"file": str(root / "a.wav"), "outputs": SEGMENTS}
    assert results[3]["outputs"] == SEGMENTS
    assert results[1]["error"].endswith("b_empty.wav`: the file is empty")
    assert "c_notes.wav`: not an audio file this build reads" in results[2]["error"]
    again = asyncio.run(pipeline.run_files([root], jobs=1, progress="never", use_rust=use_rust))
    assert again == results
    # fail_fast stops at the first failure.
    stopped = asyncio.run(pipeline.run_files([root], jobs=1, fail_fast=True, progress="never", use_rust=use_rust))
    assert len(stopped) == 2 and "error" in stopped[1]


def test_run_files_writes_audio_to_an_output_folder(tmp_path: Path, use_rust: bool) -> None:
    root = tmp_path / "in"
    mixed_folder(root)
    out = tmp_path / "out"
    pipeline = remotemedia.Pipeline.from_manifest(MANIFESTS / "voice_activity_speech.yaml")
    results = asyncio.run(
        remotemedia.run_files(
            pipeline, [root / "a.wav", root / "sub"], output_dir=out, progress="never", use_rust=use_rust
        )
    )
    assert [r["output"] for r in results] == [str(out / "a.wav"), str(out / "a-2.wav")]
    assert results[0]["outputs"] == [{"start": 0.38, "end": 3.45}]  # the integer VAD's
    first, rate = read_samples(out / "a.wav")
    second, _ = read_samples(out / "a-2.wav")
    assert rate == 16000 and np.array_equal(first, second)
    # The speech audio is the recording's speech region (3.07 s at 16 kHz).
    assert abs(len(first) / rate - (3.45 - 0.38)) < 0.05
    with pytest.raises(AudioFileError, match="matches no file"):
        asyncio.run(remotemedia.run_files(pipeline, [tmp_path / "*.mp3"], use_rust=use_rust))
