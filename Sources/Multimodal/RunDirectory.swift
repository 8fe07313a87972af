import Foundation

/// The files of one training run, in one place for the writer (`Trainer`) and every reader
/// (`spikefuse evaluate`, `experiment`, `demo`):
///
///     RUN_DIR/config.json                          model + training configuration + data description
///     RUN_DIR/metrics.jsonl                        one EpochMetrics per line
///     RUN_DIR/checkpoints/epoch-NNNN.safetensors   weights + Adam + epoch + RNG
///     RUN_DIR/weights.safetensors                  latest weights only (for evaluate / PyTorch)
///
/// Every file is replaced atomically (`AtomicFile`), so a crash or a full disk leaves the
/// previous version of each in place.
public struct RunDirectory: Sendable, Equatable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent("config.json") }
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var weightsURL: URL { url.appendingPathComponent("weights.safetensors") }
    public var checkpointFolder: URL { url.appendingPathComponent("checkpoints") }
    public func checkpointURL(epoch: Int) -> URL {
        checkpointFolder.appendingPathComponent(String(format: "epoch-%04d.safetensors", epoch))
    }

    /// Whether a run was started here (a checkpoint folder exists).
    public var hasCheckpoints: Bool { FileManager.default.fileExists(atPath: checkpointFolder.path) }

    /// Epoch numbers of the checkpoints present, ascending.
    public func checkpointEpochs() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointFolder.path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst(6).dropLast(12))
        }.sorted()
    }

    /// Creates the folders; removes temporary files a killed run left behind (`--resume`).
    public func prepare() throws {
        try FileManager.default.createDirectory(at: checkpointFolder, withIntermediateDirectories: true)
        for stale in AtomicFile.removeStaleTemporaries(in: url) + AtomicFile.removeStaleTemporaries(in: checkpointFolder) {
            warn("removed \(stale.path), left by an interrupted write")
        }
    }

    // MARK: config.json

    /// What config.json holds.
    public struct Configuration {
        public var model: ModelConfiguration
        public var training: TrainingConfiguration
        /// Free text describing the data; `"source"` is the `DataSource` as JSON.
        public var data: [String: String]
    }

    public func writeConfiguration(_ c: Configuration) throws {
        func object(_ json: String) -> Any { (try? JSONSerialization.jsonObject(with: Data(json.utf8))) ?? [:] }
        let trainingJSON = String(decoding: try JSONEncoder().encode(c.training), as: UTF8.self)
        let whole: [String: Any] = ["model": object(c.model.jsonString()), "training": object(trainingJSON), "data": c.data]
        let data = try JSONSerialization.data(withJSONObject: whole, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: configURL)
    }

    public func readConfiguration() throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw CheckpointError.invalid(configURL.path, "missing or unreadable (is \(url.path) a SpikeFuse run directory?)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = object["model"] as? [String: Any], let training = object["training"],
              let dataInfo = object["data"] as? [String: String] else {
            throw CheckpointError.invalid(configURL.path, "not a run configuration (needs \"model\", \"training\" and \"data\")")
        }
        do {
            let trainingData = try JSONSerialization.data(withJSONObject: training)
            return Configuration(model: try ModelConfiguration.fromJSONObject(model),
                                 training: try JSONDecoder().decode(TrainingConfiguration.self, from: trainingData),
                                 data: dataInfo)
        } catch {
            throw CheckpointError.invalid(configURL.path, "\(error)")
        }
    }

    /// The run's data source, as training stored it.
    public func readDataSource() throws -> DataSource {
        guard let text = try readConfiguration().data["source"] else {
            throw CheckpointError.invalid(configURL.path, "no data source recorded under \"data\"")
        }
        return try DataSource.fromJSON(text, source: configURL.path)
    }

    // MARK: metrics.jsonl

    public func readMetrics() throws -> [EpochMetrics] {
        guard let text = try? String(contentsOf: metricsURL, encoding: .utf8) else { return [] }
        return try readMetricsLines(text, source: metricsURL.path)
    }

    public func writeMetrics(_ metrics: [EpochMetrics]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for m in metrics { text += String(decoding: try encoder.encode(m), as: UTF8.self) + "\n" }
        try AtomicFile.write(Array(text.utf8), to: metricsURL)
    }
}

/// Writes `data` to `url` atomically (`AtomicFile`): reports, tables, pictures.
public func writeAtomically(_ data: Data, to url: URL) throws {
    try AtomicFile.write(data, to: url)
}
