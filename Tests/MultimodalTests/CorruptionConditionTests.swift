import XCTest
@testable import Multimodal

/// `synth --corrupt P --corrupt-split test` and the per-condition evaluation built on it.
final class CorruptionConditionTests: XCTestCase {
    func testTestOnlyCorruptionIsFoundPerSampleAndEvaluatedPerCondition() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try DatasetSynthesis.write(pairs: 40, seed: 5, sources: .init(), corruptFraction: 1, corruptSplits: [.test], to: folder)
        let manifest = try JSONDecoder().decode(DatasetWriter.Manifest.self,
                                                from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
        XCTAssertTrue(manifest.pairs.filter { $0.split == "train" }.allSatisfy { $0.corruption == "none" },
                      "training pairs must stay clean")
        XCTAssertTrue(manifest.pairs.filter { $0.split == "test" }.allSatisfy { $0.corruption != "none" },
                      "with P = 1 every test pair is corrupted")

        var data = JointDatasetConfiguration(dataFolder: folder)
        data.showProgress = false
        data.timesteps = 8
        let (train, test) = try JointDataset.load(data)
        // a joint batch decoded into place (`JointDataset.write`) is the stacked samples
        let indices = [7, 0, 3, 3, 12][...]
        let fast = try makeBatch(train, indices: indices), reference = try makeBatchBySamples(train, indices: indices)
        XCTAssertEqual(fast.visual, reference.visual)
        XCTAssertEqual(fast.audio, reference.audio)
        XCTAssertEqual(fast.labels, reference.labels)
        XCTAssertGreaterThan(fast.visual.scalars.reduce(0, +), 0)
        let conditions = try XCTUnwrap(try CorruptionConditions.load(folder: folder))
        XCTAssertEqual((0..<train.count).map { conditions.condition($0, in: train) }, Array(repeating: "clean", count: train.count))
        let testConditions = (0..<test.count).map { conditions.condition($0, in: test) }
        XCTAssertFalse(testConditions.contains("clean"))
        let visualCount = manifest.pairs.filter { $0.corruption.hasPrefix("visual") }.count
        XCTAssertEqual(testConditions.filter { $0.hasPrefix("visual") || $0 == "both corrupted" }.count, visualCount)

        var model = DataSource.joint(data).fitting(ModelConfiguration())
        model.visualChannels = [4, 4]; model.visualHidden = 16; model.audioHidden = 16; model.fusionHidden = 8
        let network = try MultimodalNetwork(model, seed: 1)
        let byCondition = try evaluateByCondition(network, on: test, batchSize: 8) { conditions.condition($0, in: test) }
        XCTAssertEqual(byCondition.values.map(\.samples).reduce(0, +), test.count)
        for (name, e) in byCondition {
            XCTAssertEqual(e.samples, testConditions.filter { $0 == name }.count, name)
            XCTAssertEqual(e.attention?.count, 2)
        }
    }
}
