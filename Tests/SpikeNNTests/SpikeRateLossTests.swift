import XCTest
@testable import SpikeNN

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
}
