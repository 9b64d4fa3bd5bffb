//! Band-limited resampling between any two integer rates: a polyphase FIR filter (Kaiser-windowed
//! sinc), applied by FFT blocks in the frequency domain ([`super::resample_fft`]) or, for ratios
//! whose blocks would not fit the latency budget ([`DEFAULT_MAX_LATENCY_MS`] unless set) or whose transforms would be
//! too long, evaluated directly with integer phase state. The direct loop below defines the
//! filter's outputs; the FFT path gives them without the images the filter's stopband lets through.
//!
//! For rates `in` and `out` with `g = gcd(in, out)`, the signal is (conceptually) upsampled by
//! `L = out / g`, low-pass filtered, and downsampled by `M = in / g`. Output frame `n` is centred
//! on input time `n · M / L`: it reads input frames up to `⌊(n·M + D) / L⌋`, where `D` is half the
//! filter length, so the direct loop holds the stream back by `D / L` input frames (the FFT path by
//! up to a block more: [`PolyphaseFilter::latency_input_frames`]) and the output is time-aligned with the input (no delay to trim), like `scipy.signal.resample_poly`. Every
//! output depends only on the input frames and integer counters, so a signal cut into chunks of
//! any sizes gives bit-identical output to the whole signal. At end of stream the input is padded
//! with zeros until `⌈frames · L / M⌉` frames have been produced.
//!
//! The filter (the same formula as the Python twin `remotemedia.nodes.audio.resample_filter`):
//! `K` taps per side at the lower rate, `N = 2·K·max(L, M) + 1` taps, Kaiser window with
//! `β = 0.1102 (A − 8.7)` for stopband attenuation `A` dB, transition band
//! `(A − 7.95) / (14.36 K)` of the lower Nyquist frequency ending at that Nyquist frequency, and
//! taps scaled to sum to `L` (unit gain).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::resample_fft::{FftPlan, FftScratch};

/// Filter sizes, per quality preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResampleQuality {
    /// 16 taps per side, 80 dB stopband, passband to 69% of the lower Nyquist frequency.
    Low,
    /// 32 taps per side, 100 dB stopband, passband to 80%.
    Medium,
    /// 64 taps per side, 130 dB stopband, passband to 87%.
    High,
}

impl ResampleQuality {
    /// Every preset's manifest name.
    pub const NAMES: [&'static str; 3] = ["low", "medium", "high"];

    /// Parses a manifest name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// `(taps per side at the lower rate, stopband attenuation in dB)`.
    pub fn design(self) -> (usize, f64) {
        match self {
            Self::Low => (16, 80.0),
            Self::Medium => (32, 100.0),
            Self::High => (64, 130.0),
        }
    }

    /// The passband edge as a fraction of the lower Nyquist frequency.
    pub fn passband(self) -> f64 {
        let (k, a) = self.design();
        1.0 - (a - 7.95) / (14.36 * k as f64)
    }
}

/// The FFT path's default latency budget: blocks hold a stream back by at most this much input
/// (the direct loop, used where no block fits, by the filter's half length only).
pub const DEFAULT_MAX_LATENCY_MS: u32 = 64;

/// Input frames fed to the filter at a time.
const PIECE_FRAMES: usize = 16_384;

/// Filter designs kept by [`PolyphaseFilter::shared`] (rate pairs in use at once).
pub const SHARED_FILTERS: usize = 64;

/// The largest polyphase table (phases × taps) built; larger rate ratios are refused.
const MAX_TABLE: usize = 1 << 24;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, q) = (1.0f64, 1.0f64, x * x / 4.0);
    let mut k = 1.0f64;
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The polyphase filter for one rate pair and quality.
#[derive(Debug)]
pub struct PolyphaseFilter {
    up: u64,
    down: u64,
    taps: usize,
    delay: u64,
    /// `up` phases of `taps` coefficients each, reversed so a phase's dot product reads the input
    /// forwards.
    table: Vec<f32>,
    /// The same filter by FFT blocks (see [`super::resample_fft`]), where they fit the latency
    /// budget.
    fft: Option<FftPlan>,
}

