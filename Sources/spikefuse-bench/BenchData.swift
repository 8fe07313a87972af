import Foundation
import Multimodal
import SpikeNN

/// The shared inputs of the side-by-side benchmark: one safetensors file per activity level
/// holding the multimodal network's weights (checkpoint names, PyTorch layout) and one batch
/// of inputs, read by both SpikeFuse and the PyTorch peer (bench/peer_bench.py):
///
///     <name>.weight / .bias / .recurrent_weight   every parameter of mode multimodal
///     input.visual  [T, B, 2, 28, 28]   time-major, 0/1
///     input.audio   [T, B, 64]          time-major, 0/1
///     input.labels  [B]
///     metadata: activity, firing_rates (JSON, per spiking layer), input_density, source
///
/// Activity levels: `trained` (paper-sized weights given with `--weights`, by default
/// `bench/run.sh`'s demo recipe trained at 28×28, on the test inputs of `--inputs`; without
/// weights, a short stand-in training run on a paper-sized synthetic task, see `trainStandIn`) and `rate02/05/10/20`: the seeded initial network with every spiking layer's
/// parameters scaled, layer by layer in network order, so that it fires at 2/5/10/20 % on
/// random inputs of the same density.
enum BenchData {
    static let batch = 32
    static let timesteps = 64

    static var paperConfiguration: ModelConfiguration {
        var c = ModelConfiguration()
        c.mode = .multimodal
        c.timesteps = timesteps
        return c
    }

    /// Spiking populations in network order with the parameters that drive each one.
    static func populations(_ net: MultimodalNetwork) -> [(name: String, parameters: [Parameter], membrane: () -> Tensor, threshold: Float)] {
        var out: [(String, [Parameter], () -> Tensor, Float)] = []
        let c = net.configuration
        for l in (net.visual?.spikingLayers ?? []) + (net.audio?.spikingLayers ?? []) {
            out.append((l.parameters[0].name, l.parameters, { l.membrane }, l.neuronParameters.threshold))
        }
        if let f = net.fusion as? AttentionFusion {
            out.append(("fusion.hidden", f.hidden.parameters, { f.hiddenNeuron.membrane }, c.threshold))
            out.append(("fusion.output", f.attention.parameters, { f.outputNeuron.membrane }, c.threshold))
        }
        return out.map { (name: String($0.0.split(separator: ".").prefix(2).joined(separator: ".")), parameters: $0.1, membrane: $0.2, threshold: $0.3) }
    }

    /// Neurons per sample of each population at paper sizes (for rates read from metadata).
    static let populationSizes: [String: Int] = [
        "visual.conv1": 32 * 28 * 28, "visual.conv2": 32 * 14 * 14, "visual.fc1": 128, "visual.fc2": 10,
        "audio.rec1": 512, "audio.rec2": 512, "audio.rec3": 512, "audio.out": 10,
        "fusion.hidden": 64, "fusion.output": 10,
    ]

    /// Fraction of a population's neurons that fired in the last forward (u ≥ V_th).
    static func firingRate(_ membrane: Tensor, threshold: Float) -> Double {
        guard membrane.count > 0 else { return 0 }
        return Double(membrane.scalars.reduce(0) { $0 + ($1 >= threshold ? 1 : 0) }) / Double(membrane.count)
    }

    static func randomInputs(rate: Double, batch: Int, seed: UInt64) -> (visual: Tensor, audio: Tensor, labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        let vShape = [timesteps, batch, 2, 28, 28], aShape = [timesteps, batch, 64]
        let v = Tensor(shape: vShape, scalars: (0..<vShape.reduce(1, *)).map { _ in rng.nextDouble() < rate ? 1 : 0 })
        let a = Tensor(shape: aShape, scalars: (0..<aShape.reduce(1, *)).map { _ in rng.nextDouble() < rate ? 1 : 0 })
        return (v, a, (0..<batch).map { _ in rng.nextInt(below: 10) })
    }

    /// Scales each population's parameters (in network order) by a factor found by bisection
    /// on log(scale) so that its firing rate on `visual`/`audio` is nearest `target`.
    static func calibrate(_ net: MultimodalNetwork, visual: Tensor, audio: Tensor, target: Double) {
        let pops = populations(net)
        for pop in pops {
            let originals = pop.parameters.map(\.value)
            func rate(at scale: Float) -> Double {
                for (p, v) in zip(pop.parameters, originals) { p.value = Tensor(shape: v.shape, scalars: v.scalars.map { $0 * scale }) }
                _ = net.forward(visual: visual, audio: audio)
                return firingRate(pop.membrane(), threshold: pop.threshold)
            }
            var lo = Float(-2.0794415), hi = Float(4.1588830)   // ln(1/8), ln(64)
            for _ in 0..<7 {
                let mid = (lo + hi) / 2
                if rate(at: exp(mid)) < target { lo = mid } else { hi = mid }
            }
            let r = rate(at: exp((lo + hi) / 2))
            note("  \(pop.name): scale \(String(format: "%.2f", exp((lo + hi) / 2))) → firing \(String(format: "%.3f", r))")
        }
    }

