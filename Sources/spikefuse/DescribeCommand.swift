import Foundation
import Multimodal

/// `spikefuse describe NETWORK [--json]`: a network's layers, each one's output shape,
/// parameter count, dense multiply-adds and kernel path, from its description.
enum DescribeCommand {
    static let command = Command(summary: "a network's layers, shapes, parameters, MACs and kernel paths", run: run)

    static let help = """
    usage: spikefuse describe NETWORK [--json]

      NETWORK   a description file (.json, docs/networks.md), a shipped network by name
                (paper-multimodal, paper-multimodal-noattention, paper-visual, paper-audio,
                example-shd-adaptive, example-dvs-gesture-plif),
                or a run directory / weights file (the network it was trained as)
      --json    one JSON object: per branch its layers with output_shape, parameters, macs
                (dense multiply-adds per sample and time step) and path
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        let json = a.flag("json")
        try a.finish()
        guard a.positional.count == 1, let target = a.positional.first else {
            throw UsageError("describe needs one NETWORK (see --help)")
        }
        let network = try load(target)
        let branches = try network.branches.map { b in (b, try NetworkBuilder.summary(of: b, classes: network.classes)) }
        let fusion = network.fusion.map { fusionSummary($0, classes: network.classes) }
        let parameters = branches.flatMap(\.1).map(\.parameters).reduce(0, +) + (fusion?.parameters ?? 0)
        let macs = branches.flatMap(\.1).map(\.macs).reduce(0, +) + (fusion?.macs ?? 0)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            func object<T: Encodable>(_ v: T) throws -> Any { try JSONSerialization.jsonObject(with: encoder.encode(v)) }
            let whole: [String: Any] = [
                "name": network.name, "timesteps": network.timesteps, "classes": network.classes,
                "parameters": parameters, "macs_per_step": macs,
                "branches": try branches.map { b, rows in
                    ["name": b.name, "modality": b.input.modality.rawValue, "input": b.input.shape, "layers": try object(rows)] as [String: Any]
                },
                "fusion": try fusion.map { try object($0) } ?? NSNull(),
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: whole, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("\(network.name): T = \(network.timesteps), \(network.classes) classes, "
              + (network.fusion.map { "fusion \($0.kind.rawValue)" } ?? "one branch"))
        for (b, rows) in branches {
            let n = b.neuron
            print("\nbranch \(b.name): \(b.input.modality.rawValue) input \(b.input.shape), "
                  + "neuron \(n.model) τ \(n.tau) V_th \(n.threshold)")
            table(rows)
        }
        if let fusion {
            print("\nfusion:")
            table([fusion])
        }
        print("\n\(parameters) parameters, \(macs) dense multiply-adds per sample and time step "
              + "(× T = \(macs * network.timesteps) per sample)")
    }

    /// A description file, a shipped name, or the network a run or weights file was trained as.
    static func load(_ target: String) throws -> NetworkDescription {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory),
           isDirectory.boolValue || target.hasSuffix(".safetensors") {
            let trained = try TrainedNetwork(target)
            return trained.network.networkDescription
        }
        return try NetworkOption.load(target)
    }

    /// The fusion as one row: the parameters of the fusion it builds, and the multiply-adds of
    /// its weight matrices per step.
    static func fusionSummary(_ f: FusionDescription, classes c: Int) -> LayerSummary {
        var rng = SeededGenerator(seed: 0)
        let parameters = f.makeFusion(classes: c, rng: &rng).parameters
        let count = parameters.map(\.value.count).reduce(0, +)
        let macs = parameters.filter { $0.value.rank == 2 }.map(\.value.count).reduce(0, +)
        switch f.kind {
        case .attention:
            return LayerSummary(layer: "attention (eq. 5), hidden \(f.hidden), readout \((f.readout ?? .neuron).rawValue)",
                                outputShape: [c], parameters: count, macs: macs, path: "OpenBLAS GEMM over all T")
        case .concatenation:
            return LayerSummary(layer: "concatenation → linear \(f.hidden) + lif → linear \(c) + lif", outputShape: [c],
                                parameters: count, macs: macs,
                                path: "event-driven row product at ≤ 14 % input density, else OpenBLAS GEMM")
        }
    }

    static func table(_ rows: [LayerSummary]) {
        let header = ["#", "layer", "output", "params", "MACs/step", "kernel path"]
        let cells = rows.enumerated().map { i, r in
            ["\(i + 1)", r.layer, "\(r.outputShape)", "\(r.parameters)", "\(r.macs)", r.path]
        }
        let widths = (0..<5).map { c in ([header] + cells).map { $0[c].count }.max()! }
        for row in [header] + cells {
            print("  " + (0..<5).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                  + "  " + row[5])
        }
    }
}
