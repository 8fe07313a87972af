extension Tensor {
    /// A tensor whose elements are written by `initializer` (which must write all `count`
    /// of them); skips the zero fill of `init(zeros:)` for large activation buffers.
    public init(shape: [Int], unsafeUninitialized initializer: (UnsafeMutablePointer<Float>, Int) -> Void) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        let storage = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { initializer(buffer.baseAddress!, count) }
            initialized = count
        }
        self.init(shape: shape, scalars: storage)
    }

    /// Runs `body` on a read-only pointer to the elements.
    @inlinable
    public func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
    }

    /// Runs `body` on a mutable pointer to the elements (no reallocation unless shared).
    @inlinable
    public mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer {
            try body($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
        }
    }

    /// Number of elements in one time step of a time-major tensor `[T, B, …]` (i.e. `B·…`).
    public var elementsPerStep: Int { shape.isEmpty ? 0 : (shape[0] == 0 ? 0 : count / shape[0]) }
}
