import Foundation
import SpikeTensor

/// One single-digit N-TIDIGITS sample usable in the joint dataset.
public struct JointAudioSample: Sendable, Hashable {
    public var key: String
    /// The split the HDF5 file puts it in.
    public var fileSplit: Split
    /// Joint label 0–9 (`z` → 0; an SHD label mod 10).
    public var label: Int
    /// For an SHD sample, its index in the file of `fileSplit` (`key` is then `"shd_<split>#<index>"`).
    public var shdSample: Int? = nil
}

/// What the joint dataset is made of, found without reading any events: the visual
/// recordings (canonical order: digit, then index) and the single-digit audio samples of
/// classes 0–9 (canonical order: the HDF5's train keys, then its test keys; `o` and
/// multi-digit samples left out).
public struct JointDatasetCatalog: Sendable {
    public let visual: [MNISTDVSRecording]
    /// The formats found (once, from the layout: `JointDatasetConfiguration.visualFormat`, …).
    public let visualFormat: JointDatasetConfiguration.VisualFormat
    public let audioFormat: JointDatasetConfiguration.AudioFormat
    /// N-MNIST's own split of each visual recording (nil for MNIST-DVS, which has none).
    public let visualFileSplits: [Split]?
    public let audio: [JointAudioSample]
    /// Keys that are not valid N-TIDIGITS keys (skipped with a warning under `.skip`).
    public let malformedKeys: [String]
    /// The opened N-TIDIGITS file (nil for SHD audio).
    public let audioFile: NTidigitsFile?
    /// The opened SHD files by split (empty for N-TIDIGITS audio).
    public let shdFiles: [Split: SHDFile]
    /// Where the audio comes from, for messages.
    public let audioSource: String

    public init(configuration: JointDatasetConfiguration) throws {
        try configuration.validate()
        let visualRoot = URL(fileURLWithPath: configuration.mnistDVSRoot)
        visualFormat = configuration.visualFormat
        audioFormat = configuration.audioFormat
        if visualFormat == .nmnist {
            // N-MNIST recordings, numbered within their digit (Train before Test).
            var seen = [Int](repeating: 0, count: 10)
            let recordings = try NMNISTLayout(root: visualRoot).recordings()
            visualFileSplits = recordings.map(\.split)
            visual = recordings.map { r in
                seen[r.digit] += 1
                return MNISTDVSRecording(name: MNISTDVSFileName(digit: r.digit, scale: configuration.scale, index: seen[r.digit]),
                                         url: r.url)
            }
        } else {
            visual = try MNISTDVSLayout(root: visualRoot, scale: configuration.scale).recordings()
            visualFileSplits = nil
        }
        audioSource = configuration.ntidigitsFile
        if audioFormat == .shd {
            var files: [Split: SHDFile] = [:]
            var audio: [JointAudioSample] = []
            for (split, url) in configuration.shdFiles {
                let file = try SHDFile.open(url)
                guard file.classes == SHDFile.classCount else {   // label mod 10 is a digit only for SHD's 20 classes
                    throw DatasetError.badConfiguration("\(url.path): \(file.classes) classes; the joint dataset takes SHD's 20 (digits in two languages)")
                }
                files[split] = file
                for (i, label) in file.labels.enumerated() {
                    audio.append(JointAudioSample(key: "shd_\(split.rawValue)#\(i)", fileSplit: split,
                                                  label: SHDFile.digit(label: label), shdSample: i))
                }
            }
            self.audio = audio; self.malformedKeys = []; self.audioFile = nil; self.shdFiles = files
            return
        }
        shdFiles = [:]
        let file = try NTidigitsFile.open(URL(fileURLWithPath: configuration.ntidigitsFile))
        var audio: [JointAudioSample] = []
        var malformed: [String] = []
        for split in Split.allCases {
            for key in file.keys(split) {
                do {
                    let parsed = try NTidigitsKey(parsing: key, file: configuration.ntidigitsFile)
                    if let label = parsed.jointLabel {
                        audio.append(JointAudioSample(key: key, fileSplit: split, label: label))
                    }
                } catch {
                    if configuration.badFiles == .stop { throw error }
                    malformed.append(key)
                    FileHandle.standardError.write(Data("warning: \(error); sample skipped\n".utf8))
                }
            }
        }
        self.audio = audio
        self.malformedKeys = malformed
        self.audioFile = file
    }

