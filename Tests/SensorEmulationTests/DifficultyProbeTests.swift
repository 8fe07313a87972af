import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

/// A rough difficulty probe of the default synthetic data (opt-in: SPIKEFUSE_PROBE=pairs):
/// a nearest-class-mean classifier (cosine) on simple event-count features, trained on the
/// train split, evaluated on the test split. It is a weak classifier — a lower bound on what
/// the paper's networks should reach, and a warning if a modality is trivially separable.
final class DifficultyProbeTests: XCTestCase {
    func visualFeature(_ e: DVSEvents) -> [Float] {
        // 32×32 histogram (4×4 pooling of 128×128), both polarities, centred on the median.
        let cx = Int(e.x.sorted()[e.count / 2]), cy = Int(e.y.sorted()[e.count / 2])
        var f = [Float](repeating: 0, count: 20 * 20)
        for i in 0..<e.count {
            let x = (Int(e.x[i]) - cx + 40) / 4, y = (Int(e.y[i]) - cy + 40) / 4
            if x >= 0 && x < 20 && y >= 0 && y < 20 { f[y * 20 + x] += 1 }
        }
        return f
    }

    func audioFeature(_ e: CochleaEvents) -> [Float] {
        // 64 channels × 6 time bins between the 5th and 95th percentile of event times.
        let t = e.t.sorted()
        let lo = t[t.count / 20], hi = max(t[t.count * 19 / 20], lo + 1)
        var f = [Float](repeating: 0, count: 64 * 6)
        for i in 0..<e.count where e.t[i] >= lo && e.t[i] <= hi {
            let b = min(5, Int(Double(e.t[i] - lo) / Double(hi - lo) * 6))
            f[Int(e.channel[i]) * 6 + b] += 1
        }
        return f
    }

    func nearestMeanAccuracy(_ train: [([Float], Int)], _ test: [([Float], Int)]) -> Double {
        func unit(_ v: [Float]) -> [Float] { let n = max(1e-9, v.reduce(0) { $0 + $1 * $1 }.squareRoot()); return v.map { $0 / n } }
        var means = [[Float]](repeating: [Float](repeating: 0, count: train[0].0.count), count: 10)
        for (f, l) in train { let u = unit(f); for k in 0..<u.count { means[l][k] += u[k] } }
        means = means.map(unit)
        var correct = 0
        for (f, l) in test {
            let u = unit(f)
            let scores = means.map { m in zip(m, u).reduce(0) { $0 + $1.0 * $1.1 } }
            if scores.indices.max(by: { scores[$0] < scores[$1] }) == l { correct += 1 }
        }
        return Double(correct) / Double(test.count)
    }

    func testNearestMeanProbe() throws {
        guard let n = ProcessInfo.processInfo.environment["SPIKEFUSE_PROBE"].flatMap(Int.init) else {
            throw XCTSkip("opt-in probe: set SPIKEFUSE_PROBE=<pairs>")
        }
        let pairs = try DatasetSynthesizer(plan: SynthesisPlan(pairCount: n, seed: 2024)).run()
        let visual = pairs.map { (visualFeature($0.visual.events), $0.visual.label, $0.audio.split) }
        let audio = pairs.map { (audioFeature($0.audio.events), $0.audio.label, $0.audio.split) }
        let va = nearestMeanAccuracy(visual.filter { $0.2 == .train }.map { ($0.0, $0.1) }, visual.filter { $0.2 == .test }.map { ($0.0, $0.1) })
        let aa = nearestMeanAccuracy(audio.filter { $0.2 == .train }.map { ($0.0, $0.1) }, audio.filter { $0.2 == .test }.map { ($0.0, $0.1) })
        print(String(format: "nearest-mean probe on %d pairs: visual %.3f, audio %.3f", n, va, aa))
        XCTAssertGreaterThan(va, 0.2); XCTAssertGreaterThan(aa, 0.2)
    }
}
