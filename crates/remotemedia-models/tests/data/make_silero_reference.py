"""Regenerates silero_reference.json: onnxruntime-python's speech probabilities for the shipped
models, streamed as silero-vad streams them (the previous chunk's last 64 samples, 32 at 8 kHz,
before each 512-sample chunk, 256 at 8 kHz; the state fed back; a last partial chunk zero-padded),
and the segments silero-vad's own `get_speech_timestamps_from_probs` (silero-vad 6.2.3) makes of
them for several settings.

    pip install onnxruntime numpy packaging
    pip install --no-deps silero-vad==6.2.3
    python crates/remotemedia-models/tests/data/make_silero_reference.py   # from the repository root

silero-vad's module imports torch at the top but the function used here does not touch it, so a
stand-in module is put in its place (torch is not needed).
"""

import importlib.util
import json
import sys
import types
import wave

import numpy as np
import onnxruntime as ort

MODELS = {
    16000: "crates/remotemedia-models/models/silero_vad_16k.onnx",
    8000: "crates/remotemedia-models/models/silero_vad_8k.onnx",
}
RECORDING = "manifests/data/arctic_a0007.wav"
OUT = "crates/remotemedia-models/tests/data/silero_reference.json"


def silero_utils():
    class Anything(types.ModuleType):
        """Stands for every torch name the module mentions at import (annotations, defaults)."""

        def __getattr__(self, name):
            return self

        def __call__(self, *args, **kwargs):
            return self

    sys.modules.setdefault("torch", Anything("torch"))
    spec = importlib.util.find_spec("silero_vad")
    path = spec.submodule_search_locations[0] + "/utils_vad.py"
    module_spec = importlib.util.spec_from_file_location("silero_utils_vad", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def probabilities(pcm: np.ndarray, rate: int) -> list:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(MODELS[rate], options)
    chunk_len, context_len = (512, 64) if rate == 16000 else (256, 32)
    state, context, out = np.zeros((2, 1, 128), np.float32), np.zeros(context_len, np.float32), []
    for i in range(0, len(pcm), chunk_len):
        chunk = pcm[i : i + chunk_len]
        chunk = np.pad(chunk, (0, chunk_len - len(chunk)))
        p, state = session.run(None, {"input": np.concatenate([context, chunk])[None, :], "state": state})
        out.append(float(p[0, 0]))
        context = chunk[-context_len:]
    return out


with wave.open(RECORDING) as w:
    pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
inputs = {
    "recording": (pcm, 16000),
    # The recording, a quarter second of silence, the recording again: two segments.
    "recording_twice": (np.concatenate([pcm, np.zeros(4000, np.float32), pcm]), 16000),
    # Every other sample: 8 kHz.
    "recording_8k": (pcm[::2].copy(), 8000),
}
settings = [
    {"threshold": 0.5, "min_speech_ms": 250, "min_silence_ms": 100, "padding_ms": 30},
    {"threshold": 0.3, "min_speech_ms": 100, "min_silence_ms": 300, "padding_ms": 30},
    {"threshold": 0.7, "min_speech_ms": 0, "min_silence_ms": 0, "padding_ms": 200},
]
utils = silero_utils()
reference = {
    "models": MODELS,
    "input": f"{RECORDING} (i16 / 32768); recording_twice: + 4000 zeros + the recording; "
    "recording_8k: every other sample",
    "runtime": f"onnxruntime {ort.__version__}, one thread; segments by silero-vad's get_speech_timestamps_from_probs",
    "probabilities": {},
    "segments": [],
}
for name, (x, rate) in inputs.items():
    probs = probabilities(x, rate)
    reference["probabilities"][name] = probs
    for s in settings:
        segments = utils.get_speech_timestamps_from_probs(
            probs,
            sampling_rate=rate,
            threshold=s["threshold"],
            min_speech_duration_ms=s["min_speech_ms"],
            min_silence_duration_ms=s["min_silence_ms"],
            speech_pad_ms=s["padding_ms"],
            audio_length_samples=len(x),
        )
        reference["segments"].append(
            {"input": name, "params": s, "segments": [[g["start"], g["end"]] for g in segments]}
        )
with open(OUT, "w") as f:
    json.dump(reference, f, indent=0)
    f.write("\n")
