import Foundation
import Multimodal
import SpikeNN

/// One configuration of the side-by-side benchmark on a `BenchData` file (weights + inputs
/// shared with the PyTorch peer). Models: `multimodal` (attention fusion), `visual`,
/// `audio` (mode of the same name, loading that subnetwork's weights), or `network:FILE`, a
/// described network (`NetworkBench.prepare` writes its file). Tasks: `train`
/// (forward, L = Lv + La + Lm, STBP backward, Adam), `infer` (time-batched forward without
/// saving anything for backward, prediction), `stream` (StreamingInference step by step).
struct SideBySideResult: Codable {
    var model: String
    var task: String
    var batch: Int
    var activity: String
    var samples_per_second: Double
    var samples_per_cpu_second: Double
    var peak_rss_mb: Double
    var implementation: String
    var iterations: Int
    var seconds: Double
    var cpu_seconds: Double
    var threads: String
    var load_average_1min: Double
    /// Mean firing rate over all spiking neurons of the model on these inputs (one forward).
    var firing_rate: Double
    var input_density: Double
    /// For batch-1 tasks: mean wall-clock milliseconds per sample (one 2-second recording, T = 64).
    var latency_ms: Double?
    var timesteps: Int
}

func sideBySide(model: String, task: String, batch: Int, dataPath: String, budget: Double,
                timesteps: Int? = nil, unfused: Bool = false) throws -> SideBySideResult {
    let file = try SafeTensors.read(URL(fileURLWithPath: dataPath))
    var config = BenchData.paperConfiguration
    let described = NetworkBench.descriptionPath(model)
    switch model {
    case "multimodal": config.mode = .multimodal
    case "visual": config.mode = .visual
    case "audio": config.mode = .audio
    default:
        guard let described else { throw BenchError.usage("unknown model \(model) (multimodal, visual, audio, network:FILE)") }
        config = try ModelConfiguration(network: try NetworkDescription.load(URL(fileURLWithPath: described)))
    }
    let net = try MultimodalNetwork(config, seed: 1)
    try net.load(file.tensors, source: dataPath)
    if unfused {   // the reference: inference and training run conv, LIF and pool as separate layers
        guard Parallel.workers == 1 else { throw BenchError.usage("--unfused compares on one worker: set SPIKEFUSE_THREADS=1") }
        net.visual?.fusesPooling = false
    }
    // A described network's file holds the inputs of the branches it has only.
    var fullVisual = config.mode.usesVisual || described == nil ? try file.tensor(named: "input.visual") : nil
    var fullAudio = config.mode.usesAudio || described == nil ? try file.tensor(named: "input.audio") : nil
    if let timesteps {   // memory vs T: the first T steps, or the recording repeated to T steps
        fullVisual = fullVisual.map { resampledSteps($0, timesteps) }; fullAudio = fullAudio.map { resampledSteps($0, timesteps) }
    }
    let allLabels = try file.tensor(named: "input.labels").scalars.map { Int($0) }
    let anyInput = (fullVisual ?? fullAudio)!
    guard batch <= anyInput.shape[1] else { throw BenchError.usage("batch \(batch) > \(anyInput.shape[1]) samples in \(dataPath)") }
    let visual = config.mode.usesVisual ? timeMajorSamples(fullVisual!, 0..<batch) : nil
    let audio = config.mode.usesAudio ? timeMajorSamples(fullAudio!, 0..<batch) : nil
    let labels = Array(allLabels.prefix(batch))

    // Activity of this model on these inputs: measured by one forward for training (whose
    // peak memory is higher anyway); for inference from the file's per-layer rates (batch
    // 32), so that no time-batched forward inflates the peak RSS of an inference process.
    var fired = 0.0, neurons = 0.0
    if described != nil {   // any network: every spiking layer's recorded spikes
        (fired, neurons) = try NetworkBench.spikeCounts(net, visual: visual, audio: audio)
    } else if task == "train" {
        _ = net.forward(visual: visual, audio: audio)
        for p in BenchData.populations(net) {
            let u = p.membrane()
            fired += BenchData.firingRate(u, threshold: p.threshold) * Double(u.count); neurons += Double(u.count)
        }
    } else if let text = file.metadata["firing_rates"], let data = text.data(using: .utf8),
              let rates = try? JSONSerialization.jsonObject(with: data) as? [String: Double] {
        for (name, rate) in rates {
            let inModel = (config.mode.usesVisual && name.hasPrefix("visual.")) || (config.mode.usesAudio && name.hasPrefix("audio."))
                || (config.mode.usesFusion && name.hasPrefix("fusion."))
            guard inModel, let size = BenchData.populationSizes[name] else { continue }
            fired += rate * Double(size); neurons += Double(size)
        }
    }
    let inputs = [visual, audio].compactMap { $0 }
    let inputDensity = inputs.map { BenchData.density($0) * Double($0.count) }.reduce(0, +) / Double(inputs.map(\.count).reduce(0, +))

    let adam = Adam(parameters: net.parameters)
    // Training as `spikefuse train` does it: the batch in `gradientShards` shards, computed on
    // one network copy per core (NetworkReplicas), their gradients added in the fixed tree.
    let replicas = NetworkReplicas(net)
    let shardCount = TrainingConfiguration().gradientShards
    let shards: [Batch?] = (0..<shardCount).map { j in
        let range = TrainingConfiguration().shard(j, ofBatch: batch)
        if range.isEmpty { return nil }
        return Batch(visual: visual.map { timeMajorSamples($0, range) } ?? Tensor(zeros: [0]),
                     audio: audio.map { timeMajorSamples($0, range) } ?? Tensor(zeros: [0]),
                     labels: Array(labels[range]))
    }
    var stream: StreamingInference?
    if task == "stream" { stream = StreamingInference(net, batch: batch) }
    if task == "infer" { net.setTraining(false) }
    func iteration() {
        switch task {
        case "train":
            let (gradient, _) = try! replicas.summedGradients(of: shards, meanOver: batch)
            net.parameters.setGradients(from: gradient)
            adam.step()
        case "infer":
            _ = SpikeRateLoss.predictions(try! replicas.forward(visual: visual, audio: audio).decisive)
        default:
            _ = stream!.run(visual: visual, audio: audio)
        }
    }
    iteration()   // warm-up
    let clock = ContinuousClock()
    let start = clock.now, cpuStart = processCPUSeconds()
    var iterations = 0, elapsed = 0.0
    while iterations < 2 || elapsed < budget {
        iteration()
        iterations += 1
        elapsed = seconds(clock.now - start)
    }
    let cpu = processCPUSeconds() - cpuStart
    let samples = Double(iterations * batch)
    return SideBySideResult(
        model: model, task: task, batch: batch, activity: file.metadata["activity"] ?? dataPath,
        samples_per_second: samples / elapsed, samples_per_cpu_second: samples / cpu, peak_rss_mb: peakRSSMegabytes(),
        implementation: task == "stream" ? "spikefuse-stream" : "spikefuse", iterations: iterations,
        seconds: elapsed, cpu_seconds: cpu,
        threads: ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "default",
        load_average_1min: loadAverage(), firing_rate: neurons > 0 ? fired / neurons : 0, input_density: inputDensity,
        latency_ms: batch == 1 ? elapsed / samples * 1000 : nil, timesteps: anyInput.shape[0])
}

/// `[T, B, …]` → `[steps, B, …]`: step t is input step t mod T.
func resampledSteps(_ x: Tensor, _ steps: Int) -> Tensor {
    let t = x.shape[0], per = x.count / t
    var out = [Float]()
    out.reserveCapacity(steps * per)
    for s in 0..<steps { out += x.scalars[((s % t) * per)..<((s % t + 1) * per)] }
    return Tensor(shape: [steps] + x.shape.dropFirst(), scalars: out)
}


enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    var description: String { switch self { case .usage(let s): return s } }
}
