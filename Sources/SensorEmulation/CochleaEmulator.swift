import Foundation
import SpikeTensor
import EventIO

/// Parameters of the emulated silicon cochlea (CochleaAMS1b-like, as behind N-TIDIGITS).
///
/// Per channel k (centre frequency f_k, Hz):
/// 1. **Band-pass**: a 4th-order gammatone filter, built as a cascade of four identical
///    complex one-pole filters `y[n] = (1 − a)·x[n] + a·e^{iω_k}·y[n−1]` with
///    `ω_k = 2π f_k / fs`, `a = exp(−2π b_k / fs)`, `b_k = 1.019·ERB(f_k)`,
///    `ERB(f) = 24.7 + 0.108·f` Hz (Glasberg & Moore). The band output is `2·Re(y)`, whose
///    gain at f_k is 1 (0 dB).
/// 2. **Half-wave rectification** `r = max(band, 0)` and smoothing by a one-pole low-pass
///    with time constant τ_s (`smoothingSeconds`): `s[n] = s[n−1] + (r[n] − s[n−1])·(1 − e^{−1/(fs·τ_s)})`.
/// 3. **Compression** `c = ln(1 + s / s0)` (linear below the knee s0, logarithmic above it;
///    s0 = `compressionKnee`, in units of full-scale sample amplitude).
/// 4. **Asynchronous delta modulator**: an ON event each time `c − c_ref ≥ θ_k`, then
///    `c_ref ← c_ref + θ_k`; when `c_ref − c ≥ θ_k` the reference steps down silently
///    (`c_ref ← c_ref − θ_k`, an OFF crossing that is not emitted: N-TIDIGITS addresses carry
///    only the channel). `θ_k = θ·(1 + σ·N(0,1))` (per-channel mismatch, clamped ≥ 0.3θ). A
///    channel cannot fire within `refractoryMicroseconds` of its previous event (the crossing
///    waits, it is not lost).
/// 5. **Noise**: spontaneous events on every channel, Poisson with `noiseRateHz` each.
///
/// Centre frequencies are log-spaced from `lowestCentreHz` to
/// `min(highestCentreHz, 0.45·fs)`; **channel 0 is the lowest frequency**.
public struct CochleaParameters: Sendable, Equatable {
    public var channelCount: Int
    /// Lowest centre frequency, Hz.
    public var lowestCentreHz: Double
    /// Highest centre frequency, Hz (clipped to 0.45·fs).
    public var highestCentreHz: Double
    /// τ_s of the envelope smoothing low-pass, seconds.
    public var smoothingSeconds: Double
    /// s0, the knee of the log compression, in full-scale units (sample amplitude 1).
    public var compressionKnee: Double
    /// Nominal delta-modulator threshold θ, in units of c (natural log).
    public var threshold: Double
    /// Relative σ of the per-channel threshold mismatch.
    public var thresholdMismatchSigma: Double
    /// Refractory period per channel, µs.
    public var refractoryMicroseconds: Int64
    /// Spontaneous event rate per channel, Hz.
    public var noiseRateHz: Double

    public init(channelCount: Int = 64, lowestCentreHz: Double = 100, highestCentreHz: Double = 8000,
                smoothingSeconds: Double = 0.001, compressionKnee: Double = 0.002, threshold: Double = 0.5,
                thresholdMismatchSigma: Double = 0.1, refractoryMicroseconds: Int64 = 1000,
                noiseRateHz: Double = 0.5) {
        self.channelCount = channelCount; self.lowestCentreHz = lowestCentreHz
        self.highestCentreHz = highestCentreHz; self.smoothingSeconds = smoothingSeconds
        self.compressionKnee = compressionKnee; self.threshold = threshold
        self.thresholdMismatchSigma = thresholdMismatchSigma
        self.refractoryMicroseconds = refractoryMicroseconds; self.noiseRateHz = noiseRateHz
    }
}

/// The silicon-cochlea emulator: waveform → 64-channel `CochleaEvents` (see `CochleaParameters`).
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let events = try CochleaEmulator().emulate(samples: wave, sampleRate: 8000, using: &rng)
/// ```
public struct CochleaEmulator: Sendable {
    public var parameters: CochleaParameters

    public init(parameters: CochleaParameters = CochleaParameters()) { self.parameters = parameters }

    /// The N-TIDIGITS-like default.
    public static let nTidigitsPreset = CochleaEmulator()

    /// Centre frequencies f_k (Hz) for sample rate `fs`, ascending (channel 0 lowest):
    /// `f_k = f_lo·(f_hi/f_lo)^{k/(K−1)}`, `f_hi = min(highestCentreHz, 0.45·fs)`.
    public func centreFrequencies(sampleRate fs: Double) -> [Double] {
        let k = parameters.channelCount
        let lo = parameters.lowestCentreHz
        let hi = max(lo, min(parameters.highestCentreHz, 0.45 * fs))
        guard k > 1 else { return [lo] }
        return (0..<k).map { lo * pow(hi / lo, Double($0) / Double(k - 1)) }
    }

