"""A client for ``remotemedia-runtime serve`` (docs/protocol.md), needing the ``client`` extra
(``pip install "remotemedia[client]"``, which brings ``websockets``).

```python
import asyncio
from remotemedia.audio import read_wav
from remotemedia.client import connect

async def main():
    audio = read_wav("manifests/data/arctic_a0007.wav")
    async with connect("ws://127.0.0.1:8750", "voice-activity", format="s16le",
                       sample_rate=audio.sample_rate, channels=audio.channels) as session:
        async def feed():
            step = audio.sample_rate // 50                       # 20 ms chunks
            for i in range(0, audio.frames, step):
                await session.send(audio.samples[i:i + step])
            await session.end()
        feeder = asyncio.create_task(feed())
        async for segment in session:                            # as they happen
            print(segment)
        await feeder

asyncio.run(main())
```

Outputs decode to the values ``Pipeline.run()`` returns: audio as numpy-backed
:class:`~remotemedia.audio.Audio`, arrays as numpy arrays, the rest as plain Python.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

from ._shared import from_tagged, to_tagged
from .audio import Audio
from .errors import RemoteMediaError

__all__ = ["RemoteError", "RemoteSession", "connect", "run"]

_DTYPES = {"s16le": "<i2", "s32le": "<i4", "f32le": "<f4"}
_NUMPY = {"s16le": "int16", "s32le": "int32", "f32le": "float32"}
_FORMAT_NAMES = {"int16": "i16", "int32": "i32", "float32": "f32"}


class RemoteError(RemoteMediaError):
    """The server reported a failure: ``kind`` (``node``, ``bad_message``, ``too_big``, ``idle``,
    ``slow_consumer``, ``internal``, or an HTTP error's kind), ``code`` (the close code or HTTP
    status), and for a node ``node_id`` and ``node_type``."""

    def __init__(self, message: str, kind: str, code: int, node_id: str | None = None, node_type: str | None = None):
        self.kind, self.code, self.node_id, self.node_type = kind, code, node_id, node_type
        super().__init__(message)


def _websockets() -> Any:
    try:
        import websockets
    except ImportError:
        raise ImportError('the remotemedia client needs `websockets`: pip install "remotemedia[client]"') from None
    return websockets


def _stream_url(url: str, pipeline: str, query: dict[str, Any]) -> str:
    base = url.rstrip("/")
    if base.startswith("http://") or base.startswith("https://"):
        base = "ws" + base[4:]
    params = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    return f"{base}/v1/pipelines/{urllib.parse.quote(pipeline)}/stream" + (f"?{params}" if params else "")


class RemoteSession:
    """One streaming session: :meth:`send` inputs, :meth:`end` them, iterate for outputs as they
    are produced; :meth:`clear` drops what is queued (barge-in)."""

    def __init__(self, socket: Any, format: str | None, sample_rate: int | None, channels: int) -> None:
        self._socket = socket
        self.format, self.sample_rate, self.channels = format, sample_rate, channels
        self._audio_format: tuple[str, int, int] | None = None
        #: How many ``cleared`` answers have arrived.
        self.cleared = 0
        #: How many ``interrupted`` notices have arrived (a node interrupted the session: drop
        #: the audio buffered for playback).
        self.interrupted = 0

    async def send(self, item: Any) -> None:
        """Sends one input. Audio (an :class:`Audio`, or a numpy array of samples when a PCM
        ``format`` was declared) in the declared format goes as a binary frame; anything else as
        an ``input`` message."""
        import numpy as np

        if self.format is not None and isinstance(item, (Audio, np.ndarray)):
            samples = item.samples if isinstance(item, Audio) else np.asarray(item)
            if isinstance(item, Audio) and (item.sample_rate, item.channels) != (self.sample_rate, self.channels):
                raise ValueError(
                    f"the session takes {self.sample_rate} Hz {self.channels}-channel audio, "
                    f"found {item.sample_rate} Hz {item.channels}-channel"
                )
            if samples.dtype.name != _NUMPY[self.format]:
                from ._shared import convert_audio

                if samples.dtype.name not in _FORMAT_NAMES:  # float64 and the like: as float32 first
                    samples = samples.astype(np.float32)
                wanted = _FORMAT_NAMES[_NUMPY[self.format]]
                samples = convert_audio(Audio(samples, self.sample_rate), wanted).samples
            await self._socket.send(np.ascontiguousarray(samples, dtype=_DTYPES[self.format]).tobytes())
            return
        await self._socket.send(json.dumps({"type": "input", "value": to_tagged(item)}))

    async def end(self) -> None:
        """Ends the input: the server flushes, sends what remains, then ``done``."""
        await self._socket.send('{"type":"end"}')

    async def clear(self) -> None:
        """Asks the server to drop everything queued and not yet processed or sent."""
        await self._socket.send('{"type":"clear"}')

    async def __aiter__(self) -> AsyncIterator[Any]:
        websockets = _websockets()
        while True:
            try:
                frame = await self._socket.recv()
            except websockets.ConnectionClosed as e:
                rcvd = e.rcvd
                code = rcvd.code if rcvd is not None else 1006
                if code in (1000, 1001):
                    return
                raise RemoteError(f"the connection closed ({code})", "closed", code) from None
            if isinstance(frame, bytes):
                if self._audio_format is None:
                    raise RemoteError("audio before its audio_format message", "protocol", 0)
                fmt, rate, channels = self._audio_format
                import numpy as np

                samples = np.frombuffer(frame, dtype=_DTYPES[fmt]).astype(_NUMPY[fmt]).reshape(-1, channels)
                yield Audio(samples, rate)
                continue
            message = json.loads(frame)
            kind = message.get("type")
            if kind == "output":
                yield from_tagged(message["value"])
            elif kind == "audio_format":
                self._audio_format = (message["format"], int(message["sample_rate"]), int(message["channels"]))
            elif kind == "cleared":
                self.cleared += 1
            elif kind == "interrupted":
                self.interrupted += 1
            elif kind == "done":
                # The close frame follows: wait for it, so `close_code` is known.
                with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                    await asyncio.wait_for(self._socket.wait_closed(), timeout=5)
                return
            elif kind == "error":
                raise RemoteError(
                    message.get("message", ""),
                    message.get("kind", "internal"),
                    int(message.get("code", 0)),
                    message.get("node_id"),
                    message.get("node_type"),
                )

    @property
    def close_code(self) -> int | None:
        """The close code the server sent (1000 after `done`, 1001 on shutdown; see
        docs/protocol.md), once the connection is closed."""
        return self._socket.close_code

    async def close(self) -> None:
        """Closes the connection (the server cancels the session)."""
        await self._socket.close()

    async def __aenter__(self) -> RemoteSession:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def _refusal(response: Any) -> RemoteError:
    """The server's answer to an upgrade it refused (401, 404, 400, 503), as :func:`run` raises it."""
    try:
        detail = json.loads(response.body or b"")
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        detail = {}
    status = int(response.status_code)
    return RemoteError(
        detail.get("message") or f"the server refused the session (HTTP {status})",
        detail.get("error") or "http",
        status,
        detail.get("node_id"),
        detail.get("node_type"),
    )


