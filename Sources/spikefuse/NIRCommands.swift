import Foundation
import Multimodal
import NIRInterchange

/// `spikefuse export RUN --nir OUT.nir`: a trained network as a NIR graph (docs/interop.md).
enum ExportCommand {
    static let help = """
    usage: spikefuse export RUN_DIR|WEIGHTS --nir OUT.nir [--attention-weights WV,WA]

    Writes the trained network as a NIR graph (Neuromorphic Intermediate Representation, read
    by Lava, snnTorch, Norse, Rockpool, Sinabs, Spyx …): the visual and auditory networks and
    the concatenation ablation exactly; the attention network with its per-step weights
    replaced by constants, by default the run's mean test attention weights (metrics.jsonl),
    since NIR cannot express the product w·o. The LIF mapping (τ = dt/(1 − k), r = τ/dt) and
    what differs are in docs/interop.md.

      --nir OUT.nir            the graph to write (HDF5)
      --attention-weights WV,WA  the constant weights for a multimodal (attention) network
    """

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        guard let out = try a.string("nir") else { throw UsageError("export needs --nir OUT.nir") }
        let given = try a.string("attention-weights")
        try a.finish()
        guard let target = a.positional.first else { throw UsageError("export needs RUN_DIR or WEIGHTS") }
        let trained = try TrainedNetwork(target)
        let (run, checkpoint, network) = (trained.run, trained.checkpoint, trained.network)
        var attention: (Float, Float)?
        if let given {
            let parts = given.split(separator: ",").compactMap { Float($0) }
            guard parts.count == 2 else { throw UsageError("--attention-weights must be two numbers WV,WA, got '\(given)'") }
            attention = (parts[0], parts[1])
        } else if checkpoint.configuration.mode == .multimodal, let run,
                  let w = try run.readMetrics().last?.attention, w.count == 2 {
            attention = (Float(w[0]), Float(w[1]))
        }
        if checkpoint.configuration.mode == .multimodal && attention == nil {
            throw UsageError("\(target): a multimodal (attention) network needs --attention-weights WV,WA "
                             + "(a run directory supplies its mean test weights from metrics.jsonl)")
        }
        let graph = try NIRExport.graph(network, attentionWeights: attention)
        try NIRFile.write(graph, to: URL(fileURLWithPath: out))
        print("wrote \(out): \(graph.nodes.count) NIR nodes, \(graph.edges.count) edges (mode \(checkpoint.configuration.mode))")
        if let (wv, wa) = attention {
            print(String(format: "the attention is replaced by constant weights w_v %.4f, w_a %.4f (NIR has no product w·o)", wv, wa))
        }
    }
}

/// `spikefuse import IN.nir`: a NIR graph as SpikeFuse weights, for evaluate and streaming.
enum ImportCommand {
    static let help = """
    usage: spikefuse import IN.nir --out WEIGHTS.safetensors [--check IO.safetensors]

    Reads a NIR graph of the V-Network or A-Network shape (Conv2d, SumPool2d/AvgPool2d,
    Flatten, Affine, Linear, LIF, recurrent cycles), from SpikeFuse or another tool, and writes
    SpikeFuse weights with their model configuration, which `spikefuse evaluate WEIGHTS` and
    the streaming API load. A node of any other type, or another topology, is refused naming
    the node.

      --out FILE     the weights to write
      --check FILE   input [T, B, …] and spikes [T, B, classes] (e.g. from bench/nir_peer.py):
                     runs the imported network on the input and reports on how many
                     (step, sample, class) entries its output spikes agree
    """

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        let out = try a.string("out")
        let check = try a.string("check")
        try a.finish()
        guard let source = a.positional.first else { throw UsageError("import needs IN.nir") }
        guard out != nil || check != nil else { throw UsageError("import needs --out WEIGHTS.safetensors or --check IO.safetensors") }
        let url = URL(fileURLWithPath: source)
        let network = try NIRImport.network(try NIRFile.read(url), file: url.path)
        let c = network.configuration
        print("\(source): \(c.mode) network, input \(c.mode == .visual ? c.visualFrameShape : [c.audioChannels]), "
              + "\(c.classes) classes, τ \(c.mode == .visual ? c.tauVisual : c.tauAudio), V_th \(c.threshold)")
        if let out {
            try SafeTensors.write(network.namedTensors(), metadata: ["config": c.jsonString(), "epoch": "0",
                                                                     "source": "NIR graph \(source)"],
                                  to: URL(fileURLWithPath: out))
            print("wrote \(out)")
        }
        if let check {
            let file = try SafeTensors.read(URL(fileURLWithPath: check))
            let input = try file.tensor(named: "input"), expected = try file.tensor(named: "spikes")
            try NIRImport.validateCheck(input: input, spikes: expected, configuration: c, file: check)
            network.setTraining(false)
            let output = c.mode == .visual ? network.forward(visual: input, audio: nil).visual!
                                           : network.forward(visual: nil, audio: input).audio!
            guard output.shape == expected.shape else {
                throw UsageError("\(check): spikes are \(expected.shape), the imported network gives \(output.shape)")
            }
            let agree = zip(output.scalars, expected.scalars).filter { $0 == $1 }.count
            print(String(format: "output spikes agree on %d of %d (step, sample, class) entries: %.3f %%", agree,
                         expected.count, 100 * Double(agree) / Double(max(expected.count, 1))))
        }
    }
}
