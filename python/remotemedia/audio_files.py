"""Audio files in Python: a streaming reader of :class:`~remotemedia.audio.Audio` chunks, and one
pipeline over many files in parallel.

:func:`read_audio` opens any file the engine decodes (WAV, AIFF, FLAC, MP3, Ogg Vorbis/Opus,
AAC/ALAC in MP4/M4A, CAF; detected from the content) and yields chunks of ``chunk_ms``
milliseconds, decoded one at a time, so a recording of any length is never in memory whole. With
the compiled engine (``remotemedia_runtime``) decoding is native; without it the fallback reads
WAV with its own RIFF reader, and compressed formats through ``soundfile`` when it is installed,
else an :class:`~remotemedia.errors.AudioFileError` says what to install.

``Pipeline.run(reader)`` and ``Pipeline.process(reader)`` take a reader directly (on the engine,
the file is fed natively through a session's bounded input). :func:`run_files` (also
``Pipeline.run_files``) runs a pipeline over many files, with the CLI's semantics.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _contract
from ._shared import to_tagged
from .audio import Audio
from .errors import AudioFileError
from .runtime import engine

if TYPE_CHECKING:
    from .core.pipeline import Pipeline

__all__ = ["AudioReader", "read_audio", "run_files", "AUDIO_EXTENSIONS"]

#: File extensions a folder's files are taken by (besides files whose content looks like audio);
#: the engine's list, from the contract.
AUDIO_EXTENSIONS = _contract.AUDIO_EXTENSIONS


class AudioReader:
    """A streaming reader of an audio file: iterate (or ``async for``) to get :class:`Audio`
    chunks of ``chunk_ms`` milliseconds, the last one shorter. One pass only.

    ``path``, ``sample_rate``, ``channels``, ``chunk_ms`` and ``duration`` (seconds, ``None``
    when the file does not state its length) describe it; ``native`` tells whether the engine
    decodes it.
    """

    def __init__(self, path: str | os.PathLike[str], chunk_ms: int = 100, *, native: bool | None = None) -> None:
        if not isinstance(chunk_ms, int) or isinstance(chunk_ms, bool) or chunk_ms < 1:
            raise ValueError(f"chunk_ms must be a positive int, found {chunk_ms!r}")
        self.path = os.fspath(path)
        self.chunk_ms = chunk_ms
        self.sample_rate = self.channels = 0
        self.duration: float | None = None
        module = engine() if native in (None, True) else None
        if native and module is None:
            from .runtime import INSTALL_HINT

            raise AudioFileError(f"native decoding needs the compiled engine. {INSTALL_HINT}", self.path)
        self._native: Any = None
        self._chunks: Any = None
        if module is not None:
            self._native = module.AudioFileReader(self.path, chunk_ms)
            self.sample_rate = int(self._native.sample_rate)
            self.channels = int(self._native.channels)
            self.duration = self._native.duration
            return
        from ._fallback.audio_files import open_chunks

        self._chunks, self.sample_rate, self.channels, self.duration = open_chunks(Path(self.path), chunk_ms)

    @property
    def native(self) -> bool:
        """Whether the engine decodes this file."""
        return self._native is not None

    def __iter__(self) -> Iterator[Audio]:
        return self._native if self._native is not None else self._chunks

    def __next__(self) -> Audio:
        return next(iter(self))

    async def _aiter(self) -> AsyncIterator[Audio]:
        for chunk in self:
            yield chunk

    def __aiter__(self) -> AsyncIterator[Audio]:
        return self._aiter()

    def __repr__(self) -> str:
        decoder = "native" if self.native else "python"
        layout = f"{self.sample_rate} Hz, {self.channels} ch, {self.chunk_ms} ms chunks"
        return f"<AudioReader {self.path!r} {layout}, {decoder}>"


def read_audio(path: str | os.PathLike[str], chunk_ms: int = 100) -> AudioReader:
    """A streaming reader of the audio file ``path`` (see :class:`AudioReader`)."""
    return AudioReader(path, chunk_ms)


async def run_files(
    pipeline: Pipeline,
    inputs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    jobs: int | None = None,
    chunk_ms: int = 100,
    output_dir: str | os.PathLike[str] | None = None,
    output_format: str = "wav",
    fail_fast: bool = False,
    progress: str = "auto",
    use_rust: bool = True,
) -> list[dict[str, Any]]:
    """Runs ``pipeline`` over many audio files, each as its own run with fresh node instances,
    ``jobs`` at a time (default: :func:`remotemedia.set_threads`, else the number of cores), with
    the CLI's semantics: ``inputs`` are files, folders (searched recursively for audio files) and
    glob patterns; the result is one dict per file in input order,
    ``{"file": path, "outputs": [...]}`` (with ``"output": path`` when audio outputs went to
    ``output_dir``) or ``{"file": path, "error": message}``. A failed file never stops the others
    unless ``fail_fast``. A progress bar goes to stderr when it is a
    terminal (``progress="always"``/``"never"`` overrides).

    On the engine the files are decoded and run natively, in parallel without the GIL; custom
    nodes living in this interpreter (and the pure-Python executor) run on threads, one deep copy
    of the pipeline per file.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive int, found {jobs!r}")
    plan = pipeline._choose(use_rust).plan
    if plan is not None and not pipeline._live_nodes():
        return await plan.run_files(
            [os.fspath(i) for i in inputs],
            jobs=jobs,
            chunk_ms=chunk_ms,
            output_dir=None if output_dir is None else os.fspath(output_dir),
            output_format=output_format,
            fail_fast=fail_fast,
            progress=progress,
        )
    from ._fallback.audio_files import run_files_here

    return await run_files_here(
        pipeline, inputs, jobs, chunk_ms, output_dir, output_format, fail_fast, progress, use_rust, AudioReader
    )


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The audio files that paths, folders (searched recursively) and glob patterns name, in the
    CLI's order; :class:`AudioFileError` for a missing path or a pattern that matches nothing."""
    module = engine()
    if module is not None:
        return list(module.expand_audio_inputs([os.fspath(i) for i in inputs]))
    from ._fallback.audio_files import expand

    return [str(f) for f in expand(inputs)]


