import XCTest
@testable import NIRInterchange
import Multimodal

/// Neuron models in NIR (`NIRNeurons`): LIF ↔ LIF, current-based ↔ CubaLIF, IF ↔ IF through a
/// file and back; the models NIR lacks refused on export; a CubaLIF graph written by the `nir`
/// package runs to the spikes its equations give (bench/nir_peer.py cuba-fixture).
final class NIRNeuronTests: XCTestCase {
    func testNeuronNodesRoundTripThroughAFile() throws {
        var lif = NeuronDescription(tau: 0.3, threshold: 0.4)
        lif.reset = "value"; lif.resetValue = 0.125
        var cuba = NeuronDescription(tau: 0.85, threshold: 0.7)
        cuba.model = "cuba_lif"; cuba.synapseTau = 0.6
        var integrate = NeuronDescription(tau: 1, threshold: 2)
        integrate.model = "if"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sf-nir-neurons-\(UUID()).nir")
        defer { try? FileManager.default.removeItem(at: url) }
        var g = NIRGraph()
        let neurons = [("lif", lif, "LIF"), ("cuba", cuba, "CubaLIF"), ("if", integrate, "IF")]
        for (name, n, _) in neurons {
            let (node, metadata) = try NIRNeurons.node(n, shape: [3], dt: NIRExport.dt, layer: name)
            g.nodes[name] = node
            if !metadata.isEmpty { g.nodeMetadata[name] = metadata }
        }
        try NIRFile.write(g, to: url)
        let read = try NIRFile.read(url)
        for (name, n, type) in neurons {
            let node = try XCTUnwrap(read.nodes[name])
            XCTAssertEqual(node.typeName, type)
            let back = try NIRNeurons.neuron(from: node, metadata: read.nodeMetadata[name] ?? [:], dt: NIRExport.dt,
                                             name: name, file: "t.nir")
            XCTAssertEqual(back.inputScale, 1, name)
            XCTAssertEqual(try NeuronSettings(checking: back.neuron), try NeuronSettings(checking: n), name)
        }
    }

    func testModelsNIRLacksAreRefusedOnExport() throws {
        var adaptive = NeuronDescription(tau: 0.9)
        adaptive.model = "adaptive_lif"; adaptive.adaptationDecay = 0.95; adaptive.adaptationStrength = 0.2
        var soft = NeuronDescription(tau: 0.9)
        soft.reset = "subtract"
        var learnt = NeuronDescription(tau: 0.9)
        learnt.learnTau = "layer"
        for (n, expected) in [(adaptive, "NIR has no adaptive LIF node"), (soft, "reset by subtraction has no NIR node"),
                              (learnt, "learnt neuron constants")] {
            XCTAssertThrowsError(try NIRNeurons.node(n, shape: [2], dt: NIRExport.dt, layer: "audio_rec1_lif")) {
                XCTAssertTrue("\($0)".contains("audio_rec1_lif") && "\($0)".contains(expected), "\($0)")
            }
        }
        // A whole network with an adaptive layer: the export names the layer.
        let branch = BranchDescription(name: "audio", input: InputDescription(modality: .cochlea, shape: [6]),
                                       neuron: adaptive, layers: [.recurrent(name: "rec1", features: 4, neuron: nil),
                                                                  .linear(name: "out", features: 3), .lif(NeuronDescription(tau: 0.5))])
        let network = try MultimodalNetwork(try ModelConfiguration(network: NetworkDescription(
            name: "a", timesteps: 4, classes: 3, branches: [branch])), seed: 1)
        XCTAssertThrowsError(try NIRExport.graph(network)) {
            XCTAssertTrue("\($0)".contains("audio_rec1_lif") && "\($0)".contains("adaptive"), "\($0)")
        }
    }

