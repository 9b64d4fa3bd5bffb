"""Client scenarios of the server's output flow control (docs/protocol.md, "Backpressure and slow
consumers"), shared by the binary's tests (test_server.py) and the Ray Serve app's (tests/ray)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import websockets

#: A Python node yielding `n` outputs of 2 kB for an input `n` (a text-to-speech node's burst).
BURST = Path(__file__).resolve().parents[1] / "manifests" / "burst.yaml"


async def read_steadily(stream_url: str, count: int) -> tuple[list[int], list[dict], int | None]:
    """Asks for `count` outputs and reads them slowly but steadily (a pause every 250): the
    indices received, the other frames, and the close code."""
    async with websockets.connect(stream_url, max_queue=4) as ws:
        await ws.send(json.dumps({"type": "input", "value": count}))
        await ws.send('{"type":"end"}')
        indices, others = [], []
        async for message in ws:
            m = json.loads(message)
            if m["type"] == "output":
                indices.append(m["value"]["i"])
                if len(indices) % 250 == 0:
                    await asyncio.sleep(0.05)
            else:
                others.append(m)
        return indices, others, ws.close_code


async def stop_reading(
    stream_url: str, count: int, pause: float, memory: Callable[[], float], end: bool = False
) -> tuple[list[int], dict, int | None, float]:
    """Asks for `count` outputs (then ends the input, with `end`), reads nothing for `pause`
    seconds, then reads to the end: the indices received, the last frame, the close code, and
    `memory()` at the end of the pause."""
    async with websockets.connect(stream_url, max_queue=1) as ws:
        await ws.send(json.dumps({"type": "input", "value": count}))
        if end:
            await ws.send('{"type":"end"}')
        await asyncio.sleep(pause)
        during = memory()
        indices, last = [], {}
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in ws:
                m = json.loads(message)
                if m["type"] == "output":
                    indices.append(m["value"]["i"])
                else:
                    last = m
        return indices, last, ws.close_code, during
