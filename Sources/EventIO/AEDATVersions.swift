import Foundation
import SpikeTensor

/// The `.aedat` flavours EventIO reads, told apart by the version line and, for CIFAR10-DVS
/// (an AEDAT 2.0 file with its own address layout), by the file's name or class folder.
public enum AEDATFlavour: String, Sendable, Equatable {
    /// AEDAT 2.0 with DVS128 addresses as MNIST-DVS has them (`AEDAT`).
    case aedat2 = "AEDAT 2.0 (DVS128)"
    /// AEDAT 3.1 (`AEDAT31`).
    case aedat31 = "AEDAT 3.1"
    /// CIFAR10-DVS's AEDAT 2.0 (`CIFAR10DVS`).
    case cifar10DVS = "CIFAR10-DVS (AEDAT 2.0, DVS128)"
    /// AEDAT 4.0 (`AEDAT4`).
    case aedat4 = "AEDAT 4.0"

    /// The flavour of `bytes` read from `url`: `#!AER-DAT3.1` → 3.1, `#!AER-DAT4.0` → 4.0; otherwise CIFAR10-DVS
    /// when `CIFAR10DVS.isRecordingName(url)`, else 2.0 (whose reader reports a wrong header).
    public static func detect(_ bytes: [UInt8], url: URL) -> AEDATFlavour {
        if bytes.starts(with: Array(AEDAT31.versionLine.utf8)) { return .aedat31 }
        if bytes.starts(with: Array(AEDAT4.versionLine.utf8)) { return .aedat4 }
        return CIFAR10DVS.isRecordingName(url) ? .cifar10DVS : .aedat2
    }

    /// Reads an `.aedat` file of any flavour: its events and the flavour used.
    public static func read(_ url: URL) throws -> (events: DVSEvents, flavour: AEDATFlavour) {
        let bytes = try _FileBytes.read(url)
        let flavour = detect(bytes, url: url)
        let magic = Array("#!AER-DAT".utf8)
        if flavour == .aedat2 || flavour == .cifar10DVS, bytes.starts(with: magic),
           !bytes.starts(with: Array(AEDAT.versionLine.utf8)) {
            let version = String(decoding: bytes.dropFirst(magic.count).prefix { $0 > 32 && $0 < 127 }.prefix(8), as: UTF8.self)
            throw EventIOError.unsupportedEncoding(file: url.path,
                detail: "AEDAT version '\(version)' is not read (AEDAT 2.0, 3.1 and 4.0 are)")
        }
        switch flavour {
        case .aedat31: return (try AEDAT31.decode(bytes, source: url.path), flavour)
        case .cifar10DVS: return (try CIFAR10DVS.decode(bytes, source: url.path), flavour)
        case .aedat2: return (try AEDAT.decode(bytes, source: url.path), flavour)
        case .aedat4: return (try AEDAT4.decode(bytes, source: url.path), flavour)
        }
    }
}

/// Per-class sample counts of a dataset folder with an official (or conventional) split.
public struct EventDatasetFolderSummary: Codable, Sendable, Equatable {
    public var folder: String
    /// "DVS128 Gesture" or "CIFAR10-DVS".
    public var format: String
    /// Class names by label.
    public var classes: [String]
    public var trainPerClass: [Int]
    public var testPerClass: [Int]
    public var train: Int
    public var test: Int
    /// How the split was made.
    public var split: String
    enum CodingKeys: String, CodingKey {
        case folder, format, classes, trainPerClass = "train_per_class", testPerClass = "test_per_class", train, test, split
    }
}

extension DatasetInspector {
    /// Counts of a DVS128 Gesture or CIFAR10-DVS folder, or nil for another folder.
    /// Gesture counts come from the labels CSVs (the recordings are not read).
    public static func eventDatasetFolder(_ url: URL) throws -> EventDatasetFolderSummary? {
        if DVSGestureFolder.isGestureFolder(url) {
            let g = try DVSGestureFolder(url)
            let train = try g.countsPerClass(.train), test = try g.countsPerClass(.test)
            return EventDatasetFolderSummary(folder: url.path, format: "DVS128 Gesture", classes: DVSGestureFolder.classNames,
                                             trainPerClass: train, testPerClass: test,
                                             train: train.reduce(0, +), test: test.reduce(0, +),
                                             split: "official: \(DVSGestureFolder.trainListName) / \(DVSGestureFolder.testListName), one sample per labels-CSV row")
        }
        if CIFAR10DVSFolder.isCIFAR10DVSFolder(url) {
            let c = try CIFAR10DVSFolder(url)
            let train = c.countsPerClass(.train), test = c.countsPerClass(.test)
            return EventDatasetFolderSummary(folder: url.path, format: "CIFAR10-DVS", classes: CIFAR10DVS.classNames,
                                             trainPerClass: train, testPerClass: test,
                                             train: train.reduce(0, +), test: test.reduce(0, +),
                                             split: "first 90 % of each class by file number for training (no official split)")
        }
        return nil
    }
}
