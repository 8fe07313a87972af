import Foundation
import SpikeNN

/// `--crossover`: forward + backward time of dense vs event-driven kernels at several input
/// densities (Linear 512→512 on 2048 rows; Conv2d 32→32 3×3 pad 1 on 512 images of 14×14),
/// to choose `SynapticKernel.standard`'s density threshold. Wall-clock ms, best of 3.
func measureCrossover() {
    let clock = ContinuousClock()
    func best(_ body: () -> Void) -> Double {
        var bestTime = Double.infinity
        for _ in 0..<3 {
            let s = clock.now
            body()
            bestTime = min(bestTime, seconds(clock.now - s))
        }
        return bestTime * 1000
    }
    print("density   linear dense  linear sparse   conv dense  conv sparse   (ms, forward+backward)")
    for density in [0.01, 0.05, 0.1, 0.2, 0.3, 0.5] {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor(shape: [64, 32, 512], scalars: (0..<64 * 32 * 512).map { _ in rng.nextDouble() < density ? 1 : 0 })
        let g = Tensor(shape: [64, 32, 512], scalars: (0..<64 * 32 * 512).map { _ in rng.nextUniform(-1, 1) })
        let image = Tensor(shape: [16, 32, 32, 14, 14], scalars: (0..<16 * 32 * 32 * 196).map { _ in rng.nextDouble() < density ? 1 : 0 })
        let gImage = Tensor(shape: [16, 32, 32, 14, 14], scalars: (0..<16 * 32 * 32 * 196).map { _ in rng.nextUniform(-1, 1) })
        var times: [Double] = []
        for kernel in [SynapticKernel.dense, .sparse] {
            let linear = Linear(name: "l", inFeatures: 512, outFeatures: 512, rng: &rng)
            linear.kernel = kernel
            linear.needsInputGradient = false
            times.append(best { _ = linear.forward(x); _ = linear.backward(g) })
        }
        for kernel in [SynapticKernel.dense, .sparse] {
            let conv = Conv2d(name: "c", inChannels: 32, outChannels: 32, kernelSize: 3, padding: 1, rng: &rng)
            conv.kernel = kernel
            conv.needsInputGradient = false
            times.append(best { _ = conv.forward(image); _ = conv.backward(gImage) })
        }
        print(String(format: "%7.2f %14.1f %14.1f %12.1f %12.1f", density, times[0], times[1], times[2], times[3]))
    }
}
