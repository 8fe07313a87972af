import Foundation
import SpikeTensor
import EventIO

/// A spoken-digit recording named `{digit}_{speaker}_{index}.wav` (the Free Spoken Digit
/// Dataset's convention), e.g. `7_jackson_32.wav`.
public struct SpokenDigitFile: Sendable, Hashable {
    public var url: URL
    public var digit: Int
    public var speaker: String
    public var index: Int

    public init(url: URL, digit: Int, speaker: String, index: Int) {
        self.url = url; self.digit = digit; self.speaker = speaker; self.index = index
    }

    /// Parses a file name; nil when it does not follow `{0-9}_{letters/digits}_{number}.wav`.
    public init?(url: URL) {
        let name = url.lastPathComponent
        guard name.lowercased().hasSuffix(".wav") else { return nil }
        let fields = name.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count == 1, let d = Int(fields[0]), let i = Int(fields[2]), i >= 0,
              !fields[1].isEmpty, fields[1].allSatisfy({ $0.isLetter || $0.isNumber })
        else { return nil }
        self.init(url: url, digit: d, speaker: String(fields[1]), index: i)
    }

    /// All such files in `folder`, sorted by (digit, speaker, index). Other files are ignored.
    public static func list(folder: URL) throws -> [SpokenDigitFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw DatasetError.missingFolder(path: folder.path, hint: "a folder of {digit}_{speaker}_{index}.wav files")
        }
        return names.compactMap { SpokenDigitFile(url: folder.appendingPathComponent($0)) }
            .sorted { ($0.digit, $0.speaker, $0.index) < ($1.digit, $1.speaker, $1.index) }
    }

    /// Reads the file (part A's WAV reader), mixes it to mono, and runs the cochlea on it.
    public func cochleaEvents(cochlea: CochleaEmulator = .nTidigitsPreset,
                              using rng: inout SeededGenerator) throws -> CochleaEvents {
        let wave = try WAV.read(url)
        return try cochlea.emulate(samples: wave.mono, sampleRate: Double(wave.sampleRate), using: &rng)
    }
}

/// Where the synthesiser takes its stimuli from.
public enum VisualSource: Sendable {
    /// Procedural handwriting (`DigitGlyphRenderer`).
    case procedural
    /// Real images with labels (e.g. MNIST from `IDX.readImages`/`IDX.readLabels`), in order;
    /// training pairs of digit d show the first half of its images, test pairs the second
    /// half (`SynthesisPlan.source(ofPair:sourceCount:)`).
    case images(IDXImages, labels: [UInt8])
}

/// Where the synthesiser takes its sounds from.
public enum AudioSource: Sendable {
    /// Procedural formant speech (`FormantSynthesizer`).
    case procedural
    /// Real recordings (e.g. `SpokenDigitFile.list(folder:)` of FSDD); digit d's files ordered
    /// by (index, speaker), training pairs use the first half, test pairs the second
    /// (`SynthesisPlan.source(ofPair:sourceCount:)`).
    case recordings([SpokenDigitFile])
}
