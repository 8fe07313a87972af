import Foundation

/// Settings of training on a folder of event-camera recordings, visual only
/// (`EventFolderDataset`): DVS128 Gesture, CIFAR10-DVS, N-Caltech101 or N-MNIST, with the
/// folder's split, every class kept.
///
/// | kind           | sensor    | classes | split |
/// |----------------|-----------|---------|-------|
/// | `dvs-gesture`  | 128 × 128 | 11      | official (`trials_to_train.txt` / `trials_to_test.txt`), one sample per labels-CSV row |
/// | `cifar10-dvs`  | 128 × 128 | 10      | first ⌈0.9 n⌉ files of each class by number for training |
/// | `n-caltech101` | 240 × 180 | the class folders (101 + background) | first ⌈0.9 n⌉ files of each class by name |
/// | `n-mnist`      | 34 × 34   | 10      | `Train/`, `Test/` |
///
/// Framing: the events are fitted to the input's `width` × `height` by `SensorFit` (an
/// optional centred crop of `crop` × `crop` sensor pixels, downsampling by `downsample` or by
/// the largest factor that still covers the input, then a centred crop), then `DVSFraming`
/// gives `[T, P, H, W]`: T = `timesteps` equal bins over each sample's first to last event,
/// P = 2 (ON, OFF) or 1 (merged), binary values or counts. The audio part of each sample is
/// `[T, 1]` zeros. `spikefuse train --data DIR` detects the kind (`Kind.detect`) and takes
/// T, P, H, W from `--network`'s dvs input (32 × 32, P = 2, T = 64 without one).
///
/// Codable (a run's `config.json`).
public struct EventFolderConfiguration: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        case dvsGesture = "dvs-gesture"
        case cifar10DVS = "cifar10-dvs"
        case nCaltech101 = "n-caltech101"
        case nMNIST = "n-mnist"

        public var name: String {
            switch self {
            case .dvsGesture: return "DVS128 Gesture"
            case .cifar10DVS: return "CIFAR10-DVS"
            case .nCaltech101: return "N-Caltech101"
            case .nMNIST: return "N-MNIST"
            }
        }

        /// The sensor whose pixels the recordings address.
        public var sensor: SensorSize {
            switch self {
            case .dvsGesture, .cifar10DVS: return .dvs128
            case .nCaltech101: return NCaltech101.sensor
            case .nMNIST: return NMNIST.sensor
            }
        }

        /// The kind of a folder, by its layout; nil for anything else (the joint dataset's
        /// folders, which hold `n-tidigits.hdf5` or SHD files beside N-MNIST, included).
        public static func detect(_ folder: URL) -> Kind? {
            if DVSGestureFolder.isGestureFolder(folder) { return .dvsGesture }
            if NCaltech101Layout.looksLikeNCaltech101(folder) { return .nCaltech101 }
            if CIFAR10DVSFolder.isCIFAR10DVSFolder(folder) { return .cifar10DVS }
            let audio = ["n-tidigits.hdf5", "shd_train.h5", "shd_test.h5"].contains {
                FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
            }
            if NMNISTLayout.looksLikeNMNIST(folder), !audio { return .nMNIST }
            return nil
        }
    }

    public var folder: String
    public var kind: Kind
    /// The class count the folder gave when the run was set up; loading checks it still does.
    public var classes: Int
    public var timesteps: Int = 64
    /// 2: ON and OFF channels; 1: merged.
    public var polarities: Int = 2
    /// The input's height and width H, W (pixels after fitting).
    public var height: Int = 32
    public var width: Int = 32
    /// Side of the centred square of the sensor kept before downsampling (sensor pixels);
    /// nil keeps the whole sensor.
    public var crop: Int?
    /// Downsampling factor; nil: the largest that covers the input (`SensorFit`).
    public var downsample: Int?
    public var value: JointDatasetConfiguration.Value = .binary
    public var binning: JointDatasetConfiguration.Binning = .divideRecording
    /// Folder for the frame cache of clean (not augmented) frames; nil: memory only.
    public var cacheDirectory: String?
    public var badFiles: BadFilePolicy = .skip
    public var showProgress: Bool = true

    public init(folder: String, kind: Kind, classes: Int) {
        self.folder = folder; self.kind = kind; self.classes = classes
    }

    /// The folder at `path`, of the kind its layout shows; counts its classes. Errors name
    /// the path and the layouts looked for.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw DatasetError.badConfiguration("\(path): no such folder")
        }
        guard let kind = Kind.detect(url) else {
            throw DatasetError.badConfiguration("\(path): not a DVS128 Gesture (trials_to_train.txt), CIFAR10-DVS (class folders), "
                                                + "N-Caltech101 (Caltech101/) or N-MNIST (Train/, Test/) folder")
        }
        self.init(folder: url.path, kind: kind, classes: 0)
        switch kind {
        case .dvsGesture: classes = DVSGestureFolder.classCount
        case .cifar10DVS: classes = CIFAR10DVS.classNames.count
        case .nCaltech101: classes = try NCaltech101Layout(root: url).classNames().count
        case .nMNIST: classes = 10
        }
    }

    /// `[T, P, H, W]` after framing.
    public var visualShape: [Int] { [timesteps, polarities, height, width] }
    /// `[T, 1]`: no audio.
    public var audioShape: [Int] { [timesteps, 1] }

    public var sensorFit: SensorFit {
        SensorFit(sensor: kind.sensor, width: width, height: height,
                  crop: crop.map { SensorSize(width: $0, height: $0) }, factor: downsample)
    }

    public var framing: DVSFraming {
        DVSFraming(timesteps: timesteps, binning: binning.timeBinning, value: value.frameValue, mergePolarity: polarities == 1)
    }

    /// Takes T, P, H and W from a network's dvs input `[P, H, W]` (T only when `keepTimesteps`
    /// is false), then validates: an input this data cannot fill is an error naming both shapes.
    public mutating func fit(input: [Int], timesteps networkTimesteps: Int, keepTimesteps: Bool) throws {
        guard input.count == 3 else {
            throw DatasetError.badConfiguration("the network's dvs input is \(input), the data gives [P, H, W] frames")
        }
        let given = visualShape
        polarities = input[0]; height = input[1]; width = input[2]
        if !keepTimesteps { timesteps = networkTimesteps }
        guard (1...2).contains(polarities), height >= 1, width >= 1 else {
            throw DatasetError.badConfiguration("the network's dvs input [T, P, H, W] is \([networkTimesteps] + input), "
                                                + "the data gives \(given) after framing (P must be 1 or 2)")
        }
        try validate()
    }

    /// Throws for settings out of range, and when the fitted sensor cannot fill the input:
    /// the error names the sensor, the shape the data gives and the shape wanted.
    public func validate() throws {
        guard (1...100_000).contains(timesteps) else { throw DatasetError.badConfiguration("timesteps \(timesteps) out of 1…100000") }
        guard (1...2).contains(polarities) else { throw DatasetError.badConfiguration("polarities \(polarities) must be 1 or 2") }
        guard height >= 1, width >= 1 else { throw DatasetError.badConfiguration("input \(height)×\(width) must be at least 1×1") }
        if let crop, crop < 1 { throw DatasetError.badConfiguration("crop \(crop) must be ≥ 1") }
        if let downsample, downsample < 1 { throw DatasetError.badConfiguration("downsample \(downsample) must be ≥ 1") }
        if case .fixedDuration(let d) = binning, d < 1 { throw DatasetError.badConfiguration("fixedDuration \(d) µs must be ≥ 1") }
        let f = sensorFit
        guard f.fits else {
            let d = f.downsampled
            throw DatasetError.badConfiguration("\(kind.name) in \(folder): its \(kind.sensor) sensor"
                + (crop.map { ", cropped to \($0)×\($0)," } ?? "") + " downsampled by \(f.factor) gives [T, P, H, W] = "
                + "\([timesteps, polarities, d.height, d.width]) after framing, the network wants \(visualShape)")
        }
    }

    /// The settings that change frames, as a stable string (part of the cache key, with the
    /// source files).
    var settingsKey: String {
        let f = sensorFit
        return "\(kind.rawValue) events v1 classes=\(classes) T=\(timesteps) P=\(polarities) H=\(height) W=\(width) "
            + "crop=\(crop.map(String.init) ?? "none") factor=\(f.factor) value=\(value.rawValue) binning=\(binning)"
    }
}

