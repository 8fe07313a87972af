import XCTest
@testable import SpikeNN
import SpikeTensor

/// Spike inputs kept bit-packed for BPTT (`packsSavedSpikes`, the default) against the same
/// layers keeping Float32 (the oracle): identical gradients, and 32× fewer bytes kept.
final class PackedHistoryTests: XCTestCase {
    /// Runs `make()` twice, packed and unpacked, on the same input and output gradient;
    /// returns (dx, parameter grads, bytes kept) per run.
    private func bothWays<L: Layer>(_ make: () -> L, pack: (L, Bool) -> Void, bytes: (L) -> Int,
                                    input: Tensor, gradOutput: (Tensor) -> Tensor) -> [(Tensor, [Tensor], Int)] {
        [true, false].map { packs in
            let layer = make()
            pack(layer, packs)
            let y = layer.forward(input)
            let kept = bytes(layer)
            let dx = layer.backward(gradOutput(y))
            return (dx, layer.parameters.map(\.grad), kept)
        }
    }

    /// `elements`: the element count of each tensor the layer keeps.
    private func assertSame(_ runs: [(Tensor, [Tensor], Int)], elements: [Int], _ name: String) {
        XCTAssertEqual(runs[0].0, runs[1].0, "\(name): dL/dx")
        for (a, b) in zip(runs[0].1, runs[1].1) { XCTAssertEqual(a, b, "\(name): parameter gradient") }
        XCTAssertTrue(runs[0].1.contains { $0.scalars.contains { $0 != 0 } }, "\(name): a zero gradient tests nothing")
        XCTAssertEqual(runs[1].2, elements.map { 4 * $0 }.reduce(0, +), "\(name): unpacked keeps Float32")
        XCTAssertEqual(runs[0].2, elements.map { ($0 + 63) / 64 * 8 }.reduce(0, +), "\(name): packed keeps one bit per element")
    }

    func testLinearKeepsSpikesPacked() {
        var rng = SeededGenerator(seed: 61)
        let x = randomSpikes([8, 4, 40], rate: 0.1, &rng)
        let g = randomTensor([8, 4, 12], &rng)
        let runs = bothWays({ var r = SeededGenerator(seed: 62); return Linear(name: "fc", inFeatures: 40, outFeatures: 12, rng: &r) },
                            pack: { $0.packsSavedSpikes = $1 }, bytes: { $0.savedInputByteCount },
                            input: x, gradOutput: { _ in g })
        assertSame(runs, elements: [x.count], "Linear")
    }

    func testConvolutionKeepsBinaryFramesPacked() {
        var rng = SeededGenerator(seed: 63)
        let x = randomSpikes([3, 2, 2, 8, 8], rate: 0.1, &rng)
        let g = randomTensor([3, 2, 4, 8, 8], &rng)
        let runs = bothWays({ var r = SeededGenerator(seed: 64)
                              return Conv2d(name: "conv", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, rng: &r) },
                            pack: { $0.packsSavedSpikes = $1 }, bytes: { $0.savedInputByteCount },
                            input: x, gradOutput: { _ in g })
        assertSame(runs, elements: [x.count], "Conv2d")
    }

    func testRecurrentLayerKeepsInputAndOwnSpikesPacked() {
        var rng = SeededGenerator(seed: 65)
        let x = randomSpikes([10, 3, 16], rate: 0.3, &rng)
        let g = randomTensor([10, 3, 20], &rng)
        let runs = bothWays({ var r = SeededGenerator(seed: 66)
                              return RecurrentSpikingLinear(name: "rec", inFeatures: 16, outFeatures: 20, neuron: LIFParameters(tau: 0.5), rng: &r) },
                            pack: { $0.packsSavedSpikes = $1 }, bytes: { $0.savedInputByteCount },
                            input: x, gradOutput: { _ in g })
        assertSame(runs, elements: [x.count, 10 * 3 * 20], "RecurrentSpikingLinear")
    }

    /// Pooled spikes (¼, ½, …) are not one bit: kept as Float32, whatever the setting.
    func testNonBinaryInputIsKeptAsFloat() {
        var rng = SeededGenerator(seed: 67)
        let layer = Linear(name: "fc", inFeatures: 8, outFeatures: 4, rng: &rng)
        _ = layer.forward(Tensor(shape: [2, 8], scalars: (0..<16).map { Float($0 % 5) / 4 }))
        XCTAssertEqual(layer.savedInputByteCount, 4 * 16)
    }
}
