import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class CochleaEmulatorTests: XCTestCase {
    func tone(_ hz: Double, amplitude: Float, seconds: Double = 0.5, fs: Double = 8000) -> [Float] {
        (0..<Int(seconds * fs)).map { amplitude * Float(sin(2 * Double.pi * hz * Double($0) / fs)) }
    }

    func counts(_ e: CochleaEvents) -> [Int] {
        var c = [Int](repeating: 0, count: e.channelCount)
        for ch in e.channel { c[Int(ch)] += 1 }
        return c
    }

    func testCentreFrequenciesAreLogSpacedAndClipped() {
        let f = CochleaEmulator().centreFrequencies(sampleRate: 8000)
        XCTAssertEqual(f.count, 64)
        XCTAssertEqual(f[0], 100, accuracy: 1e-9)
        XCTAssertEqual(f[63], 3600, accuracy: 1e-6)          // 0.45·8000
        // constant ratio (3600/100)^(1/63) = 1.0585 between neighbours
        for k in 1..<64 { XCTAssertEqual(f[k] / f[k - 1], pow(36.0, 1.0 / 63), accuracy: 1e-9) }
    }

    /// A pure tone at the centre frequency of channel k fires channel k (±1, as the neighbours
    /// are only 5.9 % apart and overlap strongly) more than any other channel.
    func testToneExcitesNearestChannel() throws {
        var p = CochleaParameters(); p.noiseRateHz = 0; p.thresholdMismatchSigma = 0
        let emu = CochleaEmulator(parameters: p)
        let freqs = emu.centreFrequencies(sampleRate: 8000)
        for k in [10, 30, 50] {
            var rng = SeededGenerator(seed: 1)
            let e = try emu.emulate(samples: tone(freqs[k], amplitude: 0.05), sampleRate: 8000, using: &rng)
            let c = counts(e)
            let best = c.indices.max { c[$0] < c[$1] }!
            print("tone \(Int(freqs[k])) Hz: best channel \(best) (\(c[best]) events), total \(e.count)")
            XCTAssertLessThanOrEqual(abs(best - k), 1, "tone at channel \(k)'s centre, most events on \(best)")
            // far channels (an octave+ away, ≥ 12 channels) stay nearly silent
            let far = c.indices.filter { abs($0 - k) >= 16 }.map { c[$0] }.reduce(0, +)
            XCTAssertLessThan(far, c[best])
        }
    }

    /// Event count rises with loudness over three levels 6 dB… 40 dB apart (noise off).
    func testEventRateGrowsWithLoudness() throws {
        var p = CochleaParameters(); p.noiseRateHz = 0
        let emu = CochleaEmulator(parameters: p)
        var totals: [Int] = []
        for amplitude: Float in [0.005, 0.05, 0.5] {
            var rng = SeededGenerator(seed: 2)
            totals.append(try emu.emulate(samples: tone(1000, amplitude: amplitude), sampleRate: 8000, using: &rng).count)
        }
        print("tone 1 kHz events at −46/−26/−6 dBFS: \(totals)")
        XCTAssertLessThan(totals[0], totals[1])
        XCTAssertLessThan(totals[1], totals[2])
    }

    /// Silence gives only noise events: 64 channels × 0.5 Hz × 2 s = 64 expected (Poisson σ = 8).
    func testSilenceGivesOnlyNoise() throws {
        let emu = CochleaEmulator()
        var rng = SeededGenerator(seed: 4)
        let e = try emu.emulate(samples: [Float](repeating: 0, count: 16000), sampleRate: 8000, using: &rng)
        XCTAssertEqual(Double(e.count), 64, accuracy: 32)
        var p = emu.parameters; p.noiseRateHz = 0
        let quiet = try CochleaEmulator(parameters: p).emulate(samples: [Float](repeating: 0, count: 16000),
                                                               sampleRate: 8000, using: &rng)
        XCTAssertEqual(quiet.count, 0)
    }

    /// Refractory period: no channel fires twice within 1 ms.
    func testRefractoryPeriodRespected() throws {
        var p = CochleaParameters(); p.noiseRateHz = 0
        var rng = SeededGenerator(seed: 5)
        let e = try CochleaEmulator(parameters: p).emulate(samples: tone(300, amplitude: 0.8), sampleRate: 8000, using: &rng)
        var last = [Int64](repeating: Int64.min / 2, count: 64)
        XCTAssertGreaterThan(e.count, 100)
        for i in 0..<e.count {
            let ch = Int(e.channel[i])
            XCTAssertGreaterThanOrEqual(e.t[i] - last[ch], 1000)
            last[ch] = e.t[i]
        }
        XCTAssertEqual(e.t, e.t.sorted())
    }

    /// The gammatone cascade has unit gain at its centre frequency: a steady tone at f_c with
    /// amplitude A gives a rectified-and-smoothed mean of A/π (the mean of a half-wave-rectified
    /// sine), within 3 %. (f_c = 1234.5 Hz is not a divisor of fs, so the sampled phases
    /// cover the cycle evenly; at 1000 Hz the 8 samples per cycle would average 2.414/8 = 0.302.)
    func testGammatoneUnitGainAtCentre() {
        let fs = 8000.0, fc = 1234.5
        let x = tone(fc, amplitude: 1, seconds: 0.5)
        var out = [Double](repeating: 0, count: x.count)
        CochleaChannel.envelope(x, sampleRate: fs, centreHz: fc, smoothingSeconds: 0.01, into: &out)
        let tail = out[3000...]
        XCTAssertEqual(tail.reduce(0, +) / Double(tail.count), 1 / Double.pi, accuracy: 0.03 / Double.pi)
    }

    func testNonFiniteInputIsATypedError() {
        var rng = SeededGenerator(seed: 1)
        XCTAssertThrowsError(try CochleaEmulator().emulate(samples: [0, .nan], sampleRate: 8000, using: &rng))
    }
}
