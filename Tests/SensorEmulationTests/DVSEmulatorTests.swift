import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class DVSEmulatorTests: XCTestCase {
    /// A 1×1 sensor whose pixel steps from luminance 10 to 100 between two frames.
    /// Δlog = ln(100 + ε) − ln(10 + ε) with ε = 0.01: ln(100.01/10.01) = 2.3017;
    /// θ = 0.25 ⇒ ⌊2.3017 / 0.25⌋ = 9 ON events (9·0.25 = 2.25 ≤ 2.3017 < 2.5), none OFF.
    func testSingleBrightnessStepGivesPredictedOnCount() throws {
        let dvs = DVSEmulator(sensor: SensorSize(width: 1, height: 1), parameters: .ideal)
        var rng = SeededGenerator(seed: 1)
        let events = try dvs.emulate(frames: [DVSFrame(timestamp: 0, intensity: [10]),
                                               DVSFrame(timestamp: 1000, intensity: [100])], using: &rng)
        XCTAssertEqual(events.count, 9)
        XCTAssertEqual(events.onCount, 9)
        // Interpolated timestamps: the k-th crossing at t = 1000·k·0.25/2.3017 µs; k = 1 → 109 µs.
        XCTAssertEqual(events.t.first, 109)
        XCTAssertEqual(events.t, events.t.sorted())
    }

    /// The reverse step, 100 → 10, gives the same count of OFF events; a step back to 10
    /// afterwards is within θ of the reference (ref = ln 100.01 − 9·0.25 = 2.3552, L = 2.3036,
    /// |Δ| = 0.05 < 0.25) so it adds nothing.
    func testDownStepGivesOffEvents() throws {
        let dvs = DVSEmulator(sensor: SensorSize(width: 1, height: 1), parameters: .ideal)
        var rng = SeededGenerator(seed: 1)
        let events = try dvs.emulate(frames: [DVSFrame(timestamp: 0, intensity: [100]),
                                               DVSFrame(timestamp: 1000, intensity: [10]),
                                               DVSFrame(timestamp: 2000, intensity: [10])], using: &rng)
        XCTAssertEqual(events.count, 9)
        XCTAssertEqual(events.offCount, 9)
    }

    /// With a 300 µs refractory period, the 9 crossings of the step above (all inside 1 ms)
    /// cannot fire back-to-back: gaps are ≥ 300 µs, and the change is kept (fires later),
    /// so over a long enough hold all 9 events still come out.
    func testRefractoryPeriodRespected() throws {
        var p = DVSParameters.ideal
        p.refractoryMicroseconds = 300
        let dvs = DVSEmulator(sensor: SensorSize(width: 1, height: 1), parameters: p)
        var rng = SeededGenerator(seed: 1)
        var frames = [DVSFrame(timestamp: 0, intensity: [10])]
        for k in 1...10 { frames.append(DVSFrame(timestamp: Int64(k) * 1000, intensity: [100])) }
        let events = try dvs.emulate(frames: frames, using: &rng)
        XCTAssertEqual(events.count, 9)
        for k in 1..<events.count { XCTAssertGreaterThanOrEqual(events.t[k] - events.t[k - 1], 300) }
    }

    /// Background rate r = 1 Hz/pixel on 64×64 pixels for 2 s: expected 8192 events
    /// (Poisson, σ ≈ 90); accept ±5 %. ON fraction of noise ≈ 0.5.
    func testBackgroundNoiseRateMatchesSetting() {
        let p = DVSParameters(thresholdMismatchSigma: 0, backgroundRateHz: 1, hotPixelCount: 0)
        let dvs = DVSEmulator(sensor: SensorSize(width: 64, height: 64), parameters: p)
        var rng = SeededGenerator(seed: 3)
        let e = dvs.emulate(region: PixelRegion(x0: 0, y0: 0, width: 0, height: 0), frameTimes: [],
                            noiseWindow: 0...2_000_000, using: &rng) { _, _ in }
        XCTAssertEqual(Double(e.count), 8192, accuracy: 0.05 * 8192)
        XCTAssertEqual(Double(e.onCount) / Double(e.count), 0.5, accuracy: 0.03)
        XCTAssertEqual(e.t, e.t.sorted())
        XCTAssertTrue(e.x.allSatisfy { $0 < 64 } && e.y.allSatisfy { $0 < 64 })
    }

    func testFrameSizeMismatchIsATypedError() {
        let dvs = DVSEmulator(sensor: SensorSize(width: 2, height: 2), parameters: .ideal)
        var rng = SeededGenerator(seed: 1)
        XCTAssertThrowsError(try dvs.emulate(frames: [DVSFrame(timestamp: 0, intensity: [1, 2, 3])], using: &rng)) {
            XCTAssertEqual($0 as? EmulationError, .frameSizeMismatch(frame: 0, expected: 4, got: 3))
        }
    }

    /// The region-restricted fast path must equal the plain whole-array path on the same
    /// frames (no noise, so the random draws are identical: none).
    func testRegionPathMatchesWholeArrayReference() throws {
        var p = DVSParameters.ideal
        p.refractoryMicroseconds = 200
        let sensor = SensorSize(width: 20, height: 16)
        let dvs = DVSEmulator(sensor: sensor, parameters: p)
        var scene = SeededGenerator(seed: 9)
        var frames: [DVSFrame] = []
        for k in 0..<12 {
            var f = [Float](repeating: 0.1, count: sensor.width * sensor.height)
            for y in 4..<12 { for x in 5..<15 { f[y * sensor.width + x] = scene.nextUniform(0.05, 1) } }
            frames.append(DVSFrame(timestamp: Int64(k) * 5000, intensity: f))
        }
        var r1 = SeededGenerator(seed: 1), r2 = SeededGenerator(seed: 1)
        let whole = try dvs.emulate(frames: frames, using: &r1)
        let region = PixelRegion(x0: 5, y0: 4, width: 10, height: 8)
        let fast = dvs.emulate(region: region, frameTimes: frames.map(\.timestamp), noiseWindow: 0...55_000,
                               using: &r2) { k, out in
            for y in 0..<8 { for x in 0..<10 { out[y * 10 + x] = frames[k].intensity[(y + 4) * sensor.width + x + 5] } }
        }
        XCTAssertGreaterThan(whole.count, 100)
        XCTAssertEqual(whole, fast)
    }
}
