import Foundation
import XCTest
@testable import SpikeNN
import SpikeTensor

/// Neuron models in descriptions: JSON keys per branch and layer, errors naming the place,
/// old files unchanged, and the kernels `KernelPlan` picks for each.
final class NeuronDescriptionTests: XCTestCase {
    /// 40 channels → recurrent adaptive → linear + PLIF (per channel, reset by subtraction,
    /// arctan) → linear + current-based LIF, 3 classes.
    static let models = """
    {
      "name": "models", "timesteps": 8, "classes": 3,
      "branches": [{
        "name": "audio",
        "input": {"modality": "cochlea", "shape": [40]},
        "neuron": {"tau": 0.5},
        "layers": [
          {"type": "recurrent", "name": "rec", "features": 16,
           "neuron": {"model": "adaptive_lif", "tau": 0.9, "threshold": 0.4, "adaptation_decay": 0.95,
                      "adaptation_strength": 0.2, "reset": "subtract", "surrogate": "triangle", "surrogate_width": 0.4,
                      "surrogate_dampening": 0.3, "learn_threshold": "neuron"}},
          {"type": "linear", "name": "hid", "features": 12},
          {"type": "lif", "neuron": {"tau": 0.8, "learn_tau": "channel", "reset": "subtract",
                                     "surrogate": "arctan", "surrogate_slope": 4}},
          {"type": "linear", "name": "out", "features": 3},
          {"type": "lif", "neuron": {"model": "cuba_lif", "tau": 0.7, "synapse_tau": 0.6, "surrogate": "fast_sigmoid"}}
        ]
      }]
    }
    """

    func testModelsDecodeBuildNameTheirParametersAndRoundTrip() throws {
        let d = try NetworkDescription.decode(Data(Self.models.utf8), source: "models.json")
        XCTAssertEqual(try NetworkDescription.decode(d.jsonData(), source: "again"), d)
        var rng = SeededGenerator(seed: 1)
        let (net, _) = try NetworkBuilder.build(d.branches[0], classes: 3, rng: &rng)
        XCTAssertEqual(net.parameters.map(\.name), [
            "audio.rec.weight", "audio.rec.bias", "audio.rec.recurrent_weight", "audio.rec.threshold",
            "audio.hid.weight", "audio.hid.bias", "audio.hid.tau_logit",
            "audio.out.weight", "audio.out.bias",
        ])
        XCTAssertEqual(net.parameters.map(\.value.shape)[3], [16])
        XCTAssertEqual(net.parameters.map(\.value.shape)[6], [12])
        let rec = try XCTUnwrap(net.layers[0] as? RecurrentSpikingLinear)
        XCTAssertEqual(rec.neurons?.settings.model, .adaptive)
        XCTAssertEqual(rec.neurons?.settings.surrogate, .triangle(width: 0.4))
        let out = try XCTUnwrap(net.layers[2] as? SynapseThenNeurons)
        XCTAssertEqual(out.neurons.settings.synapseTau, 0.6)
        XCTAssertEqual(out.neurons.settings.surrogate, .fastSigmoid(slope: 25))
        // It trains: a forward and backward fill every gradient, the learnt constants' too.
        let x = randomSpikes([8, 2, 40], rate: 0.3, &rng)
        let y = net.forward(x)
        _ = net.backward(Tensor(repeating: 1, shape: y.shape))
        for p in net.parameters where p.name.hasSuffix("threshold") || p.name.hasSuffix("tau_logit") {
            XCTAssertTrue(p.grad.scalars.contains { $0 != 0 }, "\(p.name) got no gradient")
        }
        let summary = try NetworkBuilder.summary(of: d.branches[0], classes: 3)
        XCTAssertTrue(summary[0].path.contains("neurons: adaptive_lif, reset subtract, triangle, learnt V_th per neuron: model step scan"),
                      summary[0].path)
        XCTAssertTrue(summary[2].path.contains("cuba_lif, fast sigmoid"), summary[2].path)
        XCTAssertEqual(summary.map(\.parameters).reduce(0, +), net.parameters.map(\.value.count).reduce(0, +))
    }

