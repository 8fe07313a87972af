import SpikeTensor
import Foundation
import SpikeNN
import Multimodal

/// `--profile <visual|auditory|NETWORK.json> <batch>`: seconds spent in each layer's forward
/// and backward (one warm-up iteration, then the mean of `iterations`), to find the top cost.
/// A description file profiles its first branch, built by `NetworkBuilder`, on input spikes
/// at 5 %, or with `--data FILE` (written by `--prepare-network`) on that file's calibrated
/// weights and inputs, as the side-by-side benchmark runs it.
func profileLayers(network model0: Sequential, branch: BranchDescription, timesteps: Int, classes: Int, batch: Int,
                   iterations: Int, input: Tensor? = nil) throws {
    model0.needsInputGradient = false
    // Each synapse + neurons layer in its two parts, to time them apart, named by the description.
    let named = try NetworkBuilder.namedParts(model0, branch: branch, classes: classes)
    let net = Sequential(named.map(\.layer))
    let sampleShape = branch.input.shape
    var rng = SeededGenerator(seed: 2)
    let shape = [timesteps, batch] + sampleShape
    let x = input.map { timeMajorSamples($0, 0..<batch) }     // the caller checked it holds `batch` samples
        ?? Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextDouble() < 0.05 ? 1 : 0 })
    let labels = (0..<batch).map { _ in rng.nextInt(below: classes) }
    let adam = Adam(parameters: net.parameters)
    // Process CPU time (all threads): less disturbed than wall time when the CPU is shared.
    struct CPUClock {
        struct Instant { var t: Double }
        var now: Instant {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Instant(t: Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9)
        }
    }
    func seconds(_ d: Double) -> Double { d }
    let clock = CPUClock()
    var forwardTime = [Double](repeating: 0, count: net.layers.count)
    var backwardTime = forwardTime
    var rates = forwardTime
    var gradDensity = forwardTime
    var lossTime = 0.0, adamTime = 0.0
    for iteration in 0...iterations {
        let scale = iteration == 0 ? 0.0 : 1.0
        var h = x
        for (i, layer) in net.layers.enumerated() {
            let s = clock.now
            h = layer.forward(h)
            forwardTime[i] += scale * seconds(clock.now.t - s.t)
            rates[i] = Double(h.scalars.reduce(0, +)) / Double(h.count)
        }
        var s = clock.now
        var (_, g) = SpikeRateLoss.mseLoss(spikes: h, labels: labels)
        lossTime += scale * seconds(clock.now.t - s.t)
        for (i, layer) in net.layers.enumerated().reversed() {
            let s = clock.now
            g = layer.backward(g)
            backwardTime[i] += scale * seconds(clock.now.t - s.t)
            gradDensity[i] = g.count == 0 ? 0 : Double(g.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }) / Double(g.count)
        }
        s = clock.now
        adam.step()
        adam.zeroGradients()
        adamTime += scale * seconds(clock.now.t - s.t)
    }
    let n = Double(iterations)
    print("layer (process CPU time)          forward ms  backward ms  output mean  dL/dinput nonzero")
    for i in net.layers.indices {
        print(named[i].name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " %10.1f %12.1f %12.4f %12.4f", forwardTime[i] / n * 1000,
                     backwardTime[i] / n * 1000, rates[i], gradDensity[i]))
    }
    print(String(format: "loss %.1f ms, adam+zero %.1f ms", lossTime / n * 1000, adamTime / n * 1000))
}

