import Foundation
import SpikeTensor

/// One split of an event folder (`EventFolderConfiguration`: DVS128 Gesture, CIFAR10-DVS,
/// N-Caltech101, N-MNIST) as a visual-only dataset: `visual` is the sample's events fitted
/// (`SensorFit`) and framed to `[T, P, H, W]`, `audio` a `[T, 1]` zero tensor.
///
/// Clean samples are framed once by `load` (through the frame cache when the configuration
/// names one). Augmented samples (`sample(_:augmentedBy:seed:)`) are read and framed anew on
/// every call and never touch the cache, so clean frames are never served for an augmented
/// sample nor the reverse. That costs one read of the recording per augmented sample (for
/// DVS128 Gesture the trial's whole recording; the last two are kept in memory).
public struct EventFolderDataset: AugmentableDataset {
    public let configuration: EventFolderConfiguration
    public let split: Split
    /// Every sample of the split, in layout order.
    public let all: [EventFolderSample]
    /// Clean frames of every sample of `all`; nil: framed on demand.
    public let frames: FrameStore?
    /// Indices into `all` of the samples in use (those that framed, under `BadFilePolicy.skip`).
    let used: [Int]
    let recordings: RecentRecordings

    /// The split's samples, framed on demand (no cache).
    public init(_ configuration: EventFolderConfiguration, split: Split) throws {
        self.configuration = configuration; self.split = split
        all = try configuration.samples(split); frames = nil; used = Array(all.indices)
        recordings = RecentRecordings(configuration)
    }

    init(_ configuration: EventFolderConfiguration, split: Split, all: [EventFolderSample], frames: FrameStore,
         recordings: RecentRecordings) {
        self.configuration = configuration; self.split = split; self.all = all; self.frames = frames
        used = all.indices.filter { frames.valid[$0] }
        self.recordings = recordings
    }

    public var count: Int { used.count }
    public var classCount: Int { configuration.classes }
    public var visualShape: [Int] { configuration.visualShape }
    public var audioShape: [Int] { configuration.audioShape }
    public func label(_ index: Int) -> Int { all[used[index]].label }

    /// The events of sample `index`, fitted to the input (`SensorFit`; with `fitted: false`, on
    /// the sensor as recorded), before framing.
    public func events(_ index: Int, fitted: Bool = true) throws -> DVSEvents {
        let recorded = try recordings.events(of: all[try position(index)])
        return fitted ? configuration.sensorFit(recorded) : recorded
    }

    public func sample(_ index: Int) throws -> AudioVisualSample {
        let i = try position(index)
        let visual = try frames.map { $0.tensor(i) } ?? configuration.framing(try events(index))
        return AudioVisualSample(visual: visual, audio: Tensor(zeros: audioShape), label: all[i].label)
    }

    /// The sample's events fitted to the input (the last crop at a random place with
    /// `augmentation.crop`, drawn first), then `augmentation`'s stages, all drawing from one
    public func check(_ augmentation: AugmentationSettings) throws {
        guard augmentation.audioNames.isEmpty else {
            throw DatasetError.badConfiguration("--augment \(augmentation): \(augmentation.audioNames.joined(separator: ", ")) "
                + "augment cochlea (audio) events, and \(configuration.folder) has DVS events only")
        }
    }

    /// `SeededGenerator(seed: seed)`, then framed.
    public func sample(_ index: Int, augmentedBy augmentation: AugmentationSettings, seed: UInt64) throws -> AudioVisualSample {
        try check(augmentation)
        var rng = SeededGenerator(seed: seed)
        let fit = configuration.sensorFit
        let recorded = try events(index, fitted: false)
        let fitted = augmentation.crop == true
            ? RandomCrop(width: fit.width, height: fit.height)(fit.downsampledRegion(recorded), using: &rng)
            : fit(recorded)
        let visual = configuration.framing(augmentation.pipeline(fitted, using: &rng))
        return AudioVisualSample(visual: visual, audio: Tensor(zeros: audioShape), label: label(index))
    }

    func position(_ index: Int) throws -> Int {
        guard index >= 0, index < count else {
            throw DatasetError.badConfiguration("\(configuration.folder): \(split.rawValue) sample \(index) out of 0..<\(count)")
        }
        return used[index]
    }

    /// The train and test splits, each framed once: from the frame cache when
    /// `cacheDirectory` holds frames of the same files (path, size, times, inode) and settings
    /// (stores `{kind}-{split}-…`), else framed now and cached. Also returns warnings about
    /// samples skipped. Errors name the folder or file.
    public static func load(_ configuration: EventFolderConfiguration) throws
        -> (train: EventFolderDataset, test: EventFolderDataset, warnings: [String]) {
        try configuration.validate()
        var warnings: [String] = []
        func framed(_ split: Split) throws -> EventFolderDataset {
            let all = try configuration.samples(split)
            let found = Set(all.map(\.label)).count
            if let top = all.map(\.label).max(), top >= configuration.classes {
                throw DatasetError.badConfiguration("\(configuration.folder): \(found) classes (label \(top)), the run was set up with \(configuration.classes)")
            }
            let key = configuration.settingsKey + "\n" + configuration.sourceFiles(all).map(JointDataset.sourceLine).joined(separator: "\n")
            let recordings = RecentRecordings(configuration)
            let (store, failures) = try FrameStore.load(
                count: all.count, shape: configuration.visualShape,
                preferred: configuration.value == .binary ? .bits : .uint8,
                cache: configuration.cacheDirectory.map {
                    .init(directory: URL(fileURLWithPath: $0), name: "\(configuration.kind.rawValue)-\(split.rawValue)", key: key)
                },
                label: "\(configuration.kind.name) \(split.rawValue) frames", progress: configuration.showProgress,
                policy: configuration.badFiles
            ) { i in configuration.framing(configuration.sensorFit(try recordings.events(of: all[i]))) }
            warnings += failures
            let skipped = store.valid.filter { !$0 }.count
            if store.origin == .cacheHit, skipped > 0 {
                guard configuration.badFiles == .skip else {
                    throw DatasetError.io(file: store.file?.path ?? configuration.folder,
                                          reason: "\(skipped) samples were skipped when this cache was built; delete it to see the errors")
                }
                warnings.append("\(configuration.folder): \(skipped) \(split.rawValue) samples were skipped when the cache was built")
            }
            return EventFolderDataset(configuration, split: split, all: all, frames: store, recordings: recordings)
        }
        return (try framed(.train), try framed(.test), warnings)
    }
}

/// The last two recordings read, so the windows of one DVS128 Gesture trial (one file, up to
/// a dozen samples) read it once. `@unchecked Sendable`: every access holds `lock`.
final class RecentRecordings: @unchecked Sendable {
    private let configuration: EventFolderConfiguration
    private let lock = NSLock()
    private var kept: [(url: URL, events: DVSEvents)] = []

    init(_ configuration: EventFolderConfiguration) { self.configuration = configuration }

    /// The sample's events in sensor coordinates: its recording, cut to its window if any.
    func events(of sample: EventFolderSample) throws -> DVSEvents {
        guard let window = sample.window else { return try configuration.readRecording(sample.url) }
        return DVSGestureFolder.cut(try recording(sample.url), window)
    }

    private func recording(_ url: URL) throws -> DVSEvents {
        lock.lock()
        if let hit = kept.first(where: { $0.url == url }) { lock.unlock(); return hit.events }
        lock.unlock()
        let events = try configuration.readRecording(url)
        lock.lock()
        kept.append((url, events))
        if kept.count > 2 { kept.removeFirst() }
        lock.unlock()
        return events
    }
}
