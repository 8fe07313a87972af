import XCTest
@testable import Multimodal
import SpikeNN

/// Issue 19's measurements: every epoch records, per spiking layer, what its neurons did
/// (`NeuronActivity`) and the mean gradient norm per layer; both survive a reload of
/// metrics.jsonl. And the auditory neurons' surrogate dampening is a model setting.
final class TrainingDiagnosticsTests: XCTestCase {
    func testEpochMetricsRecordActivityAndGradientNorms() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 32; data.testCount = 16
        let train = SyntheticDataset(data, split: .train), test = SyntheticDataset(data, split: .test)
        var training = TrainingConfiguration()
        training.epochs = 2; training.batchSize = 16; training.seed = 4
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: train.modelConfiguration(mode: .multimodal), training: training,
                                  trainSet: train, testSet: test, runDirectory: dir)
        let metrics = try trainer.run()
        let last = try XCTUnwrap(metrics.last)
        let layers = (trainer.network.visual!.spikingLayers + trainer.network.audio!.spikingLayers).map(\.layerName)
        XCTAssertEqual(last.activity?.map(\.layer), layers)
        for a in try XCTUnwrap(last.activity) {
            XCTAssertTrue((0...1).contains(a.firingRate) && (0...1).contains(a.silentFraction)
                          && (0...1).contains(a.surrogateFraction), "\(a)")
        }
        // The activity is that of a fresh forward on the same evenly spread test samples.
        XCTAssertEqual(try measureActivity(trainer.network, on: test), last.activity)
        let norms = try XCTUnwrap(last.gradientNorms)
        XCTAssertTrue(Set(norms.keys).isSuperset(of: layers), "\(norms.keys)")
        XCTAssertTrue(norms.values.allSatisfy(\.isFinite), "\(norms)")
        XCTAssertTrue(layers.allSatisfy { norms[$0]! > 0 }, "every subnetwork layer gets a gradient: \(norms)")
        XCTAssertEqual(try trainer.run.readMetrics(), metrics, "metrics.jsonl keeps the diagnostics")
    }

    func testAuditorySurrogateDampeningIsASettingOfTheAuditoryNeuronsOnly() throws {
        let c = ModelConfiguration()
        XCTAssertEqual(c.audioSurrogateDampening, 0.3)
        XCTAssertEqual(c.audioNeuron.surrogateDampening, 0.3)
        XCTAssertEqual(c.audioNeuron.surrogateHeight, 0.3)
        XCTAssertEqual(c.visualNeuron.surrogateDampening, 1, "the visual network keeps the paper's eq. 9")
        XCTAssertEqual(c.fusionNeuron.surrogateDampening, 1)
        XCTAssertEqual(try ModelConfiguration.fromJSON("{\"audio_surrogate_dampening\": 1}").audioNeuron.surrogateHeight, 1)
        XCTAssertTrue(c.jsonString().contains("\"audio_surrogate_dampening\":0.3"), c.jsonString())
        for bad in ["0", "1.5", "-0.3"] {
            var d = ModelConfiguration()
            d.audioSurrogateDampening = Float(bad)!
            XCTAssertThrowsError(try d.validate()) { error in
                XCTAssertTrue("\(error)".contains("audio_surrogate_dampening"), "\(error)")
            }
        }
    }
}
