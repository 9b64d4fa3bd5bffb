"""SileroVADNode from Python: the native node (through the extension) and the onnxruntime twin give
silero-vad's own segments (the reference made by
crates/remotemedia-models/tests/data/make_silero_reference.py with silero-vad's
``get_speech_timestamps_from_probs``), at 16 and 8 kHz and under several settings; probabilities
within 1e-4; identical outputs on both runtimes for any chunking; the shipped model files are the
crate's; a clear error without onnxruntime."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import remotemedia
from conftest import HAVE_EXTENSION, MANIFESTS, ROOT, run, run_both
from remotemedia._fallback.dsp.wav import read_samples  # the reference reader of test data
from remotemedia.audio import Audio
from remotemedia.errors import NodeError
from remotemedia.nodes import SileroVADNode

REFERENCE = json.loads((ROOT / "crates/remotemedia-models/tests/data/silero_reference.json").read_text())
ARCTIC = MANIFESTS / "data" / "arctic_a0007.wav"


def have_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


needs_twin = pytest.mark.skipif(not have_onnxruntime(), reason="the twin needs onnxruntime")


def inputs(name: str) -> tuple[np.ndarray, int]:
    pcm, rate = read_samples(ARCTIC)
    pcm = pcm.reshape(-1)
    if name == "recording":
        return pcm, rate
    if name == "recording_twice":
        return np.concatenate([pcm, np.zeros(4000, np.int16), pcm]), rate
    return pcm[::2].copy(), 8000


def pipeline(**params) -> remotemedia.Pipeline:
    p = remotemedia.Pipeline()
    p.add_node(SileroVADNode(**params))
    return p


def chunked(x: np.ndarray, rate: int, size: int) -> list[Audio]:
    return [Audio(x[i : i + size, None].copy(), rate) for i in range(0, len(x), size)]


def runtimes() -> list[bool]:
    return ([True] if HAVE_EXTENSION else []) + ([False] if have_onnxruntime() else [])


@pytest.mark.parametrize("use_rust", runtimes(), ids=lambda r: "use_rust" if r else "python")
@pytest.mark.parametrize("case", range(9))
def test_segments_are_silero_vads_own(case: int, use_rust: bool) -> None:
    ref = REFERENCE["segments"][case]
    x, rate = inputs(ref["input"])
    out = run(pipeline(**ref["params"]), chunked(x, rate, 320), use_rust=use_rust)
    assert out == [{"start": s / rate, "end": e / rate} for s, e in ref["segments"]]


@pytest.mark.parametrize("use_rust", runtimes(), ids=lambda r: "use_rust" if r else "python")
@pytest.mark.parametrize("name", ["recording", "recording_8k"])
def test_probabilities_within_1e_4_of_onnxruntime(name: str, use_rust: bool) -> None:
    x, rate = inputs(name)
    out = run(pipeline(emit="frames"), chunked(x, rate, 4000), use_rust=use_rust)
    got = np.array([p for frames in out for p in frames["probability"]])
    expected = np.array(REFERENCE["probabilities"][name])
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-4
    assert out[0]["frame_ms"] == 32 and out[0]["start"] == 0.0


@pytest.mark.twin_parity
@needs_twin
@pytest.mark.parametrize("emit", ["segments", "speech"])
def test_both_runtimes_agree_for_any_chunking(emit: str) -> None:
    x, rate = inputs("recording_twice")
    whole = run_both(lambda: pipeline(emit=emit), chunked(x, rate, len(x)))
    assert len(whole) == 2
    for size in (160, 513, 7001):
        assert run_both(lambda: pipeline(emit=emit), chunked(x, rate, size)) == whole


@pytest.mark.twin_parity
@needs_twin
def test_frames_agree_on_both_runtimes() -> None:
    x, rate = inputs("recording")
    native = run(pipeline(emit="frames"), chunked(x, rate, 2000), use_rust=True)
    twin = run(pipeline(emit="frames"), chunked(x, rate, 2000), use_rust=False)
    assert [f["speech"] for f in native] == [f["speech"] for f in twin]
    assert [f["start"] for f in native] == [f["start"] for f in twin]
    diff = np.abs(np.concatenate([f["probability"] for f in native]) - np.concatenate([f["probability"] for f in twin]))
    assert diff.max() <= 1e-4


def test_the_main_job_uses_silero_and_prints_its_segment(use_rust: bool) -> None:
    if not use_rust and not have_onnxruntime():
        pytest.skip("the twin needs onnxruntime")
    p = remotemedia.Pipeline.from_manifest(MANIFESTS / "voice_activity.yaml")
    assert [n.node_type for n in p.nodes][-1] == "SileroVADNode"
    samples, rate = read_samples(ARCTIC)
    assert run(p, Audio(samples, rate), use_rust=use_rust) == [{"start": 0.386, "end": 3.55}]


def test_shipped_models_are_the_crates() -> None:
    for name in ("silero_vad_16k.onnx", "silero_vad_8k.onnx", "LICENSE-silero-vad"):
        shipped = ROOT / "python/remotemedia/models" / name
        assert shipped.read_bytes() == (ROOT / "crates/remotemedia-models/models" / name).read_bytes(), (
            f"{name} differs from the crate's: run `make schema`"
        )


def test_without_onnxruntime_the_twin_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    x, rate = inputs("recording")
    with pytest.raises(Exception, match=r"pip install onnxruntime") as info:
        run(pipeline(), chunked(x, rate, 16000), use_rust=False)
    assert "Traceback" not in str(info.value)


@needs_twin
def test_bad_input_is_refused_with_the_engines_words() -> None:
    with pytest.raises(NodeError, match="SileroVADNode needs mono audio"):
        run(pipeline(), Audio(np.zeros((1024, 2), np.int16), 16000), use_rust=False)
    with pytest.raises(NodeError, match=r"44100 Hz.*AudioResampleNode"):
        run(pipeline(), Audio(np.zeros(1024, np.int16), 44100), use_rust=False)


def test_a_model_path_resolves_against_the_manifests_folder(tmp_path, use_rust: bool) -> None:
    if not use_rust and not have_onnxruntime():
        pytest.skip("the twin needs onnxruntime")
    (tmp_path / "models").mkdir()
    (tmp_path / "models/vad8k.onnx").write_bytes(
        (ROOT / "crates/remotemedia-models/models/silero_vad_8k.onnx").read_bytes()
    )
    manifest = tmp_path / "vad.yaml"
    manifest.write_text(
        "version: v1\nnodes:\n  - {id: vad, node_type: SileroVADNode, params: {model: models/vad8k.onnx}}\n"
    )
    p = remotemedia.Pipeline.from_manifest(manifest)
    x, rate = inputs("recording_8k")
    ref = REFERENCE["segments"][6]
    assert ref["input"] == "recording_8k"
    assert run(p, chunked(x, rate, 800), use_rust=use_rust) == [
        {"start": s / 8000, "end": e / 8000} for s, e in ref["segments"]
    ]
    missing = tmp_path / "missing.yaml"
    missing.write_text("version: v1\nnodes:\n  - {id: vad, node_type: SileroVADNode, params: {model: nope.onnx}}\n")
    with pytest.raises(remotemedia.ManifestError, match=r"nodes\[0\]\.params\.model: file not found"):
        remotemedia.Pipeline.from_manifest(missing)
