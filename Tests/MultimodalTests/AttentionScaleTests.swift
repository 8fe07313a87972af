import XCTest
@testable import Multimodal

/// `--attention-scale S`: `[w_v, w_a] = S·softmax(z)`. Gradients are checked against PyTorch by
/// `GoldenParityTests.testFusionOnlyCrossEntropySoftmaxMatchesPyTorch` (S = 1.5).
final class AttentionScaleTests: XCTestCase {
    private func spikes(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextUniform(0, 1) < 0.3 ? 1 : 0 })
    }

    func testScaleMultipliesTheSoftmaxWeights() throws {
        var c = ModelConfiguration()
        c.fusionHidden = 16
        c.attentionNormalisation = .softmax
        var rng = SeededGenerator(seed: 3)
        let plain = AttentionFusion(c, rng: &rng)
        c.attentionScale = 1.5
        rng = SeededGenerator(seed: 3)
        let scaled = AttentionFusion(c, rng: &rng)
        let shape = [8, 4, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        _ = plain.forward(visual: ov, audio: oa)
        _ = scaled.forward(visual: ov, audio: oa)
        let w1 = try XCTUnwrap(plain.attentionWeights), w15 = try XCTUnwrap(scaled.attentionWeights)
        for (a, b) in zip(w1.scalars, w15.scalars) { XCTAssertEqual(b, 1.5 * a, accuracy: 1e-6) }
        for r in 0..<(w15.count / 2) { XCTAssertEqual(w15[flat: 2 * r] + w15[flat: 2 * r + 1], 1.5, accuracy: 1e-5) }

        c.attentionInit = .identity
        let identity = AttentionFusion(c, rng: &rng)
        _ = identity.forward(visual: ov, audio: oa)
        XCTAssertTrue(try XCTUnwrap(identity.attentionWeights).scalars.allSatisfy { $0 == 0.75 }, "identity: S/2 each")
    }

    /// At S = 1.5 and the identity start, one spike of either head fires the output (0.75 ≥ Vth)
    /// and its membrane 0.75 lies inside the surrogate window (0, 1), so the attention trains;
    /// at S = 2 the start is w = 1, the plain identity's trap, and the CLI warns.
    func testIdentityStartTrainsBelowTwoAndWarnsAtTwo() throws {
        var c = ModelConfiguration()
        c.fusionHidden = 16
        c.attentionNormalisation = .softmax
        c.attentionInit = .identity
        c.attentionScale = 1.5
        XCTAssertNil(c.attentionTrainingWarning)
        var rng = SeededGenerator(seed: 4)
        let fusion = AttentionFusion(c, rng: &rng)
        let shape = [8, 4, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        let out = fusion.forward(visual: ov, audio: oa)
        for (i, o) in out.scalars.enumerated() where ov.scalars[i] == 1 || oa.scalars[i] == 1 {
            XCTAssertEqual(o, 1, "a single head spike at w = 0.75 fires the output")
        }
        _ = fusion.backward(Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextUniform(-1, 1) }))
        XCTAssertTrue(fusion.attention.bias.grad.scalars.contains { $0 != 0 }, "the attention receives a gradient")
        c.attentionScale = 2
        XCTAssertNotNil(c.attentionTrainingWarning)
    }

    func testScaleIsValidatedAndRoundTrips() throws {
        var c = ModelConfiguration()
        c.attentionScale = 1.5
        XCTAssertThrowsError(try c.validate(), "a scale needs softmax weights")
        c.attentionNormalisation = .softmax
        XCTAssertNoThrow(try c.validate())
        XCTAssertEqual(try ModelConfiguration.fromJSON(c.jsonString()), c)
        XCTAssertTrue(c.jsonString().contains("\"attention_scale\":1.5"))
        XCTAssertEqual(try ModelConfiguration.fromJSON("{}").attentionScale, 1)
        c.attentionScale = 0
        XCTAssertThrowsError(try c.validate())
    }
}
