/// The processes that train together (data parallelism): `size` ranks, of which this process is
/// `rank`. A process alone is `SingleProcess`; `MPIProcessGroup` (module `MPICluster`) spans
/// the ranks `mpirun` started. The trainer needs only a pairwise exchange, a barrier and an
/// abort: every reduction it does is built on `exchange` in a fixed order (`FixedOrderSum`),
/// so its result does not depend on the number of ranks.
public protocol ProcessGroup: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Sends `send` to rank `partner` and receives the same number of bytes from it into
    /// `receive` (both ranks call it with each other; blocking).
    func exchange(_ send: UnsafeRawBufferPointer, with partner: Int, into receive: UnsafeMutableRawBufferPointer)
    /// Returns when every rank has called it.
    func barrier()
    /// Ends every rank of the job with `message` on standard error (a rank that cannot go on
    /// must not leave the others waiting for it).
    func abort(_ message: String) -> Never
}

extension ProcessGroup {
    public var isLeader: Bool { rank == 0 }
}

/// One process training alone.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func exchange(_ send: UnsafeRawBufferPointer, with partner: Int, into receive: UnsafeMutableRawBufferPointer) {
        preconditionFailure("SingleProcess has no partner rank \(partner)")
    }
    public func barrier() {}
    public func abort(_ message: String) -> Never {
        fatalError(message)
    }
}

/// Sums across ranks in one fixed order, so that the result is bit-identical whatever the
/// number of ranks N (a power of two).
///
/// Each rank enters with the sum of an aligned block of leaves (its shards), computed by
/// `PairwiseSum`; round k (k = 0, 1, …, log₂N − 1) exchanges with rank r XOR 2ᵏ and both
/// add lower block + upper block. After the last round every rank holds the root of the same
/// balanced binary tree over all leaves that one process computes with `PairwiseSum` alone
/// (IEEE addition is commutative, so both partners get the same bits). Cost: log₂N exchanges
/// of the whole vector (recursive doubling); a ring all-reduce would send 2·(N−1)/N of it, but
/// its order depends on N.
public enum FixedOrderSum {
    /// Whether `n` ranks can take part (a power of two).
    public static func supports(ranks n: Int) -> Bool { n >= 1 && n & (n - 1) == 0 }

    /// Sums `values` (a block sum of this rank) with every other rank's, in place.
    public static func sum<Scalar: BinaryFloatingPoint & BitwiseCopyable>(_ values: inout [Scalar], over group: ProcessGroup) {
        recursiveDoubling(&values, over: group) { mine, theirs, mineIsLower in
            mine.withUnsafeMutableBufferPointer { v in
                theirs.withUnsafeBufferPointer { r in
                    for i in v.indices { v[i] = mineIsLower ? v[i] + r[i] : r[i] + v[i] }
                }
            }
        }
    }

    /// The element-wise maximum of `values` over all ranks (agreement checks, stop requests).
    public static func maximum(_ values: [Int64], over group: ProcessGroup) -> [Int64] {
        var v = values
        recursiveDoubling(&v, over: group) { mine, theirs, _ in
            for i in mine.indices { mine[i] = max(mine[i], theirs[i]) }
        }
        return v
    }

    /// Round k = 0, 1, …, log₂N − 1: exchange `values` with rank r XOR 2ᵏ, then
    /// `merge(&mine, theirs, mineIsLower)`.
    private static func recursiveDoubling<Element: BitwiseCopyable>(_ values: inout [Element], over group: ProcessGroup,
                                                   merge: (inout [Element], [Element], Bool) -> Void) {
        precondition(supports(ranks: group.size), "FixedOrderSum: \(group.size) ranks is not a power of two")
        guard group.size > 1, let first = values.first else { return }
        var received = [Element](repeating: first, count: values.count)
        var distance = 1
        while distance < group.size {
            let partner = group.rank ^ distance
            values.withUnsafeBytes { send in
                received.withUnsafeMutableBytes { group.exchange(send, with: partner, into: $0) }
            }
            merge(&values, received, group.rank < partner)
            distance <<= 1
        }
    }
}

/// Pairwise (balanced binary tree) sum of equal-length vectors added one by one, left to
/// right: after 2ᵏ leaves it holds ((l₀ + l₁) + (l₂ + l₃)) + … with at most k + 1 partial
/// sums alive. For a power-of-two number of leaves this is the tree `FixedOrderSum` continues
/// across ranks.
public struct PairwiseSum<Scalar: BinaryFloatingPoint> {
    private var stack: [(level: Int, values: [Scalar])] = []
    public let count: Int
    public init(count: Int) { self.count = count }

    /// Adds the next leaf.
    public mutating func add(_ leaf: [Scalar]) {
        precondition(leaf.count == count, "PairwiseSum: leaf of \(leaf.count) values, expected \(count)")
        var node = (level: 0, values: leaf)
        while stack.last?.level == node.level {
            var left = stack.removeLast()      // uniquely owned: added to in place, no copy
            left.values.withUnsafeMutableBufferPointer { l in
                node.values.withUnsafeBufferPointer { r in
                    for i in l.indices { l[i] += r[i] }
                }
            }
            node = (left.level + 1, left.values)
        }
        stack.append(node)
    }

    /// The sum of every leaf added (a power-of-two count gives one tree; otherwise the
    /// partial trees are added from the right).
    public var total: [Scalar] {
        guard var sum = stack.last?.values else { return [Scalar](repeating: 0, count: count) }
        for partial in stack.dropLast().reversed() {
            for i in sum.indices { sum[i] = partial.values[i] + sum[i] }
        }
        return sum
    }
}
