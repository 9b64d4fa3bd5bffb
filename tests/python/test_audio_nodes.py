"""The audio nodes on both runtimes: the native nodes and their numpy twins agree (exactly for
format/channel/chunk/gain/normalise and VAD; within 1e-4 for the resampler), and chunking a signal
never changes the output (property tests with hypothesis)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import remotemedia
from conftest import HAVE_EXTENSION, MANIFESTS, run, run_both
from remotemedia._fallback.dsp.wav import read_samples  # the reference reader of test data
from remotemedia.audio import Audio
from remotemedia.errors import NodeError
from remotemedia.nodes import (
    AudioChunkerNode,
    AudioResampleNode,
    ChannelMixNode,
    FormatConverterNode,
    GainNode,
    NormalizeNode,
    VADNode,
)

ARCTIC = MANIFESTS / "data" / "arctic_a0007.wav"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", MANIFESTS.parent / "target"))


def pipeline(*nodes: remotemedia.Node) -> remotemedia.Pipeline:
    p = remotemedia.Pipeline()
    for n in nodes:
        p.add_node(n)
    return p


def speech(seconds: float = 2.0, rate: int = 16000, channels: int = 1, seed: int = 1) -> np.ndarray:
    """Noise with bursts of a two-tone "vowel", int16 (frames, channels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    on = (np.floor(t * 3) % 2) == 1
    x = on * (6000 * np.sin(2 * np.pi * 300 * t) + 3000 * np.sin(2 * np.pi * 1200 * t)) + rng.normal(0, 60, t.size)
    x = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x[:, None]


def chunks(samples: np.ndarray, rate: int, sizes: list[int]) -> list[Audio]:
    out, at, i = [], 0, 0
    while at < len(samples):
        n = max(sizes[i % len(sizes)], 1)
        out.append(Audio(samples[at : at + n].copy(), rate))
        at += n
        i += 1
    return out


def joined(outputs: list) -> tuple[np.ndarray, list]:
    audio = [o.samples for o in outputs if isinstance(o, Audio)]
    rest = [o for o in outputs if not isinstance(o, Audio)]
    return (np.concatenate(audio) if audio else np.zeros((0, 1))), rest


STEREO_I16 = Audio(np.array([[100, 201], [-32768, -32768], [7, 8], [32767, -1]], dtype=np.int16), 8000)
STEREO_F32 = Audio(np.array([[0.1, 0.2], [-1.0, 0.7], [0.3, 0.30000001]], dtype=np.float32), 8000)
STEREO_I32 = Audio(np.array([[2**31 - 1, 1], [-(2**31), 3], [98304, -163840]], dtype=np.int32), 8000)


@pytest.mark.twin_parity
@pytest.mark.parametrize("audio", [STEREO_I16, STEREO_F32, STEREO_I32], ids=["i16", "f32", "i32"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: FormatConverterNode(target_format="f32"),
        lambda: FormatConverterNode(target_format="i16"),
        lambda: FormatConverterNode(target_format="i32"),
        lambda: ChannelMixNode(),
        lambda: ChannelMixNode(mode="select", channel=1),
        lambda: GainNode(db=-6.5),
        lambda: GainNode(db=12),
        lambda: NormalizeNode(),
        lambda: NormalizeNode(mode="rms", target_db=-20),
        lambda: AudioChunkerNode(chunk_samples=2),
    ],
    ids=["to-f32", "to-i16", "to-i32", "downmix", "select", "gain-down", "gain-up", "peak", "rms", "chunker"],
)
def test_cheap_nodes_agree_exactly(make, audio: Audio) -> None:
    outputs = run_both(lambda: pipeline(make()), [audio, audio])
    assert outputs and all(isinstance(o, Audio) for o in outputs)


def test_exact_values() -> None:
    (down,) = run(pipeline(ChannelMixNode()), STEREO_I16, use_rust=False)
    assert down.samples.ravel().tolist() == [150, -32768, 8, 16383]  # 150.5 -> 150, 7.5 -> 8 (half to even)
    (f,) = run(
        pipeline(FormatConverterNode(target_format="i16")),
        Audio(np.array([1.0, -1.0, 0.5 / 32768, 1.5 / 32768], dtype=np.float32), 8000),
        use_rust=False,
    )
    assert f.samples.ravel().tolist() == [32767, -32768, 0, 2]
    (up,) = run(
        pipeline(ChannelMixNode(mode="upmix", channels=3)),
        Audio(np.array([1, -2], dtype=np.int16), 8000),
        use_rust=False,
    )
    assert up.samples.tolist() == [[1, 1, 1], [-2, -2, -2]]


@pytest.mark.twin_parity
def test_resampler_agrees_within_1e4() -> None:
    x = speech(1.0, 48000, 2).astype(np.float32) / 32768
    for target, quality in [(16000, "high"), (44100, "medium"), (8000, "low")]:
        outs = [
            joined(
                run(
                    pipeline(AudioResampleNode(target_sample_rate=target, quality=quality)), Audio(x, 48000), use_rust=r
                )
            )[0]
            for r in (True, False)
        ]
        assert outs[0].shape == outs[1].shape == (-(-48000 * target // 48000), 2)
        assert np.max(np.abs(outs[0] - outs[1])) <= 1e-4


RATES = st.sampled_from([8000, 11025, 12000, 16000, 22050, 24000, 32000, 37800, 44100, 48000, 88200, 96000, 192000])


@pytest.mark.twin_parity
@settings(max_examples=40, deadline=None)
@given(
    rate_in=RATES,
    rate_out=RATES,
    quality=st.sampled_from(["low", "medium", "high"]),
    max_latency_ms=st.sampled_from([0, 20, 64]),
    frames=st.integers(1, 6000),
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=4),
)
def test_resampler_engine_and_twin_agree_at_any_rate_pair(
    rate_in: int, rate_out: int, quality: str, max_latency_ms: int, frames: int, sizes: list[int]
) -> None:
    # The same block geometry (FFT path or direct loop) on both sides: the same lengths, within 1e-4,
    # whatever the rate pair, the latency budget and the chunking.
    x = np.random.default_rng(frames).uniform(-0.5, 0.5, (frames, 2)).astype(np.float32)
    inputs = chunks(x, rate_in, sizes)

    def make() -> remotemedia.Pipeline:
        return pipeline(AudioResampleNode(target_sample_rate=rate_out, quality=quality, max_latency_ms=max_latency_ms))

    outs = [joined(run(make(), inputs, use_rust=r))[0] for r in (True, False)]
    want = frames if rate_in == rate_out else -(-frames * rate_out // rate_in)
    assert outs[0].shape == outs[1].shape == (want, 2)
    assert np.max(np.abs(outs[0] - outs[1]), initial=0) <= 1e-4


def test_resampler_latency_budget_is_checked(use_rust: bool) -> None:
    with pytest.raises(Exception, match="max_latency_ms"):
        node = AudioResampleNode(target_sample_rate=16000, max_latency_ms=-1)
        run(pipeline(node), Audio(speech(0.1), 16000), use_rust=use_rust)


def test_resampler_is_band_limited_and_aligned() -> None:
    t = np.arange(44100) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    alias = (0.5 * np.sin(2 * np.pi * 15000 * t)).astype(np.float32)  # above 8 kHz: must vanish
    (y,) = run(pipeline(AudioResampleNode(target_sample_rate=16000)), Audio(tone + alias, 44100), use_rust=False)[:1]
    want = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.max(np.abs(y.samples[1000:15000, 0] - want[1000:15000])) < 1e-4


@pytest.mark.twin_parity
@pytest.mark.parametrize("rate,frame_ms,mode", [(16000, 10, 2), (16000, 20, 0), (8000, 30, 3)])
def test_vad_decisions_and_segments_agree(rate: int, frame_ms: int, mode: int) -> None:
    x = speech(3.0, rate)
    for emit in ("frames", "segments", "speech"):

        def make(emit: str = emit) -> remotemedia.Pipeline:
            return pipeline(VADNode(frame_duration_ms=frame_ms, mode=mode, emit=emit))

        assert run_both(make, chunks(x, rate, [1234, 77])), emit


def test_vad_on_the_recording_matches_its_speech_region() -> None:
    samples, rate = read_samples(ARCTIC)
    (segment,) = run_both(lambda: pipeline(VADNode()), Audio(samples, rate))
    assert abs(segment["start"] - 0.42) <= 0.1 and abs(segment["end"] - 3.37) <= 0.1


def test_speech_detectors_signal_start_and_end_alike_on_both_runtimes() -> None:
    from remotemedia.nodes import SileroVADNode

    samples, rate = read_samples(ARCTIC)
    pieces = [Audio(samples[i : i + 1600], rate) for i in range(0, len(samples), 1600)]
    for make in (lambda: VADNode(events=True, interrupt=True), lambda: SileroVADNode(events=True)):
        outputs = run_both(lambda make=make: pipeline(make()), pieces)
        events = [o["event"] for o in outputs if "event" in o]
        segments = [o for o in outputs if "event" not in o]
        assert events[0] == "speech_started" and events.count("speech_ended") == len(segments) >= 1
        started = next(o["time"] for o in outputs if o.get("event") == "speech_started")
        assert 0.2 < started < 1.0
        ended = [(o["start"], o["end"]) for o in outputs if o.get("event") == "speech_ended"]
        assert ended == [(s["start"], s["end"]) for s in segments]


def test_vad_after_digital_silence_waits_for_the_speech(use_rust: bool) -> None:
    # The recording (speech from 0.42 s) placed after 1 s of digital zeros: its quiet background is
    # not speech (was taken for speech from 0.97 s while the noise floor crawled up from zero).
    samples, rate = read_samples(ARCTIC)
    padded = np.concatenate([np.zeros((rate, samples.shape[1]), samples.dtype), samples])
    (segment,) = run(pipeline(VADNode()), Audio(padded, rate), use_rust=use_rust)
    assert segment == {"start": 1.38, "end": 4.45}  # 1.42 s less 30 ms of padding, frame-aligned


def test_voice_activity_manifests_run_from_python(use_rust: bool) -> None:
    samples, rate = read_samples(ARCTIC)
    stereo = Audio(np.repeat(samples, 2, axis=1), rate)
    # The fast integer detector matches the recording's speech region (0.42-3.37 s) within 100 ms.
    fast = remotemedia.Pipeline.from_manifest(MANIFESTS / "voice_activity_fast.yaml")
    out = run(fast, stereo, use_rust=use_rust)
    assert len(out) == 1 and abs(out[0]["start"] - 0.42) <= 0.1 and abs(out[0]["end"] - 3.37) <= 0.1
    if not use_rust and importlib.util.find_spec("onnxruntime") is None:
        return  # the Silero twin needs onnxruntime (tests/python/test_silero.py checks its error)
    # The main job (Silero): silero-vad's own segment of the recording.
    main = remotemedia.Pipeline.from_manifest(MANIFESTS / "voice_activity.yaml")
    assert run(main, stereo, use_rust=use_rust) == [{"start": 0.386, "end": 3.55}]


def test_seed_tuple_is_audio(use_rust: bool) -> None:
    x = np.array([0.5, -0.25, 1.0])
    (out,) = run(pipeline(GainNode(db=0)), (x, 8000), use_rust=use_rust)
    assert out == Audio(x.astype(np.float32), 8000)


@pytest.mark.parametrize(
    "node",
    [
        lambda: GainNode(db=-6),
        lambda: GainNode(db=0),
        lambda: ChannelMixNode(),
        lambda: ChannelMixNode(mode="select", channel=0),
        lambda: FormatConverterNode(target_format="i32"),
    ],
)
def test_stateless_nodes_refuse_a_layout_change_mid_stream(node, use_rust: bool) -> None:
    first = Audio(np.zeros(8, dtype=np.int16), 16000)
    changes = [
        (Audio(np.zeros(8, dtype=np.int16), 8000), "to 8000 Hz 1-channel i16"),
        (Audio(np.zeros((8, 2), dtype=np.int16), 16000), "to 16000 Hz 2-channel i16"),
        (Audio(np.zeros(8, dtype=np.float32), 16000), "to 16000 Hz 1-channel f32"),
    ]
    for second, expected in changes:
        with pytest.raises(NodeError, match=f"changed from 16000 Hz 1-channel i16 {expected} mid-stream"):
            run(pipeline(node()), [first, second], use_rust=use_rust)


def test_seed_parameter_name_target_rate() -> None:
    assert AudioResampleNode(target_rate=8000).target_sample_rate == 8000


def test_bad_input_is_a_clear_error(use_rust: bool) -> None:
    with pytest.raises(NodeError, match=r"expected audio \(or a \(samples, sample_rate\) pair\), found int 3"):
        run(pipeline(GainNode()), 3, use_rust=use_rust)
    with pytest.raises(NodeError, match="needs 8000 or 16000 Hz audio, found 44100 Hz"):
        run(pipeline(VADNode()), Audio(np.zeros(441, dtype=np.int16), 44100), use_rust=use_rust)
    with pytest.raises(NodeError, match="changed from 16000 Hz 1-channel i16 to 8000 Hz 1-channel i16 mid-stream"):
        run(
            pipeline(AudioChunkerNode()),
            [Audio(np.zeros(9, dtype=np.int16), 16000), Audio(np.zeros(9, dtype=np.int16), 8000)],
            use_rust=use_rust,
        )


SIZES = st.lists(
    st.one_of(st.just(1), st.just(7), st.just(160), st.just(16000), st.integers(1, 3000)), min_size=1, max_size=5
)


def run_twin(make, inputs: list) -> list:
    return run(pipeline(make()), inputs, use_rust=False)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 8000), sizes=SIZES, target=st.sampled_from([8000, 22050, 44100]))
def test_resampler_chunking_property(n: int, sizes: list[int], target: int) -> None:
    x = speech(n / 16000 + 1e-9, 16000)[:n]
    whole, _ = joined(run_twin(lambda: AudioResampleNode(target_sample_rate=target, quality="low"), [Audio(x, 16000)]))
    parts, _ = joined(
        run_twin(lambda: AudioResampleNode(target_sample_rate=target, quality="low"), chunks(x, 16000, sizes))
    )
    assert whole.shape == parts.shape
    assert np.max(np.abs(whole.astype(np.int32) - parts.astype(np.int32)), initial=0) == 0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 16000), sizes=SIZES, emit=st.sampled_from(["frames", "segments", "speech"]))
