import Foundation

/// Where a run's data comes from; stored in the run's `config.json` so that
/// `spikefuse evaluate RUN_DIR` can rebuild the same test set.
public enum DataSource: Codable, Sendable, Equatable {
    /// The small generated task of `SyntheticDataset` (tests, quick checks).
    case synthetic(SyntheticDatasetConfiguration)

    /// The training and test splits.
    public func datasets() throws -> (train: AudioVisualDataset, test: AudioVisualDataset) {
        switch self {
        case .synthetic(let c):
            return (SyntheticDataset(c, split: .train), SyntheticDataset(c, split: .test))
        }
    }

    /// The model input sizes this data implies, applied to `model`.
    public func fitting(_ model: ModelConfiguration) throws -> ModelConfiguration {
        let (train, _) = try datasets()
        var m = model
        m.timesteps = train.visualShape[0]
        m.polarities = train.visualShape[1]
        m.imageSize = train.visualShape[2]
        m.audioChannels = train.audioShape[1]
        m.classes = train.classCount
        return m
    }

    /// The source as one JSON string (for config.json).
    public func jsonString() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }

    public static func fromJSON(_ text: String, source: String) throws -> DataSource {
        do { return try JSONDecoder().decode(DataSource.self, from: Data(text.utf8)) } catch {
            throw CheckpointError.invalid(source, "data source is not readable: \(error)")
        }
    }
}
