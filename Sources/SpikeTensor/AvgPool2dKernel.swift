/// Non-overlapping average pooling (kernel = stride = k, no padding, floor of H/k and W/k,
/// as PyTorch's `AvgPool2d(k)`): `y[n, c, i, j] = (1/k²)·Σ_{a,b<k} x[n, c, i·k + a, j·k + b]`.
public enum AvgPool2dKernel {
    // input [planes, H, W] → output [planes, H/k, W/k] (overwritten); planes = N·C
    // scale: 1/k² (nil, the mean) or 1 (sum pooling: y = Σ window)
    public static func forward(input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                               kernelSize k: Int, output: UnsafeMutablePointer<Float>, scale given: Float? = nil) {
        let oh = height / k, ow = width / k
        let scale = given ?? 1 / Float(k * k)
        Parallel.forEachChunk(planes, minimumChunk: 64) { range in
          for plane in range {
            let src = input + plane * height * width
            let dst = output + plane * oh * ow
            if k == 2 {
                // The common 2×2 case, unrolled: the same additions in the same order as the
                // general loop below ((0 + (x00 + x01)) + (x10 + x11)), so identical bits.
                for i in 0..<oh {
                    let row = dst + i * ow, r0 = src + 2 * i * width, r1 = r0 + width
                    for j in 0..<ow { row[j] = ((r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1])) * scale }
                }
                continue
            }
            for i in 0..<oh {
                let row = dst + i * ow
                for j in 0..<ow { row[j] = 0 }
                for a in 0..<k {
                    let srcRow = src + (i * k + a) * width
                    for j in 0..<ow {
                        var s: Float = 0
                        for b in 0..<k { s += srcRow[j * k + b] }
                        row[j] += s
                    }
                }
                for j in 0..<ow { row[j] *= scale }
            }
          }
        }
    }

    // gradOutput [planes, H/k, W/k] → gradInput [planes, H, W] (overwritten; rows/columns
    // beyond the last full window get 0)
    public static func backward(gradOutput: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                                kernelSize k: Int, gradInput: UnsafeMutablePointer<Float>, scale given: Float? = nil) {
        let oh = height / k, ow = width / k
        let scale = given ?? 1 / Float(k * k)
        Parallel.forEachChunk(planes, minimumChunk: 64) { range in
          for plane in range {
            let src = gradOutput + plane * oh * ow
            let dst = gradInput + plane * height * width
            for y in 0..<height {
                let row = dst + y * width
                let i = y / k
                if i >= oh { row.update(repeating: 0, count: width); continue }
                let gRow = src + i * ow
                if k == 2 {
                    for j in 0..<ow { let v = gRow[j] * scale; row[2 * j] = v; row[2 * j + 1] = v }
                } else {
                    for j in 0..<ow {
                        let v = gRow[j] * scale
                        for b in 0..<k { row[j * k + b] = v }
                    }
                }
                if ow * k < width { (row + ow * k).update(repeating: 0, count: width - ow * k) }
            }
          }
        }
    }

    /// Reference: plain loops, one output element at a time.
    public static func referenceForward(_ input: [Float], planes: Int, height: Int, width: Int, kernelSize k: Int) -> [Float] {
        let oh = height / k, ow = width / k
        var out = [Float](repeating: 0, count: planes * oh * ow)
        for p in 0..<planes { for i in 0..<oh { for j in 0..<ow {
            var s = 0.0
            for a in 0..<k { for b in 0..<k { s += Double(input[(p * height + i * k + a) * width + j * k + b]) } }
            out[(p * oh + i) * ow + j] = Float(s / Double(k * k))
        } } }
        return out
    }

    /// Reference backward: scatter each output gradient / k² to its window.
    public static func referenceBackward(_ gradOutput: [Float], planes: Int, height: Int, width: Int, kernelSize k: Int) -> [Float] {
        let oh = height / k, ow = width / k
        var dx = [Float](repeating: 0, count: planes * height * width)
        for p in 0..<planes { for i in 0..<oh { for j in 0..<ow {
            for a in 0..<k { for b in 0..<k {
                dx[(p * height + i * k + a) * width + j * k + b] += gradOutput[(p * oh + i) * ow + j] / Float(k * k)
            } }
        } } }
        return dx
    }
}
