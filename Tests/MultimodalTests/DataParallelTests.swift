import XCTest
import SpikeTensor
import Foundation
@testable import Multimodal

/// Ranks simulated by threads of this process: each `LoopbackRank` is one rank; `exchange`
/// hands bytes through per-(sender, receiver) queues. Lets the fixed-order reductions and the
/// sharded trainer be tested without MPI (the MPI backend itself: MPICommandLineTests).
final class LoopbackHub: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var queues: [[[Data]]]
    private var arrived = 0, generation = 0
    init(size: Int) {
        self.size = size
        queues = Array(repeating: Array(repeating: [], count: size), count: size)
    }
    func ranks() -> [LoopbackRank] { (0..<size).map { LoopbackRank(hub: self, rank: $0) } }

    func send(_ data: Data, from: Int, to: Int) {
        condition.lock(); queues[from][to].append(data); condition.broadcast(); condition.unlock()
    }
    func receive(from: Int, to: Int) -> Data {
        condition.lock(); defer { condition.unlock() }
        while queues[from][to].isEmpty { condition.wait() }
        return queues[from][to].removeFirst()
    }
    func barrier() {
        condition.lock(); defer { condition.unlock() }
        let mine = generation
        arrived += 1
        if arrived == size { arrived = 0; generation += 1; condition.broadcast(); return }
        while generation == mine { condition.wait() }
    }

    /// Runs `body(rank)` for every rank on its own thread and returns their results by rank.
    func run<T>(_ body: @escaping @Sendable (LoopbackRank) throws -> T) throws -> [T] {
        let ranks = ranks()
        nonisolated(unsafe) var results = [Result<T, Error>?](repeating: nil, count: size)
        let group = DispatchGroup()
        let lock = NSLock()
        for r in ranks {
            group.enter()
            Thread.detachNewThread {
                let value = Result { try body(r) }
                lock.lock(); results[r.rank] = value; lock.unlock()
                group.leave()
            }
        }
        group.wait()
        return try results.map { try $0!.get() }
    }
}

final class LoopbackRank: ProcessGroup, @unchecked Sendable {
    let hub: LoopbackHub
    let rank: Int
    var size: Int { hub.size }
    init(hub: LoopbackHub, rank: Int) { self.hub = hub; self.rank = rank }
    func exchange(_ send: UnsafeRawBufferPointer, with partner: Int, into receive: UnsafeMutableRawBufferPointer) {
        hub.send(Data(send), from: rank, to: partner)
        let data = hub.receive(from: partner, to: rank)
        precondition(data.count == receive.count, "loopback exchange: \(data.count) bytes for \(receive.count)")
        data.withUnsafeBytes { receive.copyMemory(from: $0) }
    }
    func barrier() { hub.barrier() }
    func abort(_ message: String) -> Never { fatalError(message) }
}

final class DataParallelTests: XCTestCase {
    /// Leaves whose sum depends on the order of the additions (magnitudes 1e-4 … 1e4).
    private func leaves(_ count: Int, length: Int) -> [[Float]] {
        var rng = SeededGenerator(seed: 5)
        return (0..<count).map { _ in
            (0..<length).map { _ in Float(rng.nextUniform(-1, 1)) * powf(10, Float(rng.nextInt(below: 9)) - 4) }
        }
    }

    func testFixedOrderSumIsBitIdenticalForEveryRankCount() throws {
        let all = leaves(8, length: 257)
        var single = PairwiseSum<Float>(count: 257)
        for leaf in all { single.add(leaf) }
        let expected = single.total
        // The order matters for these numbers: a left-to-right sum differs somewhere.
        let naive = all.dropFirst().reduce(all[0]) { zip($0, $1).map { $0 + $1 } }
        XCTAssertNotEqual(naive, expected, "the test leaves should make summation order visible")
        for ranks in [1, 2, 4, 8] {
            let results = try LoopbackHub(size: ranks).run { group -> [Float] in
                var local = PairwiseSum<Float>(count: 257)
                let block = 8 / ranks
                for j in (group.rank * block)..<((group.rank + 1) * block) { local.add(all[j]) }
                var total = local.total
                FixedOrderSum.sum(&total, over: group)
                return total
            }
            for (rank, total) in results.enumerated() {
                XCTAssertEqual(total, expected, "rank \(rank) of \(ranks) summed in another order than one process")
            }
        }
    }

    func testMaximumAgreesOnEveryRank() throws {
        let results = try LoopbackHub(size: 4).run { group in
            FixedOrderSum.maximum([Int64(group.rank), -Int64(group.rank)], over: group)
        }
        XCTAssertEqual(results, Array(repeating: [3, 0], count: 4))
    }

    private func setup() -> (ModelConfiguration, TrainingConfiguration, SyntheticDataset, SyntheticDataset) {
        // 72 samples: two batches of 32, then one of 8.
        let (train, test, training) = syntheticTask(trainCount: 72, testCount: 24, epochs: 2, batchSize: 32, seed: 3,
                                                   learningRate: 5e-3)
        return (train.modelConfiguration(mode: .multimodal), training, train, test)
    }

