import Foundation
import SpikeTensor

/// CIFAR10-DVS (Li et al. 2017) in its original form: 10,000 AEDAT 2.0 recordings of a
/// DVS128 (128×128) watching CIFAR-10 images move on a monitor, in class-named folders
///
///     airplane/cifar10_airplane_0.aedat … cifar10_airplane_999.aedat
///     automobile/ bird/ cat/ deer/ dog/ frog/ horse/ ship/ truck/
///
/// File layout: `#` header lines, then 8-byte records, a big-endian u32 address and a
/// big-endian u32 timestamp (µs), as `AEDAT` (2.0). Address bits, and the axis convention of
/// the public loaders (SpikingJelly's and Tonic's CIFAR10DVS, after the events-tfds fix), which
/// puts the pictures upright:
///
///     bit 0      raw polarity, 0 = ON        polarity = 1 − bit 0 (1 = ON, 0 = OFF)
///     bits 1–7   raw x                       y = 127 − raw x   (row from the top)
///     bits 8–14  raw y                       x = 127 − raw y   (column from the left)
///
/// That is, x and y are swapped and both mirrored compared with MNIST-DVS. Records with bit
/// 15 (jAER's external event marker) are skipped; bits 16–31 set are an error (the public
/// loaders mask them away; no CIFAR10-DVS file is expected to have them). Times are kept as
/// recorded (µs, unwrapped like `AEDAT`), not shifted to 0.
///
/// There is no official train/test split: `CIFAR10DVSFolder` uses the common one, the first
/// 90 % of each class by file number for training and the rest for testing.
public enum CIFAR10DVS {
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]
    public static let sensor = SensorSize.dvs128

    /// Reads one CIFAR10-DVS recording. `options` set what `AEDAT` does with external events
    /// and backward timestamps; its `sensor` and `flipX` are ignored.
    public static func read(_ url: URL, options: AEDATReadOptions = .init()) throws -> DVSEvents {
        fromRawAEDAT(try AEDAT.read(url, options: rawOptions(options)))
    }

    /// Decodes CIFAR10-DVS bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String, options: AEDATReadOptions = .init()) throws -> DVSEvents {
        fromRawAEDAT(try AEDAT.decode(bytes, source: source, options: rawOptions(options)))
    }

    /// Whether a file is a CIFAR10-DVS recording by its name: `cifar10_<class>_N.aedat`, or
    /// any `.aedat` file in a folder named after a CIFAR-10 class.
    public static func isRecordingName(_ url: URL) -> Bool {
        guard url.pathExtension.lowercased() == "aedat" else { return false }
        return url.lastPathComponent.lowercased().hasPrefix("cifar10_")
            || classNames.contains(url.deletingLastPathComponent().lastPathComponent)
    }

    /// The class of a recording: its folder's name when that is a CIFAR-10 class, else the
    /// `<class>` of `cifar10_<class>_N.aedat`.
    public static func label(of url: URL) -> String? {
        let folder = url.deletingLastPathComponent().lastPathComponent
        return classNames.first { $0 == folder || url.lastPathComponent.hasPrefix("cifar10_\($0)_") }
    }

    static func rawOptions(_ options: AEDATReadOptions) -> AEDATReadOptions {
        var o = options
        o.sensor = .dvs128; o.flipX = false
        return o
    }

    /// AEDAT 2.0 events read with `flipX: false` (x = raw x, y = raw y, polarity already
    /// 1 − bit 0) → CIFAR10-DVS axes: x = 127 − raw y, y = 127 − raw x.
    static func fromRawAEDAT(_ raw: DVSEvents) -> DVSEvents {
        var e = raw
        e.sensor = sensor
        swap(&e.x, &e.y)                     // in place: no new columns
        for column in [\DVSEvents.x, \DVSEvents.y] {
            e[keyPath: column].withUnsafeMutableBufferPointer { v in
                for i in v.indices { v[i] = 127 &- (v[i] & 0x7F) }
            }
        }
        return e
    }
}

/// A CIFAR10-DVS folder: one subfolder per class (`CIFAR10DVS.classNames`), each with its
/// `.aedat` recordings. Files are ordered by the number in their name (`cifar10_cat_12`
/// after `cifar10_cat_2`), then by name; the first ⌈0.9·n⌉ of a class are the train split.
public struct CIFAR10DVSFolder: Sendable {
    public let folder: URL
    /// Recordings per label 0–9, in order.
    public let files: [[URL]]
    /// The share of each class used for training (0.9).
    public static let trainFraction = 0.9

    /// Whether `folder` has at least one of the ten class folders and no other layout marker.
    public static func isCIFAR10DVSFolder(_ folder: URL) -> Bool {
        CIFAR10DVS.classNames.contains {
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path, isDirectory: &isFolder)
                && isFolder.boolValue
        }
    }

    /// Lists the class folders; a missing class folder is an error naming it.
    public init(_ folder: URL) throws {
        self.folder = folder
        files = try CIFAR10DVS.classNames.map { name in
            let sub = folder.appendingPathComponent(name)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: sub.path) else {
                throw DatasetError.missingFolder(path: sub.path,
                    hint: "a CIFAR10-DVS folder has one subfolder per class: \(CIFAR10DVS.classNames.joined(separator: ", "))")
            }
            return names.filter { $0.lowercased().hasSuffix(".aedat") }
                .sorted { (Self.number(in: $0), $0) < (Self.number(in: $1), $1) }
                .map { sub.appendingPathComponent($0) }
        }
    }

    /// The recordings of a split with their labels 0–9, class by class.
    public func samples(_ split: Split) -> [(url: URL, label: Int)] {
        files.enumerated().flatMap { label, urls -> [(url: URL, label: Int)] in
            let cut = Self.trainCount(urls.count)
            let chosen = split == .train ? urls[..<cut] : urls[cut...]
            return chosen.map { ($0, label) }
        }
    }

    /// Samples per label 0–9 of a split.
    public func countsPerClass(_ split: Split) -> [Int] {
        files.map { split == .train ? Self.trainCount($0.count) : $0.count - Self.trainCount($0.count) }
    }

    /// ⌈0.9·n⌉ (900 of 1000).
    static func trainCount(_ n: Int) -> Int { (n * 9 + 9) / 10 }

    /// The last run of digits in a file name (`cifar10_cat_12.aedat` → 12), or −1.
    static func number(in name: String) -> Int {
        let stem = name.split(separator: ".").first.map(String.init) ?? name
        let digits = stem.reversed().prefix { $0.isNumber }
        return digits.isEmpty ? -1 : Int(String(digits.reversed())) ?? -1
    }
}
