"""The engine's thread cap: ``REMOTEMEDIA_THREADS`` and ``remotemedia.set_threads`` (each case in
a fresh process, since the engine's thread pool is started once per process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import HAVE_EXTENSION, ROOT

RUN_AND_COUNT = """
import asyncio, remotemedia, remotemedia_runtime
from remotemedia import Pipeline
{before}
pipeline = Pipeline.from_manifest({manifest!r})
assert asyncio.run(pipeline.run([1, 2])) == [6, 7]
# The worker threads of the runtime that ran it, as tokio counts them.
print(remotemedia_runtime._engine_workers(), remotemedia.engine_threads())
"""


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "REMOTEMEDIA_THREADS"} | env
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environment, timeout=120
    )


def counts(before: str = "", **env: str) -> tuple[int, int]:
    manifest = str(ROOT / "manifests" / "passthrough_calculator.json")
    done = run(RUN_AND_COUNT.format(before=before, manifest=manifest), **env)
    assert done.returncode == 0, done.stderr
    workers, threads = done.stdout.split()
    return int(workers), int(threads)


@pytest.mark.skipif(not HAVE_EXTENSION, reason="counts the engine's workers")
def test_the_cap_sets_the_engine_workers():
    assert counts(REMOTEMEDIA_THREADS="3") == (3, 3)
    assert counts("remotemedia.set_threads(1)") == (1, 1)
    # set_threads wins over the environment, as --threads does for the binary.
    assert counts("remotemedia.set_threads(2)", REMOTEMEDIA_THREADS="1") == (2, 2)


@pytest.mark.skipif(not HAVE_EXTENSION, reason="the engine's pool")
def test_the_count_is_fixed_once_the_engine_runs():
    done = run(
        f"""
        import asyncio, remotemedia
        from remotemedia import Pipeline
        remotemedia.set_threads(2)
        asyncio.run(Pipeline.from_manifest({str(ROOT / "manifests" / "passthrough_calculator.json")!r}).run([1]))
        remotemedia.set_threads(2)  # the count in force: fine
        try:
            remotemedia.set_threads(3)
        except RuntimeError as e:
            print(e)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "the engine already runs with 2 threads in this process; "
        "set the count before the first run (or with REMOTEMEDIA_THREADS)"
    )


def test_bad_counts_are_refused():
    import remotemedia

    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="threads must be a positive int"):
            remotemedia.set_threads(bad)
    done = run("import remotemedia; print(remotemedia.engine_threads())", REMOTEMEDIA_THREADS="lots")
    assert done.returncode != 0
    assert 'REMOTEMEDIA_THREADS="lots" is not valid; expected a positive number of threads' in done.stderr
    assert "Traceback" in done.stderr  # a plain Python error, from the call that reads it


def test_without_the_engine_the_cap_bounds_file_threads():
    done = run(
        "import remotemedia; remotemedia.set_threads(3); print(remotemedia.engine_threads())",
        REMOTEMEDIA_RUNTIME="python",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"
