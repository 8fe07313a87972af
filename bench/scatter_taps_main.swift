// Driver of bench/scatter_taps.sh: the event-driven conv scatter of visual.conv2's shape
// (32 → 32 channels, 3×3, padding 1, 16×16 input of binary spikes at a given density) with the
// stride-1 tap enumeration against the plain one (`forEachActiveTapAnyStride`), thread CPU
// time per image, best of 15 rounds of 64 images each, the two interleaved.
import Foundation

func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let g = Conv2dGeometry(inChannels: 32, outChannels: 32, height: 16, width: 16, kernelSize: 3, stride: 1, padding: 1)
let images = 64
var state: UInt64 = 42
func uniform() -> Double {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return Double(state >> 11) / Double(1 << 53)
}

// x [images, C, H, W] binary, Wᵀ [C·k·k, O] → sums [Ho·Wo, O] per image
@inline(never)
func scatter(_ x: UnsafePointer<Float>, _ wt: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>, stride1: Bool) {
    let outC = g.outChannels
    for n in 0..<images {
        sums.update(repeating: 0, count: g.outputPixels * outC)
        let add = { (tap: Int, pixel: Int, v: Float) in
            EventConv2dKernel.addScaled(wt + tap * outC, v, into: sums + pixel * outC, count: outC)
        }
        if stride1 {
            EventConv2dKernel.forEachActiveTapStride1(x + n * g.inputImageSize, geometry: g, add)
        } else {
            EventConv2dKernel.forEachActiveTapAnyStride(x + n * g.inputImageSize, geometry: g, add)
        }
    }
}

print("density   plain taps µs/image   stride-1 taps µs/image   speed-up")
for density in [0.05, 0.125, 0.3] {
    let x = (0..<images * g.inputImageSize).map { _ in uniform() < density ? Float(1) : 0 }
    let wt = (0..<g.weightCount).map { _ in Float(uniform() - 0.5) }
    var sums = [Float](repeating: 0, count: g.outputPixels * g.outChannels)
    var plain = Double.infinity, fast = Double.infinity
    x.withUnsafeBufferPointer { xp in wt.withUnsafeBufferPointer { wp in sums.withUnsafeMutableBufferPointer { sp in
        for _ in 0..<15 {
            var start = threadCPUSeconds()
            scatter(xp.baseAddress!, wp.baseAddress!, sp.baseAddress!, stride1: false)
            plain = min(plain, threadCPUSeconds() - start)
            start = threadCPUSeconds()
            scatter(xp.baseAddress!, wp.baseAddress!, sp.baseAddress!, stride1: true)
            fast = min(fast, threadCPUSeconds() - start)
        }
    } } }
    let perImage = { (s: Double) in s / Double(images) * 1e6 }
    print(String(format: "%7.3f   %19.1f   %22.1f   %7.2f×", density, perImage(plain), perImage(fast), plain / fast))
}
