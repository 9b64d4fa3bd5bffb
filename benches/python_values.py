"""What the Python package does outside a run, on the engine (the extension) and on the fallback,
side by side: tagged JSON both ways, WAV files both ways, sample conversion, and a node's param
check on construction. Medians of REPS calls each, alternating; each pair's outputs are checked
equal first.

    .venv/bin/python benches/python_values.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import remotemedia_runtime as engine  # noqa: E402
from remotemedia._fallback import params, tagged_json  # noqa: E402
from remotemedia._fallback.dsp import samples as fallback_samples  # noqa: E402
from remotemedia._fallback.dsp import wav as fallback_wav  # noqa: E402
from remotemedia.audio import Audio  # noqa: E402

REPS = 200


def median_us(call) -> float:
    times = []
    for _ in range(REPS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    import json

    audio = Audio(np.sin(np.arange(16000, dtype=np.float32) / 10).reshape(-1, 1).astype(np.float32) * 0.5, 16000)
    value = {"segments": [{"start": 0.5, "end": 1.25}] * 20, "audio": audio, "bytes": b"x" * 1000}
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "a.wav")
    engine.write_wav(path, audio, "i16")
    cases = {
        "to_tagged (1 s audio + 20 segments)": (
            lambda: json.loads(engine.to_tagged_json(value)),
            lambda: tagged_json.to_tagged(value),
        ),
        "from_tagged (the same)": (
            lambda: engine.from_tagged_json(json.dumps(tagged_json.to_tagged(value))),
            lambda: tagged_json.from_tagged(tagged_json.to_tagged(value)),
        ),
        "read_wav (1 s, 16-bit)": (lambda: engine.read_wav(path), lambda: Audio(*fallback_wav.read_samples(path))),
        "write_wav (1 s, 16-bit)": (
            lambda: engine.write_wav(path, audio, "i16"),
            lambda: fallback_wav.write_samples(path, audio.samples, 16000, "i16"),
        ),
        "convert_audio f32 -> i16 (1 s)": (
            lambda: engine.convert_audio(audio, "i16"),
            lambda: Audio(fallback_samples.convert(audio.samples, np.int16), 16000),
        ),
    }
    # The assumptions: each pair gives the same result.
    a, b = cases["to_tagged (1 s audio + 20 segments)"]
    assert a() == json.loads(json.dumps(b())), "to_tagged differs"
    for name in ("read_wav (1 s, 16-bit)", "convert_audio f32 -> i16 (1 s)"):
        ours, theirs = cases[name]
        assert ours() == theirs(), f"{name}: the engine and the fallback differ"
    print("| call | engine | fallback | fallback / engine |\n|---|---|---|---|")
    for name, (ours, theirs) in cases.items():
        e, f = median_us(ours), median_us(theirs)
        print(f"| {name} | {e:.0f} µs | {f:.0f} µs | {f / e:.1f}x |")
    manifest = '{"version":"v1","nodes":[{"id":"n","node_type":"VADNode","params":{"mode":2}}]}'
    e = median_us(lambda: engine.plan(manifest))
    f = median_us(lambda: params.node_param_issues("VADNode", {"mode": 2}))
    print(f"| param check on construction (VADNode) | {e:.0f} µs | {f:.0f} µs | {f / e:.1f}x |")


if __name__ == "__main__":
    main()
