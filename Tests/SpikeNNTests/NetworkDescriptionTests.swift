import Foundation
import XCTest
@testable import SpikeNN
import SpikeTensor

/// A network as data: JSON in and out, shapes inferred, errors that name the place, and the
/// built layers of a geometry other than the paper's.
final class NetworkDescriptionTests: XCTestCase {
    /// 2×32×32 → 5×5 stride-2 conv → LIF → max pool → two 3×3 convs with LIF → avg pool →
    /// flatten → recurrent → linear + LIF, 4 classes.
    static let otherGeometry = """
    {
      "name": "other", "timesteps": 6, "classes": 4,
      "branches": [{
        "name": "visual",
        "input": {"modality": "dvs", "shape": [2, 32, 32]},
        "neuron": {"tau": 0.5, "threshold": 0.3},
        "layers": [
          {"type": "conv2d", "name": "c1", "channels": 8, "kernel": 5, "stride": 2, "padding": 2},
          {"type": "lif"},
          {"type": "maxpool2d", "kernel": 2},
          {"type": "conv2d", "name": "c2", "channels": 12, "kernel": 3, "padding": 1},
          {"type": "lif", "neuron": {"tau": 0.25}},
          {"type": "conv2d", "name": "c3", "channels": 16, "kernel": 3, "padding": 1},
          {"type": "lif"},
          {"type": "avgpool2d", "kernel": 2},
          {"type": "flatten"},
          {"type": "recurrent", "name": "r", "features": 20},
          {"type": "linear", "name": "out", "features": 4},
          {"type": "lif"}
        ]
      }]
    }
    """

    func testJSONRoundTripAndInferredShapes() throws {
        let d = try NetworkDescription.decode(Data(Self.otherGeometry.utf8), source: "other.json")
        XCTAssertEqual(d.branches[0].neuron, NeuronDescription(tau: 0.5, threshold: 0.3))
        XCTAssertEqual(d.branches[0].layers[0], .conv2d(name: "c1", channels: 8, kernel: 5, stride: 2, padding: 2))
        XCTAssertEqual(d.branches[0].layers[3], .conv2d(name: "c2", channels: 12, kernel: 3, stride: 1, padding: 1))
        XCTAssertEqual(try NetworkDescription.decode(d.jsonData(), source: "again"), d)
        // (32 + 4 − 5)/2 + 1 = 16 → pool 8 → 8 → 8 → pool 4 → 16·4·4 = 256 → 20 → 4
        XCTAssertEqual(try NetworkBuilder.shapes(of: d.branches[0], classes: 4),
                       [[8, 16, 16], [8, 8, 8], [12, 8, 8], [16, 8, 8], [16, 4, 4], [256], [20], [4]])
    }

    /// The Swift builder writes the same description as the JSON file.
    func testSwiftBuilderWritesTheSameDescription() throws {
        let fromFile = try NetworkDescription.decode(Data(Self.otherGeometry.utf8), source: "other.json")
        let branch = BranchDescription("visual", .dvs, shape: [2, 32, 32], neuron: NeuronDescription(tau: 0.5, threshold: 0.3), layers: [
            .conv2d("c1", channels: 8, kernel: 5, stride: 2, padding: 2), .lif(),
            .maxPool2d(2),
            .conv2d("c2", channels: 12, kernel: 3, padding: 1), .lif(NeuronDescription(tau: 0.25)),
            .conv2d("c3", channels: 16, kernel: 3, padding: 1), .lif(),
            .avgPool2d(2),
            .flatten,
            .recurrent("r", features: 20),
            .linear("out", features: 4), .lif(),
        ])
        XCTAssertEqual(NetworkDescription(name: "other", timesteps: 6, classes: 4, branches: [branch]), fromFile)
    }

