import Foundation
import SpikeTensor
import EventIO

/// A speaker of the formant synthesiser.
public struct SpeakerVoice: Sendable, Equatable {
    /// Mean fundamental frequency F0, Hz.
    public var pitchHz: Float
    /// Vocal-tract scale: every formant frequency is multiplied by it (1 = adult male table;
    /// ~1.15 for a shorter vocal tract).
    public var vocalTractScale: Float
    /// Speaking rate (2 = twice as fast: every duration halves).
    public var rate: Float
    /// Level of the speech, dB relative to the settings' reference RMS.
    public var loudnessDB: Float

    public init(pitchHz: Float = 120, vocalTractScale: Float = 1, rate: Float = 1, loudnessDB: Float = 0) {
        self.pitchHz = pitchHz; self.vocalTractScale = vocalTractScale; self.rate = rate; self.loudnessDB = loudnessDB
    }
}

/// Variation knobs of the procedural spoken digits (defaults are the shipped dataset's).
///
/// The defaults are calibrated for the paper's A-network (τ = 0.1 recurrent SNN): studio-like
/// SNR 20–40 dB (TIDIGITS was recorded in a quiet room), rate ±15 %, formant σ 6 %, duration
/// σ 10 %. With 10–30 dB, ±25 %, 8 %, 15 % the A-network reached only ~58 % test accuracy in
/// the demo setting (alone it reaches 80–84 % on the new defaults; in the multimodal mode its
/// training is unstable, see docs/emulators.md, "Difficulty knobs", for the measured runs).
public struct SpeechSettings: Sendable, Equatable {
    /// Output sample rate, Hz (8000 or 16000).
    public var sampleRate: Double
    /// Clip length, seconds; the word is placed at a random offset inside it.
    public var clipSeconds: Double
    /// Reference RMS of the speech part (full scale 1), before the loudness variation.
    public var referenceRMS: Float
    /// Range of speaker F0, Hz.
    public var pitchRangeHz: ClosedRange<Float>
    /// ± relative range of the vocal-tract scale (formants ×(1 ± this)).
    public var vocalTractVariation: Float
    /// ± relative range of the speaking rate.
    public var rateVariation: Float
    /// ± range of the loudness, dB.
    public var loudnessVariationDB: Float
    /// Relative σ of each phoneme's formant targets (token-to-token variation).
    public var formantJitter: Float
    /// Relative σ of each phoneme's duration.
    public var durationJitter: Float
    /// Relative σ of the cycle-to-cycle F0 (jitter).
    public var pitchJitter: Float
    /// Range of the signal-to-noise ratio of the added white background noise, dB.
    public var snrRangeDB: ClosedRange<Float>

    public init(sampleRate: Double = 8000, clipSeconds: Double = 1.0, referenceRMS: Float = 0.1,
                pitchRangeHz: ClosedRange<Float> = 80...250, vocalTractVariation: Float = 0.15,
                rateVariation: Float = 0.15, loudnessVariationDB: Float = 6, formantJitter: Float = 0.06,
                durationJitter: Float = 0.10, pitchJitter: Float = 0.01, snrRangeDB: ClosedRange<Float> = 20...40) {
        self.sampleRate = sampleRate; self.clipSeconds = clipSeconds; self.referenceRMS = referenceRMS
        self.pitchRangeHz = pitchRangeHz; self.vocalTractVariation = vocalTractVariation
        self.rateVariation = rateVariation; self.loudnessVariationDB = loudnessVariationDB
        self.formantJitter = formantJitter; self.durationJitter = durationJitter
        self.pitchJitter = pitchJitter; self.snrRangeDB = snrRangeDB
    }

    /// A random speaker within these ranges. Pitch and vocal-tract scale are correlated
    /// (higher voices have shorter tracts), as in real speakers.
    public func randomVoice(using rng: inout SeededGenerator) -> SpeakerVoice {
        let u = rng.nextUniform()
        let pitch = pitchRangeHz.lowerBound + u * (pitchRangeHz.upperBound - pitchRangeHz.lowerBound)
        let tract = 1 + vocalTractVariation * (0.6 * (2 * u - 1) + 0.4 * rng.nextUniform(-1, 1))
        return SpeakerVoice(pitchHz: pitch, vocalTractScale: tract,
                            rate: 1 + rateVariation * rng.nextUniform(-1, 1),
                            loudnessDB: loudnessVariationDB * rng.nextUniform(-1, 1))
    }
}