    /// Visual recordings per class 0–9.
    public var visualCountPerClass: [Int] { (0..<10).map { c in visual.filter { $0.digit == c }.count } }
    /// Audio samples per class 0–9.
    public var audioCountPerClass: [Int] { (0..<10).map { c in audio.filter { $0.label == c }.count } }

    /// The pairs of `split`, indices into `visual` and `audio`, using only the samples
    /// marked valid (all when nil).
    public func pairs(split: Split, mode: JointSplitMode, visualValid: [Bool]? = nil,
                      audioValid: [Bool]? = nil) throws -> [JointPair] {
        let v = visual.indices.filter { visualValid?[$0] ?? true }
        let a = audio.indices.filter { audioValid?[$0] ?? true }
        let local = try JointPairing.pairs(visualLabels: v.map { visual[$0].digit },
                                           audioLabels: a.map { audio[$0].label },
                                           audioFileSplits: a.map { audio[$0].fileSplit },
                                           visualFileSplits: visualFileSplits.map { splits in v.map { splits[$0] } },
                                           mode: mode, split: split, classCount: 10,
                                           audioSource: audioSource)
        return local.map { JointPair(visual: v[$0.visual], audio: a[$0.audio], label: $0.label) }
    }
}

/// The paper's joint audiovisual digit dataset (§3.1–3.2): MNIST-DVS recordings paired
/// with N-TIDIGITS single digits of the same class; 10 classes, digit 0 = `z`.
///
/// Visual sample: AEDAT events → `CentroidCrop(cropSize)` → `Downsample(downsample)` →
/// `DVSFraming` → `[T, P, H, W]`. Audio sample: HDF5 events → `CochleaFraming` → `[T, 64]`.
/// Split and pairing: see `JointPairing` (first 50 % per class for training; audio cycled
/// within a class). All recordings are framed once when the dataset is created (2 threads,
/// progress on stderr) and kept bit-packed, in memory or in the cache folder, from which
/// later runs load in about a second for the full 10,000 pairs (see docs/datasets.md).
///
/// ```swift
/// var config = JointDatasetConfiguration(dataFolder: URL(fileURLWithPath: "/data"),
///                                        cacheDirectory: URL(fileURLWithPath: "/data/cache"))
/// let (train, test) = try JointDataset.load(config)
/// let sample = try train.sample(0)   // visual [64, 2, 32, 32], audio [64, 64], label 0
/// ```
public struct JointDataset: AugmentableDataset {
    public let configuration: JointDatasetConfiguration
    public let split: Split
    /// The pairs of this split, in order (by class, then visual canonical order).
    public let pairs: [JointPair]
    public let catalog: JointDatasetCatalog
    /// Frames of every visual recording (`catalog.visual` order) and audio sample.
    public let visualFrames: FrameStore
    public let audioFrames: FrameStore
    /// Messages about source files skipped (unreadable, malformed) while framing now.
    public let warnings: [String]
    /// The audio events read for augmented samples, kept (an N-TIDIGITS digit is ~10⁴ events).
    let audioEvents: AudioEventMemo

    public var count: Int { pairs.count }
    public var classCount: Int { 10 }
    public var visualShape: [Int] { configuration.visualShape }
    public var audioShape: [Int] { [configuration.timesteps, catalog.audioFormat.channelCount] }
    public func label(_ index: Int) -> Int { pairs[index].label }

    public func sample(_ index: Int) throws -> AudioVisualSample {
        guard index >= 0, index < pairs.count else {
            throw DatasetError.badConfiguration("sample index \(index) out of 0..<\(pairs.count)")
        }
        let p = pairs[index]
        return AudioVisualSample(visual: visualFrames.tensor(p.visual), audio: audioFrames.tensor(p.audio),
                                 label: p.label)
    }

    public func write(_ index: Int, row: Int, of batch: Int, visual: UnsafeMutablePointer<Float>,
                      audio: UnsafeMutablePointer<Float>) throws -> Int {
        guard index >= 0, index < pairs.count else {
            throw DatasetError.badConfiguration("sample index \(index) out of 0..<\(pairs.count)")
        }
        let p = pairs[index]
        visualFrames.decode(p.visual, row: row, of: batch, into: visual)
        audioFrames.decode(p.audio, row: row, of: batch, into: audio)
        return p.label
    }

