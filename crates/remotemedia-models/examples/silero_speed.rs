//! Silero VAD through tract, one stream: the median time per 512-sample chunk over the shipped
//! recording, repeated (`cargo run --release -p remotemedia-models --example silero_speed`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use remotemedia_models::SileroVad;
use remotemedia_models::silero::CHUNK;

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../manifests/data/arctic_a0007.wav"
    );
    let mut reader = hound::WavReader::open(path).unwrap();
    let audio: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let mut vad = SileroVad::new().unwrap();
    let mut times = Vec::new();
    for _ in 0..8 {
        vad.reset();
        for chunk in audio.chunks_exact(CHUNK) {
            let start = Instant::now();
            std::hint::black_box(vad.probability(chunk).unwrap());
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "tract, one stream: {} chunks, median {:.1} µs, p99 {:.1} µs per 32 ms chunk",
        times.len(),
        at(0.5),
        at(0.99)
    );
}
