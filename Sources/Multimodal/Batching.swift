/// Assembling per-sample tensors `[T, …]` into time-major batches `[T, B, …]`, and back.

/// A batch in the networks' layout.
public struct Batch {
    /// `[T, B, P, S, S]`
    public var visual: Tensor
    /// `[T, B, C]`
    public var audio: Tensor
    public var labels: [Int]
    /// One seed per sample for the network's dropout masks (`Dropout.sampleSeeds`); empty:
    /// masks by batch row. The trainer sets them per run, epoch and dataset sample.
    public var sampleSeeds: [UInt64] = []
    public init(visual: Tensor, audio: Tensor, labels: [Int]) {
        self.visual = visual; self.audio = audio; self.labels = labels
    }
}

/// Interleaves `B` tensors of shape `[T, F…]` into one `[T, B, F…]` tensor.
public func stackTimeMajor(_ items: [Tensor]) -> Tensor {
    precondition(!items.isEmpty, "stackTimeMajor: empty batch")
    let shape = items[0].shape
    let t = shape[0], f = items[0].count / max(t, 1), b = items.count
    var out = Tensor(zeros: [t, b] + shape.dropFirst())
    out.scalars.withUnsafeMutableBufferPointer { o in
        for (j, item) in items.enumerated() {
            precondition(item.shape == shape, "stackTimeMajor: sample \(j) has shape \(item.shape), expected \(shape)")
            item.scalars.withUnsafeBufferPointer { src in
                for step in 0..<t {
                    let dst = o.baseAddress! + (step * b + j) * f
                    dst.update(from: src.baseAddress! + step * f, count: f)
                }
            }
        }
    }
    return out
}

/// Samples `range` of a time-major tensor: `[T, B, F…]` → `[T, range.count, F…]`.
public func timeMajorSamples(_ x: Tensor, _ range: Range<Int>) -> Tensor {
    let steps = x.shape[0], b = x.shape[1], f = x.count / max(steps * b, 1)
    precondition(range.lowerBound >= 0 && range.upperBound <= b, "samples \(range) of a batch of \(b)")
    if range == 0..<b { return x }
    var out = Tensor(zeros: [steps, range.count] + x.shape.dropFirst(2))
    out.scalars.withUnsafeMutableBufferPointer { o in
        x.scalars.withUnsafeBufferPointer { src in
            for t in 0..<steps {
                (o.baseAddress! + t * range.count * f).update(from: src.baseAddress! + (t * b + range.lowerBound) * f,
                                                             count: range.count * f)
            }
        }
    }
    return out
}

/// Block `j` of `blocks` contiguous blocks over `count` samples: `count·j/S ..< count·(j+1)/S`
/// (sizes differing by at most one; empty when `count < blocks`). Gradient shards and
/// inference blocks are cut this way.
public func contiguousBlock(_ j: Int, of blocks: Int, count: Int) -> Range<Int> {
    (count * j / blocks)..<(count * (j + 1) / blocks)
}

/// The inverse of cutting a batch into `timeMajorSamples` blocks: `[T, b₁, F…]`, `[T, b₂, F…]`,
/// … → `[T, b₁ + b₂ + …, F…]`, blocks in order.
public func joinTimeMajorSamples(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "joinTimeMajorSamples needs at least one block")
    if parts.count == 1 { return parts[0] }
    let steps = parts[0].shape[0], tail = Array(parts[0].shape.dropFirst(2))
    let f = tail.reduce(1, *)
    for p in parts {
        precondition(p.shape[0] == steps && Array(p.shape.dropFirst(2)) == tail,
                     "joinTimeMajorSamples: block \(p.shape) does not match \(parts[0].shape)")
    }
    let b = parts.reduce(0) { $0 + $1.shape[1] }
    var out = Tensor(zeros: [steps, b] + tail)
    out.scalars.withUnsafeMutableBufferPointer { o in
        var offset = 0
        for p in parts {
            let n = p.shape[1]
            p.scalars.withUnsafeBufferPointer { src in
                for t in 0..<steps {
                    (o.baseAddress! + (t * b + offset) * f).update(from: src.baseAddress! + t * n * f, count: n * f)
                }
            }
            offset += n
        }
    }
    return out
}

/// Swaps the two leading axes: `[A, B, F…]` → `[B, A, F…]` (batch-major ↔ time-major).
public func swapLeadingAxes(_ x: Tensor) -> Tensor {
    precondition(x.rank >= 2, "swapLeadingAxes needs rank ≥ 2, got \(x.shape)")
    let a = x.shape[0], b = x.shape[1], f = x.count / max(a * b, 1)
    var out = Tensor(zeros: [b, a] + x.shape.dropFirst(2))
    out.scalars.withUnsafeMutableBufferPointer { o in
        x.scalars.withUnsafeBufferPointer { src in
            for i in 0..<a {
                for j in 0..<b {
                    (o.baseAddress! + (j * a + i) * f).update(from: src.baseAddress! + (i * b + j) * f, count: f)
                }
            }
        }
    }
    return out
}

/// Loads samples `indices` of a dataset into one batch.
/// Each sample goes straight into its row of the time-major tensors (`AudioVisualDataset.write`:
/// cached frames are decoded into place), the same values as stacking `sample`s
/// (`makeBatchBySamples`, which tests compare it with).
public func makeBatch(_ dataset: AudioVisualDataset, indices: ArraySlice<Int>) throws -> Batch {
    let b = indices.count
    precondition(b > 0, "makeBatch: empty batch")
    let visualShape = dataset.visualShape, audioShape = dataset.audioShape   // [T, …] each
    var visual = Tensor(zeros: [visualShape[0], b] + visualShape.dropFirst())
    var audio = Tensor(zeros: [audioShape[0], b] + audioShape.dropFirst())
    var labels: [Int] = []
    labels.reserveCapacity(b)
    try visual.withMutablePointer { v in
        try audio.withMutablePointer { a in
            for (row, i) in indices.enumerated() { labels.append(try dataset.write(i, row: row, of: b, visual: v, audio: a)) }
        }
    }
    return Batch(visual: visual, audio: audio, labels: labels)
}

/// `makeBatch` by whole samples: `sample` each, then `stackTimeMajor` (the reference).
public func makeBatchBySamples(_ dataset: AudioVisualDataset, indices: ArraySlice<Int>) throws -> Batch {
    var visual: [Tensor] = [], audio: [Tensor] = [], labels: [Int] = []
    visual.reserveCapacity(indices.count); audio.reserveCapacity(indices.count)
    for i in indices {
        let s = try dataset.sample(i)
        visual.append(s.visual); audio.append(s.audio); labels.append(s.label)
    }
    return Batch(visual: stackTimeMajor(visual), audio: stackTimeMajor(audio), labels: labels)
}
