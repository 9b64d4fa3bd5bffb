//! The resampler's fast path for integer ratios (`L = 1` or `M = 1`: 48→16, 16→48, 44.1→22.05
//! kHz, …): the same filter and the same output samples as the direct polyphase loop
//! ([`super::resample`]), computed by FFT overlap-save convolution in fixed blocks.
//!
//! In the upsampled domain (the input itself when `L = 1`; the input with `L − 1` zeros after
//! each sample when `M = 1`), output `n` is the filter's convolution at position
//! `p = n·M + D` (`D` = half the filter length). Block `k` covers positions `D + k·B …
//! D + (k+1)·B`: its input segment (the `N − 1` positions before it and the block itself, zeros
//! beyond what the block reads) is transformed, multiplied by the filter's spectrum and
//! transformed back. A zero-stuffed segment's spectrum is the input's spectrum repeated `L` times,
//! so upsampling transforms only the input (a transform `L` times shorter). Blocks sit at fixed
//! stream positions and read nothing past their own end, so any chunking gives bit-identical output.
//! A block is computed once its last input frame has arrived: the stream is held back by up to
//! `B` positions (`B / M` input frames, or `B / L`) more than the direct loop.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Which side of the ratio is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `L = 1`: keep every `M`-th convolution output.
    Down(usize),
    /// `M = 1`: the input zero-stuffed by `L`.
    Up(usize),
}

/// One rate pair's transforms and the filter's spectrum (shared by every stream on it).
pub struct FftPlan {
    kind: Kind,
    /// Filter taps `N`.
    taps: usize,
    /// `D = (N − 1) / 2`.
    delay: u64,
    /// Transform length `F` (in the upsampled domain).
    len: usize,
    /// Block length `B` (positions in the upsampled domain; a multiple of `M`).
    block: usize,
    /// The filter's spectrum, scaled by `1 / F`.
    spectrum: Vec<Complex<f32>>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
}

impl std::fmt::Debug for FftPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftPlan")
            .field("kind", &self.kind)
            .field("taps", &self.taps)
            .field("len", &self.len)
            .field("block", &self.block)
            .finish()
    }
}

impl FftPlan {
    /// A plan for factors `(up, down)` (one of them 1) and filter `h` (`N` taps, summing to `up`),
    /// or `None` when the ratio is not an integer one.
    pub fn new(up: u64, down: u64, h: &[f64]) -> Option<Self> {
        let kind = match (up, down) {
            (1, m) if m > 1 => Kind::Down(m as usize),
            (l, 1) if l > 1 => Kind::Up(l as usize),
            _ => return None,
        };
        let taps = h.len();
        let factor = match kind {
            Kind::Down(m) => m,
            Kind::Up(l) => l,
        };
        // About four times the filter, a multiple of the factor (so an upsampled transform is `L`
        // times a shorter one), with small prime factors. Measured (audio_speed, 60 s 48→16 kHz
        // with `high`): twice the filter is about 10 % slower, eight times no faster; a block is
        // then 56 ms at 48 kHz with `high` (28 ms with `medium`, 14 ms with `low`).
        let target = (4 * taps).max(256);
        let mut len = factor * (target / factor).next_power_of_two();
        if len < target {
            len *= 2;
        }
        let overlap = (taps - 1) + if let Kind::Up(l) = kind { l - 1 } else { 0 };
        let block = match kind {
            Kind::Down(m) => (len - overlap) / m * m,
            Kind::Up(_) => len - overlap,
        };
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(match kind {
            Kind::Down(_) => len,
            Kind::Up(l) => len / l,
        });
        let inverse = planner.plan_fft_inverse(match kind {
            Kind::Down(m) => len / m,
            Kind::Up(_) => len,
        });
        // The filter's spectrum, in f64, then f32.
        let mut planner64 = RealFftPlanner::<f64>::new();
        let filter_fft = planner64.plan_fft_forward(len);
        let mut padded = vec![0.0f64; len];
        padded[..taps].copy_from_slice(h);
        let mut spectrum64 = filter_fft.make_output_vec();
        filter_fft.process(&mut padded, &mut spectrum64).ok()?;
        let scale = 1.0 / len as f64;
        let spectrum = spectrum64
            .iter()
            .map(|c| Complex::new((c.re * scale) as f32, (c.im * scale) as f32))
            .collect();
        Some(Self {
            kind,
            taps,
            delay: ((taps - 1) / 2) as u64,
            len,
            block,
            spectrum,
            forward,
            inverse,
        })
    }

    /// Outputs per block.
    pub fn outputs_per_block(&self) -> u64 {
        match self.kind {
            Kind::Down(m) => (self.block / m) as u64,
            Kind::Up(_) => self.block as u64,
        }
    }

