"""Audio files in and out (issue 12), side by side in one run, medians of several runs:

1. A 60-minute and a 10-minute 48 kHz stereo 16-bit WAV, and the same as FLAC, through
   downmix -> 16 kHz -> VAD (``manifests/voice_activity.yaml``): peak RSS and wall time, beside
   ``sox in.wav -c 1 -r 16000 out.wav`` and ffmpeg with soxr resampling.
2. Decoding throughput of FLAC and MP3 against ffmpeg's (``ffmpeg -i FILE -f null -``).
3. 500 short files through the VAD pipeline with ``--jobs 1`` and ``--jobs 2``.

Needs the release binaries (``make bench-audio-io`` builds them), sox, ffmpeg and GNU time. Prints
the tables for benches/RESULTS.md; ``python3 benches/audio_io.py many`` (or ``long``, ``decode``)
prints only those.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "remotemedia-runtime"
DECODE = ROOT / "target" / "release" / "examples" / "decode"
VAD = ROOT / "manifests" / "voice_activity.yaml"
VAD_FAST = ROOT / "manifests" / "voice_activity_fast.yaml"
DOWNMIX = ROOT / "manifests" / "downmix_16k.yaml"
SPEECH = ROOT / "manifests" / "data" / "arctic_a0007.wav"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of ``cmd``; its stdout is discarded. The peak RSS
    is GNU time's (``%M``): the child's own, not the forked Python parent's."""
    with tempfile.NamedTemporaryFile("r") as rss:
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"`{' '.join(cmd)}` failed: {proc.stderr.decode()}")
        return wall, int(rss.read().split()[-1]) / 1024


def medians(cmds: list[list[str]], runs: int = RUNS) -> list[tuple[float, float]]:
    """Median wall time and median peak RSS of each command over ``runs`` rounds; each round runs
    every command once, in turn, so drift in the machine's load falls on all of them alike."""
    results: list[list[tuple[float, float]]] = [[] for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            results[i].append(measure(cmd))
    return [(statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs)) for rs in results]


def make(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def long_files(tmp: Path) -> dict[str, Path]:
    files = {}
    for minutes in (10, 60):
        wav = tmp / f"long{minutes}.wav"
        make(
            [
                "sox",
                "-n",
                "-r",
                "48000",
                "-c",
                "2",
                "-b",
                "16",
                str(wav),
                "synth",
                str(minutes * 60),
                "pinknoise",
                "vol",
                "0.1",
            ]
        )
        flac = tmp / f"long{minutes}.flac"
        make(["sox", str(wav), str(flac)])
        files[f"{minutes} min WAV"] = wav
        files[f"{minutes} min FLAC"] = flac
    mp3 = tmp / "long10.mp3"
    make(["ffmpeg", "-v", "error", "-i", str(files["10 min WAV"]), "-c:a", "libmp3lame", "-b:a", "192k", str(mp3)])
    files["10 min MP3"] = mp3
    return files


def table_long(files: dict[str, Path], tmp: Path) -> list[str]:
    out = tmp / "out.wav"
    rows = [
        "| input (48 kHz stereo 16-bit) | remotemedia mix → 16 kHz → WAV | sox `-c 1 -r 16000` "
        "| ffmpeg soxr `-ac 1 -ar 16000` | remotemedia mix → 16 kHz → Silero VAD | "
        "remotemedia mix → 16 kHz → integer VAD | resampling job ÷ sox (speed) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("10 min WAV", "60 min WAV", "10 min FLAC", "60 min FLAC"):
        path = files[name]
        soxr = ["-af", "aresample=resampler=soxr", "-ac", "1", "-ar", "16000"]
        ours, sox, ffmpeg, silero, fast = medians(
            [
                [str(BIN), "run", str(DOWNMIX), "--input", str(path), "--output", str(out), "--progress", "never"],
                ["sox", str(path), "-c", "1", "-r", "16000", str(out)],
                ["ffmpeg", "-v", "error", "-y", "-i", str(path), *soxr, str(out)],
                [str(BIN), "run", str(VAD), "--input", str(path), "--progress", "never"],
                [str(BIN), "run", str(VAD_FAST), "--input", str(path), "--progress", "never"],
            ]
        )
        cells = [f"{rss:.1f} MB, {wall:.2f} s" for wall, rss in (ours, sox, ffmpeg, silero, fast)]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {sox[0] / ours[0]:.2f}x |")
    return rows


def table_decode(files: dict[str, Path]) -> list[str]:
    rows = [
        "| file (10 min 48 kHz stereo) | remotemedia-io decode | ffmpeg `-f null` | ours ÷ ffmpeg (speed) |",
        "|---|---|---|---|",
    ]
    for name in ("10 min FLAC", "10 min MP3"):
        path = files[name]
        (ours, _), (theirs, _) = medians(
            [
                [str(DECODE), str(path)],
                ["ffmpeg", "-v", "error", "-threads", "1", "-i", str(path), "-f", "null", "-"],
            ],
            runs=max(RUNS, 9),
        )
        speeds = f"{ours:.3f} s ({600 / ours:.0f}x) | {theirs:.3f} s ({600 / theirs:.0f}x)"
        rows.append(f"| {name} | {speeds} | {theirs / ours:.2f} |")
    return rows


def table_many(tmp: Path) -> list[str]:
    folder = tmp / "many"
    folder.mkdir()
    for i in range(500):
        shutil.copy(SPEECH, folder / f"{i:03}.wav")
    rows = ["| 500 files of 4 s (16 kHz mono WAV) | wall (median) | speed-up |", "|---|---|---|"]
    runs = medians(
        [
            [str(BIN), "run", str(VAD), "--input", str(folder), "--jobs", str(jobs), "--progress", "never"]
            for jobs in (1, 2)
        ],
        runs=max(RUNS, 15),
    )
    base = runs[0][0]
    for jobs, (wall, _) in zip((1, 2), runs):
        rows.append(f"| `--jobs {jobs}` | {wall:.2f} s | {base / wall:.2f}x |")
    return rows


def main() -> None:
    for tool in ("sox", "ffmpeg", "/usr/bin/time"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt-get install sox ffmpeg time)")
    if not BIN.exists() or not DECODE.exists():
        sys.exit("build first: cargo build --release -p remotemedia-cli -p remotemedia-io --example decode")
    tables = set(sys.argv[1:]) or {"long", "decode", "many"}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        files = long_files(tmp) if tables & {"long", "decode"} else {}
        sections = []
        if "long" in tables:
            sections.append(table_long(files, tmp))
        if "decode" in tables:
            sections.append(table_decode(files))
        if "many" in tables:
            sections.append(table_many(tmp))
        print("\n\n".join("\n".join(rows) for rows in sections))


if __name__ == "__main__":
    main()
