import Foundation
import SpikeTensor

/// One SHD or SSC file as a dataset of its own, with every class kept: SHD's 20 (digits in
/// English and German) or SSC's 35 (words), the label as stored (no folding to 10 digits as
/// the joint dataset does). Audio only: `audio` is the sample's spikes framed to `[T, 700]`
/// by `framing`, `visual` a `[T, 1, 1, 1]` zero tensor. Samples are read and framed on
/// demand by `init(file:framing:)` (no cache), or framed once by `load` (through the frame
/// cache when the configuration names one); errors are the reader's, naming the file and sample.
///
/// `spikefuse train --mode audio --shd DIR` trains on it (`SHDClassConfiguration`).
public struct SHDClassDataset: AudioVisualDataset {
    public let file: SHDFile
    public let framing: CochleaFraming
    /// Frames of every sample of `file` (from `load`); nil: framed on demand.
    public let frames: FrameStore?
    /// The file's samples in use, in file order (those that framed, under `BadFilePolicy.skip`).
    public let samples: [Int]

    public init(file: SHDFile, framing: CochleaFraming) {
        self.file = file; self.framing = framing; frames = nil; samples = Array(0..<file.count)
    }

    init(file: SHDFile, framing: CochleaFraming, frames: FrameStore) {
        self.file = file; self.framing = framing; self.frames = frames
        samples = (0..<file.count).filter { frames.valid[$0] }
    }

    public var count: Int { samples.count }
    /// `file.classes`: 20 for SHD, 35 for SSC (the count of `extra/keys`).
    public var classCount: Int { file.classes }
    /// The name of each class (`extra/keys`; empty when the file has none).
    public var classNames: [String] { file.classNames }
    public var visualShape: [Int] { [framing.timesteps, 1, 1, 1] }
    public var audioShape: [Int] { [framing.timesteps, SHDFile.channelCount] }
    public func label(_ index: Int) -> Int { file.labels[samples[index]] }

    public func sample(_ index: Int) throws -> AudioVisualSample {
        guard index >= 0, index < count else {
            throw DatasetError.badConfiguration("\(file.url.path): sample \(index) out of 0..<\(count)")
        }
        let i = samples[index]
        let audio = try frames.map { $0.tensor(i) } ?? framing(try file.events(i))
        return AudioVisualSample(visual: Tensor(zeros: visualShape), audio: audio, label: file.labels[i])
    }

    /// The train and test sets of `configuration`, each file framed once: from the frame cache
    /// when `cacheDirectory` is set and holds frames of the same file (path, size, times,
    /// inode), settings and class count (stores `shd-classes-…` / `ssc-classes-…`), else framed
    /// now and cached. Also returns warnings about samples skipped. Errors name the file.
    public static func load(_ configuration: SHDClassConfiguration) throws
        -> (train: SHDClassDataset, test: SHDClassDataset, warnings: [String]) {
        try configuration.validate()
        let (trainFile, testFile) = try configuration.openFiles()
        let framing = configuration.framing
        var warnings: [String] = []
        func framed(_ file: SHDFile, _ split: Split) throws -> SHDClassDataset {
            guard file.classes == configuration.classes else {
                throw DatasetError.badConfiguration("\(file.url.path): \(file.classes) classes, the run was set up with \(configuration.classes)")
            }
            let key = configuration.settingsKey + "\n" + JointDataset.sourceLine(file.url)
            let name = "\(configuration.corpus.rawValue)-classes-\(split.rawValue)"
            let (store, failures) = try FrameStore.load(
                count: file.count, shape: configuration.audioShape,
                preferred: configuration.value == .binary ? .bits : .uint8,
                cache: configuration.cacheDirectory.map { .init(directory: URL(fileURLWithPath: $0), name: name, key: key) },
                label: "\(configuration.corpus.name) \(split.rawValue) frames", progress: configuration.showProgress,
                policy: configuration.badFiles
            ) { i in framing(try file.events(i)) }
            warnings += failures
            let skipped = store.valid.filter { !$0 }.count
            if store.origin == .cacheHit, skipped > 0 {
                guard configuration.badFiles == .skip else {
                    throw DatasetError.io(file: store.file?.path ?? file.url.path,
                                          reason: "\(skipped) samples were skipped when this cache was built; delete it to see the errors")
                }
                warnings.append("\(file.url.path): \(skipped) samples were skipped when the cache was built")
            }
            return SHDClassDataset(file: file, framing: framing, frames: store)
        }
        return (try framed(trainFile, .train), try framed(testFile, .test), warnings)
    }
}
