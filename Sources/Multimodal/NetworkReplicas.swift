import Dispatch
import SpikeNN
import SpikeTensor

/// The cores of one process training one batch together, data-parallel: worker w holds its
/// own copy of the network (its layers keep their own saved activations for the backward
/// pass) and computes the gradients of a contiguous block of the batch's shards, one shard at a
/// time, each kernel on its own thread (`Parallel.serially`, BLAS on one thread).
///
/// Why: the step's work is many medium-sized kernels and LIF scans over T, which spread over
/// cores poorly inside one kernel (measured: one process with 2 threads 29.9 samples/s, two
/// one-thread MPI ranks 49.2, docs/distributed.md), while whole shards on separate cores do not
/// wait for each other.
///
/// Results do not depend on the worker count: every shard's gradient is computed the same way
/// on whichever copy, and `gradients(of:meanOver:)` returns them per shard, in shard order, for
/// the caller to add in its fixed tree (`PairwiseSum`). Replica 0 is the network itself; the
/// others take its current weights before every call (shared storage, copied only when the
/// optimiser next writes the network's weights).
public final class NetworkReplicas {
    public let network: MultimodalNetwork
    /// The copies beyond `network` made so far (created on first use, reused).
    private var copies: [MultimodalNetwork] = []

    public init(_ network: MultimodalNetwork) { self.network = network }

    /// One shard's result: its gradient (every parameter's, concatenated in `parameters` order;
    /// the loss averaged over `meanOver` samples) and its loss terms (visual, audio, fusion).
    public struct ShardGradient {
        public var gradient: [Float]
        public var loss: [Double]
    }