impl PolyphaseFilter {
    /// Designs the filter converting `in_rate` to `out_rate`.
    pub fn design(in_rate: u32, out_rate: u32, quality: ResampleQuality) -> Result<Self, String> {
        Self::design_within(in_rate, out_rate, quality, DEFAULT_MAX_LATENCY_MS)
    }

    /// Designs the filter converting `in_rate` to `out_rate`, holding a stream back by at most
    /// `max_latency_ms` (FFT blocks where they fit in it, else the direct loop, whose latency is
    /// the filter's half length; 0 always gives the direct loop).
    pub fn design_within(
        in_rate: u32,
        out_rate: u32,
        quality: ResampleQuality,
        max_latency_ms: u32,
    ) -> Result<Self, String> {
        if in_rate == 0 || out_rate == 0 {
            return Err("sample rates must be positive".into());
        }
        let g = gcd(u64::from(in_rate), u64::from(out_rate));
        let (up, down) = (u64::from(out_rate) / g, u64::from(in_rate) / g);
        let (k, atten) = quality.design();
        let r = up.max(down) as usize;
        let n = 2 * k * r + 1;
        let taps = n.div_ceil(up as usize);
        if taps.saturating_mul(up as usize) > MAX_TABLE {
            return Err(format!(
                "resampling {in_rate} Hz to {out_rate} Hz needs {up} filter phases of {taps} taps; \
                 rate ratios this fine are not supported yet (at most {MAX_TABLE} coefficients)"
            ));
        }
        let h = prototype(n, up, r, k, atten);
        let mut table = vec![0.0f32; up as usize * taps];
        for phase in 0..up as usize {
            let row = &mut table[phase * taps..(phase + 1) * taps];
            for j in 0..taps {
                let tap = phase + j * up as usize;
                if tap < n {
                    row[taps - 1 - j] = h[tap] as f32;
                }
            }
        }
        Ok(Self {
            up,
            down,
            taps,
            delay: (k * r) as u64,
            table,
            fft: FftPlan::new(
                up,
                down,
                &h,
                (u64::from(in_rate) * u64::from(max_latency_ms) / 1000) as usize,
            ),
        })
    }

    /// The filter for one rate pair and quality, designed once per process and shared by every
    /// stream on it (a design takes milliseconds: the prototype, its tables and transforms). At
    /// most [`SHARED_FILTERS`] designs are kept; past that the cache starts afresh.
    pub fn shared(
        in_rate: u32,
        out_rate: u32,
        quality: ResampleQuality,
        max_latency_ms: u32,
    ) -> Result<Arc<Self>, String> {
        type Cache = HashMap<(u32, u32, ResampleQuality, u32), Arc<PolyphaseFilter>>;
        static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
        let key = (in_rate, out_rate, quality, max_latency_ms);
        let cache = CACHE.get_or_init(Mutex::default);
        if let Some(filter) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(Arc::clone(filter));
        }
        let filter = Arc::new(Self::design_within(in_rate, out_rate, quality, max_latency_ms)?);
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= SHARED_FILTERS {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&filter));
        Ok(filter)
    }

    /// `(L, M)`: the upsampling and downsampling factors.
    pub fn factors(&self) -> (u64, u64) {
        (self.up, self.down)
    }

    /// Taps per phase (input frames read per output frame).
    pub fn taps(&self) -> usize {
        self.taps
    }

    /// Input frames the stream is held back by, at most: the filter's half length (`D / L`), and
    /// with FFT blocks a block (outputs come a block at a time).
    pub fn latency_input_frames(&self) -> f64 {
        match &self.fft {
            Some(plan) => plan.latency_input_frames(),
            None => self.delay as f64 / self.up as f64,
        }
    }

    /// Whether outputs are computed by FFT blocks rather than one by one (all ratios whose blocks
    /// fit the latency budget and whose transforms are not too long).
    pub fn uses_fft(&self) -> bool {
        self.fft.is_some()
    }

    /// Output frames produced from `frames` input frames once the stream has ended.
    pub fn output_frames(&self, frames: u64) -> u64 {
        (frames * self.up).div_ceil(self.down)
    }
}