    /// A network of current-based and IF layers exports as CubaLIF and IF nodes.
    func testCurrentBasedNetworkExportsCubaLIFNodes() throws {
        var cuba = NeuronDescription(tau: 0.75, threshold: 0.5)
        cuba.model = "cuba_lif"; cuba.synapseTau = 0.5
        var integrate = NeuronDescription(tau: 1)
        integrate.model = "if"
        let branch = BranchDescription(name: "audio", input: InputDescription(modality: .cochlea, shape: [6]),
                                       neuron: cuba, layers: [.linear(name: "hid", features: 5), .lif(nil),
                                                              .linear(name: "out", features: 3), .lif(integrate)])
        let network = try MultimodalNetwork(try ModelConfiguration(network: NetworkDescription(
            name: "c", timesteps: 4, classes: 3, branches: [branch])), seed: 1)
        let g = try NIRExport.graph(network)
        XCTAssertEqual(g.nodes["audio_hid_lif"]?.typeName, "CubaLIF")
        XCTAssertEqual(g.nodes["audio_out_lif"]?.typeName, "IF")
    }

    /// The `nir` package's CubaLIF → IF graph: each node mapped to its neuron and run on the
    /// Affine nodes' currents gives the peer's spikes exactly (sums exact on a 2⁻⁶ grid).
    func testCubaLIFGraphWrittenByTheNIRPackageGivesItsSpikes() throws {
        let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let url = fixtures.appendingPathComponent("nir_package_cuba.nir")
        let g = try NIRFile.read(url)
        let io = try SafeTensors.read(fixtures.appendingPathComponent("nir_package_cuba_io.safetensors"))
        let x = try io.tensor(named: "input"), hidden = try io.tensor(named: "hidden"), spikes = try io.tensor(named: "spikes")
        var dt = 1e-4
        if case .floats(let v, _, _)? = g.metadata["dt"], let first = v.first { dt = first }
        /// Affine node `name` on `input` [T, B, in] → [T, B, out].
        func affine(_ name: String, _ input: Tensor) throws -> Tensor {
            guard case .affine(let w, let b)? = g.nodes[name] else { throw XCTSkip("no Affine \(name)") }
            let out = w.shape[0], inn = w.shape[1], rows = input.count / inn
            var y = [Float](repeating: 0, count: rows * out)
            for r in 0..<rows { for j in 0..<out {
                var s = b.scalars[j]
                for k in 0..<inn { s += w.scalars[j * inn + k] * input.scalars[r * inn + k] }
                y[r * out + j] = s
            } }
            return Tensor(shape: Array(input.shape.dropLast()) + [out], scalars: y)
        }
        func run(_ name: String, _ current: Tensor) throws -> Tensor {
            let (n, scale) = try NIRNeurons.neuron(from: g.nodes[name]!, metadata: g.nodeMetadata[name] ?? [:], dt: dt,
                                                   name: name, file: url.path)
            XCTAssertEqual(scale, 1, name)
            let layer = SpikingNeurons(name: name, settings: try NeuronSettings(checking: n), shape: [current.shape[2]])
            return layer.forward(current)
        }
        XCTAssertEqual(g.nodes["fc1_cuba"]?.typeName, "CubaLIF")
        let h = try run("fc1_cuba", try affine("fc1", x))
        XCTAssertEqual(h.scalars, hidden.scalars, "the CubaLIF layer's spikes")
        let o = try run("fc2_if", try affine("fc2", h))
        XCTAssertEqual(o.scalars, spikes.scalars, "the IF layer's spikes")
        XCTAssertGreaterThan(spikes.scalars.reduce(0, +), 10, "the fixture's outputs should fire")
        // The whole graph through NIRImport: a cochlea branch of two spiking linear layers.
        let network = try NIRImport.network(g, file: url.path)
        XCTAssertEqual(network.networkDescription.branches[0].layers.compactMap { layer -> String? in
            if case .lif(let n) = layer { return (n ?? network.networkDescription.branches[0].neuron).model }
            return nil
        }, ["cuba_lif", "if"])
        network.setTraining(false)
        XCTAssertEqual(network.forward(visual: nil, audio: x).audio!.scalars, spikes.scalars, "the imported network's spikes")
    }
}