/// One sample of an event folder: a recording (and for DVS128 Gesture, the window cut from it).
public struct EventFolderSample: Sendable, Hashable {
    public var url: URL
    public var label: Int
    /// DVS128 Gesture's labels-CSV row; nil: the whole recording.
    public var window: DVSGestureWindow?
}

extension EventFolderConfiguration {
    /// The samples of a split, in a fixed order (the layout's). Reads only file lists and CSVs.
    public func samples(_ split: Split) throws -> [EventFolderSample] {
        let root = URL(fileURLWithPath: folder)
        switch kind {
        case .dvsGesture:
            let gesture = try DVSGestureFolder(root)
            return try gesture.samples(split).map {
                EventFolderSample(url: gesture.recordingURL(trial: $0.trial), label: $0.label, window: $0.window)
            }
        case .cifar10DVS:
            return try CIFAR10DVSFolder(root).samples(split).map { EventFolderSample(url: $0.url, label: $0.label) }
        case .nCaltech101:
            let all = try NCaltech101Layout(root: root).recordings()
            return Dictionary(grouping: all, by: \.label).sorted { $0.key < $1.key }.flatMap { _, files -> [EventFolderSample] in
                let cut = CIFAR10DVSFolder.trainCount(files.count)
                return (split == .train ? files[..<cut] : files[cut...]).map { EventFolderSample(url: $0.url, label: $0.label) }
            }
        case .nMNIST:
            return try NMNISTLayout(root: root).recordings().filter { $0.split == split }
                .map { EventFolderSample(url: $0.url, label: $0.digit) }
        }
    }

    /// The files whose state keys a split's cache (recordings, and Gesture's lists and CSVs).
    func sourceFiles(_ samples: [EventFolderSample]) -> [URL] {
        var urls = Set(samples.map(\.url))
        if kind == .dvsGesture {
            let root = URL(fileURLWithPath: folder)
            urls.insert(root.appendingPathComponent(DVSGestureFolder.trainListName))
            urls.insert(root.appendingPathComponent(DVSGestureFolder.testListName))
            for u in Array(urls) where u.pathExtension == "aedat" {
                urls.insert(u.deletingLastPathComponent().appendingPathComponent(u.deletingPathExtension().lastPathComponent + "_labels.csv"))
            }
        }
        return urls.sorted { $0.path < $1.path }
    }

    /// The events of one recording, in the sensor's coordinates (errors name the file).
    func readRecording(_ url: URL) throws -> DVSEvents {
        switch kind {
        case .dvsGesture: return try AEDAT31.read(url)
        case .cifar10DVS: return try CIFAR10DVS.read(url)
        case .nCaltech101: return try NCaltech101.read(url)
        case .nMNIST: return try NMNIST.read(url)
        }
    }
}