/// The prototype low-pass filter, `n` taps at `L` times the input rate (see the module docs).
fn prototype(n: usize, up: u64, r: usize, k: usize, atten: f64) -> Vec<f64> {
    let beta = 0.1102 * (atten - 8.7);
    let transition = (atten - 7.95) / (14.36 * k as f64);
    let cutoff = (1.0 - transition / 2.0) / r as f64; // fraction of the upsampled Nyquist
    let centre = ((n - 1) / 2) as f64;
    let norm = bessel_i0(beta);
    let mut h: Vec<f64> = (0..n)
        .map(|i| {
            let x = i as f64 - centre;
            let arg = cutoff * x;
            let sinc = if arg == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
            };
            let ratio = x / centre;
            let window = bessel_i0(beta * (1.0 - ratio * ratio).max(0.0).sqrt()) / norm;
            cutoff * sinc * window
        })
        .collect();
    let scale = up as f64 / h.iter().sum::<f64>();
    for v in &mut h {
        *v *= scale;
    }
    h
}

/// A streaming resampler for interleaved `f32` audio.
#[derive(Debug)]
pub struct Resampler {
    filter: Arc<PolyphaseFilter>,
    channels: usize,
    /// Per channel: input frames from absolute index `hist_start` on (zeros before the stream).
    hist: Vec<Vec<f32>>,
    hist_start: i64,
    consumed: u64,
    produced: u64,
    arch: pulp::Arch,
    scratch: FftScratch,
    /// FFT path: one block's outputs per channel (kept to reuse the buffers call after call).
    block_out: Vec<Vec<f32>>,
    /// A piece of non-`f32` input converted (see [`Resampler::process_converted`]).
    converted: Vec<f32>,
}

impl Resampler {
    /// A resampler from `in_rate` to `out_rate` for `channels` interleaved channels, within the
    /// default latency budget ([`DEFAULT_MAX_LATENCY_MS`]).
    pub fn new(
        in_rate: u32,
        out_rate: u32,
        channels: usize,
        quality: ResampleQuality,
    ) -> Result<Self, String> {
        Self::within(in_rate, out_rate, channels, quality, DEFAULT_MAX_LATENCY_MS)
    }

    /// A resampler holding the stream back by at most `max_latency_ms` (see
    /// [`PolyphaseFilter::design_within`]).
    pub fn within(
        in_rate: u32,
        out_rate: u32,
        channels: usize,
        quality: ResampleQuality,
        max_latency_ms: u32,
    ) -> Result<Self, String> {
        Ok(Self::with_filter(
            PolyphaseFilter::shared(in_rate, out_rate, quality, max_latency_ms)?,
            channels,
        ))
    }

    fn with_filter(filter: impl Into<Arc<PolyphaseFilter>>, channels: usize) -> Self {
        let filter = filter.into();
        let pad = filter.taps - 1;
        Self {
            channels: channels.max(1),
            hist: vec![vec![0.0; pad]; channels.max(1)],
            hist_start: -(pad as i64),
            consumed: 0,
            produced: 0,
            arch: pulp::Arch::new(),
            scratch: FftScratch::default(),
            block_out: vec![Vec::new(); channels.max(1)],
            converted: Vec::new(),
            filter,
        }
    }

    /// The filter in use.
    pub fn filter(&self) -> &PolyphaseFilter {
        &self.filter
    }

