"""Type stub of the compiled extension ``remotemedia_runtime`` (kept in sync by tests/python/test_extension_stub.py)."""

from collections.abc import Awaitable, Iterable
from typing import Any

__version__: str

class Plan:
    """A validated, planned pipeline."""

    @property
    def name(self) -> str: ...
    @property
    def node_ids(self) -> list[str]: ...
    @property
    def sink_ids(self) -> list[str]: ...
    @property
    def single_stage(self) -> bool: ...
    @property
    def node_runtimes(self) -> list[tuple[str, str]]:
        """``(node id, "rust" | "rustpython" | "cpython")`` in manifest order."""
    def run(self, inputs: Iterable[Any]) -> Awaitable[list[Any]]: ...
    def run_with_metrics(self, inputs: Iterable[Any]) -> Awaitable[tuple[list[Any], dict[str, dict[str, float]]]]:
        """Outputs, and per node id: items_in, items_out, calls, total_s, max_s."""
    def run_blocking(self, inputs: Iterable[Any]) -> list[Any]: ...
    def run_audio_file(self, reader: AudioFileReader) -> Awaitable[list[Any]]:
        """Every output of the reader's audio, fed natively through a session in its chunks."""
    def run_files(
        self,
        inputs: list[str],
        *,
        jobs: int | None = None,
        chunk_ms: int = 100,
        output_dir: str | None = None,
        output_format: str = "wav",
        fail_fast: bool = False,
        progress: str = "auto",
        as_json: bool = False,
    ) -> Awaitable[list[Any]]:
        """One dict per file, in input order: ``{"file", "outputs"[, "output"]}`` or ``{"file", "error"}``;
        with ``as_json``, the CLI's JSON line of each file instead."""
    def run_audio_bytes(self, data: bytes, name: str, *, chunk_ms: int = 100) -> Awaitable[str]:
        """The CLI's JSON line for an audio file held in memory (``name`` stands for its path)."""
    def start(self) -> Session: ...
    def start_inline(self) -> InlineSession | None:
        """A run driven on the calling thread, when the pipeline is one fused chain of synchronous nodes."""

class Session:
    """A running pipeline fed item by item."""

    def send(self, item: Any) -> Awaitable[None]: ...
    def try_send(self, item: Any) -> bool: ...
    def recv(self) -> Awaitable[tuple[bool, Any]]: ...
    def recv_many(self) -> Awaitable[list[Any] | None]: ...
    def try_recv_many(self) -> list[Any] | None: ...
    def close(self) -> None: ...
    def cancel(self) -> None: ...

class InlineSession:
    """A streaming run driven input by input on the calling thread."""

    def push(self, item: Any) -> list[Any]: ...
    def push_many(self, items: Iterable[Any]) -> list[Any]: ...
    def finish(self) -> list[Any]: ...
    def close(self) -> None: ...

class AudioFileReader:
    """Audio chunks (``remotemedia.audio.Audio``) of ``chunk_ms`` from any supported audio file."""

    def __init__(self, path: str, chunk_ms: int = 100) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def chunk_ms(self) -> int: ...
    @property
    def duration(self) -> float | None: ...
    def __iter__(self) -> AudioFileReader: ...
    def __next__(self) -> Any: ...

class HostedServer:
    """The server's routes and sessions for manifests, carried by a Python web host (Ray Serve)."""

    def __init__(
        self,
        manifests: list[str],
        *,
        token: str | None = None,
        max_sessions: int = 1024,
        max_message_bytes: int = 1048576,
        idle_timeout: float = 60.0,
        output_queue: int = 256,
        slow_consumer_timeout: float = 30.0,
        run_timeout: float = 60.0,
    ) -> None: ...
    @property
    def pipelines(self) -> list[str]: ...
    @property
    def max_message_bytes(self) -> int: ...
    def authorize(
        self, uri: str, headers: list[tuple[str, bytes]]
    ) -> Awaitable[tuple[int, list[tuple[str, bytes]], bytes] | None]:
        """The server's 401 answer when the request lacks the token, else ``None``."""
    def request(
        self, method: str, uri: str, headers: list[tuple[str, bytes]], body: bytes
    ) -> Awaitable[tuple[int, list[tuple[str, bytes]], bytes]]: ...
    def connect(
        self, uri: str, headers: list[tuple[str, bytes]]
    ) -> Awaitable[HostedSession | tuple[int, list[tuple[str, bytes]], bytes]]:
        """A session, or the HTTP refusal to answer instead of accepting the WebSocket."""
    def shutdown(self) -> None: ...

class HostedSession:
    """One WebSocket session of a ``HostedServer``, its frames relayed by the host."""

    def send_text(self, text: str) -> Awaitable[bool]: ...
    def send_bytes(self, data: bytes) -> Awaitable[bool]: ...
    def disconnect(self) -> None: ...
    def recv(self) -> Awaitable[tuple[str, str] | tuple[str, bytes] | tuple[str, int, str] | None]:
        """``("text", str)``, ``("binary", bytes)``, ``("close", code, reason)`` (the last), then ``None``."""

def expand_audio_inputs(inputs: list[str]) -> list[str]:
    """The audio files that paths, folders and glob patterns name, as the CLI lists them."""

def set_threads(threads: int) -> None:
    """Caps the engine's worker threads in this process (before its first run)."""

def threads() -> int:
    """The engine's worker threads in this process."""

def plan(
    manifest_json: str, live: dict[str, Any] | None = None, *, origin: str | None = None, base_dir: str | None = None
) -> Plan: ...
def execute_pipeline(manifest_json: str) -> Awaitable[list[Any]]: ...
def execute_pipeline_with_input(manifest_json: str, inputs: Iterable[Any]) -> Awaitable[list[Any]]: ...
def to_tagged_json(value: Any) -> str:
    """``value`` as the engine's tagged JSON text (the wire format)."""

def from_tagged_json(text: str) -> Any:
    """The value tagged JSON text stands for."""

def read_wav(path: str) -> Any:
    """A WAV file as ``remotemedia.audio.Audio`` (``ValueError`` when it is not readable)."""

def write_wav(path: str, audio: Any, encoding: str | None = None) -> None:
    """Writes ``Audio`` to a WAV file (``encoding``: ``i8``, ``i16``, ``i24``, ``i32`` or ``f32``)."""

def convert_audio(audio: Any, format: str) -> Any:
    """``Audio`` stored as ``format`` (``f32``, ``i16``, ``i32``), with the engine's rounding."""
