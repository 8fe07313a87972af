import XCTest
@testable import NIRInterchange
import Multimodal

final class NIRTests: XCTestCase {
    private func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sf-nir-\(UUID())-\(name)")
    }

    /// Every kind of value the NIR form needs survives an HDF5 write and read.
    func testHDF5TreeRoundTrip() throws {
        let tree: [String: HDF5Node] = [
            "version": .string("1.0.8"),
            "node": .group([
                "edges": .strings(["a", "b", "b", "c"], shape: [2, 2]),
                "w": .floats([0.5, -1.25, 3, 4, 5, 6], shape: [2, 3], bits: 32),
                "dt": .floats([1e-4], shape: [], bits: 64),
                "k": .integers([1, -1], shape: [2]),
                "nested": .group(["type": .string("Affine"), "empty": .strings([], shape: [0])]),
            ]),
        ]
        let url = temporaryFile("tree.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try HDF5Tree.write(tree, to: url)
        XCTAssertEqual(try HDF5Tree.read(url), tree)
    }

    private func smallConfiguration(_ mode: TrainingMode) -> ModelConfiguration {
        var c = ModelConfiguration()
        c.mode = mode; c.timesteps = 12; c.visualChannels = [4, 6]; c.visualHidden = 16
        c.imageSize = 12; c.audioHidden = 24; c.fusionHidden = 8
        return c
    }

    /// Export, write, read, import: the same weights and, on a random batch, identical spikes.
    func testVisualAndAuditoryNetworksRoundTripWithIdenticalSpikes() throws {
        for mode in [TrainingMode.visual, .audio] {
            let c = smallConfiguration(mode)
            let original = try MultimodalNetwork(c, seed: 7)
            // Stronger weights than at initialisation, so that the untrained outputs fire.
            try original.load(Dictionary(uniqueKeysWithValues: original.namedTensors().map {
                ($0.name, Tensor(shape: $0.tensor.shape, scalars: $0.tensor.scalars.map { $0 * 3 }))
            }), source: "test")
            let url = temporaryFile("\(mode).nir")
            defer { try? FileManager.default.removeItem(at: url) }
            try NIRFile.write(try NIRExport.graph(original), to: url)
            let graph = try NIRFile.read(url)
            XCTAssertEqual(graph, try NIRExport.graph(original), "the file holds the graph")
            let imported = try NIRImport.network(graph, file: url.path)
            let d = imported.configuration
            XCTAssertEqual(d.mode, c.mode)
            XCTAssertEqual(imported.networkDescription.branches, original.networkDescription.branches,
                           "\(mode): the layers, sizes, τ, V_th and surrogates are read back")
            XCTAssertEqual(d.timesteps, c.timesteps)
            XCTAssertEqual(imported.namedTensors().map(\.tensor), original.namedTensors().map(\.tensor), "\(mode): weights")
            var rng = SeededGenerator(seed: 3)
            let batch = 4
            let visual = mode.usesVisual ? randomSpikes([c.timesteps, batch] + c.visualFrameShape, &rng) : nil
            let audio = mode.usesAudio ? randomSpikes([c.timesteps, batch, c.audioChannels], &rng) : nil
            let a = original.forward(visual: visual, audio: audio), b = imported.forward(visual: visual, audio: audio)
            let spikesA = (a.visual ?? a.audio)!, spikesB = (b.visual ?? b.audio)!
            XCTAssertEqual(spikesA, spikesB, "\(mode): identical output spikes")
            XCTAssertGreaterThan(spikesA.scalars.reduce(0, +), 0, "\(mode): the test input should make the outputs fire")
        }
    }

    /// The LIF mapping of the docs: τ = dt/(1 − k), r = τ/dt, v_leak = v_reset = 0; pooling as
    /// SumPool2d with the next weights divided by 4; recurrence as a Linear cycle.
    func testExportedGraphFollowsTheDocumentedMapping() throws {
        let c = smallConfiguration(.audio)
        let g = try NIRExport.graph(try MultimodalNetwork(c, seed: 1))
        guard case .lif(let tau, let r, let vLeak, let vThreshold, let vReset)? = g.nodes["audio_rec1_lif"] else {
            return XCTFail("no LIF node audio_rec1_lif")
        }
        XCTAssertEqual(Double(tau.scalars[0]), NIRExport.dt / (1 - Double(c.tauAudio)), accuracy: 1e-9)
        XCTAssertEqual(Double(r.scalars[0]), Double(tau.scalars[0]) / NIRExport.dt, accuracy: 1e-3)
        XCTAssertEqual(vLeak.scalars.max(), 0); XCTAssertEqual(vReset.scalars.max(), 0)
        XCTAssertEqual(vThreshold.scalars[0], c.threshold)
        XCTAssertTrue(g.edges.contains { $0 == ("audio_rec1_lif", "audio_rec1_recurrent") })
        XCTAssertTrue(g.edges.contains { $0 == ("audio_rec1_recurrent", "audio_rec1_lif") })

        let v = try MultimodalNetwork(smallConfiguration(.visual), seed: 1)
        let gv = try NIRExport.graph(v)
        guard case .sumPool2d? = gv.nodes["visual_conv1_pool"], case .conv2d(let w2, _, _, _, _, _, _)? = gv.nodes["visual_conv2"] else {
            return XCTFail("expected SumPool2d then Conv2d")
        }
        let original = v.namedTensors().first { $0.name == "visual.conv2.weight" }!.tensor
        XCTAssertEqual(w2.scalars, original.scalars.map { $0 / 4 })
    }

    /// A described network of another geometry exports by walking its description: strides
    /// and padding kept, a pool's 1/k² moved into the next synapse across a flatten, a LIF's own
    /// neuron; max pooling, which NIR lacks, is refused naming the layer.
    func testDescribedNetworkExportsFromItsDescription() throws {
        let branch = BranchDescription(name: "eye", input: InputDescription(modality: .dvs, shape: [2, 16, 16]),
                                       neuron: NeuronDescription(tau: 0.3, threshold: 0.4), layers: [
            .conv2d(name: "a", channels: 4, kernel: 5, stride: 2, padding: 2), .lif(nil), .avgPool2d(kernel: 2),
            .flatten, .recurrent(name: "r", features: 6, neuron: nil),
            .linear(name: "o", features: 3), .lif(NeuronDescription(tau: 0.7)),
        ])
        let d = NetworkDescription(name: "t", timesteps: 4, classes: 3, branches: [branch])
        let network = try MultimodalNetwork(try ModelConfiguration(network: d), seed: 1)
        let g = try NIRExport.graph(network)
        let p = Dictionary(uniqueKeysWithValues: network.namedTensors().map { ($0.name, $0.tensor) })
        guard case .conv2d(_, _, let stride, let padding, _, _, let inputShape)? = g.nodes["eye_a"],
              case .sumPool2d(let kernel, _, _)? = g.nodes["eye_a_pool"],
              case .flatten(_, _, let flattened)? = g.nodes["eye_flatten"],
              case .affine(let w, _)? = g.nodes["eye_r"],
              case .lif(let tau, _, _, let threshold, _)? = g.nodes["eye_o_lif"] else {
            return XCTFail("nodes: \(g.nodes.keys.sorted())")
        }
        XCTAssertEqual(stride, [2, 2]); XCTAssertEqual(padding, [2, 2]); XCTAssertEqual(inputShape, [16, 16])
        XCTAssertEqual(kernel, [2, 2]); XCTAssertEqual(flattened, [4, 4, 4])
        XCTAssertEqual(w.scalars, p["eye.r.weight"]!.scalars.map { $0 / 4 })
        XCTAssertEqual(Double(tau.scalars[0]), NIRExport.dt / (1 - 0.7), accuracy: 1e-9)
        XCTAssertEqual(threshold.scalars[0], 0.5)   // the layer's own neuron: the default V_th
        XCTAssertTrue(g.edges.contains { $0 == ("eye_r_recurrent", "eye_r_lif") })
        XCTAssertTrue(g.edges.contains { $0 == ("eye_o_lif", "output") })

        var withMax = d
        withMax.branches[0].layers[2] = .maxPool2d(kernel: 2)
        XCTAssertThrowsError(try NIRExport.graph(try MultimodalNetwork(try ModelConfiguration(network: withMax), seed: 1))) {
            XCTAssertTrue("\($0)".contains("eye layer 3") && "\($0)".contains("max pooling"), "\($0)")
        }
    }

    /// The concatenation ablation exports exactly; the attention needs constant weights and
    /// says so in the metadata; the integrator readout is refused with the reason.
    func testFusionExports() throws {
        let concat = try NIRExport.graph(try MultimodalNetwork(smallConfiguration(.multimodalNoAttention), seed: 2))
        XCTAssertEqual(Set(concat.sources(of: "fusion_fc1_lif")), ["fusion_fc1_visual", "fusion_fc1_audio"])
        let attention = try MultimodalNetwork(smallConfiguration(.multimodal), seed: 2)
        XCTAssertThrowsError(try NIRExport.graph(attention)) { XCTAssertTrue("\($0)".contains("w·o"), "\($0)") }
        let g = try NIRExport.graph(attention, attentionWeights: (0.75, 0.5))
        guard case .strings(let note, _)? = g.metadata["attention"] else { return XCTFail("no attention note") }
        XCTAssertTrue(note[0].contains("w_v = 0.75"), note[0])
        var integrator = smallConfiguration(.multimodal)
        integrator.attentionReadout = .integrator
        XCTAssertThrowsError(try NIRExport.graph(try MultimodalNetwork(integrator, seed: 2), attentionWeights: (0.5, 0.5))) {
            XCTAssertTrue("\($0)".contains("integrator"), "\($0)")
        }
        // Multimodal graphs are not imported: one clear error.
        XCTAssertThrowsError(try NIRImport.network(concat, file: "concat.nir")) {
            XCTAssertTrue("\($0)".contains("2 Input nodes"), "\($0)")
        }
    }

    /// A node type SpikeFuse does not read is refused naming the node and the type.
    func testUnsupportedNodeIsNamed() throws {
        let url = temporaryFile("delay.nir")
        defer { try? FileManager.default.removeItem(at: url) }
        try HDF5Tree.write(["version": .string("1.0.8"), "node": .group([
            "type": .string("NIRGraph"),
            "edges": .strings(["in", "wait"], shape: [1, 2]),
            "nodes": .group(["in": .group(["type": .string("Input"), "shape": .integers([4], shape: [1])]),
                             "wait": .group(["type": .string("Delay"), "delay": .floats([1, 1, 1, 1], shape: [4], bits: 32)])]),
        ])], to: url)
        XCTAssertThrowsError(try NIRFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("'wait'") && "\(error)".contains("Delay"), "\(error)")
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        XCTAssertThrowsError(try NIRFile.read(URL(fileURLWithPath: "/nonexistent.nir"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent.nir"), "\($0)")
        }
    }

    /// A graph written by the reference `nir` package (bench/nir_peer.py: an A-Network of
    /// small sizes with its own weights, gzip-compressed datasets, snnTorch-style LIF
    /// parameters), imported and run on the script's inputs, gives the spikes the script
    /// computed from NIR's LIF equations.
    func testGraphWrittenByTheNIRPackageGivesThePeersSpikes() throws {
        let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let graphURL = fixtures.appendingPathComponent("nir_package_audio.nir")
        let network = try NIRImport.network(try NIRFile.read(graphURL), file: graphURL.path)
        let reference = try SafeTensors.read(fixtures.appendingPathComponent("nir_package_audio_io.safetensors"))
        let input = try reference.tensor(named: "input")        // [T, B, channels]
        let expected = try reference.tensor(named: "spikes")    // [T, B, classes]
        let out = network.forward(visual: nil, audio: input).audio!
        XCTAssertEqual(out.shape, expected.shape)
        let agree = zip(out.scalars, expected.scalars).filter { $0 == $1 }.count
        XCTAssertEqual(agree, expected.count, "\(agree) of \(expected.count) (t, b, class) entries agree")
        XCTAssertGreaterThan(expected.scalars.reduce(0, +), 10, "the fixture's outputs should fire")
    }
}

/// Issue 39: NIR graphs of any shape the layers cover import as descriptions.
final class NIRGeneralImportTests: XCTestCase {
    private var fixtures: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    /// A graph written by the `nir` package with sizes and geometries no other test uses
    /// (bench/nir_peer.py fixture-general) gives the spikes of NIR's equations, and reads as the
    /// layers it holds: the 2×2 SumPool2d as an average pool (its k² folded into the next
    /// convolution), the LIF input scales folded into the synapses, the cycle as `recurrent`.
    func testGeneralGraphWrittenByTheNIRPackageGivesThePeersSpikes() throws {
        let url = fixtures.appendingPathComponent("nir_package_general.nir")
        let imported = try NIRImport.description(try NIRFile.read(url), file: url.path)
        let branch = imported.description.branches[0]
        XCTAssertEqual(branch.name, "visual")
        XCTAssertEqual(branch.input.shape, [2, 20, 20])
        let layers = branch.layers.map { layer -> String in
            switch layer {
            case let .conv2d(name, channels, kernel, stride, padding): return "conv \(name) \(channels) k\(kernel) s\(stride) p\(padding)"
            case let .linear(name, features): return "linear \(name) \(features)"
            case let .recurrent(name, features, _): return "recurrent \(name) \(features)"
            case .lif: return "lif"
            case .avgPool2d(let k): return "avg \(k)"
            case .sumPool2d(let k): return "sum \(k)"
            case .maxPool2d(let k): return "max \(k)"
            case .flatten: return "flatten"
            case .dropout(let rate): return "dropout \(rate)"
            }
        }
        XCTAssertEqual(layers, ["conv conv_a 3 k5 s2 p2", "lif", "avg 2", "conv conv_b 4 k3 s1 p0", "lif", "avg 3", "flatten",
                                "recurrent hidden 12", "linear readout 5", "lif"])
        XCTAssertEqual(imported.description.classes, 5)
        let network = try NIRImport.network(try NIRFile.read(url), file: url.path)
        let reference = try SafeTensors.read(fixtures.appendingPathComponent("nir_package_general_io.safetensors"))
        let input = try reference.tensor(named: "input"), expected = try reference.tensor(named: "spikes")
        network.setTraining(false)
        let out = network.forward(visual: input, audio: nil).visual!
        XCTAssertEqual(out.shape, expected.shape)
        let agree = zip(out.scalars, expected.scalars).filter { $0 == $1 }.count
        XCTAssertEqual(agree, expected.count, "\(agree) of \(expected.count) (t, b, class) entries agree")
        XCTAssertGreaterThan(expected.scalars.reduce(0, +), 5, "the fixture's outputs should fire")
    }

    /// A small graph: Input [1, 6, 6] → `pool` → Flatten → Affine → LIF → Output.
    private func pooled(_ pool: NIRNode, side: Int) -> NIRGraph {
        var g = NIRGraph()
        let n = side * side
        g.nodes = ["in": .input(shape: [1, 6, 6]), "pool": pool, "flat": .flatten(startDim: 0, endDim: -1, inputShape: nil),
                   "fc": .affine(weight: Tensor(shape: [3, n], scalars: (0..<(3 * n)).map { Float($0 % 5) * 0.25 }), bias: Tensor(zeros: [3])),
                   "lif": .lif(tau: Tensor(repeating: 2e-4, shape: [3]), r: Tensor(repeating: 2, shape: [3]),
                               vLeak: Tensor(zeros: [3]), vThreshold: Tensor(repeating: 1, shape: [3]), vReset: Tensor(zeros: [3])),
                   "out": .output(shape: [3])]
        g.edges = [("in", "pool"), ("pool", "flat"), ("flat", "fc"), ("fc", "lif"), ("lif", "out")]
        return g
    }

    /// Sum pools over a power-of-two window become average pools with k² on the next weights
    /// (exact); others stay sum pools with the weights as given.
    func testSumPoolingIsExactEitherWay() throws {
        let two = try NIRImport.description(pooled(.sumPool2d(kernel: [2, 2], stride: [2, 2], padding: [0, 0]), side: 3), file: "two.nir")
        XCTAssertEqual(two.description.branches[0].layers.first, .avgPool2d(kernel: 2))
        let three = try NIRImport.description(pooled(.sumPool2d(kernel: [3, 3], stride: [3, 3], padding: [0, 0]), side: 2), file: "three.nir")
        XCTAssertEqual(three.description.branches[0].layers.first, .sumPool2d(kernel: 3))
        // r·dt/τ = 2·1e-4/2e-4 = 1 here, so the weights are the graph's times the pool factor only.
        let w = try XCTUnwrap(two.tensors["visual.fc.weight"]), w3 = try XCTUnwrap(three.tensors["visual.fc.weight"])
        XCTAssertEqual(w.scalars[1], 0.25 * 4)
        XCTAssertEqual(w3.scalars[1], 0.25)
    }

    /// What SpikeFuse's layers cannot hold is refused, naming the file and the node.
    func testUnsupportedGeometriesAreRefusedNamingTheNode() throws {
        func failure(_ pool: NIRNode, side: Int = 3) -> String {
            do { _ = try NIRImport.description(pooled(pool, side: side), file: "g.nir"); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(failure(.sumPool2d(kernel: [2, 3], stride: [2, 3], padding: [0, 0])).contains("node 'pool'"))
        XCTAssertTrue(failure(.avgPool2d(kernel: [2, 2], stride: [1, 1], padding: [0, 0])).contains("stride = kernel"))
        let conv: (Int, Int) -> NIRNode = { dilation, groups in
            .conv2d(weight: Tensor(zeros: [1, 1, 3, 3]), bias: Tensor(zeros: [1]), stride: [1, 1], padding: [0, 0],
                    dilation: [dilation, dilation], groups: groups, inputShape: nil)
        }
        XCTAssertEqual(failure(conv(1, 1), side: 4), "", "a plain 3×3 convolution imports")
        XCTAssertTrue(failure(conv(2, 1), side: 4).contains("dilation"), failure(conv(2, 1), side: 4))
        var flat = pooled(.avgPool2d(kernel: [2, 2], stride: [2, 2], padding: [0, 0]), side: 3)
        flat.nodes["flat"] = .flatten(startDim: 2, endDim: -1, inputShape: nil)
        do { _ = try NIRImport.description(flat, file: "flat.nir"); XCTFail("start_dim 2 imported") } catch {
            XCTAssertTrue("\(error)".contains("node 'flat'") && "\(error)".contains("flat.nir"), "\(error)")
        }
        var open = pooled(.avgPool2d(kernel: [2, 2], stride: [2, 2], padding: [0, 0]), side: 3)
        open.edges = [("in", "pool"), ("pool", "flat"), ("flat", "fc"), ("fc", "out")]
        open.nodes["lif"] = nil
        do { _ = try NIRImport.description(open, file: "open.nir"); XCTFail("a network ending in currents imported") } catch {
            XCTAssertTrue("\(error)".contains("node 'out'") && "\(error)".contains("must be a LIF"), "\(error)")
        }
    }
}

/// Issue 40: NIR import validates the graph. Each hostile variant of a valid exported graph
/// once imported without a word; each is now an error naming the node.
final class NIRValidationTests: XCTestCase {
    private func graph(_ mode: TrainingMode) throws -> (ModelConfiguration, NIRGraph) {
        var c = ModelConfiguration()
        c.mode = mode; c.timesteps = 6; c.visualChannels = [2, 3]; c.visualHidden = 8; c.imageSize = 8; c.audioHidden = 6
        return (c, try NIRExport.graph(try MultimodalNetwork(c, seed: 1)))
    }

    private func failure(_ g: NIRGraph) -> String {
        do { _ = try NIRImport.network(g, file: "hostile.nir"); return "" } catch { return "\(error)" }
    }

    func testTheValidGraphsImport() throws {
        for mode in [TrainingMode.visual, .audio] {
            XCTAssertEqual(failure(try graph(mode).1), "", "\(mode)")
        }
    }

    func testAnEdgeOutsideTheChainIsRefusedNotDropped() throws {
        for mode in [TrainingMode.visual, .audio] {
            var g = try graph(mode).1
            let input = mode == .visual ? "input_visual" : "input_audio"
            g.edges.append((source: "output", target: input))
            let text = failure(g)
            XCTAssertTrue(text.contains("node 'output'") && text.contains("output → \(input)"), text)
            var twice = try graph(mode).1
            twice.edges.append(twice.edges[0])
            XCTAssertTrue(failure(twice).contains("listed twice"), failure(twice))
            var extra = try graph(mode).1
            extra.nodes["stray"] = .linear(weight: Tensor(zeros: [2, 2]))
            XCTAssertTrue(failure(extra).contains("node 'stray'"), failure(extra))
        }
    }

    func testADeclaredOutputSizeThatDiffersIsRefused() throws {
        for mode in [TrainingMode.visual, .audio] {
            var g = try graph(mode).1
            g.nodes["output"] = .output(shape: [7])
            let text = failure(g)
            XCTAssertTrue(text.contains("node 'output'") && text.contains("[7]") && text.contains("10 outputs"), text)
        }
        var g = try graph(.visual).1     // a declared convolution input of another size
        guard case .conv2d(let w, let b, let s, let p, let d, let groups, _)? = g.nodes["visual_conv1"] else {
            return XCTFail("no visual_conv1")
        }
        g.nodes["visual_conv1"] = .conv2d(weight: w, bias: b, stride: s, padding: p, dilation: d, groups: groups, inputShape: [7, 7])
        XCTAssertTrue(failure(g).contains("node 'visual_conv1'") && failure(g).contains("[7, 7]"), failure(g))
    }

    func testHugeOrNonFiniteParametersAreRefusedNamingTheNode() throws {
        for bad in [Float(1e30), .nan, .infinity, -2e6] {
            var g = try graph(.audio).1
            guard case .affine(var w, let b)? = g.nodes["audio_rec2"] else { return XCTFail("no audio_rec2") }
            w.scalars[3] = bad
            g.nodes["audio_rec2"] = .affine(weight: w, bias: b)
            let text = failure(g)
            XCTAssertTrue(text.contains("node 'audio_rec2'") && text.contains("weight[3]"), "\(bad): \(text)")
        }
        var g = try graph(.audio).1
        guard case .lif(let tau, let r, let leak, var threshold, let reset)? = g.nodes["audio_out_lif"] else { return XCTFail("no LIF") }
        threshold.scalars = threshold.scalars.map { _ in -1 }
        g.nodes["audio_out_lif"] = .lif(tau: tau, r: r, vLeak: leak, vThreshold: threshold, vReset: reset)
        XCTAssertTrue(failure(g).contains("node 'audio_out_lif'") && failure(g).contains("v_threshold"), failure(g))
    }

    func testCheckFilesThatCannotBeComparedAreErrors() throws {
        let (c, _) = try graph(.visual)
        func failure(_ input: Tensor, _ spikes: Tensor) -> String {
            do { try NIRImport.validateCheck(input: input, spikes: spikes, configuration: c, file: "io.safetensors"); return "" }
            catch { return "\(error)" }
        }
        let spikes = Tensor(zeros: [6, 2, 10])
        XCTAssertEqual(failure(Tensor(zeros: [6, 2, 2, 8, 8]), spikes), "")
        var nan = Tensor(zeros: [6, 2, 2, 8, 8])
        nan.scalars[5] = .nan
        XCTAssertTrue(failure(nan, spikes).contains("io.safetensors: input value nan"), failure(nan, spikes))
        XCTAssertTrue(failure(Tensor(zeros: [0, 2, 2, 8, 8]), spikes).contains("T = 0"))
        let other = failure(Tensor(zeros: [6, 2, 2, 7, 7]), spikes)    // a 7×7 input for an 8×8 network
        XCTAssertTrue(other.contains("[6, 2, 2, 7, 7]") && other.contains("[2, 8, 8]"), other)
        XCTAssertTrue(failure(Tensor(zeros: [6, 2, 2, 8, 8]), Tensor(repeating: 0.5, shape: [6, 2, 10])).contains("not 0 or 1"))
    }
}

private func randomSpikes(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<n).map { _ in rng.nextUniform() < 0.3 ? 1 : 0 })
}