    func testBuiltLayersNamesAndNeurons() throws {
        let d = try NetworkDescription.decode(Data(Self.otherGeometry.utf8), source: "other.json")
        var rng = SeededGenerator(seed: 1)
        let (network, built) = try NetworkBuilder.build(d.branches[0], classes: 4, rng: &rng)
        XCTAssertEqual(network.parameters.map(\.name), ["visual.c1.weight", "visual.c1.bias", "visual.c2.weight",
            "visual.c2.bias", "visual.c3.weight", "visual.c3.bias", "visual.r.weight", "visual.r.bias",
            "visual.r.recurrent_weight", "visual.out.weight", "visual.out.bias"])
        XCTAssertEqual(network.parameters[0].value.shape, [8, 2, 5, 5])
        XCTAssertEqual(network.parameters[6].value.shape, [20, 256])
        XCTAssertEqual(built.map(\.items), [0..<2, 2..<3, 3..<5, 5..<7, 7..<8, 8..<9, 9..<10, 10..<12])
        XCTAssertTrue(network.layers[2] is SpikingConv2d)
        XCTAssertTrue(network.layers[1] is MaxPool2d)
        XCTAssertEqual((network.layers[2] as! SpikingConv2d).lif.neuron.tau, 0.25)          // its own neuron
        XCTAssertEqual((network.layers[3] as! SpikingConv2d).lif.neuron, LIFParameters(tau: 0.5, threshold: 0.3))
        XCTAssertFalse(network.layers[0].needsInputGradient)
    }

    /// The built network runs fused (the default) and layer by layer to the same spikes,
    /// trains (gradients reach the first layer), and its streaming step scans to the same spikes.
    func testOtherGeometryRunsTrainsAndStreams() throws {
        let d = try NetworkDescription.decode(Data(Self.otherGeometry.utf8), source: "other.json")
        var rng = SeededGenerator(seed: 2)
        let (network, _) = try NetworkBuilder.build(d.branches[0], classes: 4, rng: &rng)
        for p in network.parameters {   // 2⁻¹² grid: exact sums, so the step must match bit for bit
            p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { ($0 * 8 * 4096).rounded() / 4096 })
        }
        let x = randomSpikes([6, 3, 2, 32, 32], rate: 0.1, &rng)
        let y = network.forward(x)
        XCTAssertEqual(y.shape, [6, 3, 4])
        XCTAssertTrue(y.scalars.contains(1), "a silent output cannot test anything")
        let g = network.backward(Tensor(repeating: 0.1, shape: y.shape))
        XCTAssertEqual(g.shape, [0])
        XCTAssertTrue(network.parameters[0].grad.scalars.contains { $0 != 0 }, "no gradient reached conv c1")

