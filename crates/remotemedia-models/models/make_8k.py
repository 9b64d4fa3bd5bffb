"""Derives silero_vad_8k.onnx from silero-vad's silero_vad.onnx: the `sr` input becomes the
constant 8000 and onnxslim folds the `If` nodes that branch on it, leaving the 8 kHz graph only
(tract cannot load `If` branches of different shapes).

    pip install onnx onnxslim
    pip download --no-deps silero-vad==6.2.3 && unzip -o silero_vad-6.2.3-py3-none-any.whl 'silero_vad/data/*'
    python crates/remotemedia-models/models/make_8k.py silero_vad/data/silero_vad.onnx
"""

import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as helper
import onnxslim

source = sys.argv[1]
model = onnx.load(source)
graph = model.graph
for i in graph.input:
    dims = i.type.tensor_type.shape.dim
    if i.name == "input":
        dims[0].dim_value, dims[1].dim_value = 1, 288
    if i.name == "state":
        dims[1].dim_value = 1
inputs = [i for i in graph.input if i.name != "sr"]
del graph.input[:]
graph.input.extend(inputs)
graph.node.insert(
    0, helper.make_node("Constant", [], ["sr"], value=onnx.numpy_helper.from_array(np.array(8000, np.int64)))
)
with tempfile.NamedTemporaryFile(suffix=".onnx") as fixed:
    onnx.save(model, fixed.name)
    onnx.save(onnxslim.slim(fixed.name), "crates/remotemedia-models/models/silero_vad_8k.onnx")