    /// Forward and backward of every shard (nil: an empty shard, zero gradient and loss), on up
    /// to `workers` copies at once (default: `Parallel.workers`, the cores or
    /// `SPIKEFUSE_THREADS`). Shard j goes to worker `j·W/count`. Leaves `network`'s own `grad`
    /// holding whatever its last shard left; callers set the total.
    public func gradients(of shards: [Batch?], meanOver: Int, workers: Int = Parallel.workers) throws -> [ShardGradient] {
        let parameterCount = network.parameters.reduce(0) { $0 + $1.value.count }
        let w = max(1, min(workers, shards.count))
        try prepareCopies(w - 1)
        let replicas = [network] + copies.prefix(w - 1)
        let results = UnsafeMutableBufferPointer<ShardGradient?>.allocate(capacity: shards.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        func work(_ worker: Int) {
            let replica = replicas[worker]
            for j in (shards.count * worker / w)..<(shards.count * (worker + 1) / w) {
                guard let batch = shards[j] else {
                    results[j] = ShardGradient(gradient: [Float](repeating: 0, count: parameterCount), loss: [0, 0, 0])
                    continue
                }
                let parameters = replica.parameters
                for p in parameters { p.grad.zero() }
                let mode = replica.configuration.mode
                replica.setDropoutSeeds(batch.sampleSeeds)
                let (loss, _) = replica.forwardBackward(visual: mode.usesVisual ? batch.visual : nil,
                                                        audio: mode.usesAudio ? batch.audio : nil,
                                                        labels: batch.labels, meanOver: meanOver)
                results[j] = ShardGradient(gradient: parameters.flattenedGradients(count: parameterCount),
                                           loss: [Double(loss.visual), Double(loss.audio), Double(loss.fusion)])
            }
        }
        runWorkers(w, work)
        return results.map { $0! }
    }

    /// The shards' gradients and loss terms added in the fixed tree (`PairwiseSum`, shard
    /// order), as one rank's part of a batch (`Trainer`) or a whole batch (the benchmark).
    public func summedGradients(of shards: [Batch?], meanOver: Int,
                                workers: Int = Parallel.workers) throws -> (gradient: [Float], loss: [Double]) {
        let parameterCount = network.parameters.reduce(0) { $0 + $1.value.count }
        var gradientSum = PairwiseSum<Float>(count: parameterCount)
        var lossSum = PairwiseSum<Double>(count: 3)
        for shard in try gradients(of: shards, meanOver: meanOver, workers: workers) {
            gradientSum.add(shard.gradient); lossSum.add(shard.loss)
        }
        return (gradientSum.total, lossSum.total)
    }

    /// Inference of one batch, data-parallel: the batch `[T, B, …]` is cut into `shards`
    /// contiguous blocks of samples (sizes differing by at most one; a fixed count, so the
    /// outputs do not depend on `workers`), each block forwarded in inference mode (nothing kept
    /// for backward) on one replica, and every head's `[T, b, C]` output (and the attention's
    /// `[T, b, 2]`) joined back in sample order into `[T, B, …]`. The same spikes as
    /// `network.forward` on each block in turn (`DataParallelInferenceTests`). `network` runs in
    /// inference mode and is left in the mode it was in.
    public func forward(visual: Tensor?, audio: Tensor?, shards: Int = 4, workers: Int = Parallel.workers) throws -> HeadOutputs {
        let b = visual?.shape[1] ?? audio?.shape[1] ?? 0
        precondition(shards >= 1, "NetworkReplicas.forward: shards must be at least 1, got \(shards)")
        let blocks = (0..<shards).map { contiguousBlock($0, of: shards, count: b) }.filter { !$0.isEmpty }
        let w = max(1, min(workers, blocks.count))
        try prepareCopies(w - 1, training: false)
        let wasTraining = network.isTraining
        network.setTraining(false)
        defer { network.setTraining(wasTraining) }
        let replicas = [network] + copies.prefix(w - 1)
        let results = UnsafeMutableBufferPointer<HeadOutputs?>.allocate(capacity: blocks.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        func work(_ worker: Int) {
            for j in (blocks.count * worker / w)..<(blocks.count * (worker + 1) / w) {
                results[j] = replicas[worker].forward(visual: visual.map { timeMajorSamples($0, blocks[j]) },
                                                      audio: audio.map { timeMajorSamples($0, blocks[j]) })
            }
        }
        runWorkers(w, work)
        let parts = results.map { $0! }
        func joined(_ head: KeyPath<HeadOutputs, Tensor?>) -> Tensor? {
            parts[0][keyPath: head] == nil ? nil : joinTimeMajorSamples(parts.map { $0[keyPath: head]! })
        }
        return HeadOutputs(visual: joined(\.visual), audio: joined(\.audio), fusion: joined(\.fusion),
                           attention: joined(\.attention))
    }

    /// Runs `work(0)…work(w − 1)` on `w` cores at once (SpikeFuse's kernels serially inside
    /// each), or inline when `w` is 1; OpenBLAS on one thread either way, because its
    /// multi-threaded SGEMM need not give the bits of its single-threaded one (seen with the
    /// Zen kernel), and the results must not depend on `w`.
    private func runWorkers(_ w: Int, _ work: (Int) -> Void) {
        BLAS.singleThreaded {
            if w == 1 { work(0); return }
            withoutActuallyEscaping(work) { work in
                let each = _Unchecked(work)
                DispatchQueue.concurrentPerform(iterations: w) { worker in
                    Parallel.serially { each.value(worker) }   // each worker writes only its own slots
                }
            }
        }
    }

    /// Makes sure `count` copies exist, each holding `network`'s current weights, in training
    /// or inference mode.
    private func prepareCopies(_ count: Int, training: Bool = true) throws {
        while copies.count < count {
            copies.append(try MultimodalNetwork(network.configuration, seed: 0))
        }
        let source = network.parameters
        for copy in copies.prefix(count) {
            copy.setTraining(training)
            for (mine, theirs) in zip(copy.parameters, source) { mine.value = theirs.value }
        }
    }
}

/// Hands the per-worker closure to `concurrentPerform`: safe because every worker touches only
/// its own replica and its own result slots, and the call returns after all workers finished.
private struct _Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
