import SpikeTensor
import Foundation
import SpikeNN

/// `--crossover`: dense vs event-driven kernel times at several densities, to choose the
/// `SynapticKernel` thresholds (`standard` 0.1 for Linear/recurrent, `standardConvolution` 0.2
/// for Conv2d). Process CPU ms, best of 3 (steadier than wall time on a shared machine).
///
/// - Linear 512→512 on 64·32 rows, forward + dW (no dL/dx), input spikes at the density;
/// - Linear 512→512 dL/dx = δ·W alone, δ with the given fraction of nonzeros (the backward
///   product that `.automatic` makes event-driven when δ is sparse enough);
/// - Conv2d 32→32 3×3 pad 1 on 16·32 images of 14×14 (visual.conv2's shape at T = 16),
///   forward + dW/db (no dL/dx), input spikes at the density.
func measureCrossover() {
    func best(_ body: () -> Void) -> Double {
        var bestTime = Double.infinity
        for _ in 0..<3 {
            let s = processCPUSeconds()
            body()
            bestTime = min(bestTime, processCPUSeconds() - s)
        }
        return bestTime * 1000
    }
    print("density  linear fwd+dW: dense  sparse   linear dX: dense  sparse   conv fwd+dW: dense  sparse   (CPU ms)")
    for density in [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5] {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor(shape: [64, 32, 512], scalars: (0..<64 * 32 * 512).map { _ in rng.nextDouble() < density ? 1 : 0 })
        let g = Tensor(shape: [64, 32, 512], scalars: (0..<64 * 32 * 512).map { _ in rng.nextUniform(-1, 1) })
        let sparseG = Tensor(shape: [64, 32, 512], scalars: g.scalars.map { v in rng.nextDouble() < density ? v : 0 })
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
            let linear = Linear(name: "l", inFeatures: 512, outFeatures: 512, rng: &rng)
            let ones = Tensor(repeating: 1, shape: [64, 32, 512])
            linear.kernel = .dense
            _ = linear.forward(ones)
            linear.kernel = kernel   // the dL/dx choice follows δ's density under this kernel
            var dW = 0.0
            let total = best { _ = linear.backward(sparseG) }
            // subtract the dW/db part (dense: the input is all ones) measured alone
            linear.needsInputGradient = false
            dW = best { _ = linear.backward(sparseG) }
            times.append(max(0, total - dW))
        }
        for kernel in [SynapticKernel.dense, .sparse] {
            let conv = Conv2d(name: "c", inChannels: 32, outChannels: 32, kernelSize: 3, padding: 1, rng: &rng)
            conv.kernel = kernel
            conv.needsInputGradient = false
            times.append(best { _ = conv.forward(image); _ = conv.backward(gImage) })
        }
        print(String(format: "%7.2f %18.1f %7.1f %18.1f %7.1f %20.1f %7.1f", density, times[0], times[1], times[2], times[3],
                     times[4], times[5]))
    }
}
