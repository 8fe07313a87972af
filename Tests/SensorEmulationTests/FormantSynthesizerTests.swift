import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class FormantSynthesizerTests: XCTestCase {
    func testClipsAreFiniteWithExpectedLevel() {
        let synth = FormantSynthesizer()
        for digit in 0...9 {
            var rng = SeededGenerator(seed: UInt64(digit))
            let voice = synth.settings.randomVoice(using: &rng)
            let clip = synth.synthesize(digit: digit, voice: voice, using: &rng)
            XCTAssertEqual(clip.count, 8000)
            XCTAssertTrue(clip.allSatisfy { $0.isFinite && abs($0) < 1 })
            // The speech part has RMS 0.1·10^{±6/20} ∈ [0.050, 0.200]; spread over a 1 s clip
            // holding 0.25…0.95 s of speech the clip RMS lies in ~[0.02, 0.2].
            let rms = rootMeanSquare(clip)
            XCTAssert((0.02...0.2).contains(rms), "digit \(digit): clip RMS \(rms)")
        }
    }

    /// 16 kHz output: 16,000 samples per 1 s clip, finite, and the cochlea (f_hi = min(8000,
    /// 0.45·16000) = 7,200 Hz) turns it into events.
    func testSixteenKilohertz() throws {
        var settings = SpeechSettings(); settings.sampleRate = 16000
        let synth = FormantSynthesizer(settings: settings)
        var rng = SeededGenerator(seed: 3)
        let clip = synth.synthesize(digit: 6, voice: SpeakerVoice(pitchHz: 200, vocalTractScale: 1.1), using: &rng)
        XCTAssertEqual(clip.count, 16000)
        XCTAssertTrue(clip.allSatisfy { $0.isFinite && abs($0) < 1 })
        XCTAssertEqual(CochleaEmulator().centreFrequencies(sampleRate: 16000).last!, 7200, accuracy: 1e-6)
        let events = try CochleaEmulator().emulate(samples: clip, sampleRate: 16000, using: &rng)
        XCTAssertGreaterThan(events.count, 500)
    }

    func testSameSeedSameSamples() {
        let synth = FormantSynthesizer()
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        XCTAssertEqual(synth.synthesize(digit: 7, voice: SpeakerVoice(), using: &a),
                       synth.synthesize(digit: 7, voice: SpeakerVoice(), using: &b))
    }

    /// Word durations at rate 1, no jitter (30 ms resonator tail excluded). From the table,
    /// e.g. "one" = w 70 + ah 150 + n 90 = 310 ms × 1.25 = 387.5 ms; "zero" = 110 + 110 + 80 +
    /// 120 + 110 = 530 ms × 1.25 = 662.5 ms (±1 sample of rounding per phoneme).
    func testWordDurations() {
        let synth = FormantSynthesizer()
        var ms: [Double] = []
        for d in 0...9 {
            var rng = SeededGenerator(seed: 1)
            let n = synth.speak(Phoneme.words[d], voice: SpeakerVoice(), jitter: false, using: &rng).count - 240
            ms.append(Double(n) / 8)
        }
        print("word durations at rate 1 (ms), zero…nine: \(ms)")
        XCTAssertEqual(ms[1], 387.5, accuracy: 0.5)
        XCTAssertEqual(ms[0], 662.5, accuracy: 0.7)
        XCTAssertTrue(ms.allSatisfy { (350...700).contains($0) })
    }

    /// Magnitude of the DFT of `x` at `hz` (a single-bin Goertzel-free direct sum).
    func dftMagnitude(_ x: ArraySlice<Float>, hz: Double, fs: Double) -> Double {
        var re = 0.0, im = 0.0
        for (k, v) in x.enumerated() {
            let w = 2 * Double.pi * hz * Double(k) / fs
            re += Double(v) * cos(w); im -= Double(v) * sin(w)
        }
        return (re * re + im * im).squareRoot()
    }

    /// A sustained "ah" (F1 = 650 Hz) at F0 = 100 Hz without jitter: among the harmonics
    /// 300…1000 Hz, the strongest lies within one harmonic spacing (100 Hz) of F1. The
    /// differentiated glottal source tilts by roughly −6 dB/oct, so the envelope peak sits at F1.
    /// With vocal-tract scale 1.15 the peak moves to 650·1.15 ≈ 750 Hz.
    func testVowelFirstFormantNearTarget() {
        let synth = FormantSynthesizer()
        for (scale, f1) in [(Float(1), 650.0), (Float(1.15), 747.5)] {
            var rng = SeededGenerator(seed: 1)
            var ah = Phoneme.ah; ah.milliseconds = 500
            let wave = synth.speak([ah], voice: SpeakerVoice(pitchHz: 100, vocalTractScale: scale), jitter: false, using: &rng)
            // analyse 0.2 s from the steady middle, at the harmonics of the declining F0
            let mid = wave[1500..<3100]
            // F0 at the middle of the analysed window (declination 1.08 → 0.90 over the word)
            let progress = 2300.0 / Double(wave.count - 240)
            let f0 = 100 * (1.08 - 0.18 * progress)
            var best = 0.0, bestHz = 0.0
            for h in 1...12 {
                let hz = Double(h) * f0
                guard (300...1000).contains(hz) else { continue }
                let m = dftMagnitude(mid, hz: hz, fs: 8000)
                if m > best { best = m; bestHz = hz }
            }
            XCTAssertEqual(bestHz, f1, accuracy: 1.0 * f0, "scale \(scale)")
        }
    }

    /// Through the cochlea, a spoken digit gives a few thousand events (printed per word).
    func testSpokenDigitsGiveAFewThousandCochleaEvents() throws {
        let synth = FormantSynthesizer()
        var counts: [Int] = []
        for digit in 0...9 {
            var rng = SeededGenerator(seed: UInt64(50 + digit))
            let clip = synth.synthesize(digit: digit, voice: synth.settings.randomVoice(using: &rng), using: &rng)
            counts.append(try CochleaEmulator.nTidigitsPreset.emulate(samples: clip, sampleRate: 8000, using: &rng).count)
        }
        print("cochlea events per spoken digit 0…9: \(counts)")
        for c in counts { XCTAssert((500...15000).contains(c), "\(counts)") }
    }
}
