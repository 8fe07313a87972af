import XCTest
@testable import Multimodal
import SpikeTensor

/// Inference on the data-parallel replicas (`NetworkReplicas.forward`): the same spikes and
/// attention weights whatever the worker count, and the same as the network's own forward on
/// each block of samples in turn, joined (the plain reference).
final class DataParallelInferenceTests: XCTestCase {
    /// `makeBatch` (each sample written into its row) equals stacking whole samples
    /// (`makeBatchBySamples`), for a dataset on the default `write`; a joint dataset's frame
    /// decoding into place is `FrameStoreTests.testDecodeIntoABatchRowIsTheTensorInPlace`
    /// and `CorruptionConditionTests`.
    func testBatchesAssembledInPlaceEqualStackedSamples() throws {
        let (train, _, _) = syntheticTask(trainCount: 16, testCount: 8, epochs: 1, batchSize: 16, seed: 3, learningRate: 5e-3)
        let indices = [5, 0, 11, 3, 3, 9][...]
        let fast = try makeBatch(train, indices: indices), reference = try makeBatchBySamples(train, indices: indices)
        XCTAssertEqual(fast.visual, reference.visual)
        XCTAssertEqual(fast.audio, reference.audio)
        XCTAssertEqual(fast.labels, reference.labels)
        XCTAssertGreaterThan(fast.visual.scalars.reduce(0, +), 0, "the synthetic samples are not empty")
    }

    func testReplicaInferenceMatchesTheNetworkBlockByBlock() throws {
        let (train, _, _) = syntheticTask(trainCount: 16, testCount: 8, epochs: 1, batchSize: 16, seed: 3, learningRate: 5e-3)
        let network = try MultimodalNetwork(train.modelConfiguration(mode: .multimodal), seed: 3)
        // Drawn weights ×3, so that every head fires on these inputs (untrained it is silent).
        for p in network.parameters { p.value.scalars = p.value.scalars.map { $0 * 3 } }
        let batch = try makeBatch(train, indices: Array(0..<11)[...])   // 11 samples: blocks of 2, 3, 3, 3
        let replicas = NetworkReplicas(network)
        let outputs = try [1, 2, 3].map { try replicas.forward(visual: batch.visual, audio: batch.audio, shards: 4, workers: $0) }
        network.setTraining(false)
        let blocks = [0..<2, 2..<5, 5..<8, 8..<11]
        let parts = blocks.map { network.forward(visual: timeMajorSamples(batch.visual, $0), audio: timeMajorSamples(batch.audio, $0)) }
        let reference = HeadOutputs(visual: joinTimeMajorSamples(parts.map { $0.visual! }),
                                    audio: joinTimeMajorSamples(parts.map { $0.audio! }),
                                    fusion: joinTimeMajorSamples(parts.map { $0.fusion! }),
                                    attention: joinTimeMajorSamples(parts.map { $0.attention! }))
        for (i, out) in outputs.enumerated() {
            XCTAssertEqual(out.visual?.shape, [batch.visual.shape[0], 11, reference.visual!.shape[2]])
            XCTAssertEqual(out.visual?.scalars, reference.visual?.scalars, "visual, \(i + 1) workers")
            XCTAssertEqual(out.audio?.scalars, reference.audio?.scalars, "audio, \(i + 1) workers")
            XCTAssertEqual(out.fusion?.scalars, reference.fusion?.scalars, "fusion, \(i + 1) workers")
            XCTAssertEqual(out.attention?.scalars, reference.attention?.scalars, "attention, \(i + 1) workers")
        }
        for (name, spikes) in [("visual", reference.visual!), ("audio", reference.audio!), ("fusion", reference.fusion!)] {
            XCTAssertGreaterThan(spikes.scalars.reduce(0, +), 0, "the comparison needs \(name) spikes")
        }
    }

    /// `evaluate` on replicas that already hold copies (the trainer's, used for gradients with
    /// older weights and left in training mode) gives what a fresh evaluation of the network gives.
    func testEvaluationOnUsedReplicasMatchesAFreshOne() throws {
        let (train, test, _) = syntheticTask(trainCount: 16, testCount: 12, epochs: 1, batchSize: 16, seed: 4, learningRate: 5e-3)
        let network = try MultimodalNetwork(train.modelConfiguration(mode: .multimodal), seed: 4)
        let replicas = NetworkReplicas(network)
        let batch = try makeBatch(train, indices: Array(0..<8)[...])
        _ = try replicas.gradients(of: [batch, nil], meanOver: 8, workers: 2)   // copies made, training mode
        let before = try evaluate(replicas, on: test, batchSize: 5)
        for p in network.parameters { p.value.scalars = p.value.scalars.map { $0 * 3 } }   // new weights
        let used = try evaluate(replicas, on: test, batchSize: 5)
        let fresh = try evaluate(network, on: test, batchSize: 5)
        XCTAssertEqual(used.fusion?.confusion, fresh.fusion?.confusion)
        XCTAssertEqual(used.visual?.confusion, fresh.visual?.confusion)
        XCTAssertEqual(used.audio?.confusion, fresh.audio?.confusion)
        XCTAssertEqual(used.attention, fresh.attention)
        XCTAssertNotEqual(before.fusion?.confusion, fresh.fusion?.confusion, "the new weights must change the outputs")
    }

    /// Inference on the replicas and `evaluate` leave the network in the mode they found it in.
    func testInferenceLeavesTheNetworkInItsMode() throws {
        let (train, test, _) = syntheticTask(trainCount: 8, testCount: 4, epochs: 1, batchSize: 8, seed: 5, learningRate: 5e-3)
        let network = try MultimodalNetwork(train.modelConfiguration(mode: .multimodal), seed: 5)
        let replicas = NetworkReplicas(network)
        let batch = try makeBatch(train, indices: Array(0..<4)[...])
        for mode in [true, false, true] {
            network.setTraining(mode)
            _ = try replicas.forward(visual: batch.visual, audio: batch.audio, workers: 2)
            XCTAssertEqual(network.isTraining, mode, "after NetworkReplicas.forward")
            _ = try evaluate(replicas, on: test, batchSize: 4)
            XCTAssertEqual(network.isTraining, mode, "after evaluate")
        }
    }

    /// Cutting a batch into blocks and joining them gives the batch back; the join checks shapes.
    func testJoinIsTheInverseOfCuttingIntoBlocks() {
        let x = Tensor(shape: [3, 5, 2], scalars: (0..<30).map(Float.init))
        let joined = joinTimeMajorSamples([timeMajorSamples(x, 0..<1), timeMajorSamples(x, 1..<4), timeMajorSamples(x, 4..<5)])
        XCTAssertEqual(joined.shape, x.shape)
        XCTAssertEqual(joined.scalars, x.scalars)
        XCTAssertNotEqual(joinTimeMajorSamples([timeMajorSamples(x, 1..<4), timeMajorSamples(x, 0..<1),
                                                timeMajorSamples(x, 4..<5)]).scalars, x.scalars, "blocks keep their order")
    }
}
