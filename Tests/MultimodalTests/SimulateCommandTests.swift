import Foundation
import XCTest
@testable import Multimodal

/// `spikefuse describe` and `spikefuse simulate` from the command line, on a described network
/// of another geometry trained for one epoch.
final class SimulateCommandTests: XCTestCase {
    static let network = """
    {"name": "tiny", "timesteps": 16, "classes": 10,
     "branches": [{"name": "eye", "input": {"modality": "dvs", "shape": [2, 12, 12]}, "neuron": {"tau": 0.2},
       "layers": [
         {"type": "conv2d", "name": "c1", "channels": 8, "kernel": 5, "stride": 2, "padding": 2}, {"type": "lif"},
         {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
         {"type": "recurrent", "name": "r", "features": 32},
         {"type": "linear", "name": "out", "features": 10}, {"type": "lif"}]}]}
    """

    func testDescribeTrainSimulateRecord() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-simulate-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tiny.json"), run = dir.appendingPathComponent("run")
        try Self.network.write(to: file, atomically: true, encoding: .utf8)

        let described = try runSpikefuse(["describe", file.path, "--json"])
        XCTAssertEqual(described.status, 0, described.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(described.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["parameters"] as? Int, (8 * 2 * 25 + 8) + (32 * 72 + 32 + 32 * 32) + (32 * 10 + 10))
        let layers = try XCTUnwrap(((object["branches"] as? [[String: Any]])?.first?["layers"]) as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["output_shape"] as? [Int] }, [[8, 6, 6], [8, 3, 3], [72], [32], [10]])
        XCTAssertTrue((layers[0]["path"] as? String)?.contains("event-driven C scatter (stride 2)") ?? false)

        let train = try runSpikefuse(["train", "--network", file.path, "--synthetic", "--epochs", "1",
                                      "--train-limit", "64", "--test-limit", "32", "--out", run.path])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("training visual"), train.stdout)

        var rng = SeededGenerator(seed: 5)
        let x = Tensor(shape: [16, 3, 2, 12, 12], scalars: (0..<(16 * 3 * 288)).map { _ in rng.nextUniform() < 0.2 ? 1 : 0 })
        let input = dir.appendingPathComponent("x.safetensors"), output = dir.appendingPathComponent("y.safetensors")
        try SafeTensors.write([("input", x)], to: input)
        let simulated = try runSpikefuse(["simulate", run.path, "--input", input.path, "--out", output.path, "--record"])
        XCTAssertEqual(simulated.status, 0, simulated.stderr)
        let y = try SafeTensors.read(output)
        XCTAssertEqual(y.names, ["output", "spikes.eye.c1", "spikes.eye.r", "spikes.eye.out"])

        // The same spikes as the trained network's own (fused) inference.
        let checkpoint = try Checkpoint.read(run.appendingPathComponent("weights.safetensors"))
        let network = try MultimodalNetwork(checkpoint.configuration, seed: 0)
        try network.load(checkpoint.tensors, source: "weights")
        network.setTraining(false)
        let expected = try XCTUnwrap(network.forward(visual: x, audio: nil).visual)
        XCTAssertEqual(try y.tensor(named: "output"), expected)
        XCTAssertEqual(try y.tensor(named: "spikes.eye.c1").shape, [16, 3, 8, 6, 6])
        XCTAssertGreaterThan(try y.tensor(named: "spikes.eye.c1").scalars.reduce(0, +), 0)

        // Inputs that do not fit are errors naming the file and both shapes; so is a NaN.
        try SafeTensors.write([("input", Tensor(zeros: [16, 3, 2, 28, 28]))], to: input)
        let wrong = try runSpikefuse(["simulate", run.path, "--input", input.path, "--out", output.path])
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.stderr.contains("'input' is [16, 3, 2, 28, 28], branch 'eye' needs [T, B] + [2, 12, 12]"), wrong.stderr)
        var bad = x
        bad.scalars[7] = .nan
        try SafeTensors.write([("input", bad)], to: input)
        let nan = try runSpikefuse(["simulate", run.path, "--input", input.path, "--out", output.path])
        XCTAssertTrue(nan.status == 1 && nan.stderr.contains("holds nan at element 7"), nan.stderr)
    }

    /// NIR graphs written by the `nir` package (a small A-Network, and a general graph: 5×5
    /// stride-2 and 3×3 convolutions, sum and average pooling, a recurrent layer) simulate to the
    /// spikes computed from NIR's equations (bench/nir_peer.py), through the command line; and
    /// `describe` reads a graph's structure as `--network` does.
    func testNIRGraphSimulatesToThePeersSpikes() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NIRInterchangeTests/Fixtures")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-simulate-nir-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for graph in ["audio", "general"] {
            let reference = try SafeTensors.read(fixtures.appendingPathComponent("nir_package_\(graph)_io.safetensors"))
            let input = dir.appendingPathComponent("x.safetensors"), output = dir.appendingPathComponent("y.safetensors")
            try SafeTensors.write([("input", try reference.tensor(named: "input"))], to: input)
            let result = try runSpikefuse(["simulate", fixtures.appendingPathComponent("nir_package_\(graph).nir").path,
                                           "--input", input.path, "--out", output.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let expected = try reference.tensor(named: "spikes")
            XCTAssertEqual(try SafeTensors.read(output).tensor(named: "output"), expected, graph)
            XCTAssertGreaterThan(expected.scalars.reduce(0, +), 10)
        }
        let described = try runSpikefuse(["describe", fixtures.appendingPathComponent("nir_package_general.nir").path])
        XCTAssertEqual(described.status, 0, described.stderr)
        for layer in ["conv_a", "conv_b", "hidden", "readout"] {
            XCTAssertTrue(described.stdout.contains(layer), "\(layer) in:\n\(described.stdout)")
        }
    }
}
