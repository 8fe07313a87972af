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

    // MARK: --attention-readout integrator

    /// The integrator readout outputs `w_v·o_v + w_a·o_a` itself, and the attention's
    /// gradient through it is exact: the loss is smooth in `fusion.attention`'s parameters
    /// (the only threshold, the hidden LIF, lies before them), so central differences of the
    /// count cross-entropy must match backward.
    func testIntegratorReadoutIsTheWeightedVoteWithExactAttentionGradients() throws {
        var c = configuration()
        c.attentionReadout = .integrator
        c.attentionNormalisation = .softmax
        c.attentionScale = 1.5
        var rng = SeededGenerator(seed: 8)
        let fusion = AttentionFusion(c, rng: &rng)
        XCTAssertNil(fusion.head)
        XCTAssertTrue(fusion.integrates)
        let shape = [12, 4, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        let labels = [3, 0, 9, 5]
        let fused = fusion.forward(visual: ov, audio: oa)
        let w = try XCTUnwrap(fusion.attentionWeights)
        for r in 0..<(shape[0] * shape[1]) {
            XCTAssertEqual(w[flat: 2 * r] + w[flat: 2 * r + 1], 1.5, accuracy: 1e-5)
            for k in 0..<c.classes {
                let i = r * c.classes + k
                XCTAssertEqual(fused[flat: i], w[flat: 2 * r] * ov[flat: i] + w[flat: 2 * r + 1] * oa[flat: i], "row \(r) class \(k)")
            }
        }
        XCTAssertTrue(Set(w.scalars).count > 2, "the weights must vary over samples and steps to test them")

        func loss() -> Float { SpikeRateLoss.countCrossEntropyLoss(spikes: fusion.forward(visual: ov, audio: oa), labels: labels).loss }
        let (_, g) = SpikeRateLoss.countCrossEntropyLoss(spikes: fused, labels: labels)
        for p in fusion.parameters { p.grad = Tensor(zeros: p.value.shape) }
        _ = fusion.backward(g)
        for p in [fusion.attention.weight, fusion.attention.bias] {
            for j in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 12)) {
                let original = p.value[flat: j], eps: Float = 1e-2
                p.value[flat: j] = original + eps; let up = loss()
                p.value[flat: j] = original - eps; let down = loss()
                p.value[flat: j] = original
                let numeric = (up - down) / (2 * eps)
                XCTAssertEqual(p.grad[flat: j], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(p.name)[\(j)]")
            }
        }
        XCTAssertNotEqual(fusion.attention.bias.grad[flat: 0], 0, "the attention must receive a gradient")
    }

    func testIntegratorWithTheRateMSEWarnsAndRoundTrips() throws {
        var c = ModelConfiguration()
        c.attentionReadout = .integrator
        XCTAssertNotNil(c.readoutLossWarning, "the default Lm is the rate MSE")
        XCTAssertTrue(c.jsonString().contains("\"attention_readout\":\"integrator\""))
        XCTAssertEqual(try ModelConfiguration.fromJSON(c.jsonString()), c)
        c.fusionLoss = .countCrossEntropy
        XCTAssertNil(c.readoutLossWarning)
        c.fusionLoss = .rateMSE
        c.attentionReadout = .sum
        XCTAssertNil(c.readoutLossWarning, "the paper's readout outputs spikes")
        c.attentionReadout = .integrator
        c.mode = .multimodalNoAttention
        XCTAssertNil(c.readoutLossWarning, "no attention, no readout")
    }

    func testConfigurationDefaultsToThePapersSumAndRoundTrips() throws {
        XCTAssertEqual(try ModelConfiguration.fromJSON("{}").attentionReadout, .sum)
        let c = configuration()
        XCTAssertEqual(try ModelConfiguration.fromJSON(c.jsonString()), c)
        XCTAssertTrue(c.jsonString().contains("\"attention_readout\":\"fc\""))
        var rng = SeededGenerator(seed: 1)
        XCTAssertNil(AttentionFusion(ModelConfiguration(), rng: &rng).head, "the paper's readout has no FC head")
    }

    // MARK: --attention-init identity

    /// A small whole network: 8×8 visual input, T = 10.
    private func smallNetworkConfiguration(_ mode: TrainingMode) -> ModelConfiguration {
        var c = ModelConfiguration()
        c.mode = mode
        c.timesteps = 10
        c.imageSize = 8
        c.visualChannels = [4, 4]
        c.visualHidden = 16
        c.audioChannels = 12
        c.audioHidden = 16
        c.fusionHidden = 16
        return c
    }

    func testIdentityInitialisedFCAttentionStartsAsTheAblationOfTheSameSeed() throws {
        var c = smallNetworkConfiguration(.multimodal)
        c.attentionReadout = .fc
        c.attentionInit = .identity
        let attention = try MultimodalNetwork(c, seed: 7)
        let ablation = try MultimodalNetwork(smallNetworkConfiguration(.multimodalNoAttention), seed: 7)
        let a = try XCTUnwrap(attention.fusion as? AttentionFusion), b = try XCTUnwrap(ablation.fusion as? ConcatenationFusion)
        let head = try XCTUnwrap(a.head)
        for (p, q) in zip(head.parameters, b.parameters) {
            XCTAssertEqual(p.value, q.value, "\(p.name): drawn as the ablation's, from the same seed")
        }
        XCTAssertTrue(a.attention.weight.value.scalars.allSatisfy { $0 == 0 })
        XCTAssertEqual(a.attention.bias.value.scalars, [1, 1])

        // At fusion level, on spikes dense enough to drive every layer: the ablation's output.
        var rng = SeededGenerator(seed: 8)
        let shape = [12, 3, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        let fusedA = a.forward(visual: ov, audio: oa), fusedB = b.forward(visual: ov, audio: oa)
        XCTAssertEqual(fusedA, fusedB, "w = (1, 1) at the start: the ablation's fused spikes")
        XCTAssertTrue(fusedB.scalars.contains(1), "a silent fusion cannot test the start")
        XCTAssertTrue(try XCTUnwrap(a.attentionWeights).scalars.allSatisfy { $0 == 1 })

        // The first gradient reaches the heads exactly as in the ablation: W_att = 0 blocks the
        // attention branch's contribution to dL/d o_v and dL/d o_a.
        let g = Tensor(shape: shape, scalars: (0..<fusedA.count).map { _ in rng.nextUniform(-1, 1) })
        let (gvA, gaA) = a.backward(g)
        let (gvB, gaB) = b.backward(g)
        XCTAssertEqual(gvA, gvB)
        XCTAssertEqual(gaA, gaB)
        XCTAssertTrue(a.attention.weight.grad.scalars.contains { $0 != 0 },
                      "the attention weights must get a gradient, or they could never leave the identity")
    }

    func testIdentityInitialisationOfTheSumReadoutAndSoftmax() throws {
        var c = configuration()
        c.attentionReadout = .sum
        c.attentionInit = .identity
        var rng = SeededGenerator(seed: 9)
        let plain = AttentionFusion(c, rng: &rng)
        c.attentionNormalisation = .softmax
        let softmax = AttentionFusion(c, rng: &rng)
        let shape = [12, 3, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        _ = plain.forward(visual: ov, audio: oa)
        _ = softmax.forward(visual: ov, audio: oa)
        XCTAssertTrue(try XCTUnwrap(plain.attentionWeights).scalars.allSatisfy { $0 == 1 })
        XCTAssertTrue(try XCTUnwrap(softmax.attentionWeights).scalars.allSatisfy { $0 == 0.5 })

        XCTAssertEqual(try ModelConfiguration.fromJSON("{}").attentionInit, .random)
        XCTAssertEqual(try ModelConfiguration.fromJSON(c.jsonString()), c)
        XCTAssertTrue(c.jsonString().contains("\"attention_init\":\"identity\""))
        var r1 = SeededGenerator(seed: 2), r2 = SeededGenerator(seed: 2)
        let random = AttentionFusion(configuration(), rng: &r1)
        XCTAssertTrue(random.attention.weight.value.scalars.contains { $0 != 0 }, "the default stays random")
        var fc = configuration()
        fc.attentionInit = .identity
        let identity = AttentionFusion(fc, rng: &r2)
        XCTAssertNotEqual(random.hidden.weight.value, identity.hidden.weight.value,
                          "identity draws the FC head first (the ablation's order), so fusion.hidden differs")
    }

    /// The documented trap: with the paper's sum readout and plain weights, `identity` puts
    /// w_v = w_a = 1 on 0/1 spikes, so the output membrane only ever holds 0 or ≥ 1 and never
    /// enters the rectangular surrogate's window (Vth ± a/2 = (0, 1)): no gradient reaches the
    /// attention, which stays at w = (1, 1) — an untrained vote. Softmax starts at 0.5 each,
    /// inside the window, and trains.
    func testIdentityWithThePlainSumReadoutPassesNoGradientButSoftmaxDoes() throws {
        var c = configuration()
        c.attentionReadout = .sum
        c.attentionInit = .identity
        var rng = SeededGenerator(seed: 10)
        let plain = AttentionFusion(c, rng: &rng)
        c.attentionNormalisation = .softmax
        let softmax = AttentionFusion(c, rng: &rng)
        let shape = [12, 3, c.classes]
        let ov = spikes(shape, &rng), oa = spikes(shape, &rng)
        let g = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextUniform(-1, 1) })
        for fusion in [plain, softmax] {
            _ = fusion.forward(visual: ov, audio: oa)
            _ = fusion.backward(g)
        }
        for p in plain.parameters {
            XCTAssertTrue(p.grad.scalars.allSatisfy { $0 == 0 }, "\(p.name): no gradient at w = (1, 1)")
        }
        var trap = c
        trap.attentionNormalisation = .none
        XCTAssertNotNil(trap.attentionTrainingWarning, "the CLI warns about the plain identity sum readout")
        XCTAssertNil(c.attentionTrainingWarning, "softmax trains")
        trap.attentionReadout = .fc
        XCTAssertNil(trap.attentionTrainingWarning, "the FC readout trains")
        XCTAssertTrue(softmax.attention.bias.grad.scalars.contains { $0 != 0 }, "w = (0.5, 0.5) is inside the window")
        XCTAssertTrue(softmax.attention.weight.grad.scalars.contains { $0 != 0 })
    }

    // MARK: --fusion-loss ce

    func testFusionLossOptionChangesOnlyLm() throws {
        var mse = smallNetworkConfiguration(.multimodal)
        mse.timesteps = 6
        var ce = mse
        ce.fusionLoss = .countCrossEntropy
        XCTAssertEqual(try ModelConfiguration.fromJSON("{}").fusionLoss, .rateMSE)
        XCTAssertEqual(try ModelConfiguration.fromJSON(ce.jsonString()), ce)
        XCTAssertTrue(ce.jsonString().contains("\"fusion_loss\":\"ce\""))

        var rng = SeededGenerator(seed: 11)
        let visual = Tensor(shape: [6, 3, 2, 8, 8], scalars: (0..<(6 * 3 * 128)).map { _ in rng.nextUniform(0, 1) < 0.5 ? 1 : 0 })
        let audio = Tensor(shape: [6, 3, 12], scalars: (0..<(6 * 3 * 12)).map { _ in rng.nextUniform(0, 1) < 0.5 ? 1 : 0 })
        let labels = [2, 7, 4]
        let a = try MultimodalNetwork(mse, seed: 3), b = try MultimodalNetwork(ce, seed: 3)
        let (lossA, outA) = a.forwardBackward(visual: visual, audio: audio, labels: labels)
        let (lossB, outB) = b.forwardBackward(visual: visual, audio: audio, labels: labels)
        XCTAssertEqual(outA.fusion, outB.fusion, "the same network and input")
        XCTAssertEqual(lossA.visual, lossB.visual)
        XCTAssertEqual(lossA.audio, lossB.audio)
        let fused = try XCTUnwrap(outB.fusion)
        XCTAssertEqual(lossA.fusion, SpikeRateLoss.mseLoss(spikes: fused, labels: labels).loss)
        XCTAssertEqual(lossB.fusion, 2 / 6 * SpikeRateLoss.countCrossEntropyLoss(spikes: fused, labels: labels).loss,
                       accuracy: 1e-6, "Lm = (2/T)·CE, T = 6")
        XCTAssertNotEqual(lossA.fusion, lossB.fusion)
    }
}
