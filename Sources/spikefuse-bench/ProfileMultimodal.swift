import Foundation
import Multimodal
import SpikeNN

/// `--profile-mm <data file> [batch]`: where one multimodal training step's time goes, layer
/// by layer (process CPU ms, mean of `iterations` after one warm-up), with each layer's output
/// density (forward) and dL/d(input) density (backward). Replicates
/// `MultimodalNetwork.forwardBackward` with a clock around every layer (same operations).
func profileMultimodal(dataPath: String, batch: Int, iterations: Int, kernel: SynapticKernel? = nil) throws {
    let file = try SafeTensors.read(URL(fileURLWithPath: dataPath))
    let net = try MultimodalNetwork(BenchData.paperConfiguration, seed: 1)
    try net.load(file.tensors, source: dataPath)
    let visualInput = timeMajorSamples(try file.tensor(named: "input.visual"), 0..<batch)
    let audioInput = timeMajorSamples(try file.tensor(named: "input.audio"), 0..<batch)
    let labels = Array(try file.tensor(named: "input.labels").scalars.map { Int($0) }.prefix(batch))
    guard let visual = net.visual, let audio = net.audio, let fusion = net.fusion else { return }
    let d = net.networkDescription
    let visualLayers = try NetworkBuilder.namedParts(visual, branch: d.branch(.dvs)!, classes: d.classes).map { ($0.name, $0.layer) }
    let audioLayers = try NetworkBuilder.namedParts(audio, branch: d.branch(.cochlea)!, classes: d.classes).map { ($0.name, $0.layer) }
    if let kernel {   // force one kernel choice everywhere (to measure the crossover in place)
        KernelPlan.force(kernel, on: visual.layers + audio.layers)
    }
    let adam = Adam(parameters: net.parameters)
    var forward: [String: Double] = [:], backward: [String: Double] = [:]
    var outDensity: [String: Double] = [:], gradDensity: [String: Double] = [:]
    var order: [String] = []
    func timed(_ name: String, _ table: inout [String: Double], scale: Double, _ body: () -> Tensor) -> Tensor {
        let s = processCPUSeconds()
        let r = body()
        table[name, default: 0] += scale * (processCPUSeconds() - s)
        if !order.contains(name) { order.append(name) }
        return r
    }
    func density(_ t: Tensor) -> Double { BenchData.density(t) }
    for iteration in 0...iterations {
        let scale = iteration == 0 ? 0.0 : 1.0 / Double(iterations)
        var ov = visualInput
        for (name, layer) in visualLayers {
            ov = timed(name, &forward, scale: scale) { layer.forward(ov) }
            outDensity[name] = density(ov)
        }
        var oa = audioInput
        for (name, layer) in audioLayers {
            oa = timed(name, &forward, scale: scale) { layer.forward(oa) }
            outDensity[name] = density(oa)
        }
        let om = timed("fusion (all)", &forward, scale: scale) { fusion.forward(visual: ov, audio: oa) }
        outDensity["fusion (all)"] = density(om)
        let s = processCPUSeconds()
        var (_, gv) = SpikeRateLoss.mseLoss(spikes: ov, labels: labels)
        var (_, ga) = SpikeRateLoss.mseLoss(spikes: oa, labels: labels)
        let (_, gm) = SpikeRateLoss.mseLoss(spikes: om, labels: labels)
        forward["loss", default: 0] += scale * (processCPUSeconds() - s)
        var fusionGrads = (visual: Tensor(zeros: [0]), audio: Tensor(zeros: [0]))
        _ = timed("fusion (all)", &backward, scale: scale) { fusionGrads = fusion.backward(gm); return gm }
        for i in 0..<gv.count { gv.scalars[i] += fusionGrads.visual.scalars[i] }
        for i in 0..<ga.count { ga.scalars[i] += fusionGrads.audio.scalars[i] }
        for (name, layer) in visualLayers.reversed() {
            gv = timed(name, &backward, scale: scale) { layer.backward(gv) }
            gradDensity[name] = gv.count == 0 ? 0 : density(gv)
        }
        for (name, layer) in audioLayers.reversed() {
            ga = timed(name, &backward, scale: scale) { layer.backward(ga) }
            gradDensity[name] = ga.count == 0 ? 0 : density(ga)
        }
        let a = processCPUSeconds()
        adam.step(); adam.zeroGradients()
        backward["adam", default: 0] += scale * (processCPUSeconds() - a)
    }
    let total = forward.values.reduce(0, +) + backward.values.reduce(0, +)
    print("per-layer profile: multimodal training, batch \(batch), T = \(BenchData.timesteps), \(file.metadata["activity"] ?? dataPath) (process CPU ms per batch)")
    print("layer                      forward ms  backward ms   share   output density   dL/dinput density")
    for name in order + ["loss", "adam"] {
        let f = forward[name] ?? 0, b = backward[name] ?? 0
        print(name.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %10.1f %12.1f %6.1f %% %15.4f %17.4f", f * 1000, b * 1000, (f + b) / total * 100,
                     outDensity[name] ?? .nan, gradDensity[name] ?? .nan))
    }
    print(String(format: "total %.1f ms CPU per batch of %d → %.1f samples per CPU-second", total * 1000, batch, Double(batch) / total))
}