    /// Sample `index` with its audio augmented: the visual frames from the store (the joint
    /// dataset has no visual augmentation), the audio's events (read once, then kept in
    /// memory) through `augmentation.audioPipeline` drawing from `SeededGenerator(seed:)`,
    /// then framed with `configuration.audioFraming`. Never touches the frame cache.
    public func sample(_ index: Int, augmentedBy augmentation: AugmentationSettings, seed: UInt64) throws -> AudioVisualSample {
        guard index >= 0, index < pairs.count else {
            throw DatasetError.badConfiguration("sample index \(index) out of 0..<\(pairs.count)")
        }
        try check(augmentation)
        let p = pairs[index]
        let events = try audioEvents.events(p.audio) { try catalog.events(ofAudio: p.audio) }
        var rng = SeededGenerator(seed: seed)
        let audio = configuration.audioFraming(augmentation.audioPipeline(events, using: &rng))
        return AudioVisualSample(visual: visualFrames.tensor(p.visual), audio: audio, label: p.label)
    }

    public func check(_ augmentation: AugmentationSettings) throws {
        guard augmentation.visualNames.isEmpty else {
            throw DatasetError.badConfiguration("--augment \(augmentation): \(augmentation.visualNames.joined(separator: ", ")) "
                + "augment DVS events, and the joint dataset's visual frames are cached; its audio takes adrop, ashift, acrop")
        }
    }

    /// One split. To get both, `load` frames (or opens the cache) only once.
    public init(configuration: JointDatasetConfiguration, split: Split) throws {
        let both = try JointDataset.load(configuration)
        self = split == .train ? both.train : both.test
    }

    private init(configuration: JointDatasetConfiguration, split: Split, catalog: JointDatasetCatalog,
                 visualFrames: FrameStore, audioFrames: FrameStore, warnings: [String]) throws {
        self.configuration = configuration; self.split = split; self.catalog = catalog
        self.visualFrames = visualFrames; self.audioFrames = audioFrames; self.warnings = warnings
        audioEvents = AudioEventMemo()
        pairs = try catalog.pairs(split: split, mode: configuration.splitMode,
                                  visualValid: visualFrames.valid, audioValid: audioFrames.valid)
    }

