import Foundation
import XCTest
@testable import SpikeNN
import SpikeTensor

/// Checks the golden network fixtures of `Tests/MultimodalTests/Fixtures` (written by
/// `bench/make_fixtures.py` from the PyTorch peer) with a plain scalar Swift forward pass.
///
/// The fixture's weights are multiples of 2^-12 and its inputs 0/1, so every
/// pre-activation sum is exact in Float32 in any summation order; the sums below run in
/// a different order from PyTorch's (input channels and features backwards) on purpose.
/// Spike counts, per-layer activity and attention weights must therefore match bit for
/// bit — which is what the Multimodal golden tests may rely on.
final class SafeTensorsFixtureTests: XCTestCase {
    private func fixtures() throws -> URL {
        // Tests/SpikeNNTests/<this file> → Tests/MultimodalTests/Fixtures
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MultimodalTests/Fixtures")
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("golden_inputs.safetensors").path) else {
            throw XCTSkip("Multimodal fixtures not found: \(url.path)")
        }
        return url
    }

    /// LIF population: u = τ·u·(1 − o) + I, o = 1{u ≥ 0.5}.
    private struct Population {
        var u: [Float], o: [Float]
        let tau: Float
        init(_ n: Int, tau: Float) { u = [Float](repeating: 0, count: n); o = u; self.tau = tau }
        mutating func step(_ current: [Float]) -> [Float] {
            for i in 0..<u.count {
                u[i] = tau * u[i] * (1 - o[i]) + current[i]
                o[i] = u[i] >= 0.5 ? 1 : 0
            }
            return o
        }
    }

    /// y = b + W·x with W [out, in], summed from the last input backwards.
    private func linear(_ x: [Float], _ w: Tensor, _ b: Tensor?) -> [Float] {
        let (out, n) = (w.shape[0], w.shape[1])
        return (0..<out).map { o in
            var s: Float = 0
            for i in stride(from: n - 1, through: 0, by: -1) where x[i] != 0 { s += w.scalars[o * n + i] * x[i] }
            return s + (b?.scalars[o] ?? 0)
        }
    }

    /// 3×3 convolution, padding 1. input [C, H, W], weight [O, C, 3, 3] → [O, H, W].
    private func conv3x3(_ x: [Float], channels c: Int, size: Int, _ w: Tensor, _ b: Tensor) -> [Float] {
        let o = w.shape[0]
        var y = [Float](repeating: 0, count: o * size * size)
        for oc in 0..<o {
            for r in 0..<size {
                for col in 0..<size {
                    var s: Float = 0
                    for ic in stride(from: c - 1, through: 0, by: -1) {
                        for dy in 0..<3 {
                            for dx in 0..<3 {
                                let (yy, xx) = (r + dy - 1, col + dx - 1)
                                guard yy >= 0, yy < size, xx >= 0, xx < size else { continue }
                                s += w.scalars[((oc * c + ic) * 3 + dy) * 3 + dx] * x[(ic * size + yy) * size + xx]
                            }
                        }
                    }
                    y[(oc * size + r) * size + col] = s + b.scalars[oc]
                }
            }
        }
        return y
    }

    /// 2×2 average pooling: [C, H, W] → [C, H/2, W/2].
    private func pool(_ x: [Float], channels c: Int, size: Int) -> [Float] {
        let h = size / 2
        var y = [Float](repeating: 0, count: c * h * h)
        for ch in 0..<c {
            for r in 0..<h {
                for col in 0..<h {
                    let i = (ch * size + 2 * r) * size + 2 * col
                    y[(ch * h + r) * h + col] = (x[i] + x[i + 1] + x[i + size] + x[i + size + 1]) / 4
                }
            }
        }
        return y
    }

    private func check(mode: String, weightsFile: String, gradsFile: String) throws {
        let folder = try fixtures()
        let weights = try SafeTensors.read(folder.appendingPathComponent(weightsFile))
        let inputs = try SafeTensors.read(folder.appendingPathComponent("golden_inputs.safetensors"))
        let golden = try SafeTensors.read(folder.appendingPathComponent(gradsFile))
        func w(_ name: String) throws -> Tensor { try weights.tensor(named: name) }

        // Every parameter has a gradient of its own shape, and it is not all zero.
        for name in weights.names {
            let g = try golden.tensor(named: "grad." + name)
            XCTAssertEqual(g.shape, try w(name).shape, name)
            XCTAssertTrue(g.scalars.contains { $0 != 0 }, "zero gradient for \(name)")
        }
        XCTAssertTrue(weights.metadata["config"]?.contains("\"mode\": \"\(mode)\"") ?? false)

        let visual = try inputs.tensor(named: "visual_input")   // [B, T, 2, 28, 28]
        let audio = try inputs.tensor(named: "audio_input")     // [B, T, 64]
        let labels = try inputs.tensor(named: "labels")         // [B]
        let (B, T) = (visual.shape[0], visual.shape[1])
        XCTAssertEqual(audio.shape, [B, T, 64])
        let frame = 2 * 28 * 28
        let c1 = try w("visual.conv1.weight").shape[0], c2 = try w("visual.conv2.weight").shape[0]
        let hidden = mode == "multimodal" ? try w("fusion.hidden.weight").shape[0] : try w("fusion.fc1.weight").shape[0]
        let audioNames = ["audio.rec1", "audio.rec2", "audio.rec3", "audio.out"]
        let fusionNames = mode == "multimodal" ? ["fusion.hidden", "fusion.output"] : ["fusion.fc1", "fusion.fc2"]

        var totalLoss: [String: Double] = ["visual": 0, "audio": 0, "fusion": 0]
        for b in 0..<B {
            var conv1 = Population(c1 * 784, tau: 0.2), conv2 = Population(c2 * 196, tau: 0.2)
            var fc1 = Population(try w("visual.fc1.bias").count, tau: 0.2), fc2 = Population(10, tau: 0.2)
            var rec = try audioNames.map { Population(try w("\($0).bias").count, tau: 0.1) }
            var fusionHidden = Population(hidden, tau: 0.9), fusionOut = Population(10, tau: 0.9)
            var counts: [String: [Float]] = ["visual": .init(repeating: 0, count: 10),
                                             "audio": .init(repeating: 0, count: 10),
                                             "fusion": .init(repeating: 0, count: 10)]
            var activity = [String: Float]()
            func record(_ name: String, _ s: [Float]) { activity[name, default: 0] += s.reduce(0, +) }
            for t in 0..<T {
                // Visual subnetwork.
                let x = Array(visual.scalars[((b * T + t) * frame)..<((b * T + t + 1) * frame)])
                let s1 = conv1.step(conv3x3(x, channels: 2, size: 28, try w("visual.conv1.weight"), try w("visual.conv1.bias")))
                let s2 = conv2.step(conv3x3(pool(s1, channels: c1, size: 28), channels: c1, size: 14,
                                            try w("visual.conv2.weight"), try w("visual.conv2.bias")))
                let s3 = fc1.step(linear(pool(s2, channels: c2, size: 14), try w("visual.fc1.weight"), try w("visual.fc1.bias")))
                let ov = fc2.step(linear(s3, try w("visual.fc2.weight"), try w("visual.fc2.bias")))
                for (name, s) in zip(["visual.conv1", "visual.conv2", "visual.fc1", "visual.fc2"], [s1, s2, s3, ov]) {
                    record(name, s)
                }
                // Auditory subnetwork: I = W·x + b + R·o[t−1].
                var a = Array(audio.scalars[((b * T + t) * 64)..<((b * T + t + 1) * 64)])
                for (k, name) in audioNames.enumerated() {
                    let ff = linear(a, try w("\(name).weight"), try w("\(name).bias"))
                    let recurrent = linear(rec[k].o, try w("\(name).recurrent_weight"), nil)
                    a = rec[k].step(zip(ff, recurrent).map { $0 + $1 })
                    record(name, a)
                }
                let oa = a
                // Fusion.
                let concat = ov + oa
                let om: [Float]
                if mode == "multimodal" {
                    let h = fusionHidden.step(linear(concat, try w("fusion.hidden.weight"), try w("fusion.hidden.bias")))
                    let att = linear(h, try w("fusion.attention.weight"), try w("fusion.attention.bias"))
                    let golden = try golden.tensor(named: "attention")  // [B, T, 2]
                    XCTAssertEqual(att, [golden[b, t, 0], golden[b, t, 1]], "attention b \(b) t \(t)")
                    om = fusionOut.step((0..<10).map { att[0] * ov[$0] + att[1] * oa[$0] })
                    record("fusion.hidden", h)
                } else {
                    let h = fusionHidden.step(linear(concat, try w("fusion.fc1.weight"), try w("fusion.fc1.bias")))
                    om = fusionOut.step(linear(h, try w("fusion.fc2.weight"), try w("fusion.fc2.bias")))
                    record("fusion.fc1", h)
                }
                record(fusionNames[1], om)
                for k in 0..<10 {
                    counts["visual"]![k] += ov[k]
                    counts["audio"]![k] += oa[k]
                    counts["fusion"]![k] += om[k]
                }
            }
            for head in ["visual", "audio", "fusion"] {
                let expected = try golden.tensor(named: "spikes." + head)
                XCTAssertEqual(counts[head]!, Array(expected.scalars[(b * 10)..<((b + 1) * 10)]), "\(mode) spikes.\(head) b \(b)")
                // Loss: Σ_c (Y_c − count_c/T)², averaged over the batch below.
                totalLoss[head]! += (0..<10).map { k -> Double in
                    let y: Double = Float(k) == labels[b] ? 1 : 0
                    return pow(y - Double(counts[head]![k]) / Double(T), 2)
                }.reduce(0, +) / Double(B)
            }
            for (name, value) in activity {
                XCTAssertEqual(value, try golden.tensor(named: "activity." + name)[b], "\(mode) activity.\(name) b \(b)")
            }
        }
        for (head, value) in totalLoss {
            XCTAssertEqual(value, Double(try golden.tensor(named: "loss." + head).scalars[0]), accuracy: 1e-6, head)
        }
        let total = totalLoss.values.reduce(0, +)
        XCTAssertEqual(total, Double(try golden.tensor(named: "loss.total").scalars[0]), accuracy: 1e-5)
    }

    func testAttentionFixtureForwardPassIsReproducedBitForBit() throws {
        try check(mode: "multimodal", weightsFile: "golden_weights.safetensors", gradsFile: "golden_grads.safetensors")
    }

    func testNoAttentionFixtureForwardPassIsReproducedBitForBit() throws {
        try check(mode: "multimodal-noattention", weightsFile: "golden_weights_noattention.safetensors",
                  gradsFile: "golden_grads_noattention.safetensors")
    }
}