/// A source–filter (Klatt-style cascade) formant synthesiser for the ten digit words.
///
/// - **Voice source**: Rosenberg glottal pulses at F0 (declining 8 % → −10 % over the word,
///   cycle-to-cycle jitter σ = `pitchJitter`), differentiated (lip radiation, +6 dB/oct).
/// - **Noise source**: white noise through a parallel 2-pole resonator at the fricative's
///   centre/bandwidth, normalised to unit peak gain (fricatives z s f th v; stop bursts t k).
/// - **Vocal tract**: four 2nd-order resonators in cascade,
///   `y[n] = A·x[n] + B·y[n−1] + C·y[n−2]`, `C = −e^{−2πb/fs}`, `B = 2e^{−πb/fs}·cos(2πF/fs)`,
///   `A = 1 − B − C` (unit gain at 0 Hz), with F1–F3 from the phoneme table × the speaker's
///   vocal-tract scale and F4 = 3500 Hz × scale (every F ≤ 0.45·fs).
/// - **Transitions**: formant tracks follow the targets through one-pole smoothing (τ = 15 ms),
///   amplitudes through τ = 4 ms.
/// - Output: the word scaled to `referenceRMS`·10^{loudness/20}, placed at a uniform random
///   offset in a `clipSeconds` clip, plus white noise at a uniform SNR in `snrRangeDB`.
public struct FormantSynthesizer: Sendable {
    public var settings: SpeechSettings

    public init(settings: SpeechSettings = SpeechSettings()) { self.settings = settings }

    /// Every phoneme-table duration is multiplied by this (slower, TIDIGITS-like isolated
    /// words: 0.39–0.66 s at rate 1 instead of the table's 0.31–0.53 s).
    static let durationScale: Float = 1.25

    /// The English word for `digit`.
    public static func word(for digit: Int) -> String { Phoneme.wordNames[digit] }

    /// A clip (`clipSeconds`·fs samples) of `voice` saying `digit` (0…9), with background noise.
    public func synthesize(digit: Int, voice: SpeakerVoice, using rng: inout SeededGenerator) -> [Float] {
        precondition((0...9).contains(digit), "digit must be 0…9")
        var speech = speak(Phoneme.words[digit], voice: voice, jitter: true, using: &rng)
        let fs = settings.sampleRate
        let clipCount = max(1, Int(settings.clipSeconds * fs))
        if speech.count > clipCount - Int(0.02 * fs) { speech = Array(speech.prefix(max(0, clipCount - Int(0.02 * fs)))) }
        // level
        let rms = rootMeanSquare(speech)
        let target = settings.referenceRMS * powf(10, voice.loudnessDB / 20)
        let gain = rms > 0 ? target / rms : 0
        var clip = [Float](repeating: 0, count: clipCount)
        let slack = clipCount - speech.count
        let offset = min(slack, Int(0.02 * fs) + rng.nextInt(below: max(1, slack - Int(0.04 * fs))))
        for i in 0..<speech.count { clip[offset + i] = speech[i] * gain }
        // background noise at the drawn SNR (relative to the speech RMS)
        let snr = rng.nextUniform(settings.snrRangeDB.lowerBound, settings.snrRangeDB.upperBound)
        let noiseRMS = target * powf(10, -snr / 20)
        for i in 0..<clipCount { clip[i] += noiseRMS * Float(rng.nextGaussian()) }
        return clip
    }