def test_vad_chunking_property(n: int, sizes: list[int], emit: str) -> None:
    x = speech(1.0, 16000)[:n]

    def flat(out: list) -> tuple:
        audio, rest = joined(out)
        decisions = [d for o in rest if "speech" in o for d in o["speech"]]
        segments = [o for o in rest if "speech" not in o]
        return audio.tolist(), decisions, segments

    whole = flat(run_twin(lambda: VADNode(emit=emit, min_silence_ms=100), [Audio(x, 16000)]))
    parts = flat(run_twin(lambda: VADNode(emit=emit, min_silence_ms=100), chunks(x, 16000, sizes)))
    assert whole == parts


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3000), sizes=SIZES, chunk=st.integers(1, 500))
def test_chunker_property(n: int, sizes: list[int], chunk: int) -> None:
    x = speech(0.2, 16000, 2)[:n]
    whole = run_twin(lambda: AudioChunkerNode(chunk_samples=chunk), [Audio(x, 16000)])
    parts = run_twin(lambda: AudioChunkerNode(chunk_samples=chunk), chunks(x, 16000, sizes))
    assert whole == parts
    assert [o.frames for o in whole] == [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])


@pytest.mark.skipif(not HAVE_EXTENSION, reason="needs the engine to compare with")
def test_engine_runs_the_audio_nodes_natively() -> None:
    p = pipeline(ChannelMixNode(), AudioResampleNode(), VADNode())
    run(p, Audio(speech(1.0, 48000, 2), 48000))
    assert p.last_run.runtime == "rust"
    assert set(p.last_run.nodes.values()) == {"rust"}


