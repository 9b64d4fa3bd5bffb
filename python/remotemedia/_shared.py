"""What the engine and the fallback both do outside a run: the engine's implementation when the
extension is installed (:func:`remotemedia.runtime.engine`), else the fallback's twin, imported
only then. The public modules call these instead of holding a copy (``remotemedia.audio``'s
``read_wav``/``write_wav`` do the same for WAV files):

- :func:`checked_node_params`: a built-in node's params, checked on construction;
- :func:`to_tagged`, :func:`from_tagged`: the wire format's tagged JSON;
- :func:`convert_audio`: sample-format conversion.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import ManifestError
from .runtime import engine

if TYPE_CHECKING:
    from .audio import Audio
    from .nodes.spec import ParamSpec

__all__ = ["checked_node_params", "to_tagged", "from_tagged", "convert_audio"]


def checked_node_params(node_type: str, specs: tuple[ParamSpec, ...], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` with the defaults of ``specs`` filled in, after the engine's checks of built-in
    node ``node_type``'s params; :class:`ManifestError` (origin: the node type) lists every problem
    as ``params.<name>: message``."""
    module = engine()
    if module is None:
        from ._fallback.params import node_param_issues

        values, issues = node_param_issues(node_type, given)
    else:
        values = {**{s.name: s.default for s in specs if not s.required}, **given}
        issues = []
        try:
            module.plan(json.dumps({"version": "v1", "nodes": [{"id": "n", "node_type": node_type, "params": given}]}))
        except ManifestError as e:
            issues = [issue[len("nodes[0].") :] if issue.startswith("nodes[0].") else issue for issue in e.issues]
        except (TypeError, ValueError) as e:  # a param JSON cannot carry
            issues = [f"params: {e}"]
    if issues:
        raise ManifestError(issues, origin=f"`{node_type}`")
    return values


def to_tagged(value: Any) -> Any:
    """``value`` as tagged JSON (a structure ``json.dumps`` takes)."""
    module = engine()
    if module is None:
        from ._fallback.tagged_json import to_tagged as fallback

        return fallback(value)
    return json.loads(module.to_tagged_json(value))


def from_tagged(json_value: Any) -> Any:
    """The value tagged JSON stands for (audio as :class:`~remotemedia.audio.Audio`, arrays as
    numpy arrays)."""
    module = engine()
    if module is None:
        from ._fallback.tagged_json import from_tagged as fallback

        return fallback(json_value)
    return module.from_tagged_json(json.dumps(json_value))


def convert_audio(audio: Audio, target_format: str) -> Audio:
    """``audio`` stored as ``target_format`` (``f32``, ``i16``, ``i32``), with the engine's rounding
    and clipping."""
    module = engine()
    if module is None:
        from ._fallback.dsp.samples import FORMATS, convert
        from .audio import Audio

        return Audio(convert(audio.samples, FORMATS[target_format]), audio.sample_rate)
    return module.convert_audio(audio, target_format)
