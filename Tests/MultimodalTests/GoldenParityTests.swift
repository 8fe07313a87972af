import XCTest
@testable import Multimodal

/// The paper's networks against golden numbers from the independent PyTorch peer
/// (`bench/make_fixtures.py` → `Fixtures/golden_*.safetensors`): identical output spikes,
/// losses and every parameter gradient within 1e-4 (relative to the tensor's norm).
final class GoldenParityTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return dir.appendingPathComponent(name + ".safetensors")
    }

    /// `‖a − b‖ ≤ tol·‖b‖ + 1e-7`, with the largest element difference in the message.
    private func assertClose(_ a: Tensor, _ b: Tensor, _ name: String, tolerance: Double = 1e-4,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, "\(name): shape", file: file, line: line)
        guard a.shape == b.shape else { return }
        var diff = 0.0, norm = 0.0, worst = 0.0
        for (x, y) in zip(a.scalars, b.scalars) {
            let d = Double(x) - Double(y)
            diff += d * d; norm += Double(y) * Double(y); worst = max(worst, abs(d))
        }
        XCTAssertLessThanOrEqual(diff.squareRoot(), tolerance * norm.squareRoot() + 1e-7,
                                 "\(name): relative difference \(diff.squareRoot() / max(norm.squareRoot(), 1e-30)), largest element difference \(worst)",
                                 file: file, line: line)
    }

    private func check(weights: String, expected: String, inputs: String = "golden_inputs") throws {
        let w = try Checkpoint.read(try fixture(weights))
        let x = try SafeTensors.read(try fixture(inputs))
        let golden = try SafeTensors.read(try fixture(expected))
        let report = try GradientReport.compute(configuration: w.configuration, weights: w.tensors, weightsSource: weights,
                                                inputs: x.tensors, inputsSource: inputs)
        let got = Dictionary(uniqueKeysWithValues: report.map { ($0.name, $0.tensor) })
        for head in ["visual", "audio", "fusion"] {
            if head == "fusion", w.configuration.attentionReadout == .integrator, let g = golden.tensors["spikes.fusion"] {
                // real-valued scores (sums of weighted spikes): equal within float32 rounding
                assertClose(try XCTUnwrap(got["spikes.fusion"]), g, "\(weights): fused scores", tolerance: 1e-5)
                continue
            }
            XCTAssertEqual(got["spikes." + head]?.scalars, golden.tensors["spikes." + head]?.scalars,
                           "\(weights): output spike counts of the \(head) head differ from PyTorch")
        }
        for name in ["loss.visual", "loss.audio", "loss.fusion", "loss.total"] {
            let a = try XCTUnwrap(got[name]).scalars[0], b = try XCTUnwrap(golden.tensors[name]).scalars[0]
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(weights): \(name)")
        }
        if let attention = golden.tensors["attention"] {
            assertClose(try XCTUnwrap(got["attention"]), attention, "attention", tolerance: 1e-5)
        }
        let gradNames = golden.names.filter { $0.hasPrefix("grad.") }
        XCTAssertEqual(Set(gradNames), Set(report.map(\.name).filter { $0.hasPrefix("grad.") }),
                       "the two implementations must have the same parameters")
        for name in gradNames {
            let g = try XCTUnwrap(golden.tensors[name])
            XCTAssertTrue(g.scalars.contains { $0 != 0 }, "golden \(name) is all zero: the fixture cannot test it")
            assertClose(try XCTUnwrap(got[name]), g, "\(weights): \(name)")
        }
    }

    func testAttentionModelMatchesPyTorch() throws {
        try check(weights: "golden_weights", expected: "golden_grads")
    }

    func testConcatenationModelMatchesPyTorch() throws {
        try check(weights: "golden_weights_noattention", expected: "golden_grads_noattention")
    }

    /// `attention_readout: integrator` (no output neuron; scores are weighted spike counts,
    /// 0.25·softmax weights, (2/T)·CE as Lm, heads detached): PyTorch computes the same.
    func testIntegratorReadoutMatchesPyTorch() throws {
        try check(weights: "golden_weights_integrator", expected: "golden_grads_integrator")
    }

    /// A second network family, described as JSON (`Fixtures/network_family2.json`: a 5×5
    /// stride-2 convolution, max pooling, three conv layers, a recurrent layer, per-layer
    /// neurons), against the PyTorch peer that builds its model from the same description
    /// (`bench/pytorch_network.py`, fixtures by `bench/make_network_fixtures.py`).
    func testDescribedNetworkFamilyMatchesPyTorch() throws {
        try assertWeightsDescribe("golden_family2_weights", "network_family2")
        try check(weights: "golden_family2_weights", expected: "golden_family2_expected", inputs: "golden_family2_inputs")
    }

    /// The same weights on 30 % dense input, above `Conv2d`'s 17 % crossover: the 5×5 stride-2
    /// conv1 runs im2col + GEMM here, the event-driven kernel in the test above.
    func testDescribedNetworkFamilyOnDenseInputMatchesPyTorch() throws {
        try check(weights: "golden_family2_weights", expected: "golden_family2_dense_expected",
                  inputs: "golden_family2_dense_inputs")
    }

    /// The same visual branch with a cochlea branch (recurrent, then linear + LIF) and
    /// attention fusion (`Fixtures/network_family2_multimodal.json`).
    func testDescribedMultimodalFamilyMatchesPyTorch() throws {
        try assertWeightsDescribe("golden_family2_multimodal_weights", "network_family2_multimodal")
        try check(weights: "golden_family2_multimodal_weights", expected: "golden_family2_multimodal_expected",
                  inputs: "golden_family2_inputs")
    }

    /// Odd shapes and compositions (`Fixtures/network_family3.json`): a 5×5 convolution without
    /// padding and without its own LIF, max pooling 3 of its real-valued output, then a lone
    /// LIF; one polarity at 30×30; a 3×3 stride-2 convolution; a recurrent output layer; a
    /// branch named "eye".
    func testDescribedOddShapesMatchPyTorch() throws {
        try assertWeightsDescribe("golden_family3_weights", "network_family3")
        try check(weights: "golden_family3_weights", expected: "golden_family3_expected", inputs: "golden_family3_inputs")
    }

    /// The weights' "config" carries exactly the committed description (the one the peer read).
    private func assertWeightsDescribe(_ weights: String, _ description: String,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let committed = try NetworkDescription.load(dir.appendingPathComponent(description + ".json"))
        let w = try Checkpoint.read(try fixture(weights))
        XCTAssertEqual(w.configuration.network, committed, "\(weights): its config is not \(description).json", file: file, line: line)
    }

    /// The command-line tool on the same fixture writes the same numbers.
    /// `grad --network FILE` takes the network from the description file, not the weights'
    /// config: the family-2 golden gradients; a description that does not fit the weights is
    /// an error naming the tensor.
    func testGradCommandReadsTheNetworkFromADescription() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grad-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try runSpikefuse(["grad", "--weights", try fixture("golden_family2_weights").path,
                                  "--network", dir.appendingPathComponent("network_family2.json").path,
                                  "--inputs", try fixture("golden_family2_inputs").path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try SafeTensors.read(out), golden = try SafeTensors.read(try fixture("golden_family2_expected"))
        let names = golden.names.filter { $0.hasPrefix("grad.") }
        XCTAssertFalse(names.isEmpty)
        for name in names { assertClose(try XCTUnwrap(got.tensors[name], name), try XCTUnwrap(golden.tensors[name]), name) }
        let wrong = try runSpikefuse(["grad", "--weights", try fixture("golden_family2_weights").path,
                                      "--network", "paper-visual",
                                      "--inputs", try fixture("golden_family2_inputs").path, "--out", out.path])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("visual.conv1.weight") || wrong.stderr.contains("visual.conv1"), wrong.stderr)
    }

    func testGradCommandWritesTheGoldenNumbers() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grad-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try runSpikefuse(["grad", "--weights", try fixture("golden_weights").path,
                                  "--inputs", try fixture("golden_inputs").path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try SafeTensors.read(out), golden = try SafeTensors.read(try fixture("golden_grads"))
        for name in golden.names where name.hasPrefix("grad.") || name.hasPrefix("loss.") {
            assertClose(try XCTUnwrap(got.tensors[name], name), try XCTUnwrap(golden.tensors[name]), name)
        }
    }
}
