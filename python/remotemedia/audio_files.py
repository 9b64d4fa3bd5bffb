"""Audio files in Python: a streaming reader of :class:`~remotemedia.audio.Audio` chunks, and one
pipeline over many files in parallel.

:func:`read_audio` opens any file the engine decodes (WAV, AIFF, FLAC, MP3, Ogg Vorbis/Opus,
AAC/ALAC in MP4/M4A, CAF; detected from the content) and yields chunks of ``chunk_ms``
milliseconds, decoded one at a time, so a recording of any length is never in memory whole. With
the compiled engine (``remotemedia_runtime``) decoding is native; the pure-Python package reads
WAV with its own RIFF reader, and compressed formats through ``soundfile`` when it is installed,
else an :class:`~remotemedia.errors.AudioFileError` says what to install.

``Pipeline.run(reader)`` and ``Pipeline.process(reader)`` take a reader directly (on the engine,
the file is fed natively through a session's bounded input). :func:`run_files` (also
``Pipeline.run_files``) runs a pipeline over many files, with the CLI's semantics.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _contract
from .audio import Audio
from .errors import AudioFileError
from .runtime import engine_threads

if TYPE_CHECKING:
    from .core.pipeline import Pipeline

__all__ = ["AudioReader", "read_audio", "run_files", "AUDIO_EXTENSIONS", "INSTALL_FOR_COMPRESSED"]

#: File extensions a folder's files are taken by (besides files whose content looks like audio);
#: the engine's list, from the contract.
AUDIO_EXTENSIONS = _contract.AUDIO_EXTENSIONS

INSTALL_FOR_COMPRESSED = (
    "install the compiled engine (`pip install remotemedia-runtime`), which decodes every supported "
    "format natively, or `pip install soundfile`"
)


def _container(head: bytes) -> str | None:
    """The container `head` (a file's first bytes) starts like, as the engine detects it."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    if len(head) >= 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "MP4/M4A"
    for magic, name in ((b"fLaC", "FLAC"), (b"OggS", "Ogg"), (b"ID3", "MP3"), (b"caff", "CAF")):
        if head.startswith(magic):
            return name
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MP3/AAC"
    return None


def _engine() -> Any:
    from . import runtime

    if runtime.runtime_mode() == "python":
        return None
    _, module, _ = runtime.try_load_rust_runtime()
    return module


def _check_input_rate(path: str | os.PathLike[str], rate: int) -> None:
    """Refuses a sample rate outside the bounds audio inputs may declare, as the engine does."""
    if not _contract.MIN_INPUT_SAMPLE_RATE <= rate <= _contract.MAX_INPUT_SAMPLE_RATE:
        reason = _contract.MESSAGES["input_sample_rate"].format(rate=rate)
        raise AudioFileError(f"`{os.fspath(path)}`: {reason}", os.fspath(path))


class _WavChunks:
    """A WAV file read chunk by chunk with the package's RIFF reader (``remotemedia.dsp.wav``)."""

    def __init__(self, path: Path, chunk_ms: int) -> None:
        import struct

        from .dsp.wav import parse_format

        self.path = path
        self._file = open(path, "rb")  # closed at the end of iteration
        try:
            header = self._file.read(12)
            if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                raise ValueError("not a readable WAV file: no RIFF/WAVE header")
            fmt = None
            while True:
                chunk = self._file.read(8)
                if len(chunk) < 8:
                    raise ValueError("not a readable WAV file: missing `fmt ` or `data` chunk")
                tag, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if tag == b"fmt ":
                    fmt = self._file.read(size + (size & 1))
                elif tag == b"data":
                    if fmt is None:
                        raise ValueError("not a readable WAV file: `data` before `fmt `")
                    break
                else:
                    self._file.seek(size + (size & 1), os.SEEK_CUR)
        except (ValueError, struct.error) as e:
            self._file.close()
            raise AudioFileError(f"`{path}`: {e}", str(path)) from None
        try:
            self.layout = parse_format(fmt)
            _check_input_rate(path, self.layout.rate)
        except BaseException:
            self._file.close()
            raise
        # 0xFFFFFFFF (a WAV written to a pipe): the data runs to the end of the file.
        self._left = None if size == 0xFFFFFFFF else size
        self.frames = None if self._left is None else self._left // self.layout.frame_bytes
        self._chunk_bytes = max(1, self.layout.rate * chunk_ms // 1000) * self.layout.frame_bytes

    def __iter__(self) -> Iterator[Audio]:
        from .dsp.wav import decode_samples

        try:
            while True:
                want = self._chunk_bytes if self._left is None else min(self._chunk_bytes, self._left)
                body = self._file.read(want) if want else b""
                if self._left is not None:
                    self._left -= len(body)
                samples = decode_samples(body, self.layout)
                if len(samples) == 0:
                    return
                yield Audio(samples, self.layout.rate)
        finally:
            self._file.close()


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
        engine = _engine() if native in (None, True) else None
        if native and engine is None:
            from .runtime import INSTALL_HINT

            raise AudioFileError(f"native decoding needs the compiled engine. {INSTALL_HINT}", self.path)
        self._native: Any = None
        self._chunks: Any = None
        if engine is not None:
            self._native = engine.AudioFileReader(self.path, chunk_ms)
            self.sample_rate = int(self._native.sample_rate)
            self.channels = int(self._native.channels)
            self.duration = self._native.duration
            return
        self._open_pure(Path(self.path))
        try:
            _check_input_rate(self.path, self.sample_rate)
        except AudioFileError:
            getattr(self._chunks, "close", lambda: None)()
            raise

    def _open_pure(self, path: Path) -> None:
        try:
            with open(path, "rb") as f:
                head = f.read(16)
        except OSError as e:
            raise AudioFileError(f"cannot read `{path}`: {e.strerror or e}", str(path)) from None
        if not head:
            raise AudioFileError(f"`{path}`: {_contract.MESSAGES['empty_file']}", str(path))
        container = _container(head)
        if container == "WAV":
            wav = _WavChunks(path, self.chunk_ms)
            self._chunks = iter(wav)
            self.sample_rate, self.channels = wav.layout.rate, wav.layout.channels
            self.duration = None if wav.frames is None else wav.frames / wav.layout.rate
            return
        if container is None:
            raise AudioFileError(f"`{path}`: {_contract.MESSAGES['not_audio']}", str(path))
        try:
            import soundfile
        except ImportError:
            raise AudioFileError(
                f"`{path}` is {container}; the pure-Python package reads WAV only: {INSTALL_FOR_COMPRESSED}",
                str(path),
            ) from None
        self._chunks = self._soundfile_chunks(soundfile, path)
        info = soundfile.info(str(path))
        self.sample_rate, self.channels = int(info.samplerate), int(info.channels)
        self.duration = info.frames / info.samplerate if info.frames > 0 else None

    def _soundfile_chunks(self, soundfile: Any, path: Path) -> Iterator[Audio]:
        info = soundfile.info(str(path))
        blocksize = max(1, info.samplerate * self.chunk_ms // 1000)
        try:
            for block in soundfile.blocks(str(path), blocksize=blocksize, dtype="float32", always_2d=True):
                yield Audio(block, int(info.samplerate))
        except RuntimeError as e:  # libsndfile's errors
            raise AudioFileError(f"`{path}`: corrupt audio data: {e}", str(path)) from None

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


def _expand(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files, folders (recursively: audio files by extension or content) and glob patterns, as the
    CLI expands them; a missing path or a pattern matching nothing is an error."""
    import glob

    files: list[Path] = []

    def add(path: Path) -> None:
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.is_dir() and not entry.is_symlink():
                    add(entry)
                elif entry.is_file() and _is_audio_candidate(entry):
                    files.append(entry)
        else:
            files.append(path)

    for item in inputs:
        text = os.fspath(item)
        if any(c in text for c in "*?[") and not os.path.exists(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise AudioFileError(f"`{text}`: matches no file", text)
            for m in matches:
                add(Path(m))
        elif not os.path.exists(text):
            raise AudioFileError(f"`{text}` does not exist", text)
        else:
            add(Path(text))
    seen: set[Path] = set()
    return [f for f in files if not (f in seen or seen.add(f))]


def _is_audio_candidate(path: Path) -> bool:
    if path.suffix[1:].lower() in AUDIO_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as f:
            return _container(f.read(16)) is not None
    except OSError:
        return False


class _Progress:
    """A one-line progress display on stderr for the pure-Python runner."""

    def __init__(self, total: int, mode: str) -> None:
        shows = {"auto": sys.stderr.isatty(), "always": True, "never": False}
        if mode not in shows:
            raise ValueError(f"progress must be `auto`, `always` or `never`, found {mode!r}")
        self.total, self.shown = total, shows[mode]
        self.ok = self.failed = 0
        self.audio = 0.0
        self.started = time.monotonic()

    def update(self, ok: bool, audio: float) -> None:
        self.ok += ok
        self.failed += not ok
        self.audio += audio
        if self.shown:
            done = self.ok + self.failed
            sys.stderr.write(f"\r{done}/{self.total} files, {self.audio:.0f} s audio, {self.speed():.0f}x real time")
            sys.stderr.flush()

    def speed(self) -> float:
        wall = time.monotonic() - self.started
        return self.audio / wall if wall > 0 else 0.0

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            wall = time.monotonic() - self.started
            sys.stderr.write(
                f"{self.ok} of {self.total} files ok, {self.failed} failed; {self.audio / 3600:.2f} h of audio "
                f"in {wall:.1f} s ({self.speed():.0f}x real time)\n"
            )


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
    return await _run_files_here(
        pipeline, inputs, jobs, chunk_ms, output_dir, output_format, fail_fast, progress, use_rust
    )


def _output_paths(files: list[Path], roots: dict[Path, Path], output_dir: Path, extension: str) -> list[Path]:
    taken: set[Path] = set()
    names = []
    for f in files:
        relative = f.relative_to(roots[f]) if f in roots else Path(f.name)
        base = relative.with_suffix("")
        n = 1
        while True:
            candidate = output_dir / f"{base}{'' if n == 1 else f'-{n}'}.{extension}"
            if candidate not in taken:
                taken.add(candidate)
                names.append(candidate)
                break
            n += 1
    return names


async def _run_files_here(
    pipeline: Pipeline,
    inputs: Sequence[str | os.PathLike[str]],
    jobs: int | None,
    chunk_ms: int,
    output_dir: str | os.PathLike[str] | None,
    output_format: str,
    fail_fast: bool,
    progress: str,
    use_rust: bool,
) -> list[dict[str, Any]]:
    import asyncio

    if output_dir is not None and output_format != "wav":
        raise ValueError(f"output_format {output_format!r} is not supported yet without the engine (`wav` is)")
    files = _expand(inputs)
    roots: dict[Path, Path] = {}
    for item in inputs:
        root = Path(os.fspath(item))
        if root.is_dir():
            for f in files:
                if f not in roots and root in f.parents:
                    roots[f] = root
    outputs = _output_paths(files, roots, Path(output_dir), "wav") if output_dir is not None else [None] * len(files)
    shown = _Progress(len(files), progress)

    def one(path: Path, output: Path | None) -> tuple[dict[str, Any], float]:
        record: dict[str, Any] = {"file": str(path)}
        audio_seconds = 0.0
        try:
            reader = AudioReader(path, chunk_ms, native=None if use_rust else False)
            results = asyncio.run(pipeline.fresh_copy().run(reader, use_rust=use_rust))
            audio_seconds = reader.duration or 0.0
            if output is not None:
                audio = [r for r in results if isinstance(r, Audio)]
                results = [r for r in results if not isinstance(r, Audio)]
                if audio:
                    _write_joined(output, audio)
                    record["output"] = str(output)
            record["outputs"] = results
        except Exception as e:  # every failure becomes the file's error line
            record["error"] = str(e)
        return record, audio_seconds

    records: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=jobs or engine_threads()) as pool:
        pending = [loop.run_in_executor(pool, one, f, o) for f, o in zip(files, outputs)]
        try:
            for future in pending:
                record, seconds = await future
                records.append(record)
                shown.update("error" not in record, seconds)
                if fail_fast and "error" in record:
                    break
        finally:
            for future in pending:
                future.cancel()
    shown.finish()
    return records


def _write_joined(path: Path, chunks: list[Audio]) -> None:
    import numpy as np

    from .audio import write_wav

    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, Audio(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate))


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The audio files that paths, folders (searched recursively) and glob patterns name, in the
    CLI's order; :class:`AudioFileError` for a missing path or a pattern that matches nothing."""
    from .runtime import get_rust_runtime

    module = get_rust_runtime()
    if module is not None:
        return list(module.expand_audio_inputs([os.fspath(i) for i in inputs]))
    return [str(f) for f in _expand(inputs)]


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

    from .tagged_json import to_tagged

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
