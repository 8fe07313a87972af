import XCTest
@testable import Multimodal

/// The attention fusion's `.fc` readout (`--attention-readout fc`): the attention-weighted
/// spikes feed the ablation's two FC layers. Its oracle is the ablation itself: with the
/// attention fixed at w_v = w_a = 1 the readout must compute exactly what
/// `ConcatenationFusion` computes with the same FC weights, forward and backward.
final class AttentionReadoutTests: XCTestCase {
    private func configuration() -> ModelConfiguration {
        var c = ModelConfiguration()
        c.classes = 10
        c.fusionHidden = 16
        c.attentionReadout = .fc
        return c
    }

    /// Random binary spikes `[T, B, C]` at about 30 % density.
    private func spikes(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextUniform(0, 1) < 0.3 ? 1 : 0 })
    }

    func testUnitAttentionMakesTheFCReadoutTheAblation() throws {
        let c = configuration()
        var rng = SeededGenerator(seed: 5)
        let attention = AttentionFusion(c, rng: &rng)
        let ablation = ConcatenationFusion(c, rng: &rng)
        let head = try XCTUnwrap(attention.head)
        XCTAssertEqual(attention.parameters.map(\.name),
                       ["fusion.hidden.weight", "fusion.hidden.bias", "fusion.attention.weight", "fusion.attention.bias",
                        "fusion.fc1.weight", "fusion.fc1.bias", "fusion.fc2.weight", "fusion.fc2.bias"])
        for (p, q) in zip(head.parameters, ablation.parameters) { p.value = q.value }
        attention.attention.weight.value = Tensor(zeros: attention.attention.weight.value.shape)
        attention.attention.bias.value = Tensor(shape: [2], scalars: [1, 1])

        let shape = [12, 3, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        let fusedA = attention.forward(visual: ov, audio: oa)
        let fusedB = ablation.forward(visual: ov, audio: oa)
        XCTAssertEqual(fusedA, fusedB, "w = (1, 1): the same spikes as the ablation")
        XCTAssertTrue(fusedB.scalars.contains(1), "a silent head cannot test the readout")

        let g = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextUniform(-1, 1) })
        let (gvA, gaA) = attention.backward(g)
        let (gvB, gaB) = ablation.backward(g)
        XCTAssertEqual(gvA, gvB, "dL/d o_v")
        XCTAssertEqual(gaA, gaB, "dL/d o_a")
        for (p, q) in zip(head.parameters, ablation.parameters) {
            XCTAssertEqual(p.grad, q.grad, "\(p.name): the same gradient as the ablation's")
        }
        // dL/dw_v summed over [T, B] = Σ dL/d(w_v·o_v)·o_v, and with w = 1 dL/d(w_v·o_v) is the
        // ablation's dL/d o_v; likewise for w_a. That sum is the attention bias's gradient.
        func dot(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 } }
        let biasGrad = attention.attention.bias.grad.scalars
        XCTAssertEqual(biasGrad[0], dot(gvB, ov), accuracy: 1e-4 * max(1, abs(biasGrad[0])))
        XCTAssertEqual(biasGrad[1], dot(gaB, oa), accuracy: 1e-4 * max(1, abs(biasGrad[1])))
        XCTAssertNotEqual(biasGrad[0], 0, "the attention must receive a gradient through the FC readout")
    }

    func testAttentionWeightsScaleWhatTheReadoutSees() throws {
        let c = configuration()
        var rng = SeededGenerator(seed: 6)
        let attention = AttentionFusion(c, rng: &rng)
        attention.attention.weight.value = Tensor(zeros: attention.attention.weight.value.shape)
        attention.attention.bias.value = Tensor(shape: [2], scalars: [1, 0])   // audio switched off
        let shape = [12, 3, c.classes]
        let ov = spikes(shape, &rng)
        let withAudio = attention.forward(visual: ov, audio: spikes(shape, &rng))
        let otherAudio = attention.forward(visual: ov, audio: spikes(shape, &rng))
        XCTAssertEqual(withAudio, otherAudio, "w_a = 0: the auditory spikes cannot reach the output")
    }

    func testConfigurationDefaultsToThePapersSumAndRoundTrips() throws {
        XCTAssertEqual(try ModelConfiguration.fromJSON("{}").attentionReadout, .sum)
        let c = configuration()
        XCTAssertEqual(try ModelConfiguration.fromJSON(c.jsonString()), c)
        XCTAssertTrue(c.jsonString().contains("\"attention_readout\":\"fc\""))
        var rng = SeededGenerator(seed: 1)
        XCTAssertNil(AttentionFusion(ModelConfiguration(), rng: &rng).head, "the paper's readout has no FC head")
    }
}