    /// Input frames a stream is held back by, at most, beyond the filter's own delay.
    pub fn block_input_frames(&self) -> usize {
        match self.kind {
            Kind::Down(_) => self.block,
            Kind::Up(l) => self.block.div_ceil(l),
        }
    }

    /// Block `k`'s first position in the upsampled domain.
    fn block_start(&self, k: u64) -> i64 {
        (self.delay + k * self.block as u64) as i64
    }

    /// The first input frame block `k` reads, and one past the last.
    pub fn input_range(&self, k: u64) -> (i64, i64) {
        let p0 = self.block_start(k);
        let first = p0 - (self.taps as i64 - 1);
        let end = p0 + self.block as i64; // positions p0 .. end
        match self.kind {
            Kind::Down(_) => (first, end),
            Kind::Up(l) => {
                let l = l as i64;
                (first.div_euclid(l), (end - 1).div_euclid(l) + 1)
            }
        }
    }
}

/// A stream's working buffers.
#[derive(Debug, Default)]
pub struct FftScratch {
    time: Vec<f32>,
    freq: Vec<Complex<f32>>,
    short: Vec<Complex<f32>>,
    out: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl FftPlan {
    /// Computes block `k` of one channel whose input frames `start ..` are `hist` (frames before
    /// 0 and from `end` on read as zeros), appending the block's outputs to `out`.
    pub fn block_outputs(
        &self,
        k: u64,
        hist: &[f32],
        start: i64,
        end: i64,
        s: &mut FftScratch,
        out: &mut Vec<f32>,
    ) {
        let (first, last) = self.input_range(k);
        let p0 = self.block_start(k);
        let (time_len, bins) = match self.kind {
            Kind::Down(m) => (self.len, self.len / m / 2 + 1),
            Kind::Up(l) => (self.len / l, self.len / l / 2 + 1),
        };
        // The segment: input frames first .. last, zeros outside the stream and after it.
        s.time.clear();
        s.time.resize(time_len, 0.0);
        let from = first.max(0).max(start);
        let to = last.min(end).min(start + hist.len() as i64);
        if from < to {
            let src = &hist[(from - start) as usize..(to - start) as usize];
            s.time[(from - first) as usize..(to - first) as usize].copy_from_slice(src);
        }
        s.freq.resize(self.len / 2 + 1, Complex::default());
        s.short.resize(bins, Complex::default());
        let scratch_len = self.forward.get_scratch_len().max(self.inverse.get_scratch_len());
        s.scratch.resize(scratch_len, Complex::default());
        // Lengths match the plans, so the transforms cannot fail.
        match self.kind {
            Kind::Down(m) => {
                let _ = self
                    .forward
                    .process_with_scratch(&mut s.time, &mut s.freq, &mut s.scratch);
                for (bin, h) in s.freq.iter_mut().zip(&self.spectrum) {
                    *bin *= h;
                }
                // Keeping every M-th output = folding the spectrum M times, then a transform M
                // times shorter.
                let short = self.len / m;
                let half = self.len / 2;
                for (k, bin) in s.short.iter_mut().enumerate() {
                    let mut sum = Complex::default();
                    for j in 0..m {
                        let i = k + j * short;
                        sum += if i <= half {
                            s.freq[i]
                        } else {
                            s.freq[self.len - i].conj()
                        };
                    }
                    *bin = sum;
                }
                real_ends(&mut s.short);
                s.out.resize(short, 0.0);
                let _ = self
                    .inverse
                    .process_with_scratch(&mut s.short, &mut s.out, &mut s.scratch);
                let skip = (self.taps - 1) / m;
                out.extend_from_slice(&s.out[skip..skip + self.block / m]);
            }
            Kind::Up(l) => {
                let _ = self
                    .forward
                    .process_with_scratch(&mut s.time, &mut s.short, &mut s.scratch);
                // The zero-stuffed segment's spectrum: the short spectrum, repeated.
                for (i, (bin, h)) in s.freq.iter_mut().zip(&self.spectrum).enumerate() {
                    let m = i % time_len;
                    let x = if m <= time_len / 2 {
                        s.short[m]
                    } else {
                        s.short[time_len - m].conj()
                    };
                    *bin = x * h;
                }
                real_ends(&mut s.freq);
                s.out.resize(self.len, 0.0);
                let _ = self
                    .inverse
                    .process_with_scratch(&mut s.freq, &mut s.out, &mut s.scratch);
                let from = (p0 - first * l as i64) as usize;
                out.extend_from_slice(&s.out[from..from + self.block]);
            }
        }
    }
}

/// A real signal's spectrum: the first and last bins are real.
fn real_ends(freq: &mut [Complex<f32>]) {
    if let Some(first) = freq.first_mut() {
        first.im = 0.0;
    }
    if let Some(last) = freq.last_mut() {
        last.im = 0.0;
    }
}
