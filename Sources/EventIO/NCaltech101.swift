import Foundation
import SpikeTensor

/// N-Caltech101 (Orchard et al., 2015): the Caltech101 images recorded by an ATIS sensor
/// making three saccades, 101 object classes plus `BACKGROUND_Google`.
///
/// Each recording is a `.bin` file in the N-MNIST format (5-byte events, 23-bit µs
/// timestamps, in time order; see `NMNIST`). The images differ in size, so the events of one
/// recording cover at most 240 × 180 pixels: x 0…239, y 0…179, origin top-left, ON = 1.
/// Events outside that box are an error naming the file and byte offset.
///
/// Folder layout: `{root}/Caltech101/{class name}/image_NNNN.bin` (the `Caltech101` level
/// may be left out); class names are the folder names, sorted by their bytes, label k the
/// k-th of them. The dataset comes without an official train/test split.
public enum NCaltech101 {
    /// The largest extent of a recording's events (the published files stay inside it).
    public static let sensor = SensorSize(width: 240, height: 180)

    /// The events of one recording (errors name the file and byte offset).
    public static func read(_ url: URL) throws -> DVSEvents {
        try NMNIST.decode(try _FileBytes.read(url), source: url.path, sensor: sensor)
    }

    /// Writes `events` (inside 240 × 180, time order) in the format, atomically.
    public static func write(_ events: DVSEvents, to url: URL) throws {
        try NMNIST.write(events, to: url, sensor: sensor)
    }
}

/// One recording of an N-Caltech101 folder tree.
public struct NCaltech101Recording: Sendable, Hashable {
    public var url: URL
    /// Index of `className` in the layout's sorted class names.
    public var label: Int
    public var className: String
}

/// The unpacked N-Caltech101 dataset: `{root}/Caltech101/{class}/*.bin` or `{root}/{class}/*.bin`.
public struct NCaltech101Layout: Sendable {
    public var root: URL
    public init(root: URL) { self.root = root }

    /// The folder holding the class folders: `{root}/Caltech101` when it exists, else `root`.
    public var classRoot: URL {
        let inner = root.appendingPathComponent("Caltech101")
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: inner.path, isDirectory: &isFolder) && isFolder.boolValue ? inner : root
    }

    /// Whether `root` looks like N-Caltech101: it is or holds a folder named `Caltech101`.
    public static func looksLikeNCaltech101(_ root: URL) -> Bool {
        root.lastPathComponent == "Caltech101"
            || FileManager.default.fileExists(atPath: root.appendingPathComponent("Caltech101").path)
    }

    /// Whether the recording `url` sits in an N-Caltech101 tree (`…/Caltech101/{class}/x.bin`).
    public static func holds(_ url: URL) -> Bool {
        url.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent == "Caltech101"
    }

    /// The class names: the sub-folders of `classRoot` that hold `.bin` files, sorted.
    public func classNames() throws -> [String] {
        let folder = classRoot
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw EventIOError.unreadable(file: folder.path, detail: "not a readable folder")
        }
        return names.filter { name in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(name).path)) ?? []
            return files.contains { $0.hasSuffix(".bin") }
        }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Every recording, ordered by class name, then file name.
    public func recordings() throws -> [NCaltech101Recording] {
        let classes = try classNames()
        var out: [NCaltech101Recording] = []
        for (label, name) in classes.enumerated() {
            let dir = classRoot.appendingPathComponent(name)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for file in files.sorted() where file.hasSuffix(".bin") {
                out.append(NCaltech101Recording(url: dir.appendingPathComponent(file), label: label, className: name))
            }
        }
        guard !out.isEmpty else {
            throw EventIOError.malformed(file: root.path, detail: "no N-Caltech101 recordings (expected Caltech101/{class}/image_NNNN.bin)")
        }
        return out
    }
}
