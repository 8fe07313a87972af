import Foundation
import Multimodal

/// The embedded default dataset: procedural digits shown to the DVS emulator and formant
/// speech heard by the cochlea emulator, synthesised once into the cache folder and reused.
/// `spikefuse demo` trains on it, and so does every command given no data option.
enum DefaultDataSet {
    static let pairs = 2000

    /// The folder of the default set of `pairs` pairs and `seed` (it may not exist yet).
    /// The version in the folder name changes whenever SensorEmulation's default settings do
    /// (v2: difficulty calibrated, issue 5), so a set cached with older defaults is not reused.
    static func path(pairs: Int = pairs, seed: UInt64 = 1) -> URL {
        URL(fileURLWithPath: "\(DataOptions.defaultCache)/default-set-v2-\(pairs)-seed\(seed)")
    }

    /// The folder of the default set, synthesised first if missing.
    static func folder(pairs: Int = pairs, seed: UInt64 = 1) throws -> URL {
        let folder = path(pairs: pairs, seed: seed)
        try synthesiseIfMissing(folder, pairs: pairs, seed: seed)
        return folder
    }

    /// Synthesises the default set when `source` is it and it is not there yet (so options
    /// are checked, and a run can fail fast, before the 15 s of synthesis).
    static func prepare(_ source: DataSource) throws {
        if case .joint(let c) = source, URL(fileURLWithPath: c.mnistDVSRoot).standardizedFileURL == path().standardizedFileURL {
            try synthesiseIfMissing(path(), pairs: pairs, seed: 1)
        }
    }

    /// The folder last announced (so the demo, which prepares the set and then trains on it,
    /// says so once).
    nonisolated(unsafe) private static var announced: URL?

    private static func synthesiseIfMissing(_ folder: URL, pairs: Int, seed: UInt64) throws {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("manifest.json").path) {
            if announced != folder { print("data: the embedded default set, \(folder.path)") }
        } else {
            print("synthesising the embedded default dataset (once): \(pairs) pairs → \(folder.path)")
            try SynthCommand.synthesize(pairs: pairs, seed: seed, sources: DatasetSynthesis.Sources(), corrupt: 0, to: folder)
        }
        announced = folder
    }
}