    /// Both splits, sharing one set of frames.
    public static func load(_ configuration: JointDatasetConfiguration) throws -> (train: JointDataset, test: JointDataset) {
        let catalog = try JointDatasetCatalog(configuration: configuration)
        let cacheFolder = configuration.cacheDirectory.map { URL(fileURLWithPath: $0) }

        let recordings = catalog.visual
        let transform = configuration.visualTransform
        let visualFraming = configuration.visualFraming
        let visualKey = configuration.visualSettingsKey + "\n" + recordings.map { sourceLine($0.url) }.joined(separator: "\n")
        let emptyVisual = EmptySampleTally(), emptyAudio = EmptySampleTally()
        let nmnist = catalog.visualFormat == .nmnist
        let visualName = catalog.visualFormat.rawValue
        let (visual, visualFailures) = try FrameStore.load(
            count: recordings.count, shape: configuration.visualShape,
            preferred: configuration.value == .binary ? .bits : .uint8,
            cache: cacheFolder.map { .init(directory: $0, name: nmnist ? "n-mnist" : "mnist-dvs", key: visualKey) },
            label: "\(visualName) frames", progress: configuration.showProgress, policy: configuration.badFiles
        ) { i in
            let events = nmnist ? try NMNIST.read(recordings[i].url) : try AEDAT.read(recordings[i].url)
            if events.count == 0 { emptyVisual.add(recordings[i].url.lastPathComponent) }
            return visualFraming(transform(events))
        }

        let audio = catalog.audio
        let file = catalog.audioFile, shd = catalog.shdFiles
        let audioFraming = configuration.audioFraming
        let audioSources = file.map { [$0.url] } ?? shd.keys.sorted { $0.rawValue > $1.rawValue }.map { shd[$0]!.url }
        let audioKey = configuration.audioSettingsKey + "\n" + audioSources.map(sourceLine).joined(separator: "\n") + "\n"
            + audio.map { "\($0.fileSplit.rawValue)/\($0.key)" }.joined(separator: "\n")
        let audioName = catalog.audioFormat.rawValue
        let (audioStore, audioFailures) = try FrameStore.load(
            count: audio.count, shape: [configuration.timesteps, catalog.audioFormat.channelCount],
            preferred: configuration.value == .binary ? .bits : .uint8,
            cache: cacheFolder.map { .init(directory: $0, name: file == nil ? "shd" : "n-tidigits", key: audioKey) },
            label: "\(audioName) frames", progress: configuration.showProgress, policy: configuration.badFiles
        ) { i in
            let events = try catalog.events(ofAudio: i)
            if events.count == 0 { emptyAudio.add(audio[i].key) }
            return audioFraming(events)
        }

        var warnings = visualFailures + audioFailures + catalog.malformedKeys.map { "malformed key \($0)" }
        for split in Split.allCases {
            guard let file, !file.duplicateKeys(split).isEmpty else { continue }
            let keys = file.duplicateKeys(split)
            warnings.append("\(file.url.path): \(keys.count) keys listed more than once in \(split.rawValue)_labels, "
                            + "each used once: \(keys.prefix(5).joined(separator: ", "))\(keys.count > 5 ? ", …" : "")")
        }
        for (tally, name) in [(emptyVisual, "\(visualName) recordings"), (emptyAudio, "\(audioName) samples")] {
            let names = tally.names
            if !names.isEmpty {
                warnings.append("\(names.count) \(name) have no events (all-zero inputs, trained on as such): "
                                + names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : ""))
            }
        }
        for (store, name) in [(visual, visualName), (audioStore, audioName)] where store.origin == .cacheHit {
            let skipped = store.valid.filter { !$0 }.count
            if skipped > 0, configuration.badFiles == .stop {
                throw DatasetError.io(file: store.file?.path ?? name,
                                      reason: "\(skipped) \(name) samples were skipped when this cache was built; delete it to see the errors")
            }
            if skipped > 0 {
                warnings.append("\(name): \(skipped) samples were skipped when the cache was built")
            }
        }
        if !warnings.isEmpty {
            FileHandle.standardError.write(Data("joint dataset: \(warnings.count) warnings about the source data (below)\n".utf8))
        }
        return (try JointDataset(configuration: configuration, split: .train, catalog: catalog,
                                 visualFrames: visual, audioFrames: audioStore, warnings: warnings),
                try JointDataset(configuration: configuration, split: .test, catalog: catalog,
                                 visualFrames: visual, audioFrames: audioStore, warnings: warnings))
    }

    /// "path<TAB>size<TAB>mtime<TAB>ctime<TAB>inode" of a source file (times in ns), so the
    /// cache key changes whenever the file does: a rewrite changes ctime even when size and
    /// mtime are put back (`touch -r`, `cp -p`), and a replacement by rename changes the inode.
    static func sourceLine(_ url: URL) -> String {
        var s = stat()
        guard stat(url.path, &s) == 0 else { return "\(url.path)\t-1" }
        func ns(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }
        return "\(url.path)\t\(s.st_size)\t\(ns(s.st_mtim))\t\(ns(s.st_ctim))\t\(s.st_ino)"
    }
}

/// The cochlea events of audio samples (by index into `catalog.audio`), read on first use
/// and kept. `@unchecked Sendable`: every access holds `lock`.
final class AudioEventMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [Int: CochleaEvents] = [:]
    func events(_ index: Int, read: () throws -> CochleaEvents) throws -> CochleaEvents {
        lock.lock()
        if let hit = kept[index] { lock.unlock(); return hit }
        lock.unlock()
        let events = try read()
        lock.lock(); kept[index] = events; lock.unlock()
        return events
    }
}

/// Names of the samples that had no events, collected by the two framing threads.
/// `@unchecked Sendable`: every access holds `lock`.
final class EmptySampleTally: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    func add(_ name: String) { lock.lock(); collected.append(name); lock.unlock() }
    var names: [String] { lock.lock(); defer { lock.unlock() }; return collected.sorted() }
}

extension JointDatasetCatalog {
    /// The cochlea events of audio sample `i` (N-TIDIGITS by key, SHD by sample number).
    func events(ofAudio i: Int) throws -> CochleaEvents {
        let a = audio[i]
        if let audioFile { return try audioFile.events(key: a.key, split: a.fileSplit) }
        guard let n = a.shdSample, let f = shdFiles[a.fileSplit] else {
            throw DatasetError.badConfiguration("\(audioSource): audio sample \(a.key) has no source file")
        }
        return try f.events(n)
    }
}
