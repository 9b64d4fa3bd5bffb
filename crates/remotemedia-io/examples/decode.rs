//! Decodes audio files to the end and prints what came out (frames, seconds, decoding speed):
//! the decoding-throughput side of `benches/audio_io.py`, against `ffmpeg -i FILE -f null -`.
//!
//! `cargo run --release -p remotemedia-io --example decode -- FILE...`
#![allow(missing_docs)]

use std::time::Instant;

use remotemedia_io::AudioFileSource;

fn main() -> std::process::ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: decode FILE...");
        return std::process::ExitCode::from(2);
    }
    for path in paths {
        let started = Instant::now();
        let mut source = match AudioFileSource::open(path.as_ref(), 1000) {
            Ok(source) => source,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::from(2);
            }
        };
        let rate = source.sample_rate();
        let mut frames = 0u64;
        loop {
            match source.next_chunk() {
                Ok(Some(chunk)) => frames += chunk.frames() as u64,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("error: {e}");
                    return std::process::ExitCode::from(2);
                }
            }
        }
        let seconds = frames as f64 / f64::from(rate);
        let wall = started.elapsed().as_secs_f64();
        println!(
            "{path}: {frames} frames, {seconds:.1} s of audio in {wall:.3} s ({:.0}x real time)",
            seconds / wall
        );
    }
    std::process::ExitCode::SUCCESS
}