    private func tempDir() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("sf-dp-\(UUID())") }

    /// The whole trainer on 2 and 4 simulated ranks: the same weights as one process, bit for bit.
    func testRanksTrainTheWeightsOfOneProcess() throws {
        let (model, training, train, test) = setup()
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = try Trainer(model: model, training: training, trainSet: train, testSet: test,
                              runDirectory: dir.appendingPathComponent("one"))
        let expected = try one.run()
        XCTAssertEqual(expected.count, 2)
        for ranks in [2, 4] {
            let runDir = dir.appendingPathComponent("ranks-\(ranks)")
            // The simulated ranks are threads of this process and share one OpenBLAS, whose
            // thread count is process-wide: keep it at 1 throughout (as each rank's workers set
            // it), so that no rank's GEMMs run while another switches it (real ranks are
            // processes with their own OpenBLAS).
            let results = try BLAS.singleThreaded {
                try LoopbackHub(size: ranks).run { group -> ([[Float]], Int) in
                    let t = try Trainer(model: model, training: training, trainSet: train, testSet: test,
                                        runDirectory: runDir, group: group)
                    let metrics = try t.run()
                    return (t.network.parameters.map(\.value.scalars), metrics.count)
                }
            }
            for (rank, (weights, metricCount)) in results.enumerated() {
                for (p, w) in zip(one.network.parameters, weights) {
                    XCTAssertEqual(p.value.scalars, w, "\(p.name) on rank \(rank) of \(ranks) differs from one process")
                }
                XCTAssertEqual(metricCount, rank == 0 ? 2 : 0, "only rank 0 evaluates and returns metrics")
            }
            let written = try RunDirectory(runDir).readMetrics()
            XCTAssertEqual(written.map(\.testFusion), expected.map(\.testFusion))
            XCTAssertEqual(written.map(\.trainLoss), expected.map(\.trainLoss), "the loss is summed over ranks in the same order")
            XCTAssertEqual(written.first?.ranks, ranks)
            // Rank 0 alone logs for TensorBoard: one file, each epoch once, as metrics.jsonl has it.
            let log = TensorBoardLog(RunDirectory(runDir))
            XCTAssertEqual(log.eventFiles().count, 1)
            XCTAssertEqual(try log.read().dropFirst().map(\.self), written.flatMap(TensorBoardLog.events(of:)))
        }
    }

    /// The cores of one process share each batch's shards (one network copy each): the same
    /// weights and metrics as one core, bit for bit, for 1, 2 and 4 workers.
    func testWorkersTrainTheWeightsOfOneCore() throws {
        let (model, training, train, test) = setup()
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var weights: [[[Float]]] = [], metrics: [[EpochMetrics]] = []
        for workers in [1, 2, 4] {
            let t = try Trainer(model: model, training: training, trainSet: train, testSet: test,
                                runDirectory: dir.appendingPathComponent("workers-\(workers)"))
            t.workers = workers
            metrics.append(try t.run())
            weights.append(t.network.parameters.map(\.value.scalars))
        }
        for (i, workers) in [2, 4].enumerated() {
            XCTAssertEqual(weights[i + 1], weights[0], "\(workers) workers trained other weights than one")
            XCTAssertEqual(metrics[i + 1].map(\.trainLoss), metrics[0].map(\.trainLoss))
            XCTAssertEqual(metrics[i + 1].map(\.testFusion), metrics[0].map(\.testFusion))
        }
        XCTAssertNotEqual(weights[0], try MultimodalNetwork(model, seed: training.seed).parameters.map(\.value.scalars),
                          "training should have changed the weights")
    }

    /// Network copies follow the network's weights from step to step, and an empty shard (a
    /// batch smaller than the shard count) adds nothing: each shard's gradient on a copy equals
    /// the network's own.
    func testReplicaShardsMatchTheNetworksOwn() throws {
        let (model, _, train, _) = setup()
        let network = try MultimodalNetwork(model, seed: 3)
        let replicas = NetworkReplicas(network)
        for step in 0..<2 {
            let shards: [Batch?] = [try makeBatch(train, indices: Array(0..<8)[...]), nil, try makeBatch(train, indices: Array(8..<12)[...])]
            let parallel = try replicas.gradients(of: shards, meanOver: 12, workers: 3)
            let serial = try replicas.gradients(of: shards, meanOver: 12, workers: 1)
            XCTAssertEqual(parallel.map(\.gradient), serial.map(\.gradient), "step \(step)")
            XCTAssertEqual(parallel.map(\.loss), serial.map(\.loss), "step \(step)")
            XCTAssertEqual(parallel[1].gradient.allSatisfy { $0 == 0 }, true, "an empty shard has no gradient")
            XCTAssertGreaterThan(parallel[2].gradient.map(abs).max() ?? 0, 0)
            for p in network.parameters {       // move the network's weights; the copies must follow
                p.value.scalars = p.value.scalars.map { $0 * 1.1 }
            }
        }
    }

    /// The shards' gradients add up to the whole batch's gradient (each shard's loss is
    /// averaged over the whole batch, not over the shard).
    func testShardedGradientIsTheWholeBatchGradient() throws {
        let (model, training, train, test) = setup()
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir)
        let indices = Array(0..<30)[...]           // 4 shards of 7 or 8
        let optimiser = Adam(parameters: trainer.network.parameters)
        let (loss, _) = try trainer.trainStep(indices, epoch: 1)
        let sharded = trainer.network.parameters.map(\.grad.scalars)

        optimiser.zeroGradients()
        let batch = try makeBatch(train, indices: indices)
        let (whole, _) = trainer.network.forwardBackward(visual: batch.visual, audio: batch.audio, labels: batch.labels)
        XCTAssertEqual(loss[0], Double(whole.visual), accuracy: 1e-6)
        XCTAssertEqual(loss[1], Double(whole.audio), accuracy: 1e-6)
        XCTAssertEqual(loss[2], Double(whole.fusion), accuracy: 1e-6)
        var largest: Float = 0
        for (p, g) in zip(trainer.network.parameters, sharded) {
            let scale = max(p.grad.scalars.map(abs).max() ?? 0, 1e-12)
            for (a, b) in zip(p.grad.scalars, g) { largest = max(largest, abs(a - b) / scale) }
        }
        XCTAssertLessThan(largest, 1e-5, "sharded gradient differs from the whole batch's (relative to each tensor's largest)")
        XCTAssertGreaterThan(trainer.network.parameters.map { $0.grad.scalars.map(abs).max() ?? 0 }.max() ?? 0, 0)
    }

    /// Dropout masks are seeded per run, epoch and dataset sample: the sharded step of a
    /// network with dropout gives the whole batch's gradient when the whole batch carries the
    /// same samples' seeds, and another epoch's seeds give another gradient.
    func testDropoutMasksDoNotDependOnShards() throws {
        let (base, training, train, test) = setup()
        var d = try MultimodalNetwork(base, seed: 0).networkDescription
        let visual = d.branches.firstIndex { $0.input.modality == .dvs }!
        let firstLIF = d.branches[visual].layers.firstIndex { if case .lif = $0 { return true }; return false }!
        d.branches[visual].layers.insert(.dropout(0.4), at: firstLIF + 1)
        let model = try ModelConfiguration(network: d)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir)
        let indices = Array(0..<30)[...]           // 4 shards of 7 or 8
        _ = try trainer.trainStep(indices, epoch: 2)
        let sharded = trainer.network.parameters.map(\.grad.scalars)
        func whole(epoch: Int) throws -> [[Float]] {
            for p in trainer.network.parameters { p.grad.zero() }
            let batch = try makeBatch(train, indices: indices)
            trainer.network.setDropoutSeeds(indices.map { Trainer.dropoutSeed(run: training.seed, epoch: epoch, sample: $0) })
            _ = trainer.network.forwardBackward(visual: batch.visual, audio: batch.audio, labels: batch.labels)
            return trainer.network.parameters.map(\.grad.scalars)
        }
        func largestDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
            zip(a, b).map { x, y in
                let scale = max(x.map(abs).max() ?? 0, 1e-12)
                return zip(x, y).map { abs($0 - $1) / scale }.max() ?? 0
            }.max() ?? 0
        }
        XCTAssertLessThan(largestDifference(try whole(epoch: 2), sharded), 1e-5, "the shards drew other masks")
        XCTAssertGreaterThan(largestDifference(try whole(epoch: 3), sharded), 1e-3, "another epoch drew the same masks")
        // a whole run: each epoch ends with the activity pass, a training-mode forward of
        // another batch size than the last step's (it stopped on the step's seed count)
        let run = tempDir()
        defer { try? FileManager.default.removeItem(at: run) }
        var one = training
        one.epochs = 1
        _ = try Trainer(model: model, training: one, trainSet: train, testSet: test, runDirectory: run).run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.jsonl").path))
    }

    func testRankCountsThatCannotShareTheShardsAreRefused() throws {
        let (model, training, train, test) = setup()
        let dir = tempDir()
        var three = training
        three.gradientShards = 3
        XCTAssertThrowsError(try Trainer(model: model, training: three, trainSet: train, testSet: test, runDirectory: dir)) {
            XCTAssertTrue("\($0)".contains("power of two"), "\($0)")
        }
        let results = try LoopbackHub(size: 8).run { group -> String in
            do {
                _ = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir, group: group)
                return "accepted"
            } catch { return "\(error)" }
        }
        for message in results { XCTAssertTrue(message.contains("8 ranks cannot share 4 gradient shards"), message) }
    }

    func testConfigurationsWrittenBeforeShardsReadAsOneShard() throws {
        var c = TrainingConfiguration()
        c.gradientShards = 8
        let round = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(c))
        XCTAssertEqual(round, c)
        let old = #"{"epochs":3,"batchSize":16,"learningRate":0.001,"seed":2,"keepCheckpoints":3}"#
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.gradientShards, 1)
        XCTAssertEqual(decoded.batchSize, 16)
        XCTAssertEqual(TrainingConfiguration().shard(3, ofBatch: 30), 22..<30)
        XCTAssertEqual(TrainingConfiguration().shard(0, ofBatch: 2), 0..<0)
    }
}