    /// Feeds interleaved input frames; returns the interleaved output frames now computable.
    pub fn process(&mut self, input: &[f32]) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.expected_outputs(input.len()));
        for piece in input.chunks(PIECE_FRAMES * self.channels) {
            self.process_piece(piece, &mut out);
        }
        out
    }

    /// [`Resampler::process`] for samples stored in another format: each piece is converted to
    /// `f32` on the way in (no copy of the whole input).
    pub fn process_converted<T: Copy>(&mut self, input: &[T], to_f32: impl Fn(T) -> f32) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.expected_outputs(input.len()));
        let mut buf = std::mem::take(&mut self.converted);
        for piece in input.chunks(PIECE_FRAMES * self.channels) {
            buf.clear();
            buf.extend(piece.iter().map(|&x| to_f32(x)));
            self.process_piece(&buf, &mut out);
        }
        self.converted = buf;
        out
    }

    /// Interleaved output samples computable once `samples` more input samples have arrived.
    fn expected_outputs(&self, samples: usize) -> usize {
        let f = &*self.filter;
        let frames = (samples / self.channels) as u64;
        let frames_out = ((self.consumed + frames) * f.up / f.down).saturating_sub(self.produced);
        frames_out as usize * self.channels
    }

    /// Feeds one piece (long inputs go in pieces, so the history stays small and in cache; the
    /// chunking never changes the output).
    fn process_piece(&mut self, piece: &[f32], out: &mut Vec<f32>) {
        self.append(piece);
        let produced = self.produce(u64::MAX);
        if out.is_empty() && produced.len() > out.capacity() {
            *out = produced;
        } else {
            out.extend_from_slice(&produced);
        }
        self.trim();
    }

    /// Appends interleaved frames to the per-channel history.
    fn append(&mut self, input: &[f32]) {
        let frames = input.len() / self.channels;
        match self.hist.as_mut_slice() {
            [hist] => hist.extend_from_slice(&input[..frames]),
            [left, right] => {
                let (l0, r0) = (left.len(), right.len());
                left.resize(l0 + frames, 0.0);
                right.resize(r0 + frames, 0.0);
                for ((l, r), frame) in left[l0..]
                    .iter_mut()
                    .zip(&mut right[r0..])
                    .zip(input.chunks_exact(2))
                {
                    *l = frame[0];
                    *r = frame[1];
                }
            }
            hists => {
                let channels = hists.len();
                for (c, hist) in hists.iter_mut().enumerate() {
                    hist.extend(input.chunks_exact(channels).map(|frame| frame[c]));
                }
            }
        }
        self.consumed += frames as u64;
    }

    /// Ends the stream: pads with zeros and returns the remaining output frames.
    pub fn flush(&mut self) -> Vec<f32> {
        let total = self.filter.output_frames(self.consumed);
        if self.filter.fft.is_some() {
            let out = self.produce_blocks(total, true);
            self.trim();
            return out;
        }
        if total > self.produced {
            let f = &self.filter;
            let last_base = ((total - 1) * f.down + f.delay) / f.up;
            let end = (last_base + 1) as i64 - self.hist_start;
            for hist in &mut self.hist {
                hist.resize(end.max(0) as usize, 0.0);
            }
            self.consumed = self.consumed.max(last_base + 1);
        }
        let out = self.produce(total);
        self.trim();
        out
    }

    /// Computes outputs while their last input frame has arrived (and `produced < limit`).
    fn produce(&mut self, limit: u64) -> Vec<f32> {
        if self.filter.fft.is_some() {
            return self.produce_blocks(limit, false);
        }
        self.arch.dispatch(Produce {
            resampler: self,
            limit,
        })
    }

    /// The FFT path: whole blocks whose input has arrived (at end of stream, `flushing`, the
    /// rest too, reading zeros past the input), up to `limit` outputs.
    fn produce_blocks(&mut self, limit: u64, flushing: bool) -> Vec<f32> {
        let Some(plan) = self.filter.fft.as_ref() else {
            return Vec::new();
        };
        let per_block = plan.outputs_per_block();
        let mut out = Vec::new();
        let mut channel_out = std::mem::take(&mut self.block_out);
        while self.produced < limit {
            let k = self.produced / per_block;
            let (_, end) = plan.input_range(k);
            if !flushing && end > self.consumed as i64 {
                break;
            }
            let (start, consumed) = (self.hist_start, self.consumed as i64);
            for (hist, dst) in self.hist.iter().zip(&mut channel_out) {
                dst.clear();
                plan.block_outputs(k, hist, start, consumed, &mut self.scratch, dst);
            }
            let n = (per_block.min(limit - self.produced)) as usize;
            let at = out.len();
            match channel_out.as_slice() {
                [only] => out.extend_from_slice(&only[..n]),
                [left, right] => {
                    out.resize(at + 2 * n, 0.0);
                    for ((frame, &l), &r) in out[at..].chunks_exact_mut(2).zip(&left[..n]).zip(&right[..n]) {
                        frame[0] = l;
                        frame[1] = r;
                    }
                }
                channels => {
                    out.resize(at + n * channels.len(), 0.0);
                    for (i, frame) in out[at..].chunks_exact_mut(channels.len()).enumerate() {
                        for (slot, samples) in frame.iter_mut().zip(channels) {
                            *slot = samples[i];
                        }
                    }
                }
            }
            self.produced += n as u64;
        }
        self.block_out = channel_out;
        out
    }

    /// The first input frame a future output reads.
    fn first_needed(&self) -> i64 {
        let f = &*self.filter;
        match &f.fft {
            Some(plan) => plan.input_range(self.produced / plan.outputs_per_block()).0,
            None => ((self.produced * f.down + f.delay) / f.up) as i64 - (f.taps as i64 - 1),
        }
    }

    /// Drops input frames no future output reads.
    fn trim(&mut self) {
        let keep_from = self.first_needed();
        let drop = (keep_from - self.hist_start).max(0) as usize;
        let drop = drop.min(self.hist.first().map_or(0, Vec::len));
        if drop > 0 {
            for hist in &mut self.hist {
                hist.drain(..drop);
            }
            self.hist_start += drop as i64;
        }
    }
}

