import Foundation
import SpikeTensor

/// The name of one MNIST-DVS recording, `mnist_{d}_scale{SS}_{NNNN}.aedat`
/// (e.g. `mnist_0_scale04_0001.aedat`: digit 0, scale 4, recording 1). Names with a
/// suffix before `.aedat` (e.g. the cut `…_0001_qt1.aedat` samples) still parse.
public struct MNISTDVSFileName: Sendable, Hashable {
    /// The digit shown, 0–9 (the class label).
    public var digit: Int
    /// Display scale: 4, 8 or 16.
    public var scale: Int
    /// Recording number within the digit (1-based in the original dataset).
    public var index: Int

    public init(digit: Int, scale: Int, index: Int) {
        self.digit = digit; self.scale = scale; self.index = index
    }

    /// Parses a file name (not a path); nil when it is not an MNIST-DVS name.
    public init?(parsing name: String) {
        guard name.hasSuffix(".aedat") else { return nil }
        let fields = name.dropLast(6).split(separator: "_")
        guard fields.count >= 4, fields[0] == "mnist",
              fields[1].count == 1, let digit = Int(fields[1]), (0...9).contains(digit),
              fields[2].hasPrefix("scale"), let scale = Int(fields[2].dropFirst(5)),
              [4, 8, 16].contains(scale),
              !fields[3].isEmpty, fields[3].allSatisfy(\.isNumber), let index = Int(fields[3])
        else { return nil }
        self.init(digit: digit, scale: scale, index: index)
    }

    /// The canonical file name, e.g. `mnist_3_scale08_0042.aedat`.
    public var fileName: String {
        "mnist_\(digit)_scale\(scale < 10 ? "0" : "")\(scale)_\(String(format: "%04d", index)).aedat"
    }
}

/// One recording found in an MNIST-DVS folder tree.
public struct MNISTDVSRecording: Sendable, Hashable {
    public var name: MNISTDVSFileName
    public var url: URL
    public var digit: Int { name.digit }
}

/// The unpacked MNIST-DVS dataset: `{root}/grabbed_data{d}/scale{4,8,16}/mnist_{d}_scale{04,08,16}_{NNNN}.aedat`
/// (note: folder `scale4`, file `scale04`), 1,000 recordings per digit and scale.
public struct MNISTDVSLayout: Sendable {
    public var root: URL
    /// Display scale 4, 8 or 16 (default 4: the smallest digit, about 30 px).
    public var scale: Int

    public init(root: URL, scale: Int = 4) {
        self.root = root; self.scale = scale
    }

    /// The folder of one digit at this scale.
    public func folder(digit: Int) -> URL {
        root.appendingPathComponent("grabbed_data\(digit)").appendingPathComponent("scale\(scale)")
    }

    /// Digits whose `grabbed_data{d}` folder exists under `root`.
    public func digitsPresent() -> [Int] {
        (0...9).filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("grabbed_data\($0)").path) }
    }

    /// All recordings of the chosen scale, ordered by digit, then by index.
    ///
    /// Files whose name is not an MNIST-DVS name of this digit and scale are ignored.
    /// Throws `DatasetError.missingFolder` when the root, or a digit folder that
    /// `requireAllDigits` demands, or the `scale{s}` folder of a present digit is missing.
    public func recordings(requireAllDigits: Bool = true) throws -> [MNISTDVSRecording] {
        guard [4, 8, 16].contains(scale) else {
            throw DatasetError.badConfiguration("MNIST-DVS scale \(scale) is not 4, 8 or 16")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw DatasetError.missingFolder(path: root.path, hint: "the MNIST-DVS root, holding grabbed_data0 … grabbed_data9")
        }
        let digits = requireAllDigits ? Array(0...9) : digitsPresent()
        var result: [MNISTDVSRecording] = []
        for d in digits {
            let folder = self.folder(digit: d)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
                throw DatasetError.missingFolder(path: folder.path,
                                                 hint: "expected grabbed_data\(d)/scale\(scale)/mnist_\(d)_scale\(scale < 10 ? "0" : "")\(scale)_NNNN.aedat")
            }
            let found = names.compactMap { name -> MNISTDVSRecording? in
                guard let parsed = MNISTDVSFileName(parsing: name), parsed.digit == d, parsed.scale == scale
                else { return nil }
                return MNISTDVSRecording(name: parsed, url: folder.appendingPathComponent(name))
            }
            result += found.sorted { ($0.name.index, $0.url.lastPathComponent) < ($1.name.index, $1.url.lastPathComponent) }
        }
        return result
    }
}
