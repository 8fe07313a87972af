import XCTest
@testable import SpikeNN
import SpikeTensor

final class SpikeRateLossTests: XCTestCase {
    /// T = 2, B = 2, C = 3, labels [0, 2].
    ///   sample 0: spikes t0 [1,0,0], t1 [1,1,0] → counts [2,1,0], rate [1, .5, 0], Y [1,0,0]
    ///             → (r − Y) = [0, .5, 0], Σ² = 0.25
    ///   sample 1: spikes t0 [0,1,1], t1 [0,0,1] → counts [0,1,2], rate [0, .5, 1], Y [0,0,1]
    ///             → (r − Y) = [0, .5, 0], Σ² = 0.25
    ///   L = (0.25 + 0.25)/2 = 0.25;  dL/do[t] = 2/(B·T)·(r − Y) = 0.5·(r − Y) = [0, .25, 0] for both.
    func testHandWorkedLoss() {
        let spikes = Tensor(shape: [2, 2, 3], scalars: [1, 0, 0, 0, 1, 1,
                                                        1, 1, 0, 0, 0, 1])
        let (loss, gradient) = SpikeRateLoss.mseLoss(spikes: spikes, labels: [0, 2])
        XCTAssertEqual(loss, 0.25, accuracy: 1e-7)
        XCTAssertEqual(gradient.shape, [2, 2, 3])
        XCTAssertEqual(gradient.scalars, [0, 0.25, 0, 0, 0.25, 0, 0, 0.25, 0, 0, 0.25, 0])
        XCTAssertEqual(SpikeRateLoss.spikeCounts(spikes).scalars, [2, 1, 0, 0, 1, 2])
    }

    /// Counts [2, 2, 1] → 0 (tie → lowest), [0, 3, 3] → 1, [0, 0, 0] → 0, [0, 1, 4] → 2.
    func testPredictionTiesGoToLowestIndex() {
        // T = 4, B = 4, C = 3; built step by step to give those counts.
        let counts: [[Float]] = [[2, 2, 1], [0, 3, 3], [0, 0, 0], [0, 1, 4]]
        var spikes = Tensor(zeros: [4, 4, 3])
        for b in 0..<4 { for c in 0..<3 { for t in 0..<Int(counts[b][c]) { spikes[t, b, c] = 1 } } }
        XCTAssertEqual(SpikeRateLoss.predictions(spikes), [0, 1, 0, 2])
    }

    /// The same spikes: counts [2, 1, 0] (label 0) and [0, 1, 2] (label 2). Both rows are the
    /// same logits up to order, so p(right) = e²/(e² + e + 1) for each and
    /// L = −log(e²/(e² + e + 1)) ≈ 0.40760596; dL/do[t, b, c] = (p − Y)/B for every t.
    func testHandWorkedCountCrossEntropy() {
        let spikes = Tensor(shape: [2, 2, 3], scalars: [1, 0, 0, 0, 1, 1,
                                                        1, 1, 0, 0, 0, 1])
        let (loss, gradient) = SpikeRateLoss.countCrossEntropyLoss(spikes: spikes, labels: [0, 2])
        let e = Float(M_E), z = e * e + e + 1
        XCTAssertEqual(loss, -logf(e * e / z), accuracy: 1e-6)
        XCTAssertEqual(loss, 0.40760596, accuracy: 1e-6)
        let row0: [Float] = [(e * e / z - 1) / 2, e / z / 2, 1 / z / 2]
        let row1: [Float] = [1 / z / 2, e / z / 2, (e * e / z - 1) / 2]
        for (g, want) in zip(gradient.scalars, row0 + row1 + row0 + row1) { XCTAssertEqual(g, want, accuracy: 1e-6) }
    }

    /// The gradient against central differences of the loss in the counts (the loss depends on
    /// the spikes only through the counts, so a count step is a step of any one timestep's spike).
    func testCountCrossEntropyGradientMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 4)
        let shape = [5, 3, 4]
        let spikes = Tensor(shape: shape, scalars: (0..<60).map { _ in rng.nextUniform(0, 1) < 0.4 ? 1 : 0 })
        let labels = [1, 3, 0]
        let (_, gradient) = SpikeRateLoss.countCrossEntropyLoss(spikes: spikes, labels: labels)
        let h: Float = 1e-2
        for i in [0, 5, 13, 27, 59] {
            var up = spikes, down = spikes
            up.scalars[i] += h; down.scalars[i] -= h
            let numeric = (SpikeRateLoss.countCrossEntropyLoss(spikes: up, labels: labels).loss
                           - SpikeRateLoss.countCrossEntropyLoss(spikes: down, labels: labels).loss) / (2 * h)
            XCTAssertEqual(gradient.scalars[i], numeric, accuracy: 1e-3, "element \(i)")
        }
    }
}
