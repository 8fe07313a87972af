/// A binary tensor — every element 0 or 1, i.e. spikes — stored at 1 bit per element instead
/// of 32: the form in which layers keep spike inputs between a training forward and its
/// backward (BPTT needs the whole `[T, B, …]` history). Packing is exact: `unpacked()` gives
/// back the same tensor bit for bit.
///
/// Layout: element i of the row-major tensor is bit `i % 64` of `words[i / 64]`.
public struct PackedSpikes: Sendable, Equatable {
    /// Shape of the packed tensor, e.g. `[T, B, N]`.
    public let shape: [Int]
    /// ⌈count / 64⌉ words of 64 bits.
    public let words: [UInt64]

    /// Packs `tensor`; nil when some element is neither 0 nor 1 (e.g. pooled spikes ¼, ½ …),
    /// which must then be kept as Float32.
    public init?(_ tensor: Tensor) {
        let count = tensor.count
        var binary = true
        let words = [UInt64](unsafeUninitializedCapacity: (count + 63) / 64) { w, initialized in
            tensor.scalars.withUnsafeBufferPointer { x in
                binary = count == 0 || VectorKernels.packSpikes(x.baseAddress!, count: count, into: w.baseAddress!)
            }
            initialized = binary ? (count + 63) / 64 : 0
        }
        guard binary else { return nil }
        self.shape = tensor.shape
        self.words = words
    }

    /// Packs `x` bit by bit in plain Swift: the reference of the C kernel (`VectorKernels.packSpikes`).
    public static func referenceWords(_ x: [Float]) -> [UInt64]? {
        var words = [UInt64](repeating: 0, count: (x.count + 63) / 64)
        for (i, v) in x.enumerated() {
            if v == 1 { words[i / 64] |= 1 << UInt64(i % 64) } else if v != 0 { return nil }
        }
        return words
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes of packed storage (count / 8, rounded up to whole words).
    public var byteCount: Int { words.count * 8 }

    /// The Float32 tensor (0/1) again.
    public func unpacked() -> Tensor {
        let count = self.count
        return Tensor(shape: shape) { x, _ in
            guard count > 0 else { return }
            words.withUnsafeBufferPointer { VectorKernels.unpackSpikes($0.baseAddress!, count: count, into: x) }
        }
    }
}