    /// A short stand-in training run (used only when no weights are given): the paper's
    /// multimodal network trained with Adam (lr 1e-3) for `batches` batches of 32 on
    /// `SyntheticDataset` at paper sizes (T = 64, 2×28×28, 64 channels; 60 prototype pixels).
    static func trainStandIn(batches: Int) throws -> (MultimodalNetwork, SyntheticDataset) {
        var d = SyntheticDatasetConfiguration()
        d.timesteps = timesteps; d.imageSize = 28; d.audioChannels = 64; d.prototypePixels = 60
        d.trainCount = batches * batch; d.testCount = batch
        let train = SyntheticDataset(d, split: .train)
        let net = try MultimodalNetwork(paperConfiguration, seed: 1)
        let adam = Adam(parameters: net.parameters, learningRate: 1e-3)
        for b in 0..<batches {
            let x = try makeBatch(train, indices: Array((b * batch)..<((b + 1) * batch))[...])
            let (loss, _) = net.forwardBackward(visual: x.visual, audio: x.audio, labels: x.labels)
            adam.step(); adam.zeroGradients()
            note("  stand-in training batch \(b + 1)/\(batches): loss \(String(format: "%.3f", loss.total))")
        }
        return (net, SyntheticDataset(d, split: .test))
    }

    /// One batch of the joint dataset's test split in `folder` (e.g. the demo's data), framed at
    /// paper sizes (28×28 crop, T = 64), `batch` samples spread evenly over the split
    /// (the split is class-ordered, so every digit is in the batch).
    static func jointTestBatch(_ folder: URL) throws -> Batch {
        var c = JointDatasetConfiguration(dataFolder: folder)
        c.cropSize = 28
        c.timesteps = timesteps
        c.showProgress = false
        let test = try JointDataset(configuration: c, split: .test)
        return try makeBatch(test, indices: evenlySpreadIndices(count: batch, of: test.count)[...])
    }

    /// Writes `<directory>/<activity>.safetensors` for every activity level that is missing.
    /// `trained`: `demoWeights` (paper sizes) on the test inputs of `demoData` when given, else
    /// on a synthetic paper-sized test batch; without weights, a short stand-in training run.
    static func prepare(directory: URL, demoWeights: URL?, demoData: URL?, trainBatches: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func write(_ name: String, _ net: MultimodalNetwork, visual: Tensor, audio: Tensor, labels: [Int], source: String, inputDensity: Double) throws {
            _ = net.forward(visual: visual, audio: audio)
            let rates = populations(net).map { "\"\($0.name)\": \(String(format: "%.4f", firingRate($0.membrane(), threshold: $0.threshold)))" }
            let tensors = net.namedTensors() + [
                ("input.visual", visual), ("input.audio", audio),
                ("input.labels", Tensor(shape: [labels.count], scalars: labels.map(Float.init))),
            ]
            let metadata = ["activity": name, "firing_rates": "{" + rates.joined(separator: ", ") + "}",
                            "input_density": String(format: "%.4f", inputDensity), "source": source]
            try SafeTensors.write(tensors, metadata: metadata, to: directory.appendingPathComponent(name + ".safetensors"))
            note("wrote \(name).safetensors: firing {\(rates.joined(separator: ", "))}")
        }
        let trainedURL = directory.appendingPathComponent("trained.safetensors")
        if !FileManager.default.fileExists(atPath: trainedURL.path) {
            var d = SyntheticDatasetConfiguration()
            d.timesteps = timesteps; d.imageSize = 28; d.audioChannels = 64; d.prototypePixels = 60; d.testCount = batch
            if let demoWeights {
                let checkpoint = try Checkpoint.read(demoWeights)
                let net = try MultimodalNetwork(paperConfiguration, seed: 1)
                try net.load(checkpoint.tensors, source: demoWeights.path)
                let x = try demoData.map(jointTestBatch) ?? makeBatch(SyntheticDataset(d, split: .test), indices: Array(0..<batch)[...])
                let inputs = demoData.map { "its test split \($0.path), 28×28 crop, \(batch) samples spread over the split" }
                    ?? "synthetic paper-sized test batch"
                try write("trained", net, visual: x.visual, audio: x.audio, labels: x.labels,
                          source: "checkpoint \(demoWeights.path); inputs: \(inputs)", inputDensity: density(x.visual))
            } else {
                note("no weights given: training a stand-in (\(trainBatches) batches of \(batch), synthetic paper-sized task)")
                let (net, test) = try trainStandIn(batches: trainBatches)
                let x = try makeBatch(test, indices: Array(0..<batch)[...])
                try write("trained", net, visual: x.visual, audio: x.audio, labels: x.labels,
                          source: "stand-in: \(trainBatches) Adam steps on SyntheticDataset (paper sizes), its test batch",
                          inputDensity: density(x.visual))
            }
        }
        for percent in [2, 5, 10, 20] {
            let name = String(format: "rate%02d", percent)
            guard !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name + ".safetensors").path) else { continue }
            let target = Double(percent) / 100
            note("calibrating \(name)")
            let net = try MultimodalNetwork(paperConfiguration, seed: 1)
            let small = randomInputs(rate: target, batch: 4, seed: 100 + UInt64(percent))
            calibrate(net, visual: small.visual, audio: small.audio, target: target)
            let x = randomInputs(rate: target, batch: batch, seed: 200 + UInt64(percent))
            try write(name, net, visual: x.visual, audio: x.audio, labels: x.labels,
                      source: "seed-1 initial network, layers scaled to \(percent) % firing on random inputs", inputDensity: target)
        }
    }

    static func density(_ t: Tensor) -> Double {
        Double(t.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }) / Double(max(t.count, 1))
    }

    static func note(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }
}
