"""One Ray instance for the whole session: a simulated two-node cluster (``ray.cluster_utils``),
one CPU and a small object store per node, as two machines of a real cluster would be."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason='the Ray tests need `pip install "remotemedia[ray]"`')

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
RECORDING = MANIFESTS / "data" / "arctic_a0007.wav"
OBJECT_STORE = 100 * 1024 * 1024  # bytes per node


def runtime_bin() -> str:
    return os.environ.get("REMOTEMEDIA_RUNTIME_BIN") or str(ROOT / "target" / "release" / "remotemedia-runtime")


def cli_records(manifest: Path, inputs: list[str], *extra: str) -> dict[str, dict]:
    """The binary's many-files results, one record per file by its path."""
    args = [runtime_bin(), "run", str(manifest), "--progress", "never", *extra]
    for i in inputs:
        args += ["-i", i]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 3), done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return {r["file"]: r for r in records}


@pytest.fixture(scope="session")
def cluster():
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": OBJECT_STORE}
    nodes = Cluster(initialize_head=True, head_node_args=node)
    nodes.add_node(**node)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, logging_level="ERROR", log_to_driver=False)
    # Scripts run by the tests join this cluster rather than starting their own.
    os.environ["RAY_ADDRESS"] = nodes.address
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def tool(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of real files in several formats, a subfolder, and files that fail."""
    if not (shutil.which("sox") and shutil.which("ffmpeg")):
        pytest.fail("the Ray tests need sox and ffmpeg (apt-get install sox ffmpeg; .ci/run installs them)")
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "sub").mkdir()
    shutil.copy(RECORDING, folder / "speech.wav")
    tool("sox", str(RECORDING), str(folder / "sub" / "speech.flac"))
    tool("sox", str(RECORDING), "-r", "44100", "-c", "2", str(folder / "sub" / "stereo44k.wav"))
    tool("ffmpeg", "-v", "error", "-i", str(RECORDING), "-c:a", "libvorbis", str(folder / "speech.ogg"))
    tool(
        "ffmpeg", "-v", "error", "-i", str(RECORDING), "-ar", "44100", "-c:a", "libmp3lame", str(folder / "speech.mp3")
    )
    (folder / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt nonsense")
    (folder / "empty.flac").write_bytes(b"")
    (folder / "notes.txt").write_text("not audio, and not listed")
    return folder
