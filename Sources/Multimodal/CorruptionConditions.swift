import Foundation

/// Which test samples of a synthesised joint dataset had a sensor degraded (`synth --corrupt`),
/// read from the dataset folder's `manifest.json`.
///
/// The joint dataset pairs recordings by its own rules, so the condition is derived per
/// modality: a sample is "visual corrupted" when its DVS recording was degraded, "audio
/// corrupted" when its cochlea recording was, "both corrupted" when both were, else "clean".
public struct CorruptionConditions: Sendable {
    /// Relative paths (`grabbed_data{d}/scale4/…aedat`) of degraded DVS recordings.
    public let visual: Set<String>
    /// N-TIDIGITS keys of degraded cochlea recordings.
    public let audio: Set<String>

    /// Reads `folder/manifest.json`; nil when the folder has none or nothing was corrupted.
    public static func load(folder: URL) throws -> CorruptionConditions? {
        try manifest(folder: folder).flatMap(CorruptionConditions.init(manifest:))
    }

    /// `folder/manifest.json` as `synth` wrote it; nil when the folder has none.
    public static func manifest(folder: URL) throws -> DatasetWriter.Manifest? {
        let url = folder.appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(DatasetWriter.Manifest.self, from: data) } catch {
            throw CheckpointError.invalid(url.path, "not a SpikeFuse dataset manifest: \(error)")
        }
    }

    /// The degraded recordings a manifest lists; nil when nothing was corrupted.
    public init?(manifest: DatasetWriter.Manifest) {
        var visual = Set<String>(), audio = Set<String>()
        for p in manifest.pairs {
            switch CorruptionKind(rawValue: p.corruption)?.modality {
            case "visual": visual.insert(p.visual)
            case "audio": audio.insert(p.audio)
            default: break
            }
        }
        if visual.isEmpty && audio.isEmpty { return nil }
        self.visual = visual; self.audio = audio
    }

    /// The condition of sample `index` of `dataset`.
    public func condition(_ index: Int, in dataset: JointDataset) -> String {
        let pair = dataset.pairs[index]
        let recording = dataset.catalog.visual[pair.visual]
        let v = visual.contains(DatasetWriter.visualPath(label: recording.digit, index: recording.name.index))
        let a = audio.contains(dataset.catalog.audio[pair.audio].key)
        switch (v, a) {
        case (false, false): return "clean"
        case (true, false): return "visual corrupted"
        case (false, true): return "audio corrupted"
        case (true, true): return "both corrupted"
        }
    }
}