class _Connect:
    """``connect(...)``: awaitable, or an async context manager."""

    def __init__(self, url: str, pipeline: str, **options: Any) -> None:
        self._args = (url, pipeline)
        self._options = options
        self._session: RemoteSession | None = None

    async def _open(self) -> RemoteSession:
        websockets = _websockets()
        url, pipeline = self._args
        options = dict(self._options)
        token = options.pop("token", None) or os.environ.get("REMOTEMEDIA_TOKEN")
        fmt, rate, channels = options.pop("format", None), options.pop("sample_rate", None), options.pop("channels", 1)
        if fmt is not None and fmt not in _DTYPES:
            raise ValueError(f"format must be one of {', '.join(_DTYPES)}, found {fmt!r}")
        query = {"format": fmt, "sample_rate": rate, "channels": channels if fmt else None}
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            socket = await websockets.connect(
                _stream_url(url, pipeline, query), additional_headers=headers, max_size=None, **options
            )
        except websockets.InvalidStatus as e:
            raise _refusal(e.response) from None
        return RemoteSession(socket, fmt, rate, channels)

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> RemoteSession:
        self._session = await self._open()
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        if self._session is not None:
            await self._session.close()


def connect(
    url: str,
    pipeline: str,
    *,
    format: str | None = None,
    sample_rate: int | None = None,
    channels: int = 1,
    token: str | None = None,
    **options: Any,
) -> _Connect:
    """Opens a streaming session of ``pipeline`` on the server at ``url`` (``ws://host:port`` or
    ``http://host:port``). ``format`` (``s16le``, ``s32le``, ``f32le``), ``sample_rate`` and
    ``channels`` declare the PCM audio :meth:`RemoteSession.send` sends as binary frames. The
    token defaults to ``REMOTEMEDIA_TOKEN``. Other options go to ``websockets.connect``.

    A refused session (unknown pipeline, bad query, missing token, server full or shutting down)
    raises :class:`RemoteError` with the HTTP status as ``code`` and the server's ``kind``
    (``not_found``, ``bad_input``, ``unauthorized``, ``too_many_sessions``, ``shutting_down``)."""
    return _Connect(url, pipeline, format=format, sample_rate=sample_rate, channels=channels, token=token, **options)


async def run(url: str, pipeline: str, inputs: Any = None, *, token: str | None = None, timeout: float = 300) -> list:
    """One-shot run over HTTP (``POST /v1/pipelines/{name}/run``): ``inputs`` is a list of values
    (or one value), or a path to an audio file (``os.PathLike``) sent as is. Returns the outputs as
    ``Pipeline.run()`` returns them; a failure raises :class:`RemoteError` with the HTTP status."""
    base = url.rstrip("/")
    if base.startswith("ws://") or base.startswith("wss://"):
        base = "http" + base[2:]
    endpoint = f"{base}/v1/pipelines/{urllib.parse.quote(pipeline)}/run"
    if isinstance(inputs, os.PathLike):
        with open(inputs, "rb") as f:
            body, content_type = f.read(), "application/octet-stream"
    else:
        items = [] if inputs is None else inputs if isinstance(inputs, list) else [inputs]
        body, content_type = json.dumps(to_tagged(items)).encode(), "application/json"
    headers = {"Content-Type": content_type}
    token = token or os.environ.get("REMOTEMEDIA_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")

    def call() -> list:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return from_tagged(json.loads(response.read()))
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read())
            except ValueError:
                detail = {"message": str(e)}
            raise RemoteError(
                detail.get("message", str(e)),
                detail.get("error", "http"),
                e.code,
                detail.get("node_id"),
                detail.get("node_type"),
            ) from None

    return await asyncio.to_thread(call)
