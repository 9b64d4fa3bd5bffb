"""Many files on Ray Data: the rows equal the CLI's many-files results, failures included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import ray

import remotemedia
from conftest import MANIFESTS, RECORDING, ROOT, cli_records
from remotemedia import Node, Pipeline
from remotemedia.ray import FileProcessor, process_files

VAD = MANIFESTS / "voice_activity.yaml"


def rows_by_path(dataset: ray.data.Dataset) -> dict[str, dict]:
    rows = dataset.take_all()
    assert all(set(r) == {"path", "outputs", "error"} for r in rows)
    return {r["path"]: r for r in rows}


def assert_same_as_cli(rows: dict[str, dict], cli: dict[str, dict]) -> None:
    assert sorted(rows) == sorted(cli)
    for path, record in cli.items():
        row = rows[path]
        if "error" in record:
            assert (row["outputs"], row["error"]) == (None, record["error"]), path
        else:
            assert row["error"] is None, (path, row["error"])
            assert json.loads(row["outputs"]) == record["outputs"], path


def test_a_folder_gives_the_clis_results_errors_included(cluster, corpus):
    folder = str(corpus)
    cli = cli_records(VAD, [folder])
    # Seven audio files (the text file is not listed), two of them broken.
    assert len(cli) == 7
    assert sum("error" in r for r in cli.values()) == 2
    assert cli[f"{folder}/speech.wav"]["outputs"] == [{"start": 0.386, "end": 3.55}]
    rows = rows_by_path(process_files(folder, VAD, actors=2))
    assert_same_as_cli(rows, cli)


def test_a_user_dataset_of_file_contents(cluster, corpus):
    paths = sorted(str(p) for p in corpus.rglob("*") if p.suffix in (".wav", ".flac", ".mp3"))
    cli = cli_records(VAD, paths)
    # `read_binary_files` gives `path` and `bytes`: the actor decodes the bytes (one actor, so
    # that the read task has a CPU of its own).
    dataset = ray.data.read_binary_files(paths, include_paths=True)
    rows = rows_by_path(process_files(dataset, VAD, actors=1))
    assert {p.split("://")[-1] for p in rows} == set(cli)
    assert_same_as_cli({p.split("://")[-1]: r for p, r in rows.items()}, cli)


def test_a_user_dataset_of_paths_through_map_batches(cluster, corpus):
    paths = [str(corpus / "speech.wav"), str(corpus / "broken.wav"), str(corpus / "missing.wav")]
    dataset = ray.data.from_items([{"audio": p} for p in paths])
    rows = dataset.map_batches(
        FileProcessor,
        fn_constructor_kwargs={"pipeline": str(VAD), "path_column": "audio", "bytes_column": None},
        compute=ray.data.ActorPoolStrategy(size=1),
        num_cpus=1,
        batch_size=3,
    )
    rows = rows_by_path(rows)
    assert json.loads(rows[paths[0]]["outputs"]) == [{"start": 0.386, "end": 3.55}]
    # A WAV whose header cannot be read is named as corrupt, with its path.
    assert rows[paths[1]]["error"].startswith(f"`{paths[1]}`: corrupt audio data: the WAV header cannot be read")
    # A missing file is its row's failure, not the job's.
    assert rows[paths[2]]["error"] == f"`{paths[2]}` does not exist"


class WhereAmI(Node):
    """Tells which Ray node and how many engine workers run it."""

    def process(self, data):
        import ray

        import remotemedia_runtime

        # The actor's engine, as tokio counts its workers.
        workers = remotemedia_runtime._engine_workers()
        return {"node": ray.get_runtime_context().get_node_id(), "workers": workers}


def test_actors_run_on_both_nodes_with_capped_threads(cluster, tmp_path):
    for i in range(12):
        shutil.copy(RECORDING, tmp_path / f"copy{i:02}.wav")
    pipeline = Pipeline("where", [WhereAmI(name="where", runtime_hint="cpython")])
    rows = process_files(str(tmp_path), pipeline, actors=2, batch_size=1).take_all()
    assert len(rows) == 12 and all(r["error"] is None for r in rows)
    outputs = [o for r in rows for o in json.loads(r["outputs"])]
    assert {o["node"] for o in outputs} == {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    # Each actor reserved one CPU: its engine runs one worker thread.
    assert {o["workers"] for o in outputs} == {1}


def test_audio_outputs_go_to_mirrored_folders(cluster, corpus, tmp_path):
    speech = MANIFESTS / "voice_activity_speech.yaml"
    inputs = [str(corpus / "speech.wav"), str(corpus / "sub" / "speech.flac")]
    out = tmp_path / "ray"
    rows = rows_by_path(process_files(inputs, speech, actors=2, output_dir=out))
    for path in inputs:
        mirrored = out / Path(path).parent.relative_to("/") / (Path(path).stem + ".wav")
        cli_dir = tmp_path / "cli" / Path(path).suffix[1:]
        cli = cli_records(speech, [path], "--output-dir", str(cli_dir))[path]
        assert json.loads(rows[path]["outputs"]) == cli["outputs"]
        # The same speech audio, byte for byte, as the CLI writes.
        assert mirrored.read_bytes() == Path(cli["output"]).read_bytes()
        assert mirrored.stat().st_size > 40_000


def test_rows_are_written_by_rays_writers(cluster, corpus, tmp_path):
    process_files([str(corpus / "speech.wav"), str(corpus / "broken.wav")], VAD, actors=1).write_json(
        str(tmp_path / "out")
    )
    lines = [json.loads(line) for f in sorted((tmp_path / "out").iterdir()) for line in f.read_text().splitlines()]
    assert sorted(r["path"] for r in lines) == [str(corpus / "broken.wav"), str(corpus / "speech.wav")]
    ok = next(r for r in lines if r["path"].endswith("speech.wav"))
    assert json.loads(ok["outputs"]) == [{"start": 0.386, "end": 3.55}]


def test_bad_arguments_fail_on_the_driver(cluster, corpus):
    with pytest.raises(remotemedia.AudioFileError, match="does not exist"):
        process_files(str(corpus / "nowhere"), VAD)
    with pytest.raises(ValueError, match="needs a `path` or a `bytes` column"):
        process_files(ray.data.from_items([{"x": 1}]), VAD)
    with pytest.raises(remotemedia.ManifestError):
        process_files(str(corpus), {"version": "v1", "nodes": [{"id": "a", "node_type": "NoSuchNode"}]})
    with pytest.raises(ValueError, match="actors must be at least 1"):
        process_files(str(corpus), VAD, actors=0)
    contents = ray.data.from_items([{"bytes": b"RIFF"}])
    with pytest.raises(ValueError, match=r"`output_dir` with file contents .* is not supported yet"):
        process_files(contents, VAD, output_dir=str(corpus / "out"))


def test_the_documented_script_processes_a_folder(cluster, corpus):
    script = ROOT / "python" / "examples" / "ray_process_folder.py"
    code = [line for line in script.read_text().splitlines()[1:] if line.strip()]  # past the docstring
    assert len(code) <= 10, code
    done = subprocess.run(
        [sys.executable, str(script), str(corpus), str(VAD)],
        capture_output=True,
        text=True,
        timeout=240,
        env=os.environ | {"RAY_ADDRESS": cluster.address},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    cli = cli_records(VAD, [str(corpus)])
    assert {r["file"]: r for r in printed} == cli
