import Foundation
import XCTest
@testable import SpikeNN
import SpikeTensor

/// Dropout with one mask per sample over all time steps (issue 39).
final class DropoutTests: XCTestCase {
    /// The plain form: y[t, b, i] = x[t, b, i]·m[b, i], m from sample b's own generator.
    private func reference(_ x: Tensor, rate: Float, salt: UInt64, seeds: [UInt64]) -> Tensor {
        let steps = x.shape[0], batch = x.shape[1], n = x.count / (steps * batch)
        var out = x
        for b in 0..<batch {
            var rng = SeededGenerator(seed: seeds[b] ^ salt)
            for i in 0..<n {
                let m: Float = rng.nextDouble() < Double(rate) ? 0 : 1 / (1 - rate)
                for t in 0..<steps { out.scalars[(t * batch + b) * n + i] *= m }
            }
        }
        return out
    }

    func testMasksAreFixedOverTimeAndScaled() {
        let rate: Float = 0.3, steps = 6, batch = 4, n = 250
        var rng = SeededGenerator(seed: 5)
        let x = Tensor(shape: [steps, batch, 5, 50], scalars: (0..<(steps * batch * n)).map { _ in rng.nextUniform(0.5, 1.5) })
        let layer = Dropout(rate: rate, salt: 77)
        layer.sampleSeeds = [11, 12, 13, 14]
        let y = layer.forward(x)
        XCTAssertEqual(y, reference(x, rate: rate, salt: 77, seeds: [11, 12, 13, 14]))
        var dropped = 0
        for b in 0..<batch {
            for i in 0..<n {
                let kept = (0..<steps).map { y.scalars[($0 * batch + b) * n + i] != 0 }
                XCTAssertTrue(kept.allSatisfy { $0 == kept[0] }, "sample \(b), element \(i): the mask changed over time")
                if !kept[0] { dropped += 1 }
                else {
                    XCTAssertEqual(y.scalars[b * n + i], x.scalars[b * n + i] * (1 / (1 - rate)))
                }
            }
        }
        let fraction = Double(dropped) / Double(batch * n)
        XCTAssertEqual(fraction, Double(rate), accuracy: 0.05, "dropped \(fraction) of the elements")
        // dL/dx = dL/dy · m
        let g = Tensor(shape: x.shape, scalars: (0..<x.count).map { Float($0 % 7) - 3 })
        XCTAssertEqual(layer.backward(g), reference(g, rate: rate, salt: 77, seeds: [11, 12, 13, 14]))
    }

    /// A sample's mask depends on its seed only, not on its row or its batch; the salt
    /// separates layers; inference is the identity.
    func testASamplesMaskFollowsItsSeed() {
        let x = Tensor(shape: [2, 3, 64], scalars: [Float](repeating: 1, count: 2 * 3 * 64))
        let layer = Dropout(rate: 0.5, salt: 9)
        layer.sampleSeeds = [100, 200, 300]
        let three = layer.forward(x)
        layer.sampleSeeds = [300]
        let one = layer.forward(Tensor(shape: [2, 1, 64], scalars: [Float](repeating: 1, count: 128)))
        XCTAssertEqual(Array(three.scalars[128..<192]), Array(one.scalars[0..<64]), "seed 300 in row 2 and in row 0")
        XCTAssertNotEqual(Array(three.scalars[0..<64]), Array(three.scalars[64..<128]), "seeds 100 and 200 gave one mask")
        let other = Dropout(rate: 0.5, salt: 10)
        other.sampleSeeds = [100, 200, 300]
        XCTAssertNotEqual(other.forward(x), three, "another layer's salt gave the same masks")
        // the seeds serve one forward: the next, of another batch size, takes row seeds (it
        // used to stop on a seed count that did not match, e.g. the trainer's activity pass)
        layer.sampleSeeds = [100, 200, 300]
        _ = layer.forward(x)
        XCTAssertEqual(layer.sampleSeeds, [])
        let five = layer.forward(Tensor(shape: [2, 5, 64], scalars: [Float](repeating: 1, count: 640)))
        layer.sampleSeeds = [0, 1, 2, 3, 4]
        XCTAssertEqual(layer.forward(Tensor(shape: [2, 5, 64], scalars: [Float](repeating: 1, count: 640))), five)
        layer.savesForBackward = false
        layer.sampleSeeds = [100, 200, 300]
        XCTAssertEqual(layer.forward(x), x, "inference is the identity")
        XCTAssertEqual(layer.backward(x), x)
    }

    /// Written in JSON and Swift, checked, built and described.
    func testDropoutInADescription() throws {
        let json = """
        {"name": "d", "timesteps": 4, "classes": 3, "branches": [{"name": "audio",
          "input": {"modality": "cochlea", "shape": [8]}, "neuron": {"tau": 0.5},
          "layers": [{"type": "linear", "name": "fc1", "features": 6}, {"type": "lif"}, {"type": "dropout", "rate": 0.25},
                     {"type": "linear", "name": "fc2", "features": 3}, {"type": "lif"}]}]}
        """
        let d = try NetworkDescription.decode(Data(json.utf8), source: "d.json")
        XCTAssertEqual(d.branches[0].layers[2], .dropout(0.25))
        XCTAssertEqual(try NetworkDescription.decode(d.jsonData(), source: "again"), d)
        var rng = SeededGenerator(seed: 1)
        let (net, _) = try NetworkBuilder.build(d.branches[0], classes: 3, rng: &rng)
        XCTAssertEqual(net.layers.filter { $0 is Dropout }.count, 1)
        let rows = try NetworkBuilder.summary(of: d.branches[0], classes: 3)
        XCTAssertTrue(rows.contains { $0.layer.hasPrefix("dropout") && $0.path.contains("one mask per sample") })
        let bad = json.replacingOccurrences(of: "\"rate\": 0.25", with: "\"rate\": 1.5")
        XCTAssertThrowsError(try NetworkDescription.decode(Data(bad.utf8), source: "bad.json")) {
            XCTAssertTrue("\($0)".contains("bad.json") && "\($0)".contains("rate must be in [0, 1)"), "\($0)")
        }
    }
}
