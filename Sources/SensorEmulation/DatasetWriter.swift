import AtomicFiles
import Foundation
import SpikeTensor
import EventIO

/// Writes a synthesised dataset in the original datasets' layouts:
///
/// ```
/// {folder}/grabbed_data{d}/scale4/mnist_{d}_scale04_{NNNN}.aedat   (AEDAT 2.0, DVS128)
/// {folder}/n-tidigits.hdf5                                         (N-TIDIGITS layout)
/// {folder}/manifest.json                                           (pairs, splits, corruptions)
/// ```
/// so the same loaders read real and synthetic data.
public enum DatasetWriter {
    /// One pair in `manifest.json`.
    public struct ManifestPair: Codable, Sendable, Equatable {
        public var label: Int
        /// Path of the AEDAT file relative to the folder.
        public var visual: String
        /// Key in `n-tidigits.hdf5`.
        public var audio: String
        public var split: String
        public var corruption: String
        public var visualEvents: Int
        public var audioEvents: Int
    }

    /// `manifest.json`.
    public struct Manifest: Codable, Sendable, Equatable {
        public var generator: String
        public var seed: UInt64
        public var pairCount: Int
        public var audioSampleRate: Double
        public var corruptFraction: Double
        public var pairs: [ManifestPair]
    }

    /// Relative path of a visual recording.
    public static func visualPath(label: Int, index: Int) -> String {
        "grabbed_data\(label)/scale4/" + MNISTDVSFileName(digit: label, scale: 4, index: index).fileName
    }

    /// Writes `pairs` (from `DatasetSynthesizer(plan:).run()`) into `folder` (created if needed).
    public static func write(_ pairs: [SynthesizedPair], plan: SynthesisPlan, to folder: URL) throws {
        let fm = FileManager.default
        do {
            for d in 0..<10 {
                try fm.createDirectory(at: folder.appendingPathComponent("grabbed_data\(d)/scale4"),
                                       withIntermediateDirectories: true)
            }
        } catch {
            throw DatasetError.io(file: folder.path, reason: "cannot create the dataset folders: \(error)")
        }
        var manifestPairs: [ManifestPair] = []
        var audio: [(key: String, split: Split, events: CochleaEvents)] = []
        for p in pairs {
            let path = visualPath(label: p.visual.label, index: p.visual.index)
            try AEDAT.write(p.visual.events, to: folder.appendingPathComponent(path))
            audio.append((p.audio.key, p.audio.split, p.audio.events))
            manifestPairs.append(ManifestPair(label: p.visual.label, visual: path, audio: p.audio.key,
                                              split: p.audio.split.rawValue, corruption: p.corruption.rawValue,
                                              visualEvents: p.visual.events.count, audioEvents: p.audio.events.count))
        }
        try NTidigitsFile.write(audio, to: folder.appendingPathComponent("n-tidigits.hdf5"))
        let manifest = Manifest(generator: "SpikeFuse SensorEmulation", seed: plan.seed, pairCount: pairs.count,
                                audioSampleRate: plan.settings.speech.sampleRate,
                                corruptFraction: plan.settings.corruption.fraction, pairs: manifestPairs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = folder.appendingPathComponent("manifest.json")
        do { try AtomicFile.write(try encoder.encode(manifest), to: url) } catch {
            throw DatasetError.io(file: url.path, reason: "cannot write the manifest: \(error)")
        }
    }
}