async def file_json_lines(
    pipeline: Pipeline,
    inputs: Sequence[str | os.PathLike[str]],
    *,
    jobs: int = 1,
    chunk_ms: int = 100,
    output_dir: str | os.PathLike[str] | None = None,
    output_format: str = "wav",
) -> list[str]:
    """:func:`run_files` with each file's result as the CLI's JSON line (outputs in tagged JSON),
    on the engine or the pure-Python executor alike."""
    import json

    options = dict(jobs=jobs, chunk_ms=chunk_ms, output_format=output_format, progress="never")
    out = None if output_dir is None else os.fspath(output_dir)
    plan = pipeline._choose(True).plan
    if plan is not None and not pipeline._live_nodes():
        return list(await plan.run_files([os.fspath(i) for i in inputs], output_dir=out, as_json=True, **options))
    records = await run_files(pipeline, inputs, output_dir=out, **options)
    for record in records:
        if "outputs" in record:
            record["outputs"] = [to_tagged(v) for v in record["outputs"]]
    return [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]


async def bytes_json_line(pipeline: Pipeline, data: bytes, name: str, *, chunk_ms: int = 100) -> str:
    """The CLI's JSON line for an audio file held in memory (``name`` stands for its path)."""
    plan = pipeline._choose(True).plan
    if plan is not None and not pipeline._live_nodes():
        return str(await plan.run_audio_bytes(bytes(data), name, chunk_ms=chunk_ms))
    import json
    import tempfile

    suffix = Path(name).suffix
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(bytes(data))
        (line,) = await file_json_lines(pipeline, [path], chunk_ms=chunk_ms)
    record = json.loads(line)
    record["file"] = name
    if "error" in record:
        record["error"] = record["error"].replace(str(path), name)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
