"""The fallback's twin of the engine's ``PiperTTSNode``: the same sentences, phonemes and ids
(:mod:`remotemedia._fallback.speech.piper`), the model run with onnxruntime's Python package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...audio import Audio
from ...errors import NodeError
from ..params import describe_value
from .basic import Body

__all__ = ["PiperTTS", "text_of"]

#: Loaded voices by path (an ``InferenceSession`` runs from several threads at once).
_SESSIONS: dict[str, Any] = {}


def text_of(data: Any) -> str:
    """The text of an input: a string, or a dict's ``"text"``; else the engine's error."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        if isinstance(data.get("text"), str):
            return data["text"]
        found = f'a map without a text "text" ({describe_value(data)})'
        raise NodeError(f'expected text or a map with "text", found {found}')
    raise NodeError(f'expected text or a map with "text", found {describe_value(data)}')


def _session(model: Path) -> Any:
    key = str(model)
    if key not in _SESSIONS:
        try:
            import onnxruntime
        except ImportError:
            from ..speech.piper import ONNXRUNTIME_INSTALL

            raise NodeError(f"onnxruntime is not installed: {ONNXRUNTIME_INSTALL}") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        _SESSIONS[key] = onnxruntime.InferenceSession(key, options, providers=["CPUExecutionProvider"])
    return _SESSIONS[key]


class PiperTTS(Body):
    """``PiperTTSNode``: one audio value per sentence, yielded as each is made."""

    node_type = "PiperTTSNode"

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        import numpy as np

        from ..speech import piper

        self._piper = piper
        # The params were checked when the node was built (`piper.voice_issues`, or the engine).
        model = Path(values["voice"]) if values.get("voice") else piper.default_voice()
        if model is None:
            raise NodeError(piper.voice_issues(values)[0])
        self.config = piper.VoiceConfig.read(model)
        self.session = _session(model)
        self.multi_speaker = any(i.name == "sid" for i in self.session.get_inputs())
        pick = {k: values.get(k) for k in ("noise_scale", "length_scale", "noise_w")}
        self.scales = np.array(
            [
                self.config.noise_scale if pick["noise_scale"] is None else pick["noise_scale"],
                self.config.length_scale if pick["length_scale"] is None else pick["length_scale"],
                self.config.noise_w if pick["noise_w"] is None else pick["noise_w"],
            ],
            dtype=np.float32,
        )
        self.silence = round(float(values["sentence_silence_ms"]) * self.config.sample_rate / 1000.0)
        window_ms = float(values["window_ms"])
        # As the engine: windows of whole latent frames (256 samples), growing; the sentence unscaled.
        self.window = max(1, round(window_ms / 1000.0 * self.config.sample_rate / 256)) * 256 if window_ms > 0 else 0
        self.normalize = bool(values["normalize"]) and not self.window
        self.espeak: Any = None

    def _speak(self, sentence: list[Any]) -> list[Audio]:
        import numpy as np

        if self.espeak is None:
            self.espeak = self._piper.Espeak(self.config.espeak_voice)
        clauses = [(self.espeak.phonemes(c.text), c.terminator) for c in sentence]
        ids, _ = self._piper.ids(self._piper.sentence_phonemes(clauses), self.config.phoneme_ids)
        if len(ids) <= 3:
            return []
        feed = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": self.scales,
        }
        if self.multi_speaker:
            feed["sid"] = np.array([self.values["speaker"]], dtype=np.int64)
        samples = self.session.run(None, feed)[0].reshape(-1).astype(np.float32)
        if self.normalize:
            peak = float(np.abs(samples).max()) if len(samples) else 0.0
            if peak > 0.0 and np.isfinite(peak):
                samples = np.clip(samples / np.float32(peak), -1.0, 1.0).astype(np.float32)
        pieces, at, k = [], 0, 0
        while at < len(samples) or not pieces:
            # As the engine: the first window, then each twice the one before, up to 16 times.
            step = self.window * (1 << min(k, 4)) if self.window else len(samples)
            pieces.append(samples[at : at + step])
            at, k = at + max(step, 1), k + 1
        if self.silence:
            pieces[-1] = np.concatenate([pieces[-1], np.zeros(self.silence, dtype=np.float32)])
        return [Audio(p.reshape(-1, 1), self.config.sample_rate) for p in pieces if len(p)]

    def process(self, data: Any) -> Any:
        for sentence in self._piper.sentences(text_of(data)):
            yield from self._speak(sentence)

    def cleanup(self) -> None:
        if self.espeak is not None:
            self.espeak.close()
            self.espeak = None
