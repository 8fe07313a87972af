/// A dense Float32 tensor: contiguous, row-major, with an explicit shape.
///
/// Storage is a Swift array, so a `Tensor` has value semantics (copy on write).
/// Multi-step activations use the time-major layout `[T, B, …]`: all batch rows of
/// timestep 0 first, then timestep 1, and so on, so `T·B` rows can go through one GEMM.
///
/// ```swift
/// var x = Tensor(zeros: [64, 32, 2, 28, 28])   // [T, B, C, H, W]
/// x[0] = 1
/// ```
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A tensor that takes ownership of `scalars`, which must hold `shape.product` elements.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Number of elements.
    @inlinable public var count: Int { scalars.count }
    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// Element access in flat (row-major) order.
    @inlinable public subscript(flat index: Int) -> Float {
        get { scalars[index] }
        set { scalars[index] = newValue }
    }

    /// Element access by multi-index, e.g. `x[t, b, c]`.
    public subscript(_ index: Int...) -> Float {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    /// Row-major offset of a multi-index.
    public func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var offset = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) out of range for shape \(shape)")
            offset = offset * n + i
        }
        return offset
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Reshapes in place (no copy).
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == scalars.count,
                     "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    /// Sets every element to zero, keeping the storage (no reallocation).
    public mutating func zero() {
        scalars.withUnsafeMutableBufferPointer { p in
            p.update(repeating: 0)
        }
    }
}