    /// A file of the paper's LIF reads and builds as before: `{"tau": 0.2}` is the plain LIF on
    /// its C kernels, and the description writes no new key.
    func testOldFilesAreThePlainLIF() throws {
        let d = try NetworkDescription.decode(Data(NetworkDescriptionTests.otherGeometry.utf8), source: "other.json")
        XCTAssertFalse(String(decoding: d.jsonData(), as: UTF8.self).contains("reset"))
        var rng = SeededGenerator(seed: 1)
        let (net, _) = try NetworkBuilder.build(d.branches[0], classes: 4, rng: &rng)
        XCTAssertTrue(net.layers[0] is SpikingConv2d)
        XCTAssertTrue(net.layers.last is SpikingLinear)
        XCTAssertNil((net.layers.first { $0 is RecurrentSpikingLinear } as? RecurrentSpikingLinear)?.neurons)
        let settings = try NetworkBuilder.checked(NeuronDescription(tau: 0.2), NetworkDescriptionError(""))
        XCTAssertEqual(KernelPlan.neuronPath(settings), .lifKernels)
        XCTAssertEqual(settings.lif, LIFParameters(tau: 0.2))
        // Any other setting leaves the LIF kernels (and the fused conv → LIF → pool pass).
        var soft = NeuronDescription(tau: 0.2)
        soft.reset = "subtract"
        XCTAssertEqual(KernelPlan.neuronPath(try NetworkBuilder.checked(soft, NetworkDescriptionError(""))), .modelScan)
        // The Swift settings and the description say the same.
        let s = NeuronSettings(model: .adaptive, tau: 0.9, reset: .value(-0.5), surrogate: .arctan(slope: 3),
                               adaptationDecay: 0.9, adaptationStrength: 1.5, learnThreshold: .layer)
        XCTAssertEqual(try NetworkBuilder.checked(NeuronDescription(s), NetworkDescriptionError("")), s)
    }

    func testNeuronErrorsNameThePlace() {
        func error(_ from: String, _ to: String) -> String {
            let text = Self.models.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(text, Self.models, "the edit \(from) did not apply")
            do {
                _ = try NetworkDescription.decode(Data(text.utf8), source: "models.json")
                return "no error"
            } catch { return "\(error)" }
        }
        let cases: [(String, String, String)] = [
            ("\"adaptive_lif\"", "\"alif\"", "layer 1 'rec': neuron model 'alif' is not known (known: lif, if, cuba_lif, adaptive_lif)"),
            ("\"adaptation_decay\": 0.95,", "", "layer 1 'rec': adaptation_decay must be given for model 'adaptive_lif'"),
            ("\"learn_tau\": \"channel\"", "\"learn_tau\": \"neuron\"", "layer 3: learn_tau 'neuron' is not known (known: layer, channel)"),
            ("\"reset\": \"subtract\",\n", "\"reset\": \"soft\",\n", "layer 3: reset 'soft' is not known (known: zero, value, subtract)"),
            ("\"synapse_tau\": 0.6", "\"synapse_tau\": 1.6", "layer 5: synapse_tau must be in [0, 1), got 1.6"),
            ("\"surrogate\": \"fast_sigmoid\"", "\"surrogate\": \"fast_sigmoid\", \"adaptation_decay\": 0.5",
             "layer 5: adaptation_decay applies to model 'adaptive_lif' only"),
            ("\"surrogate_slope\": 4", "\"surrogate_slope\": 4, \"rest\": 1", "unknown key 'rest'"),
            ("\"surrogate\": \"arctan\"", "\"surrogate\": \"rectangle\"", "layer 3: surrogate_slope applies to fast_sigmoid and arctan only"),
        ]
        for (from, to, expected) in cases {
            let message = error(from, to)
            XCTAssertTrue(message.contains(expected), "\(expected) ⟵ \(message)")
        }
        // A learnt constant needs a named layer; the fusion runs the plain LIF only.
        var learnt = NeuronDescription(tau: 0.5)
        learnt.learnTau = "layer"
        let branch = BranchDescription("audio", .cochlea, shape: [4], neuron: NeuronDescription(tau: 0.5),
                                       layers: [.linear("out", features: 3), .lif(), .lif(learnt)])
        XCTAssertThrowsError(try NetworkBuilder.plannedLayers(of: branch, classes: 3)) { e in
            XCTAssertTrue("\(e)".contains("layer 3: learnt neuron constants need a named layer"), "\(e)")
        }
    }
}