    /// The bare word (no padding, no noise, unnormalised) for a phoneme sequence.
    func speak(_ phonemes: [PhonemeTarget], voice: SpeakerVoice, jitter: Bool,
               using rng: inout SeededGenerator) -> [Float] {
        let fs = Float(settings.sampleRate)
        let nyquistCap = 0.45 * fs
        // Schedule: per-phoneme sample counts and (jittered) targets.
        var targets: [PhonemeTarget] = []
        var ends: [Int] = []
        var total = 0
        for var p in phonemes {
            if jitter {
                let fj = settings.formantJitter
                p.f1 *= 1 + fj * rng.gaussian(sigma: 1); p.f2 *= 1 + fj * rng.gaussian(sigma: 1)
                p.f3 *= 1 + 0.5 * fj * rng.gaussian(sigma: 1)
                p.milliseconds *= max(0.5, 1 + settings.durationJitter * rng.gaussian(sigma: 1))
            }
            let vt = voice.vocalTractScale
            p.f1 = min(p.f1 * vt, nyquistCap); p.f2 = min(p.f2 * vt, nyquistCap); p.f3 = min(p.f3 * vt, nyquistCap)
            p.fricationHz = min(p.fricationHz, 0.42 * fs)
            total += max(1, Int(p.milliseconds * Self.durationScale / 1000 / max(voice.rate, 0.1) * fs))
            targets.append(p); ends.append(total)
        }
        let tail = Int(0.03 * fs)   // let the resonators ring out
        var out = [Float](repeating: 0, count: total + tail)
        let kF = 1 - expf(-1 / (fs * 0.015)), kA = 1 - expf(-1 / (fs * 0.004))
        var f1 = targets[0].f1, f2 = targets[0].f2, f3 = targets[0].f3
        var b1 = targets[0].b1, b2 = targets[0].b2, b3 = targets[0].b3
        var av: Float = 0, af: Float = 0, fricHz = targets[0].fricationHz, fricBw = targets[0].fricationBandwidth
        let f4 = min(3500 * voice.vocalTractScale, nyquistCap)
        var r1 = Resonator(), r2 = Resonator(), r3 = Resonator(), r4 = Resonator(), rf = Resonator()
        r4.set(frequency: f4, bandwidth: 250, sampleRate: fs)
        var phase: Float = 0, periodF0 = voice.pitchHz, previousPulse: Float = 0
        var seg = 0
        for n in 0..<out.count {
            while seg < targets.count - 1 && n >= ends[seg] { seg += 1 }
            let tg = targets[seg]
            let silent = n >= total
            f1 += (tg.f1 - f1) * kF; f2 += (tg.f2 - f2) * kF; f3 += (tg.f3 - f3) * kF
            b1 += (tg.b1 - b1) * kF; b2 += (tg.b2 - b2) * kF; b3 += (tg.b3 - b3) * kF
            av += ((silent ? 0 : tg.voicing) - av) * kA
            af += ((silent ? 0 : tg.frication) - af) * kA
            fricHz += (tg.fricationHz - fricHz) * kA; fricBw += (tg.fricationBandwidth - fricBw) * kA
            // glottal source: Rosenberg pulse, differentiated
            let progress = Float(n) / Float(max(total, 1))
            let f0 = periodF0 * (1.08 - 0.18 * progress)
            phase += f0 / fs
            if phase >= 1 {
                phase -= 1
                periodF0 = jitter ? voice.pitchHz * (1 + settings.pitchJitter * rng.gaussian(sigma: 1)) : voice.pitchHz
            }
            let pulse = rosenberg(phase)
            let source = (pulse - previousPulse) * fs / max(f0, 1) * 0.1   // ~unit amplitude per period
            previousPulse = pulse
            r1.set(frequency: f1, bandwidth: b1, sampleRate: fs)
            r2.set(frequency: f2, bandwidth: b2, sampleRate: fs)
            r3.set(frequency: f3, bandwidth: b3, sampleRate: fs)
            let voiced = r4.step(r3.step(r2.step(r1.step(av * source))))
            var fric: Float = 0
            if af > 1e-4 {
                rf.set(frequency: fricHz, bandwidth: fricBw, sampleRate: fs)
                let noise = (rng.nextUniform() - 0.5) * 3.4641   // uniform, unit variance
                fric = rf.step(noise) * af / rf.peakGain
            }
            out[n] = voiced + fric
        }
        return out
    }
}

/// Rosenberg glottal pulse over one period, phase φ ∈ [0, 1): opening 40 %, closing 16 %.
@inline(__always)
func rosenberg(_ phi: Float) -> Float {
    let open: Float = 0.4, close: Float = 0.16
    if phi < open { return 0.5 * (1 - cosf(.pi * phi / open)) }
    if phi < open + close { return cosf(.pi * (phi - open) / (2 * close)) }
    return 0
}

/// A 2nd-order digital resonator (Klatt 1980): `y = A·x + B·y1 + C·y2`, unit gain at 0 Hz.
struct Resonator {
    var a: Float = 1, b: Float = 0, c: Float = 0
    var y1: Float = 0, y2: Float = 0
    /// |H| at the centre frequency (for normalising the parallel fricative branch).
    var peakGain: Float = 1
    var lastF: Float = -1, lastB: Float = -1

    mutating func set(frequency f: Float, bandwidth bw: Float, sampleRate fs: Float) {
        if f == lastF && bw == lastB { return }
        lastF = f; lastB = bw
        let r = expf(-.pi * bw / fs)
        c = -r * r
        b = 2 * r * cosf(2 * .pi * f / fs)
        a = 1 - b - c
        // |H(e^{iω})| at ω = 2πf/fs: A / |1 − B e^{−iω} − C e^{−2iω}|
        let w = 2 * Float.pi * f / fs
        let re = 1 - b * cosf(w) - c * cosf(2 * w), im = b * sinf(w) + c * sinf(2 * w)
        peakGain = max(abs(a) / (re * re + im * im).squareRoot(), 1e-6)
    }

    @inline(__always)
    mutating func step(_ x: Float) -> Float {
        let y = a * x + b * y1 + c * y2
        y2 = y1; y1 = y
        return y
    }
}

/// √(mean x²) (0 for an empty array).
func rootMeanSquare(_ x: [Float]) -> Float {
    guard !x.isEmpty else { return 0 }
    var s: Double = 0
    for v in x { s += Double(v) * Double(v) }
    return Float((s / Double(x.count)).squareRoot())
}
