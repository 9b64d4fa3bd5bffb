//! Whisper's log-mel features, computed as faster-whisper computes them (not as whisper.cpp or
//! candle do, which pad differently): 160 zero samples appended, 200 samples of reflection on each
//! side, 400-sample frames every 160 samples under a periodic Hann window, the power spectrum
//! through 80 Slaney-scale mel filters, the last frame dropped, then `log10` floored at 1e-10 and
//! at the maximum less 8, and `(x + 4) / 4`.

use std::sync::{Arc, LazyLock};

use realfft::{RealFftPlanner, RealToComplex};

/// Whisper's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;
/// Mel bins.
pub const N_MELS: usize = 80;
/// Samples per frame.
const N_FFT: usize = 400;
/// Samples between frames.
const HOP: usize = 160;
/// Frequency bins of one frame's spectrum.
const BINS: usize = N_FFT / 2 + 1;

/// The 80 × 201 Slaney-scale, Slaney-normalised triangular filters (librosa's `mel(sr=16000,
/// n_fft=400, n_mels=80)`), computed rather than shipped.
pub fn mel_filters() -> Vec<[f32; BINS]> {
    let sr = f64::from(SAMPLE_RATE);
    let f_sp = 200.0 / 3.0;
    let (min_log_hz, logstep) = (1000.0, (6.4f64).ln() / 27.0);
    let min_log_mel = min_log_hz / f_sp;
    let max_mel = 45.245_640_471_924_965; // hz_to_mel(8000)
    let freqs: Vec<f64> = (0..N_MELS + 2)
        .map(|i| {
            let mel = max_mel * i as f64 / (N_MELS + 1) as f64;
            if mel >= min_log_mel {
                min_log_hz * (logstep * (mel - min_log_mel)).exp()
            } else {
                f_sp * mel
            }
        })
        .collect();
    let fft_freqs: Vec<f64> = (0..BINS).map(|k| k as f64 * sr / N_FFT as f64).collect();
    (0..N_MELS)
        .map(|m| {
            let (lo, mid, hi) = (freqs[m], freqs[m + 1], freqs[m + 2]);
            let norm = 2.0 / (hi - lo);
            let mut row = [0.0f32; BINS];
            for (k, &f) in fft_freqs.iter().enumerate() {
                let lower = (f - lo) / (mid - lo);
                let upper = (hi - f) / (hi - mid);
                row[k] = (lower.min(upper).max(0.0) * norm) as f32;
            }
            row
        })
        .collect()
}

static FILTERS: LazyLock<Vec<[f32; BINS]>> = LazyLock::new(mel_filters);
static WINDOW: LazyLock<Vec<f32>> = LazyLock::new(|| {
    (0..N_FFT)
        .map(|n| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()) as f32)
        .collect()
});
static FFT: LazyLock<Arc<dyn RealToComplex<f32>>> =
    LazyLock::new(|| RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT));

