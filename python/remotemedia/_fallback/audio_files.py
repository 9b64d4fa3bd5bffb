"""Audio files without the engine: a RIFF reader for WAV, ``soundfile`` for compressed formats,
the CLI's expansion of inputs, and the many-files runner on threads (with a one-line progress
display), with the engine's rules and messages (``remotemedia-io``)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _contract
from ..audio import Audio
from ..errors import AudioFileError
from ..runtime import engine_threads

if TYPE_CHECKING:
    from ..core.pipeline import Pipeline

__all__ = ["check_input_rate", "expand", "open_chunks", "run_files_here"]

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


def check_input_rate(path: str | os.PathLike[str], rate: int) -> None:
    """Refuses a sample rate outside the bounds audio inputs may declare, as the engine does."""
    if not _contract.MIN_INPUT_SAMPLE_RATE <= rate <= _contract.MAX_INPUT_SAMPLE_RATE:
        reason = _contract.MESSAGES["input_sample_rate"].format(rate=rate)
        raise AudioFileError(f"`{os.fspath(path)}`: {reason}", os.fspath(path))


class _WavChunks:
    """A WAV file read chunk by chunk with the fallback's RIFF reader (``dsp.wav``)."""

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
            check_input_rate(path, self.layout.rate)
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


def open_chunks(path: Path, chunk_ms: int) -> tuple[Iterator[Audio], int, int, float | None]:
    """A file's chunks, sample rate, channels and duration: WAV with the package's RIFF reader,
    compressed formats through ``soundfile``, else an :class:`AudioFileError` saying what to install."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise AudioFileError(f"cannot read `{path}`: {e.strerror or e}", str(path)) from None
    if not head:
        raise AudioFileError(f"`{path}`: {_contract.MESSAGES['empty_file']}", str(path))
    container = _container(head)
    if container == "WAV":
        wav = _WavChunks(path, chunk_ms)
        duration = None if wav.frames is None else wav.frames / wav.layout.rate
        return iter(wav), wav.layout.rate, wav.layout.channels, duration
    if container is None:
        raise AudioFileError(f"`{path}`: {_contract.MESSAGES['not_audio']}", str(path))
    try:
        import soundfile
    except ImportError:
        raise AudioFileError(
            f"`{path}` is {container}; the pure-Python package reads WAV only: {INSTALL_FOR_COMPRESSED}",
            str(path),
        ) from None
    info = soundfile.info(str(path))
    rate = int(info.samplerate)
    check_input_rate(path, rate)
    duration = info.frames / info.samplerate if info.frames > 0 else None
    return _soundfile_chunks(soundfile, path, chunk_ms), rate, int(info.channels), duration


def _soundfile_chunks(soundfile: Any, path: Path, chunk_ms: int) -> Iterator[Audio]:
    info = soundfile.info(str(path))
    blocksize = max(1, info.samplerate * chunk_ms // 1000)
    try:
        for block in soundfile.blocks(str(path), blocksize=blocksize, dtype="float32", always_2d=True):
            yield Audio(block, int(info.samplerate))
    except RuntimeError as e:  # libsndfile's errors
        raise AudioFileError(f"`{path}`: corrupt audio data: {e}", str(path)) from None


def expand(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
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
    if path.suffix[1:].lower() in _contract.AUDIO_EXTENSIONS:
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


async def run_files_here(
    pipeline: Pipeline,
    inputs: Sequence[str | os.PathLike[str]],
    jobs: int | None,
    chunk_ms: int,
    output_dir: str | os.PathLike[str] | None,
    output_format: str,
    fail_fast: bool,
    progress: str,
    use_rust: bool,
    open_reader: Any,
) -> list[dict[str, Any]]:
    """``run_files`` on threads, one deep copy of the pipeline per file (custom nodes living in
    this interpreter, or no engine); ``open_reader`` is :class:`~remotemedia.AudioReader`."""
    import asyncio

    if output_dir is not None and output_format != "wav":
        raise ValueError(f"output_format {output_format!r} is not supported yet without the engine (`wav` is)")
    files = expand(inputs)
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
            reader = open_reader(path, chunk_ms, native=None if use_rust else False)
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

    from ..audio import write_wav

    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, Audio(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate))
