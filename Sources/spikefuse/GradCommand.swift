import Foundation
import Multimodal

enum GradCommand {
    static let help = """
    usage: spikefuse grad --weights W.safetensors --inputs X.safetensors --out G.safetensors
                          [--mode MODE | --network FILE|NAME]

    Losses, output spike counts and every parameter gradient for one batch, for cross-checking
    against another framework. W holds the parameters by name and a "config" metadata entry
    (model sizes); X holds visual_input [B, T, 2, 28, 28], audio_input [B, T, 64] and labels [B].
    G receives loss.visual, loss.audio, loss.fusion, loss.total, spikes.visual, spikes.audio,
    spikes.fusion ([B, 10] counts), attention ([B, T, 2]) and grad.<parameter name>.
    --network reads the network from a description (docs/networks.md) instead of W's config;
    W must then hold its parameters by name.
    """

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        guard let w = try a.string("weights"), let x = try a.string("inputs"), let out = try a.string("out") else {
            throw UsageError("grad needs --weights, --inputs and --out")
        }
        let modeOverride = try a.string("mode").map { try TrainingMode(parsing: $0) }
        let network = try a.string("network").map { try NetworkOption.load($0) }
        try a.finish()
        guard modeOverride == nil || network == nil else { throw UsageError("give --mode or --network, not both") }
        let weightsURL = URL(fileURLWithPath: w)
        let checkpoint = try Checkpoint.read(weightsURL)
        var configuration = checkpoint.configuration
        if let modeOverride { configuration.mode = modeOverride }
        if let network { configuration = try ModelConfiguration(network: network) }
        let inputs = try SafeTensors.read(URL(fileURLWithPath: x))
        let report = try GradientReport.compute(configuration: configuration, weights: checkpoint.tensors,
                                                weightsSource: w, inputs: inputs.tensors, inputsSource: x)
        try SafeTensors.write(report, metadata: ["config": configuration.jsonString()], to: URL(fileURLWithPath: out))
        let losses = report.prefix(4).map { String(format: "%@ %.6f", $0.name, $0.tensor.scalars[0]) }
        print(losses.joined(separator: "  "))
        print("wrote \(report.count) tensors to \(out)")
    }
}
