"""The peer of `remotemedia-runtime serve` in benches/serve_load.rs: a plain `websockets` + numpy
Python server running the same pipeline (downmix -> 16 kHz -> VAD per-frame decisions) with the
package's pure-Python nodes (numpy DSP), one asyncio process for every session, speaking the same
subset of the protocol (binary s16le frames in, ``{"type":"output"}`` out, ``end`` -> ``done``).

``python benches/peer_server.py PORT`` (the load generator starts it with
``REMOTEMEDIA_LOAD_PEER=python``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.parse

import numpy as np
import websockets

from remotemedia.audio import Audio
from remotemedia.core.protocol import outputs
from remotemedia.nodes import AudioResampleNode, ChannelMixNode, VADNode


def chain(nodes: list, value: object) -> list:
    values = [value]
    for node in nodes:
        values = [out for v in values for out in outputs(node.process(v))]
    return values


async def session(ws: websockets.ServerConnection) -> None:
    query = urllib.parse.parse_qs(urllib.parse.urlparse(ws.request.path).query)
    rate = int(query.get("sample_rate", ["48000"])[0])
    channels = int(query.get("channels", ["1"])[0])
    nodes = [
        ChannelMixNode(mode="downmix"),
        AudioResampleNode(target_sample_rate=16000),
        VADNode(emit="frames", frame_duration_ms=20),
    ]
    async for message in ws:
        if isinstance(message, bytes):
            audio = Audio(np.frombuffer(message, dtype="<i2").reshape(-1, channels).astype(np.int16), rate)
            for out in chain(nodes, audio):
                await ws.send(json.dumps({"type": "output", "value": out}))
        elif json.loads(message).get("type") == "end":
            await ws.send('{"type":"done"}')
            await ws.close()
            return


async def main(port: int) -> None:
    async with websockets.serve(session, "127.0.0.1", port, max_size=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
