"""PiperTTSNode from Python: the engine (ort, in Rust) and the fallback (onnxruntime's Python
package) give the same audio, sample for sample, for the same text with the voice's noise off;
the same errors; the first sentence leaves before the last is made. Needs the `tts` extra and
espeak-ng (`make setup`; CI installs them)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from conftest import HAVE_EXTENSION, run
from remotemedia import ManifestError, NodeError, Pipeline
from remotemedia.audio import Audio
from remotemedia.nodes import PiperTTSNode

TEXT = "Hello there. How are you, today?"


def speak(text: object, use_rust: bool, **params: object) -> list[Audio]:
    pipeline = Pipeline("speak", [PiperTTSNode(noise_scale=0, noise_w=0, **params)])
    out = run(pipeline, [text], use_rust=use_rust)
    assert pipeline.last_run.runtime == ("rust" if use_rust and HAVE_EXTENSION else "python")
    return out


def test_each_sentence_is_one_audio_value(use_rust: bool) -> None:
    out = speak(TEXT, use_rust)
    assert len(out) == 2
    for audio in out:
        assert (audio.sample_rate, audio.channels, audio.samples.dtype.name) == (22050, 1, "float32")
        assert audio.frames % 256 == 0 and 0.4 < audio.duration < 2.5
        assert float(np.abs(audio.samples).max()) == pytest.approx(1.0)


@pytest.mark.skipif(not HAVE_EXTENSION, reason="compares the engine with the fallback")
def test_the_engine_and_the_fallback_speak_alike() -> None:
    for text in (TEXT, {"text": "It costs $3.50, roughly. Dr. Smith agrees!"}):
        engine, fallback = speak(text, True), speak(text, False)
        assert [a.frames for a in engine] == [a.frames for a in fallback]
        for a, b in zip(engine, fallback):
            # The same graph on two thread counts: sums in another order, within 1e-4.
            assert float(np.abs(a.samples - b.samples).max()) < 1e-4


def test_silence_after_each_sentence_and_speaking_rate(use_rust: bool) -> None:
    (plain,) = speak("Yes.", use_rust)
    (padded,) = speak("Yes.", use_rust, sentence_silence_ms=100)
    assert padded.frames == plain.frames + 2205
    assert np.array_equal(padded.samples[: plain.frames], plain.samples)
    (slow,) = speak("Yes.", use_rust, length_scale=2.0)
    assert 1.6 < slow.frames / plain.frames < 2.4


def test_bad_inputs_and_params_say_what(use_rust: bool) -> None:
    with pytest.raises(NodeError) as error:
        speak(3, use_rust)
    expected = 'node `PiperTTSNode_0` (`PiperTTSNode`) failed: expected text or a map with "text", found int 3'
    assert str(error.value) == expected
    assert speak("  ... ?! ", use_rust) == []
    with pytest.raises(ManifestError) as bad:
        PiperTTSNode(speaker=2)
    assert bad.value.issues == ["params: `speaker` is 2, but the voice has 1 speaker(s)"]
    with pytest.raises(ManifestError) as bad:
        PiperTTSNode(length_scale=0)
    assert bad.value.issues == ["params.length_scale: 0 is out of range; expected a value from 0.1 to 10"]


def test_the_first_sentence_leaves_before_the_last_is_made(use_rust: bool) -> None:
    text = (
        "This is the first sentence. Here comes a second one, a little longer than the first. "
        "And a third sentence follows it. The fourth sentence ends the paragraph."
    )
    pipeline = Pipeline("speak", [PiperTTSNode(noise_scale=0, noise_w=0)])

    async def arrivals() -> list[float]:
        async def source():
            yield text

        start, times = time.monotonic(), []
        async for _ in pipeline.process(source(), use_rust=use_rust):
            times.append(time.monotonic() - start)
        return times

    times = asyncio.run(arrivals())
    assert len(times) == 4
    assert times[0] * 2 < times[-1], times


@pytest.mark.skipif(not HAVE_EXTENSION, reason="compares the engine with the fallback")
def test_windows_are_alike_on_both_runtimes_and_join_into_the_sentence() -> None:
    text = "Hello there. How are you, my friend?"
    engine = speak(text, True, normalize=False, window_ms=100)
    fallback = speak(text, False, normalize=False, window_ms=100)
    whole = speak(text, True, normalize=False)
    assert len(engine) > 4 and [a.frames for a in engine] == [a.frames for a in fallback]
    joined = np.concatenate([a.samples for a in engine])
    assert float(np.abs(joined - np.concatenate([a.samples for a in fallback])).max()) < 1e-4
    assert float(np.abs(joined - np.concatenate([a.samples for a in whole])).max()) < 1e-4
