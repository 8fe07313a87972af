import Foundation

/// The files of one training run, in one place for the writer (`Trainer`) and every reader
/// (`spikefuse evaluate`, `experiment`, `demo`):
///
///     RUN_DIR/config.json                          model + training configuration + data description
///     RUN_DIR/metrics.jsonl                        one EpochMetrics per line
///     RUN_DIR/checkpoints/epoch-NNNN.safetensors   weights + Adam + epoch + RNG
///     RUN_DIR/weights.safetensors                  latest weights only (for evaluate / PyTorch)
///     RUN_DIR/weights.json                         epoch, size and checksum of weights.safetensors
///     RUN_DIR/tb/events.out.tfevents.*             metrics.jsonl as TensorBoard scalars (`TensorBoardLog`)
///
/// Every file is replaced atomically (`AtomicFile`), so a crash or a full disk leaves the
/// previous version of each in place. A writer holds `lock()` (an advisory `flock` on the
/// folder), so a second writer is refused instead of mixing its files with the first's.
public struct RunDirectory: Sendable, Equatable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent("config.json") }
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var weightsURL: URL { url.appendingPathComponent("weights.safetensors") }
    public var weightsManifestURL: URL { url.appendingPathComponent("weights.json") }
    public var checkpointFolder: URL { url.appendingPathComponent("checkpoints") }
    public var tensorBoardFolder: URL { url.appendingPathComponent("tb") }
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
        for stale in [url, checkpointFolder, tensorBoardFolder].flatMap(AtomicFile.removeStaleTemporaries(in:)) {
            warn("removed \(stale.path), left by an interrupted write")
        }
    }

    // MARK: lock

    /// Takes the run directory's advisory lock (`flock(LOCK_EX | LOCK_NB)` on the folder,
    /// created if missing), held until the returned object is released. Another process or
    /// another `lock()` holding it makes this throw `RunDirectoryLocked` at once.
    public func lock() throws -> RunDirectoryLock {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CheckpointError.invalid(url.path, "cannot open the run directory to lock it: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            if e == EWOULDBLOCK { throw RunDirectoryLocked(path: url.path) }
            throw CheckpointError.invalid(url.path, "cannot lock the run directory: \(String(cString: strerror(e)))")
        }
        return RunDirectoryLock(fd: fd)
    }

    // MARK: weights.safetensors and weights.json

    /// What weights.json records about weights.safetensors.
    public struct WeightsManifest: Codable, Equatable, Sendable {
        public var epoch: Int
        public var bytes: Int
        /// `RunDirectory.checksum` of the file, 16 hex digits.
        public var checksum: String
    }

    /// Writes the final weights of `epoch` atomically, then weights.json (atomically) with
    /// their epoch, size and checksum: the checksum of the bytes written, encoded once.
    public func writeWeights(_ tensors: [(name: String, tensor: Tensor)], model: ModelConfiguration, epoch: Int) throws {
        let path = weightsURL.path
        let bytes = try SafeTensors.encode(tensors, metadata: ["config": model.jsonString(), "epoch": String(epoch)], source: path)
        do { try AtomicFile.write(bytes, to: weightsURL) } catch {
            throw SafeTensorsError.writeFailed(source: path, reason: error.reason)
        }
        let manifest = WeightsManifest(epoch: epoch, bytes: bytes.count, checksum: RunDirectory.checksum(Data(bytes)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest), to: weightsManifestURL)
    }

    /// Nil when weights.safetensors is the one weights.json records for `epoch`, else why not.
    public func weightsProblem(epoch: Int) -> String? {
        guard let text = FileManager.default.contents(atPath: weightsManifestURL.path) else {
            return "\(weightsManifestURL.path) is missing"
        }
        guard let manifest = try? JSONDecoder().decode(WeightsManifest.self, from: text) else {
            return "\(weightsManifestURL.path) is not a weights manifest"
        }
        guard manifest.epoch == epoch else {
            return "\(weightsURL.path) is recorded as epoch \(manifest.epoch), the newest checkpoint is epoch \(epoch)"
        }
        guard let data = FileManager.default.contents(atPath: weightsURL.path) else { return "\(weightsURL.path) is missing" }
        guard data.count == manifest.bytes, RunDirectory.checksum(data) == manifest.checksum else {
            return "\(weightsURL.path) does not match the size and checksum in \(weightsManifestURL.lastPathComponent)"
        }
        return nil
    }

    /// A 64-bit multiply–xor checksum of `data` (8 bytes at a time), as 16 hex digits. It
    /// detects damage, not tampering.
    public static func checksum(_ data: Data) -> String {
        let prime: UInt64 = 0x0000_0100_0000_01b3
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(data.count)
        data.withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian) &* prime
                h ^= h >> 29
                i += 8
            }
            for k in i..<raw.count { h = (h ^ UInt64(raw[k])) &* prime }
        }
        h ^= h >> 32
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
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

/// The advisory lock of a run directory (`RunDirectory.lock`); released when freed.
public final class RunDirectoryLock {
    private let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { flock(fd, LOCK_UN); close(fd) }
}

/// Another writer holds the run directory's lock.
public struct RunDirectoryLocked: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var description: String {
        "\(path): another process is writing this run directory (it holds its lock); "
            + "wait for it to finish or give another --out"
    }
}

/// Writes `data` to `url` atomically (`AtomicFile`): reports, tables, pictures.
public func writeAtomically(_ data: Data, to url: URL) throws {
    try AtomicFile.write(data, to: url)
}
