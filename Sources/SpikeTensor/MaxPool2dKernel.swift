/// Non-overlapping max pooling (kernel = stride = k, no padding, floor of H/k and W/k, as
/// PyTorch's `MaxPool2d(k)`): `y[n, c, i, j] = max_{a,b<k} x[n, c, i·k + a, j·k + b]`. Ties go to
/// the first element in row-major window order (PyTorch's CPU kernel does the same), and the
/// gradient flows to that element only. On spikes (0/1) the max is an OR of the window.
public enum MaxPool2dKernel {
    // input [planes, H, W] → output [planes, H/k, W/k], argmax [planes, H/k, W/k] (the offset of
    // the chosen element within its plane; both overwritten); planes = N·C
    public static func forward(input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
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