        network.savesForBackward = false
        let inference = network.forward(x)
        XCTAssertEqual(inference.scalars, y.scalars)
        let step = network.makeStep(batch: 3, inputShape: [2, 32, 32])
        var stepped: [Float] = []
        x.withPointer { p in
            for t in 0..<6 { stepped += UnsafeBufferPointer(start: step.step(p + t * 3 * 2048), count: 12) }
        }
        XCTAssertEqual(stepped, y.scalars)
    }

    /// The parts a profiler times (`NetworkBuilder.namedParts`): one per description item, named
    /// by it, and running them one after the other gives the network's own output.
    func testNamedPartsFollowTheDescriptionAndComposeToTheNetwork() throws {
        let d = try NetworkDescription.decode(Data(Self.otherGeometry.utf8), source: "other.json")
        var rng = SeededGenerator(seed: 4)
        let (network, _) = try NetworkBuilder.build(d.branches[0], classes: 4, rng: &rng)
        for p in network.parameters { p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { $0 * 4 }) }
        let parts = try NetworkBuilder.namedParts(network, branch: d.branches[0], classes: 4)
        XCTAssertEqual(parts.map(\.name), [
            "visual.c1 conv2d", "visual.c1 lif", "visual maxpool2d", "visual.c2 conv2d", "visual.c2 lif",
            "visual.c3 conv2d", "visual.c3 lif", "visual avgpool2d", "visual flatten", "visual.r recurrent",
            "visual.out linear", "visual.out lif",
        ])
        let x = randomSpikes([6, 2, 2, 32, 32], rate: 0.1, &rng)
        network.savesForBackward = false
        let y = network.forward(x)
        XCTAssertTrue(y.scalars.contains(1), "a silent output cannot test anything")
        var h = x
        for part in parts.map(\.layer) { part.savesForBackward = false; h = part.forward(h) }
        XCTAssertEqual(h.scalars, y.scalars)
    }

    /// The kernel plan against the reference composition, in training: a fused conv → LIF →
    /// pool stage followed by one that cannot train fused (6 input channels: no direct dL/dx
    /// kernel), whose plain backward then hands dL/dx over channels-last. Same spikes, same
    /// gradients.
    func testPlanMatchesTheReferenceCompositionInTraining() throws {
        let branch = BranchDescription(name: "v", input: InputDescription(modality: .dvs, shape: [2, 16, 16]),
                                       neuron: NeuronDescription(tau: 0.4, threshold: 0.3), layers: [
            .conv2d(name: "a", channels: 6, kernel: 3, stride: 1, padding: 1), .lif(nil), .avgPool2d(kernel: 2),
            .conv2d(name: "b", channels: 8, kernel: 3, stride: 1, padding: 1), .lif(nil), .avgPool2d(kernel: 2),
            .flatten, .linear(name: "o", features: 3), .lif(nil),
        ])
        var rng = SeededGenerator(seed: 4), rng2 = SeededGenerator(seed: 4)
        let (fused, _) = try NetworkBuilder.build(branch, classes: 3, rng: &rng)
        let (reference, _) = try NetworkBuilder.build(branch, classes: 3, rng: &rng2)
        reference.fusesPooling = false
        if case .convLIFPool = fused.plan.stages[0] {} else { XCTFail("conv a and its pool make one stage") }
        XCTAssertEqual(reference.plan.stages.count, 6)
        for p in fused.parameters + reference.parameters {
            p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { $0 * 3 })
        }
        let x = randomSpikes([5, 2, 2, 16, 16], rate: 0.08, &rng)
        let y = fused.forward(x), yRef = reference.forward(x)
        XCTAssertEqual(y.scalars, yRef.scalars)
        XCTAssertTrue(y.scalars.contains(1), "a silent output cannot test the backward")
        XCTAssertTrue((fused.layers[2] as! SpikingConv2d).conv.writesChannelsLastInputGradient)
        let r = randomTensor(y.shape, &rng)
        _ = fused.backward(r); _ = reference.backward(r)
        for (p, q) in zip(fused.parameters, reference.parameters) {
            XCTAssertTrue(q.grad.scalars.contains { $0 != 0 }, "\(q.name): no gradient to compare")
            assertClose(p.grad.scalars, q.grad.scalars, tolerance: 1e-4, p.name)
        }
    }

    func testErrorsNameThePlaceAndTheProblem() {
        func error(_ edit: (inout String) -> Void) -> String {
            var text = Self.otherGeometry
            edit(&text)
            do {
                _ = try NetworkDescription.decode(Data(text.utf8), source: "net.json")
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(error { _ in }, "no error")
        let unknownType = error { $0 = $0.replacingOccurrences(of: "\"maxpool2d\"", with: "\"maxpool3d\"") }
        XCTAssertTrue(unknownType.hasPrefix("net.json: at branches[0].layers[2]"), unknownType)
        XCTAssertTrue(unknownType.contains("unknown layer type 'maxpool3d'"), unknownType)
        let misspelt = error { $0 = $0.replacingOccurrences(of: "\"stride\": 2", with: "\"strides\": 2") }
        XCTAssertTrue(misspelt.contains("branches[0].layers[0]") && misspelt.contains("unknown key 'strides'"), misspelt)
        let noFlatten = error { $0 = $0.replacingOccurrences(of: "{\"type\": \"flatten\"},", with: "") }
        XCTAssertTrue(noFlatten.contains("branch 'visual', layer 9 'r': recurrent needs [N] input, got [16, 4, 4]"), noFlatten)
        let classes = error { $0 = $0.replacingOccurrences(of: "\"classes\": 4", with: "\"classes\": 5") }
        XCTAssertTrue(classes.contains("the last layer must emit spikes [5]"), classes)
        let noSpikes = error { $0 = $0.replacingOccurrences(of: "\"features\": 4},\n      {\"type\": \"lif\"}", with: "\"features\": 4}") }
        XCTAssertTrue(noSpikes.contains("non-spiking output"), noSpikes)
        let tooBig = error { $0 = $0.replacingOccurrences(of: "\"kernel\": 5", with: "\"kernel\": 40") }
        XCTAssertTrue(tooBig.contains("layer 1 'c1': a 40×40 kernel does not fit input [2, 32, 32]"), tooBig)
        let tau = error { $0 = $0.replacingOccurrences(of: "{\"tau\": 0.25}", with: "{\"tau\": 1.5}") }
        XCTAssertTrue(tau.contains("layer 5: tau must be in [0, 1), got 1.5"), tau)
        let duplicate = error { $0 = $0.replacingOccurrences(of: "\"name\": \"c3\"", with: "\"name\": \"c2\"") }
        XCTAssertTrue(duplicate.contains("layer 6 'c2': the name is used twice"), duplicate)
        let negative = error { $0 = $0.replacingOccurrences(of: "\"channels\": 8", with: "\"channels\": -8") }
        XCTAssertTrue(negative.contains("channels must be positive, got -8"), negative)
        let fusion = error { $0 = $0.replacingOccurrences(of: "\"branches\"", with: "\"fusion\": {\"kind\": \"attention\", \"hidden\": 8, \"neuron\": {\"tau\": 0.9}}, \"branches\"") }
        XCTAssertTrue(fusion.contains("fusion 'attention' needs a dvs and a cochlea branch"), fusion)
    }

    // MARK: Max pooling

    func testMaxPoolForwardBackwardByHand() {
        // one 4×5 plane, k = 2 → 2×2 outputs (the last column is dropped, as PyTorch)
        let x = Tensor(shape: [1, 1, 1, 4, 5], scalars: [
            1, 3, 0, 0, 9,
            2, 3, 5, 1, 9,
            0, 0, 1, 1, 9,
            0, 0, 1, 1, 9])
        let pool = MaxPool2d(kernelSize: 2)
        XCTAssertEqual(pool.forward(x).scalars, [3, 5, 0, 1])
        // ties go to the first element in row-major order: (0,1) over (1,1); (2,2) of the 1s
        let g = pool.backward(Tensor(shape: [1, 1, 1, 2, 2], scalars: [10, 20, 30, 40]))
        XCTAssertEqual(g.scalars, [
            0, 10, 0, 0, 0,
            0, 0, 20, 0, 0,
            30, 0, 40, 0, 0,
            0, 0, 0, 0, 0])
    }

    /// Sum pooling: each output the window's sum, the gradient copied to the window, the step
    /// as the forward; described as `sumpool2d` and never planned into a fused stage.
    func testSumPoolByHandStepAndPlan() throws {
        let x = Tensor(shape: [1, 1, 1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 9])
        let pool = AvgPool2d(sumOver: 2)
        XCTAssertEqual(pool.forward(x).scalars, [14, 23])
        XCTAssertEqual(pool.backward(Tensor(shape: [1, 1, 1, 1, 2], scalars: [0.5, -1])).scalars, [0.5, 0.5, -1, -1, 0.5, 0.5, -1, -1])
        let step = pool.makeStep(batch: 1, inputShape: [1, 2, 4])
        x.withPointer { p in XCTAssertEqual(Array(UnsafeBufferPointer(start: step.step(p), count: 2)), [14, 23]) }
        XCTAssertEqual(AvgPool2d(kernelSize: 2).forward(x).scalars, [3.5, 5.75])

        var text = Self.otherGeometry.replacingOccurrences(of: "\"avgpool2d\"", with: "\"sumpool2d\"")
        let d = try NetworkDescription.decode(Data(text.utf8), source: "sum.json")
        XCTAssertEqual(d.branches[0].layers[7], .sumPool2d(kernel: 2))
        var rng = SeededGenerator(seed: 3)
        let (network, _) = try NetworkBuilder.build(d.branches[0], classes: 4, rng: &rng)
        XCTAssertTrue((network.layers[4] as? AvgPool2d)?.sums ?? false)
        // c1 → max pool is fused; c3 → the sum pool is not
        XCTAssertFalse(network.plan.stages.contains { if case let .convLIFPool(_, pool, _, _, _) = $0 { return pool === network.layers[4] }; return false })
        XCTAssertTrue(network.plan.stages.contains { if case let .convLIFPool(_, _, window, _, _) = $0 { return window == .maximum(2) }; return false })
        text = Self.otherGeometry
        let fusedPlan = try NetworkBuilder.build(try NetworkDescription.decode(Data(text.utf8), source: "avg.json").branches[0],
                                                 classes: 4, rng: &rng).0.plan
        XCTAssertTrue(fusedPlan.stages.contains { if case .convLIFPool = $0 { return true }; return false })
    }

    func testMaxPoolGradientMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 9)
        let x = randomTensor([2, 2, 3, 6, 6], &rng)   // distinct values: no ties
        let r = randomTensor([2, 2, 3, 3, 3], &rng)
        let pool = MaxPool2d(kernelSize: 2)
        _ = pool.forward(x)
        let g = pool.backward(r)
        for i in stride(from: 0, to: x.count, by: 7) {
            let fd = finiteDifference(x, i, eps: 1e-3) { projected(MaxPool2d(kernelSize: 2).forward($0), r) }
            XCTAssertEqual(g.scalars[i], fd, accuracy: 1e-2, "element \(i)")
        }
    }
}
