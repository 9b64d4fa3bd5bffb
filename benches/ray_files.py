"""Many files on Ray (issue 14) beside the CLI, in one run, medians of interleaved rounds:
500 short files (the 3.5 s recording, 16 kHz mono WAV) and 10 long ones (10 min, 48 kHz stereo
WAV) through downmix -> 16 kHz -> VAD (``manifests/voice_activity.yaml``):

- ``remotemedia-runtime run --input FOLDER --jobs 1`` and ``--jobs 2``;
- ``remotemedia.ray.process_files(FOLDER, manifest, actors=1)`` and ``actors=2`` on a local Ray
  with 2 CPUs (started once; its start-up is reported on its own), each run until every row is
  computed (``materialize()``), actor start-up included, as a user pays it.

Every Ray run's rows are checked against the CLI's results. Needs the release binary and the Ray
virtualenv: ``make bench-ray``. Prints the table for benches/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("REMOTEMEDIA_RUNTIME_BIN", str(ROOT / "target" / "release" / "remotemedia-runtime"))
VAD = ROOT / "manifests" / "voice_activity.yaml"
SPEECH = ROOT / "manifests" / "data" / "arctic_a0007.wav"
ROUNDS = int(os.environ.get("BENCH_RUNS", "5"))


def cli(folder: Path, jobs: int) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [BIN, "run", str(VAD), "--input", str(folder), "--jobs", str(jobs), "--progress", "never"],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    records = {r["file"]: r for r in map(json.loads, done.stdout.splitlines())}
    return wall, records


def on_ray(folder: Path, actors: int) -> tuple[float, dict]:
    from remotemedia.ray import process_files

    started = time.perf_counter()
    rows = process_files(str(folder), str(VAD), actors=actors).materialize()
    wall = time.perf_counter() - started
    return wall, {r["path"]: r for r in rows.take_all()}


def same(rows: dict, records: dict) -> bool:
    return rows.keys() == records.keys() and all(
        json.loads(rows[p]["outputs"]) == records[p]["outputs"] for p in records
    )


def main() -> None:
    import ray

    tmp = Path(tempfile.mkdtemp(prefix="remotemedia-ray-bench-"))
    try:
        short, long = tmp / "short", tmp / "long"
        short.mkdir()
        long.mkdir()
        for i in range(500):
            shutil.copy(SPEECH, short / f"{i:03}.wav")
        # 10 minutes of the recording, 48 kHz stereo, then 10 copies.
        repeats = [str(SPEECH)] * 172
        subprocess.run(["sox", *repeats, "-r", "48000", "-c", "2", str(long / "00.wav")], check=True)
        for i in range(1, 10):
            shutil.copy(long / "00.wav", long / f"{i:02}.wav")
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        print(f"ray.init(num_cpus=2): {time.perf_counter() - started:.1f} s", file=sys.stderr)
        ray.data.DataContext.get_current().enable_progress_bars = False
        rows = []
        for name, folder, rounds in (
            ("500 files of 3.5 s", short, ROUNDS),
            ("10 files of 10 min", long, max(3, ROUNDS - 2)),
        ):
            configs = {
                "CLI `--jobs 1`": lambda f=folder: cli(f, 1),
                "CLI `--jobs 2`": lambda f=folder: cli(f, 2),
                "Ray, 1 actor": lambda f=folder: on_ray(f, 1),
                "Ray, 2 actors": lambda f=folder: on_ray(f, 2),
            }
            walls: dict[str, list[float]] = {k: [] for k in configs}
            _, expected = cli(folder, 2)
            for _ in range(rounds):
                for label, run in configs.items():
                    wall, results = run()
                    if label.startswith("Ray") and not same(results, expected):
                        sys.exit(f"{label}: the rows differ from the CLI's results")
                    walls[label].append(wall)
            base = statistics.median(walls["CLI `--jobs 1`"])
            for label, times in walls.items():
                median = statistics.median(times)
                rows.append(f"| {name} | {label} | {median:.2f} s | {base / median:.2f}x |")
        print("| files | run | wall (median) | vs CLI `--jobs 1` |")
        print("|---|---|---|---|")
        print("\n".join(rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