CHEAP = {
    "gain": lambda: GainNode(db=-3.5),
    "to-f32": lambda: FormatConverterNode(target_format="f32"),
    "to-i32": lambda: FormatConverterNode(target_format="i32"),
    "downmix": lambda: ChannelMixNode(),
    "select": lambda: ChannelMixNode(mode="select", channel=1),
    "peak": lambda: NormalizeNode(),
    "rms": lambda: NormalizeNode(mode="rms", target_db=-20),
}


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3000), sizes=SIZES, name=st.sampled_from(sorted(CHEAP)))
def test_cheap_nodes_chunking_property(n: int, sizes: list[int], name: str) -> None:
    x = speech(0.2, 16000, 2)[:n]
    whole, _ = joined(run_twin(CHEAP[name], [Audio(x, 16000)]))
    parts, _ = joined(run_twin(CHEAP[name], chunks(x, 16000, sizes)))
    assert whole.dtype == parts.dtype and np.array_equal(whole, parts)


@pytest.mark.parametrize("encoding", ["i8", "i16", "i24", "i32", "f32"])
def test_wav_round_trip(tmp_path, encoding: str) -> None:
    from remotemedia.audio import read_wav as read_audio
    from remotemedia.audio import write_wav as write_audio

    audio = Audio(np.array([[0, 256], [-32768, 32767], [512, -512]], dtype=np.int16), 22050)
    write_audio(tmp_path / "x.wav", audio, encoding)
    back = read_audio(tmp_path / "x.wav")
    assert (back.sample_rate, back.channels, back.frames) == (22050, 2, 3)
    want = [0, 256, -32768, 32512 if encoding == "i8" else 32767, 512, -512]
    from remotemedia._fallback.dsp.samples import convert

    assert convert(back.samples, np.int16).ravel().tolist() == want


def test_wav_written_by_the_engine_reads_the_same(tmp_path) -> None:
    import shutil
    import subprocess

    # `make test` builds the debug binary (Rust tests) before it runs pytest.
    built = [TARGET / kind / "remotemedia-runtime" for kind in ("release", "debug")]
    binary = shutil.which("remotemedia-runtime") or next((str(b) for b in built if b.exists()), None)
    if binary is None:
        pytest.skip("no remotemedia-runtime binary: run `cargo build` first")
    out = tmp_path / "speech.wav"
    subprocess.run(
        [binary, "run", str(MANIFESTS / "voice_activity_speech.yaml"), "--input", str(ARCTIC), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    from remotemedia.audio import read_wav as read_audio

    speech = read_audio(out)
    samples, rate = read_samples(ARCTIC)
    (twin,) = run(pipeline(VADNode(emit="speech")), Audio(samples, rate), use_rust=False)
    assert speech == twin