/// The output loop, compiled for the widest SIMD the CPU has (AVX-512, AVX2 + FMA, or SSE2) and
/// chosen at run time by [`pulp`]: the baseline x86-64 build would otherwise only use SSE2.
struct Produce<'a> {
    resampler: &'a mut Resampler,
    limit: u64,
}

impl pulp::WithSimd for Produce<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Vec<f32> {
        let r = self.resampler;
        let f = &*r.filter;
        let taps = f.taps;
        let (step_base, step_phase) = (f.down / f.up, f.down % f.up);
        let p = r.produced * f.down + f.delay;
        let (mut base, mut phase) = (p / f.up, p % f.up);
        let mut out = Vec::new();
        while r.produced < self.limit && base < r.consumed {
            let coefs = &f.table[phase as usize * taps..(phase as usize + 1) * taps];
            let start = (base as i64 - (taps as i64 - 1) - r.hist_start) as usize;
            for hist in &r.hist {
                out.push(dot(simd, coefs, &hist[start..start + taps]));
            }
            r.produced += 1;
            base += step_base;
            phase += step_phase;
            if phase >= f.up {
                phase -= f.up;
                base += 1;
            }
        }
        out
    }
}

/// `Σ a[i]·b[i]` in two SIMD accumulators. The summation order depends only on the slice length
/// and the instruction set, so chunking never changes a result.
#[inline(always)]
fn dot<S: pulp::Simd>(simd: S, a: &[f32], b: &[f32]) -> f32 {
    let (ah, at) = S::as_simd_f32s(a);
    let (bh, bt) = S::as_simd_f32s(b);
    let (mut acc0, mut acc1) = (simd.splat_f32s(0.0), simd.splat_f32s(0.0));
    let mut pairs_a = ah.chunks_exact(2);
    let mut pairs_b = bh.chunks_exact(2);
    for (x, y) in (&mut pairs_a).zip(&mut pairs_b) {
        acc0 = simd.mul_add_f32s(x[0], y[0], acc0);
        acc1 = simd.mul_add_f32s(x[1], y[1], acc1);
    }
    if let (Some(x), Some(y)) = (pairs_a.remainder().first(), pairs_b.remainder().first()) {
        acc0 = simd.mul_add_f32s(*x, *y, acc0);
    }
    let mut sum = simd.reduce_sum_f32s(simd.add_f32s(acc0, acc1));
    for (x, y) in at.iter().zip(bt) {
        sum += x * y;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32 * 0.5)
            .collect()
    }

    fn whole(r: &mut Resampler, x: &[f32]) -> Vec<f32> {
        let mut y = r.process(x);
        y.extend(r.flush());
        y
    }

    #[test]
    fn output_length_and_alignment() {
        let mut r = Resampler::new(48000, 16000, 1, ResampleQuality::High).expect("filter");
        let x = tone(440.0, 48000, 4800);
        let y = whole(&mut r, &x);
        assert_eq!(y.len(), 1600);
        let want = tone(440.0, 16000, 1600);
        // Away from the edges (where the zero padding is felt) the tone comes out unchanged.
        let err = y[200..1400]
            .iter()
            .zip(&want[200..1400])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-4, "max error {err}");
    }

    #[test]
    fn the_fft_path_stays_within_the_stopband_of_the_direct_loop() {
        let mono = tone(997.0, 48000, 20000);
        let stereo: Vec<f32> = mono.iter().flat_map(|&s| [s, -0.5 * s]).collect();
        for quality in [
            ResampleQuality::Low,
            ResampleQuality::Medium,
            ResampleQuality::High,
        ] {
            // The outputs differ from the direct loop's by the images its stopband lets through.
            let bound = 4.0 * 10f32.powf(-(quality.design().1 as f32) / 20.0) + 2e-6;
            for (rin, rout) in [
                (48000, 16000),
                (16000, 48000),
                (44100, 22050),
                (8000, 48000),
                (44100, 48000),
                (48000, 44100),
                (48000, 32000),
                (16000, 22050),
                (96000, 44100),
            ] {
                for (channels, x) in [(1usize, &mono), (2, &stereo)] {
                    let fast = PolyphaseFilter::design(rin, rout, quality).expect("filter");
                    assert!(fast.uses_fft(), "{rin}->{rout}");
                    let mut direct = PolyphaseFilter::design(rin, rout, quality).expect("filter");
                    direct.fft = None;
                    let a = whole(&mut Resampler::with_filter(fast, channels), x);
                    let b = whole(&mut Resampler::with_filter(direct, channels), x);
                    assert_eq!(a.len(), b.len(), "{rin}->{rout} {quality:?}");
                    let err = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max);
                    assert!(
                        err < bound,
                        "{rin}->{rout} {quality:?} {channels}ch: {err} (bound {bound})"
                    );
                }
            }
        }
    }

    #[test]
    fn the_fft_path_gives_the_tone_at_the_new_rate() {
        for (rin, rout) in [(44100, 48000), (48000, 44100), (48000, 16000), (16000, 48000)] {
            let mut r = Resampler::new(rin, rout, 1, ResampleQuality::High).expect("filter");
            let y = whole(&mut r, &tone(1000.0, rin, rin as usize));
            assert_eq!(y.len(), rout as usize);
            let want = tone(1000.0, rout, rout as usize);
            let n = rout as usize;
            let err = y[n / 10..n - n / 10]
                .iter()
                .zip(&want[n / 10..n - n / 10])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 3e-6, "{rin}->{rout}: max error {err}");
        }
    }

    #[test]
    fn outputs_lag_the_input_by_at_most_the_stated_latency() {
        for quality in [ResampleQuality::Low, ResampleQuality::High] {
            for (rin, rout, ms) in [
                (48000, 16000, 60.0),
                (16000, 48000, 60.0),
                (44100, 48000, 26.3),
                (48000, 44100, 26.3),
                (8000, 16000, 64.0),
                (48000, 8000, 64.0),
                (16000, 22050, 64.0),
                (8000, 11025, 8.1),
            ] {
                let mut r = Resampler::new(rin, rout, 1, quality).expect("filter");
                let latency = r.filter().latency_input_frames();
                assert!(
                    latency * 1000.0 / f64::from(rin) <= ms + 0.1,
                    "{rin}->{rout}: {latency}"
                );
                let x = tone(440.0, rin, rin as usize);
                let (mut consumed, mut produced) = (0usize, 0usize);
                for chunk in x.chunks(rin as usize / 100) {
                    produced += r.process(chunk).len();
                    consumed += chunk.len();
                    let due = (consumed as f64 - latency) * f64::from(rout) / f64::from(rin);
                    assert!(
                        produced as f64 >= due.floor(),
                        "{rin}->{rout} after {consumed}: {produced} < {due}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_smaller_latency_budget_gives_smaller_blocks_or_the_direct_loop() {
        let x = tone(440.0, 48000, 9000);
        for (budget, fft, max_ms) in [(0, false, 4.1), (20, true, 20.0), (64, true, 64.0)] {
            let mut r = Resampler::within(48000, 16000, 1, ResampleQuality::High, budget).unwrap();
            assert_eq!(r.filter().uses_fft(), fft, "budget {budget}");
            let latency_ms = r.filter().latency_input_frames() / 48.0;
            assert!(latency_ms <= max_ms, "budget {budget}: {latency_ms} ms");
            // Whatever the budget, the same signal (the FFT path within the stopband).
            let y = whole(&mut r, &x);
            let reference = whole(
                &mut Resampler::new(48000, 16000, 1, ResampleQuality::High).unwrap(),
                &x,
            );
            assert_eq!(y.len(), reference.len());
            let err = y
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 2e-6, "budget {budget}: {err}");
        }
    }

    #[test]
    fn very_fine_ratios_use_the_direct_loop() {
        let f = PolyphaseFilter::design(44100, 44101, ResampleQuality::Low).expect("filter");
        assert!(!f.uses_fft());
        // No block of 441 outputs fits in 64 ms of 8 kHz input: the direct loop (8 ms).
        let f = PolyphaseFilter::design(8000, 11025, ResampleQuality::High).expect("filter");
        assert!(!f.uses_fft());
        assert_eq!(f.latency_input_frames(), 64.0);
    }

    #[test]
    fn fft_chunking_does_not_change_the_output() {
        for (rin, rout) in [
            (48000, 16000),
            (16000, 48000),
            (44100, 48000),
            (48000, 44100),
            (48000, 32000),
        ] {
            let x = tone(440.0, rin, 9000);
            let stereo: Vec<f32> = x.iter().flat_map(|&s| [s, -s]).collect();
            let reference = whole(
                &mut Resampler::new(rin, rout, 2, ResampleQuality::High).unwrap(),
                &stereo,
            );
            for size in [1usize, 7, 160, 1663, 5000] {
                let mut r = Resampler::new(rin, rout, 2, ResampleQuality::High).unwrap();
                let mut y = Vec::new();
                for chunk in stereo.chunks(size * 2) {
                    y.extend(r.process(chunk));
                }
                y.extend(r.flush());
                assert_eq!(y, reference, "{rin}->{rout} chunks of {size}");
            }
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let x = tone(1000.0, 44100, 3000);
        let stereo: Vec<f32> = x.iter().flat_map(|&s| [s, -s]).collect();
        let mut r = Resampler::new(44100, 48000, 2, ResampleQuality::Medium).expect("filter");
        let reference = whole(&mut r, &stereo);
        assert_eq!(reference.len(), 2 * 3266);
        for size in [1usize, 7, 441, 2999] {
            let mut r = Resampler::new(44100, 48000, 2, ResampleQuality::Medium).expect("filter");
            let mut y = Vec::new();
            for chunk in stereo.chunks(size * 2) {
                y.extend(r.process(chunk));
            }
            y.extend(r.flush());
            assert_eq!(y, reference, "chunks of {size}");
        }
    }

    #[test]
    fn unsupported_ratios_are_refused() {
        let err = PolyphaseFilter::design(1, 384_001, ResampleQuality::High).expect_err("too fine");
        assert!(err.contains("not supported yet"), "{err}");
    }
}
