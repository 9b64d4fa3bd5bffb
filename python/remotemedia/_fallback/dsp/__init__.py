"""The numpy implementations behind the pure-Python audio nodes (twins of the engine's Rust DSP):
sample conversions, the polyphase resampler, voice activity detection, WAV files."""
