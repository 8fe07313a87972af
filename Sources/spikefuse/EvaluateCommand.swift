import Foundation
import Multimodal

enum EvaluateCommand {
    static let help = """
    usage: spikefuse evaluate RUN_DIR|CHECKPOINT [--json] [--batch-size N] [--limit N]
                              [--split test|train] [--save-outputs FILE] [data]

    Test accuracy of each head, confusion matrices and the mean attention weights per class.
    A run directory brings its data source; a bare checkpoint/weights file is evaluated on the
    data given (--synthetic by default). --json prints {"visual", "audio", "fusion", "attention"}
    (accuracies in %, heads the mode lacks omitted), and "silent_outputs_<head>": the classes
    whose output neuron fired no spike on any sample (dead output neurons). On a folder made by
    `spikefuse synth --corrupt P` the same measures are also given per condition (clean, visual
    corrupted, audio corrupted), under "by_condition" in --json: does the attention move to the
    reliable sensor?

    It also reports what each spiking layer's neurons do on 64 samples of the evaluated split
    ("activity" in --json): firing rate (spikes per neuron per step), the fraction of neurons
    that never fire, membrane mean and spread, and the fraction of steps inside the surrogate
    gradient's window (where a neuron can learn). Training records the same per epoch in
    metrics.jsonl, with the gradient norm per layer.

    --split train evaluates the training split instead of the test split (how far the heads
    and the attention fit what they were trained on). --save-outputs FILE writes what every
    head fired, sample by sample, as safetensors for analysis elsewhere: visual, audio, fusion
    [N, T, C] spikes, attention [N, T, 2], label and index [N] (docs/model.md).

    """ + DataOptions.help

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        let json = a.flag("json")
        let batchSize = try a.int("batch-size") ?? 32
        let limit = try positiveLimit(&a, "limit")
        let split = try a.string("split") ?? "test"
        guard ["test", "train"].contains(split) else { throw UsageError("--split must be test or train, not \(split)") }
        let outputsPath = try a.string("save-outputs")
        if let outputsPath {   // checked before the evaluation, not after it
            let folder = URL(fileURLWithPath: outputsPath).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw UsageError("--save-outputs \(outputsPath): folder \(folder) does not exist")
            }
        }
        let givenSource = try DataOptions.parse(&a)
        try a.finish()
        guard let target = a.positional.first else { throw UsageError("evaluate needs RUN_DIR or CHECKPOINT") }
        let trained = try TrainedNetwork(target)
        let (weightsURL, checkpoint, network) = (trained.weightsURL, trained.checkpoint, trained.network)
        // A run directory brings its own data unless data is given; a bare weights file
        // is evaluated on the data given, or on the embedded default set.
        let source = try givenSource?.fitted(to: checkpoint.configuration, keepTimesteps: false, source: weightsURL.path)
            ?? trained.run?.readDataSource() ?? DataOptions.defaultSource()
        try DefaultDataSet.prepare(source)
        let (trainSet, testSet) = try source.datasets()
        let evaluated = split == "train" ? trainSet : testSet
        var recorder = outputsPath == nil ? nil : OutputRecorder()
        let result = try evaluate(network, on: evaluated, batchSize: batchSize, limit: limit) { indices, batch, out in
            recorder?.add(indices: indices, batch: batch, outputs: out)
        }
        let activity = try measureActivity(network, on: evaluated)
        // Spike counts stay finite whatever the membranes do: an accuracy over overflowed
        // membranes would look like a result (issue 40). Report them instead.
        if let bad = activity.first(where: { !$0.membraneMean.isFinite || !$0.membraneStd.isFinite }) {
            throw ConfigurationError.invalid("\(weightsURL.path): layer \(bad.layer) has non-finite membrane potentials (mean \(bad.membraneMean), "
                             + "std \(bad.membraneStd)) on \(min(evaluated.count, 64)) \(split) samples: the weights overflow Float; "
                             + "no accuracy is reported")
        }
        if let outputsPath, let recorder {
            try recorder.write(to: URL(fileURLWithPath: outputsPath),
                               metadata: ["weights": weightsURL.path, "split": split, "epoch": "\(checkpoint.epoch)"])
        }
        // A synthesised folder with `--corrupt`: the same measures per condition.
        var byCondition: [String: ConditionEvaluation]?
        if split == "test", case .joint(let c) = source, let joint = testSet as? JointDataset,
           let conditions = try CorruptionConditions.load(folder: URL(fileURLWithPath: c.mnistDVSRoot)) {
            byCondition = try evaluateByCondition(network, on: joint, batchSize: batchSize) {
                conditions.condition($0, in: joint)
            }
        }
        if json {
            var object: [String: Any] = [:]
            if let h = result.visual { object["visual"] = h.accuracy }
            if let h = result.audio { object["audio"] = h.accuracy }
            if let h = result.fusion { object["fusion"] = h.accuracy }
            for (name, h) in [("visual", result.visual), ("audio", result.audio), ("fusion", result.fusion)] {
                if let h, !h.silentOutputs.isEmpty { object["silent_outputs_" + name] = h.silentOutputs }
            }
            if let w = result.attention { object["attention"] = w }
            object["samples"] = result.samples
            object["activity"] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(activity))
            if let byCondition {
                object["by_condition"] = try byCondition.mapValues { e -> Any in
                    try JSONSerialization.jsonObject(with: try JSONEncoder().encode(e))
                }
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("\(weightsURL.path): mode \(checkpoint.configuration.mode), epoch \(checkpoint.epoch), \(result.samples) \(split) samples")
        for (name, head) in [("visual", result.visual), ("audio", result.audio), ("fused", result.fusion)] {
            guard let head else { continue }
            print(String(format: "\n%@ head: %.2f %% correct; confusion (rows: true class, columns: predicted)", name, head.accuracy))
            print("      " + (0..<head.confusion.count).map { String(format: "%5d", $0) }.joined())
            for (y, row) in head.confusion.enumerated() {
                print(String(format: "%5d ", y) + row.map { String(format: "%5d", $0) }.joined())
            }
            if !head.silentOutputs.isEmpty {
                print("silent output neurons (no spike on any sample): class "
                      + head.silentOutputs.map(String.init).joined(separator: ", "))
            }
        }
        if let byCondition {
            print("\nby condition (manifest.json of the data folder):")
            for (name, e) in byCondition.sorted(by: { $0.key < $1.key }) {
                var line = "  " + name.padding(toLength: 17, withPad: " ", startingAt: 0) + String(format: "%5d samples", e.samples)
                if let v = e.visual { line += String(format: "  visual %6.2f %%", v) }
                if let v = e.audio { line += String(format: "  audio %6.2f %%", v) }
                if let v = e.fusion { line += String(format: "  fused %6.2f %%", v) }
                if let w = e.attention { line += String(format: "  w_v %.3f  w_a %.3f", w[0], w[1]) }
                print(line)
            }
        }
        print("\n" + activityTable(activity))
        if let w = result.attention, let perClass = result.attentionPerClass {
            print(String(format: "\nmean attention weights: w_v %.4f  w_a %.4f", w[0], w[1]))
            for (y, pair) in perClass.enumerated() {
                print(String(format: "  class %d: w_v %.4f  w_a %.4f", y, pair[0], pair[1]))
            }
        }
    }
}

/// The activity of each spiking layer as an aligned table (`NeuronActivity`).
func activityTable(_ activity: [NeuronActivity]) -> String {
    var lines = ["layer          firing rate  never fire  membrane mean ± sd  in surrogate window"]
    for a in activity {
        lines.append(a.layer.padding(toLength: 15, withPad: " ", startingAt: 0)
                     + String(format: "%11.4f  %9.1f %%  %8.3f ± %-7.3f  %17.1f %%", a.firingRate, 100 * a.silentFraction,
                              a.membraneMean, a.membraneStd, 100 * a.surrogateFraction))
    }
    return lines.joined(separator: "\n")
}
