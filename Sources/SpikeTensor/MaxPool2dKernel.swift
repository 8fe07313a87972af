/// Non-overlapping max pooling (kernel = stride = k, no padding, floor of H/k and W/k, as
/// PyTorch's `MaxPool2d(k)`): `y[n, c, i, j] = max_{a,b<k} x[n, c, i·k + a, j·k + b]`. Ties go to
/// the first element in row-major window order (PyTorch's CPU kernel does the same), and the
/// gradient flows to that element only. On spikes (0/1) the max is an OR of the window.
public enum MaxPool2dKernel {
    // input [planes, H, W] → output [planes, H/k, W/k], argmax [planes, H/k, W/k] (the offset of
    // the chosen element within its plane; both overwritten); planes = N·C
    // 2×2 windows (the common case) by `forward2`, others by `forwardReference`; the same
    // outputs and argmax either way (`MaxPool2dKernelTests`).
    public static func forward(input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                               kernelSize k: Int, output: UnsafeMutablePointer<Float>,
                               argmax: UnsafeMutablePointer<Int32>?) {
        if k == 2 {
            forward2(input: input, planes: planes, height: height, width: width, output: output, argmax: argmax)
        } else {
            forwardReference(input: input, planes: planes, height: height, width: width, kernelSize: k,
                             output: output, argmax: argmax)
        }
    }

    /// `forwardReference` for k = 2: each window's four elements compared in row-major order
    /// (a later one wins only when strictly greater, so ties keep the first), by selects rather
    /// than branches (on spikes every comparison would be a coin flip for the predictor), with
    /// and without argmax as separate loops.
    // input [planes, H, W] → output [planes, H/2, W/2], argmax [planes, H/2, W/2] (overwritten)
    public static func forward2(input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                                output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>?) {
        let oh = height / 2, ow = width / 2
        Parallel.forEachChunk(planes, minimumChunk: 64) { range in
            for plane in range {
                let src = input + plane * height * width
                let dst = output + plane * oh * ow
                for i in 0..<oh {
                    let top = src + 2 * i * width, bottom = top + width, out = dst + i * ow
                    if let argmax {
                        let chosen = argmax + plane * oh * ow + i * ow
                        let rowOffset = Int32(2 * i * width)
                        for j in 0..<ow {
                            let a = top[2 * j], b = top[2 * j + 1], c = bottom[2 * j], d = bottom[2 * j + 1]
                            var best = a, at = Int32(2 * j)
                            if b > best { best = b; at = Int32(2 * j + 1) }
                            if c > best { best = c; at = Int32(2 * j) + Int32(width) }
                            if d > best { best = d; at = Int32(2 * j + 1) + Int32(width) }
                            out[j] = best
                            chosen[j] = rowOffset + at
                        }
                    } else {
                        for j in 0..<ow {
                            let a = top[2 * j], b = top[2 * j + 1], c = bottom[2 * j], d = bottom[2 * j + 1]
                            var best = a
                            if b > best { best = b }
                            if c > best { best = c }
                            if d > best { best = d }
                            out[j] = best
                        }
                    }
                }
            }
        }
    }

    /// Any k: each window scanned in row-major order, a later element chosen only when strictly
    /// greater (the plain loop `forward2` is tested against).
    // input [planes, H, W] → output [planes, H/k, W/k], argmax [planes, H/k, W/k] (overwritten)
    public static func forwardReference(input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                                        kernelSize k: Int, output: UnsafeMutablePointer<Float>,
                                        argmax: UnsafeMutablePointer<Int32>?) {
        let oh = height / k, ow = width / k
        Parallel.forEachChunk(planes, minimumChunk: 64) { range in
            for plane in range {
                let src = input + plane * height * width
                let dst = output + plane * oh * ow
                for i in 0..<oh {
                    for j in 0..<ow {
                        var best = src[i * k * width + j * k], at = i * k * width + j * k
                        for a in 0..<k {
                            for b in 0..<k {
                                let offset = (i * k + a) * width + j * k + b
                                if src[offset] > best { best = src[offset]; at = offset }
                            }
                        }
                        dst[i * ow + j] = best
                        argmax?[plane * oh * ow + i * ow + j] = Int32(at)
                    }
                }
            }
        }
    }

    // gradOutput [planes, H/k, W/k], argmax of the forward → gradInput [planes, H, W]
    // (overwritten: each output's gradient at its chosen element, 0 elsewhere)
    public static func backward(gradOutput: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int,
                                height: Int, width: Int, kernelSize k: Int, gradInput: UnsafeMutablePointer<Float>) {
        let pooled = (height / k) * (width / k)
        Parallel.forEachChunk(planes, minimumChunk: 64) { range in
            for plane in range {
                let dst = gradInput + plane * height * width
                dst.update(repeating: 0, count: height * width)
                for o in 0..<pooled {
                    dst[Int(argmax[plane * pooled + o])] += gradOutput[plane * pooled + o]
                }
            }
        }
    }
}