/// The features of 16 kHz mono samples in -1..1: `N_MELS` rows of `frames` values each (row-major:
/// `mel[m * frames + t]`), and `frames` (one per 160 samples).
pub fn log_mel(samples: &[f32]) -> (Vec<f32>, usize) {
    // Appended silence, then reflection (numpy's `reflect`: the edge sample is not repeated).
    let mut x = samples.to_vec();
    x.resize(x.len() + HOP, 0.0);
    if x.len() <= N_FFT / 2 {
        x.resize(N_FFT / 2 + 1, 0.0);
    }
    let pad = N_FFT / 2;
    let mut padded = Vec::with_capacity(x.len() + 2 * pad);
    padded.extend((1..=pad).rev().map(|i| x[i]));
    padded.extend_from_slice(&x);
    let n = x.len();
    padded.extend((0..pad).map(|i| x[n - 2 - i]));
    let frames = 1 + (padded.len() - N_FFT) / HOP;
    let kept = frames - 1; // faster-whisper drops the last frame
    let mut power = vec![0.0f32; kept * BINS];
    let mut input = FFT.make_input_vec();
    let mut spectrum = FFT.make_output_vec();
    for t in 0..kept {
        let frame = &padded[t * HOP..t * HOP + N_FFT];
        for ((slot, &s), &w) in input.iter_mut().zip(frame).zip(WINDOW.iter()) {
            *slot = s * w;
        }
        if FFT.process(&mut input, &mut spectrum).is_ok() {
            for (p, c) in power[t * BINS..(t + 1) * BINS].iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
        }
    }
    let mut mel = vec![0.0f32; N_MELS * kept];
    for (m, filter) in FILTERS.iter().enumerate() {
        for t in 0..kept {
            let bins = &power[t * BINS..(t + 1) * BINS];
            let energy: f32 = filter.iter().zip(bins).map(|(f, p)| f * p).sum();
            mel[m * kept + t] = energy.max(1e-10).log10();
        }
    }
    let floor = mel.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) - 8.0;
    for v in &mut mel {
        *v = (v.max(floor) + 4.0) / 4.0;
    }
    (mel, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_slaney_triangles() {
        let f = mel_filters();
        assert_eq!((f.len(), f[0].len()), (80, 201));
        // Every filter is a single non-negative triangle covering at least one bin.
        for row in &f {
            assert!(row.iter().all(|&v| v >= 0.0));
            assert!(row.iter().any(|&v| v > 0.0));
        }
        // librosa's (and faster-whisper's) value of the first filter at bin 1 (40 Hz).
        assert!((f[0][1] - 0.024_862_59).abs() < 1e-7, "{}", f[0][1]);
    }

    #[test]
    fn one_frame_per_hop_and_silence_is_flat() {
        let (mel, frames) = log_mel(&vec![0.0; 16_000]);
        assert_eq!(frames, 101);
        assert_eq!(mel.len(), 80 * 101);
        // Digital silence: every value is the floor, log10(1e-10) = -10 → (-10 + 4) / 4.
        assert!(mel.iter().all(|&v| (v + 1.5).abs() < 1e-6));
    }

    /// faster-whisper's features (its numpy code, run on the same samples), every 8th mel bin of
    /// frames 0, 25 and 50.
    #[test]
    fn features_match_faster_whisper() {
        let samples: Vec<f32> = (0..8000i64)
            .map(|i| (((i * 7919) % 2003 - 1001) as f64 / 2003.0 * 0.3) as f32)
            .collect();
        let (mel, frames) = log_mel(&samples);
        assert_eq!(frames, 51);
        let reference: [(usize, [f32; 10]); 3] = [
            (
                0,
                [
                    0.50079, 0.53769, 0.83032, 0.55794, 0.40979, 0.41852, 0.63703, 0.40194, 0.35856, 0.45362,
                ],
            ),
            (
                25,
                [
                    0.28692, 0.38494, 0.16189, 0.21314, 0.20374, 0.23033, 0.36737, 0.23940, 0.45984, 0.47578,
                ],
            ),
            (
                50,
                [
                    0.38091, 0.30516, 0.64498, 0.51547, 0.45437, 0.20719, 0.48236, 0.12254, 0.39011, 0.39721,
                ],
            ),
        ];
        for (t, column) in reference {
            for (k, want) in column.iter().enumerate() {
                let got = mel[k * 8 * frames + t];
                assert!(
                    (got - want).abs() < 2e-4,
                    "frame {t}, bin {}: {got} != {want}",
                    k * 8
                );
            }
        }
    }

    #[test]
    fn a_tone_lights_its_mel_band() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin() * 0.5)
            .collect();
        let (mel, frames) = log_mel(&tone);
        let t = frames / 2;
        let column: Vec<f32> = (0..80).map(|m| mel[m * frames + t]).collect();
        let loudest = column
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (m, &v)| if v > b.1 { (m, v) } else { b })
            .0;
        // 1 kHz sits in mel bin 26 of 80 (Slaney: 15 mels = 1 kHz, 45.25 mels = 8 kHz).
        assert!((25..=27).contains(&loudest), "{loudest}");
    }
}