    /// Emulates the cochlea's events for `samples` (full scale ±1) at `sampleRate` Hz.
    /// Timestamps are sample times `n·10⁶/fs` µs from the first sample.
    public func emulate(samples: [Float], sampleRate: Double, using rng: inout SeededGenerator) throws -> CochleaEvents {
        let p = parameters
        guard sampleRate >= 1000, sampleRate.isFinite else {
            throw EmulationError.invalidParameter("cochlea sample rate \(sampleRate) Hz (need ≥ 1000 Hz)")
        }
        guard p.channelCount > 0, p.channelCount <= Int(UInt16.max), p.lowestCentreHz > 0, p.threshold > 0 else {
            throw EmulationError.invalidParameter("cochlea channel count / lowest centre / threshold")
        }
        guard samples.allSatisfy({ $0.isFinite }) else {
            throw EmulationError.invalidParameter("waveform contains NaN or infinity")
        }
        var thresholds = [Double](repeating: p.threshold, count: p.channelCount)
        for k in 0..<p.channelCount where p.thresholdMismatchSigma > 0 {
            thresholds[k] = max(0.3 * p.threshold, p.threshold * (1 + p.thresholdMismatchSigma * rng.nextGaussian()))
        }
        var all: [(t: Int64, ch: UInt16)] = []
        let freqs = centreFrequencies(sampleRate: sampleRate)
        var smoothed = [Double](repeating: 0, count: samples.count)
        for k in 0..<p.channelCount {
            CochleaChannel.envelope(samples, sampleRate: sampleRate, centreHz: freqs[k],
                                    smoothingSeconds: p.smoothingSeconds, into: &smoothed)
            CochleaChannel.deltaModulate(smoothed, sampleRate: sampleRate, knee: p.compressionKnee,
                                         threshold: thresholds[k], refractory: p.refractoryMicroseconds) {
                all.append(($0, UInt16(k)))
            }
        }
        // spontaneous events: total rate K·λ, uniform channel
        if p.noiseRateHz > 0 && !samples.isEmpty {
            let end = Double(samples.count) / sampleRate * 1e6
            var t = 0.0
            while true {
                t += rng.exponential(rate: p.noiseRateHz * Double(p.channelCount)) * 1e6
                if t >= end { break }
                all.append((Int64(t), UInt16(rng.nextInt(below: p.channelCount))))
            }
        }
        all.sort { $0.t != $1.t ? $0.t < $1.t : $0.ch < $1.ch }
        return CochleaEvents(channelCount: p.channelCount, t: all.map(\.t), channel: all.map(\.ch))
    }
}

/// The per-channel stages, as plain step loops.
enum CochleaChannel {
    /// Gammatone band-pass (4 complex one-pole stages), half-wave rectification and one-pole
    /// smoothing: `out[n] = s[n]` (see `CochleaParameters`). `out.count == x.count`.
    static func envelope(_ x: [Float], sampleRate fs: Double, centreHz fc: Double, smoothingSeconds: Double,
                         into out: inout [Double]) {
        let erb = 24.7 + 0.108 * fc
        let a = exp(-2 * Double.pi * 1.019 * erb / fs)
        let w = 2 * Double.pi * fc / fs
        let pr = a * cos(w), pi = a * sin(w)           // pole p = a·e^{iω}
        let g = 1 - a
        let alpha = 1 - exp(-1 / (fs * max(smoothingSeconds, 1e-6)))
        var r1 = 0.0, i1 = 0.0, r2 = 0.0, i2 = 0.0, r3 = 0.0, i3 = 0.0, r4 = 0.0, i4 = 0.0
        var s = 0.0
        for n in 0..<x.count {
            // stage 1: y = g·x + p·y
            let xr = g * Double(x[n])
            (r1, i1) = (xr + pr * r1 - pi * i1, pr * i1 + pi * r1)
            (r2, i2) = (g * r1 + pr * r2 - pi * i2, g * i1 + pr * i2 + pi * r2)
            (r3, i3) = (g * r2 + pr * r3 - pi * i3, g * i2 + pr * i3 + pi * r3)
            (r4, i4) = (g * r3 + pr * r4 - pi * i4, g * i3 + pr * i4 + pi * r4)
            let band = 2 * r4
            s += (max(band, 0) - s) * alpha
            out[n] = s
        }
    }

    /// ON-only delta modulation of `c = ln(1 + s/s0)` with a refractory period; calls `emit`
    /// with each event's time in µs.
    static func deltaModulate(_ s: [Double], sampleRate fs: Double, knee: Double, threshold: Double,
                              refractory: Int64, emit: (Int64) -> Void) {
        var ref = 0.0                      // c of silence
        var last = Int64.min / 2
        let invKnee = 1 / max(knee, 1e-12)
        for n in 0..<s.count {
            let c = log1p(s[n] * invKnee)
            while ref - c >= threshold { ref -= threshold }     // silent OFF crossings
            if c - ref >= threshold {
                let t = Int64((Double(n) * 1e6 / fs).rounded())
                if t - last >= refractory {
                    emit(t); last = t; ref += threshold
                }
            }
        }
    }
}
