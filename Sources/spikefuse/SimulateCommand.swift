import Foundation
import Multimodal
import NIRInterchange

/// `spikefuse simulate NETWORK --input X.safetensors --out Y.safetensors`: a network run on
/// given input, its output spikes (and with --record every spiking layer's) written out.
enum SimulateCommand {
    static let command = Command(summary: "run a network on given input, write its spikes (NIR, runs, weights)", run: run)

    static let help = """
    usage: spikefuse simulate NETWORK --input X.safetensors --out Y.safetensors [--record] [--dt SECONDS]

      NETWORK      a run directory or weights file (its trained network), or a NIR graph (.nir)
      --input X    float32 `input` time-major [T, B, …input shape] for a one-branch network, or
                   `visual` and `audio` for a two-branch one
      --out Y      receives `output` [T, B, classes]: 0/1 spikes of the deciding head (the fusion
                   where there is one)
      --record     also `spikes.<branch>.<layer>` for every spiking layer, `spikes.fusion` and
                   `attention`
      --dt S       a NIR graph's time step in seconds (default: the graph's own `dt`, else 1e-4 as
                   docs/interop.md maps it): each LIF's decay is k = 1 − dt/τ
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        guard let input = try a.string("input"), let out = try a.string("out") else {
            throw UsageError("simulate needs --input X.safetensors and --out Y.safetensors")
        }
        let record = a.flag("record")
        let dt = try a.double("dt")
        try a.finish()
        guard a.positional.count == 1, let target = a.positional.first else { throw UsageError("simulate needs one NETWORK") }
        if let dt { guard dt > 0, dt.isFinite else { throw UsageError("--dt must be a positive number of seconds") } }
        let network: MultimodalNetwork
        if target.lowercased().hasSuffix(".nir") {
            let url = URL(fileURLWithPath: target)
            var graph = try NIRFile.read(url)
            if let dt { graph.metadata["dt"] = .floats([dt], shape: [], bits: 64) }
            network = try NIRImport.network(graph, file: url.path)
        } else {
            guard dt == nil else { throw UsageError("--dt applies to NIR graphs only") }
            network = try TrainedNetwork(target).network
        }
        let file = try SafeTensors.read(URL(fileURLWithPath: input))
        let results = try Simulation.run(network, inputs: file.tensors, source: input, record: record)
        try SafeTensors.write(results, metadata: ["network": String(decoding: network.networkDescription.jsonData(), as: UTF8.self),
                                                 "source": target], to: URL(fileURLWithPath: out))
        let output = results[0].tensor
        print("wrote \(out): output \(output.shape), \(Int(output.scalars.reduce(0, +))) output spikes"
              + (record ? ", \(results.count - 1) recorded tensors" : ""))
    }
}
