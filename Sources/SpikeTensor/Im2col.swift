/// im2col and col2im over a run of images.
///
/// The column matrix for `images` images is `[C·k·k, images·Ho·Wo]`, row-major: row
/// `(c·k + ki)·k + kj`, column `img·Ho·Wo + oh·Wo + ow` holds
/// `x[img, c, oh·stride − padding + ki, ow·stride − padding + kj]` (0 outside the image).
/// `columnStride` is the row stride of the column matrix (≥ images·Ho·Wo).
public enum Im2col {
    /// im2col by the C kernel (`VectorKernels.im2col`, any stride; at stride 1 inline 8-lane
    /// copies instead of a memcpy call per ~Wo-float run), whose result is `plainIm2col`'s (tested).
    // input [images, C, H, W] → columns [C·k·k, images·Ho·Wo]
    public static func im2col(_ input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                              columns: UnsafeMutablePointer<Float>, columnStride: Int) {
        VectorKernels.im2col(input, images: images, geometry: g, columns: columns, columnStride: columnStride)
    }

    /// im2col in plain Swift, any stride: the reference of the C kernel.
    // input [images, C, H, W] → columns [C·k·k, images·Ho·Wo]
    public static func plainIm2col(_ input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                                   columns: UnsafeMutablePointer<Float>, columnStride: Int) {
        let k = g.kernelSize, s = g.stride, pad = g.padding
        let h = g.height, w = g.width, oh = g.outputHeight, ow = g.outputWidth
        let pixels = oh * ow
        for c in 0..<g.inChannels {
            for ki in 0..<k {
                for kj in 0..<k {
                    let row = columns + ((c * k + ki) * k + kj) * columnStride
                    // Output columns ow with 0 ≤ ow·s − pad + kj < w.
                    let owStart = max(0, (pad - kj + s - 1) / s)
                    let owEnd = w - 1 + pad - kj < 0 ? 0 : min(ow, (w - 1 + pad - kj) / s + 1)
                    for img in 0..<images {
                        let plane = input + (img * g.inChannels + c) * h * w
                        let dst = row + img * pixels
                        for y in 0..<oh {
                            let iy = y * s - pad + ki
                            let out = dst + y * ow
                            if iy < 0 || iy >= h || owStart >= owEnd {
                                out.update(repeating: 0, count: ow)
                                continue
                            }
                            let src = plane + iy * w
                            if owStart > 0 { out.update(repeating: 0, count: owStart) }
                            if s == 1 {
                                (out + owStart).update(from: src + (owStart - pad + kj), count: owEnd - owStart)
                            } else {
                                var x = owStart
                                while x < owEnd { out[x] = src[x * s - pad + kj]; x += 1 }
                            }
                            if owEnd < ow { (out + owEnd).update(repeating: 0, count: ow - owEnd) }
                        }
                    }
                }
            }
        }
    }

    // columns [C·k·k, images·Ho·Wo] → input gradient [images, C, H, W] (ACCUMULATES +=)
    public static func col2im(_ columns: UnsafePointer<Float>, columnStride: Int, images: Int,
                              geometry g: Conv2dGeometry, input: UnsafeMutablePointer<Float>) {
        let k = g.kernelSize, s = g.stride, pad = g.padding
        let h = g.height, w = g.width, oh = g.outputHeight, ow = g.outputWidth
        let pixels = oh * ow
        for c in 0..<g.inChannels {
            for ki in 0..<k {
                for kj in 0..<k {
                    let row = columns + ((c * k + ki) * k + kj) * columnStride
                    let owStart = max(0, (pad - kj + s - 1) / s)
                    let owEnd = w - 1 + pad - kj < 0 ? 0 : min(ow, (w - 1 + pad - kj) / s + 1)
                    if owStart >= owEnd { continue }
                    for img in 0..<images {
                        let plane = input + (img * g.inChannels + c) * h * w
                        let src = row + img * pixels
                        for y in 0..<oh {
                            let iy = y * s - pad + ki
                            if iy < 0 || iy >= h { continue }
                            let dst = plane + iy * w
                            let col = src + y * ow
                            if s == 1 {
                                // contiguous run: dst[x − pad + kj] += col[x]
                                let d = dst + (owStart - pad + kj), c = col + owStart
                                for x in 0..<(owEnd - owStart) { d[x] += c[x] }
                            } else {
                                var x = owStart
                                while x < owEnd { dst[x * s - pad + kj] += col[x]; x += 1 }
                            }
                        }
                    }
                }
            }
        }
    }
}
