"""Regenerates silero_reference.json: onnxruntime-python's speech probabilities for the shipped
model on the shipped recording, streamed as silero-vad streams it (64 samples of context before
each 512-sample chunk, the state fed back). `pip install onnxruntime numpy`, then run it from the
repository root: python crates/remotemedia-models/tests/data/make_silero_reference.py
"""

import json
import wave

import numpy as np
import onnxruntime as ort

MODEL = "crates/remotemedia-models/models/silero_vad_16k.onnx"
RECORDING = "manifests/data/arctic_a0007.wav"

options = ort.SessionOptions()
options.intra_op_num_threads = options.inter_op_num_threads = 1
session = ort.InferenceSession(MODEL, options)
with wave.open(RECORDING) as w:
    pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
state, context, probabilities = np.zeros((2, 1, 128), np.float32), np.zeros(64, np.float32), []
for i in range(0, len(pcm) - 511, 512):
    chunk = pcm[i : i + 512]
    out, state = session.run(None, {"input": np.concatenate([context, chunk])[None, :], "state": state})
    probabilities.append(float(out[0, 0]))
    context = chunk[-64:]
reference = {
    "model": "models/silero_vad_16k.onnx",
    "input": f"{RECORDING} (i16 / 32768)",
    "runtime": f"onnxruntime {ort.__version__}, one thread",
    "chunk": 512,
    "context": 64,
    "probabilities": probabilities,
}
with open("crates/remotemedia-models/tests/data/silero_reference.json", "w") as f:
    json.dump(reference, f, indent=0)
