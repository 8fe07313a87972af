import Foundation
import XCTest
@testable import SpikeNN
import SpikeTensor

/// The neuron models against the PyTorch peer (bench/pytorch_reference.py `NeuronModelPeer`,
/// whose gradients come from autograd through its step): Fixtures/neuron_models.safetensors,
/// written by bench/make_neuron_fixtures.py. Identical spikes, membranes to rounding, and
/// every gradient (inputs, weights, learnt decay and threshold) within 1e-4.
final class NeuronPeerTests: XCTestCase {
    private func fixture() throws -> SafeTensorsFile {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try SafeTensors.read(folder.appendingPathComponent("neuron_models.safetensors"))
    }

    private func neuron(_ f: SafeTensorsFile, _ name: String) throws -> (NeuronSettings, [Int]) {
        let json = try XCTUnwrap(f.metadata["\(name).neuron"], "\(name): no neuron")
        let description = try NetworkDescription.jsonDecoder.decode(NeuronDescription.self, from: Data(json.utf8))
        let shape = try JSONDecoder().decode([Int].self, from: Data(try XCTUnwrap(f.metadata["\(name).shape"]).utf8))
        return (try NeuronSettings(checking: description, context: "\(name): "), shape)
    }

    /// Copies the fixture's learnt constants into `layer` and checks their gradients after backward.
    private func learnt(_ layer: SpikingNeurons, _ f: SafeTensorsFile, _ name: String, check: Bool) throws {
        for (parameter, key) in [(layer.tauLogit, "tau_logit"), (layer.threshold, "threshold")] {
            guard let parameter else {
                XCTAssertNil(f.tensors["\(name).\(key)"], "\(name): the peer learns \(key), the layer does not")
                continue
            }
            if check {
                assertClose(parameter.grad.scalars, try f.tensor(named: "\(name).grad_\(key)").scalars, tolerance: 1e-4,
                            "\(name): dL/d\(key)")
            } else {
                parameter.value = try f.tensor(named: "\(name).\(key)")
            }
        }
    }

    func testPopulationsMatchThePyTorchPeer() throws {
        let f = try fixture()
        let names = Set(f.metadata.keys.filter { $0.hasSuffix(".neuron") }.map { String($0.dropLast(7)) })
            .subtracting(["recurrent_adaptive"]).sorted()
        XCTAssertEqual(names.count, 4, "\(names)")
        for name in names {
            let (settings, shape) = try neuron(f, name)
            let layer = SpikingNeurons(name: name, settings: settings, shape: shape)
            try learnt(layer, f, name, check: false)
            let spikes = layer.forward(try f.tensor(named: "\(name).current"))
            XCTAssertEqual(spikes.scalars, try f.tensor(named: "\(name).spikes").scalars, "\(name): spikes")
            assertClose(layer.membrane.scalars, try f.tensor(named: "\(name).membrane").scalars, tolerance: 1e-6,
                        "\(name): membrane")
            let dI = layer.backward(try f.tensor(named: "\(name).grad_spikes"))
            assertClose(dI.scalars, try f.tensor(named: "\(name).grad_current").scalars, tolerance: 1e-4, "\(name): dL/dI")
            try learnt(layer, f, name, check: true)
        }
    }

    func testRecurrentAdaptiveLayerMatchesThePyTorchPeer() throws {
        let f = try fixture(), name = "recurrent_adaptive"
        let (settings, sizes) = try neuron(f, name)
        var rng = SeededGenerator(seed: 0)
        let layer = RecurrentSpikingLinear(name: name, inFeatures: sizes[0], outFeatures: sizes[1], settings: settings, rng: &rng)
        layer.weight.value = try f.tensor(named: "\(name).weight")
        layer.bias.value = try f.tensor(named: "\(name).bias")
        layer.recurrentWeight.value = try f.tensor(named: "\(name).recurrent_weight")
        let neurons = try XCTUnwrap(layer.neurons)
        try learnt(neurons, f, name, check: false)
        let spikes = layer.forward(try f.tensor(named: "\(name).input"))
        XCTAssertEqual(spikes.scalars, try f.tensor(named: "\(name).spikes").scalars, "spikes")
        assertClose(layer.membrane.scalars, try f.tensor(named: "\(name).membrane").scalars, tolerance: 1e-6, "membrane")
        let dx = layer.backward(try f.tensor(named: "\(name).grad_spikes"))
        assertClose(dx.scalars, try f.tensor(named: "\(name).grad_input").scalars, tolerance: 1e-4, "dL/dx")
        for (p, key) in [(layer.weight, "weight"), (layer.bias, "bias"), (layer.recurrentWeight, "recurrent_weight")] {
            assertClose(p.grad.scalars, try f.tensor(named: "\(name).grad_\(key)").scalars, tolerance: 1e-4, "dL/d\(key)")
        }
        try learnt(neurons, f, name, check: true)
    }
}
