import EventIO
import Foundation

/// `spikefuse inspect FILE|DIR [--json] [--key KEY] [--scale S]`: what an event file, an
/// N-TIDIGITS HDF5 file (or one of its samples) or a data folder holds.
enum InspectCommand {
    static let command = Command(summary: "describe an event file, an N-TIDIGITS file or a data folder",
                                 run: run)

    static let help = """
    usage: spikefuse inspect FILE|DIR [--json] [--key KEY] [--scale 4|8|16] [--load [--cache CACHEDIR]]
      FILE.aedat        format, sensor size, events, duration, ON/OFF counts, label (MNIST-DVS name)
      FILE.hdf5         N-TIDIGITS sample counts per split and class; with --key one sample's summary
      DIR               per-class counts of grabbed_data*/scale{S} and n-tidigits.hdf5, joint split sizes
      --json            print one JSON object
      --load            (DIR) build the joint dataset with default settings, framing every sample
                        (or loading the cache in CACHEDIR), and report the times
    """

    static func run(_ arguments: [String]) throws {
        var path: String?
        var json = false
        var key: String?
        var scale = 4
        var load = false
        var cache: String?
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--help", "-h": print(help); return
            case "--json": json = true
            case "--load": load = true
            case "--cache":
                guard i + 1 < arguments.count else { throw UsageError("--cache needs a folder\n" + help) }
                cache = arguments[i + 1]; i += 1
            case "--key":
                guard i + 1 < arguments.count else { throw UsageError("--key needs a value\n" + help) }
                key = arguments[i + 1]; i += 1
            case "--scale":
                guard i + 1 < arguments.count, let s = Int(arguments[i + 1]), [4, 8, 16].contains(s) else {
                    throw UsageError("--scale needs 4, 8 or 16\n" + help)
                }
                scale = s; i += 1
            case let a where a.hasPrefix("-"): throw UsageError("unknown option \(a)\n" + help)
            case let a:
                guard path == nil else { throw UsageError("one FILE or DIR only\n" + help) }
                path = a
            }
            i += 1
        }
        guard let path else { throw UsageError(help) }
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw UsageError("\(path): no such file or folder")
        }
        if isFolder.boolValue, load {
            try loadDataset(url, scale: scale, cache: cache)
        } else if isFolder.boolValue {
            let s = try DatasetInspector.folder(url, scale: scale)
            if json { print(try DatasetInspector.json(s)); return }
            print("\(s.folder): \(s.format), scale \(s.scale)")
            print("class  visual  audio")
            for c in s.classes {
                print(String(format: "%5d  %6@  %5@", c.label, c.visual.map { "\($0)" } ?? "-", c.audio.map { "\($0)" } ?? "-"))
            }
            if let problem = s.problem { print("joint dataset not possible: \(problem)") }
            else { print("joint split (first 50 % per class): train \(s.train), test \(s.test)") }
        } else if ["hdf5", "h5"].contains(url.pathExtension.lowercased()) {
            let file = try NTidigitsFile.open(url)
            if let key {
                try printFile(try DatasetInspector.ntidigitsSample(file, key: key), json: json)
                return
            }
            let s = DatasetInspector.ntidigits(file)
            if json { print(try DatasetInspector.json(s)); return }
            print("\(s.file): \(s.format)")
            for (name, counts) in [("train", s.train), ("test", s.test)] {
                let classes = counts.perClass.keys.sorted().map { "\($0):\(counts.perClass[$0]!)" }.joined(separator: " ")
                print("  \(name): \(counts.samples) samples, \(counts.singleDigit) single-digit [\(classes)]")
            }
            if s.malformedKeys > 0 { print("  \(s.malformedKeys) malformed keys") }
        } else {
            try printFile(try DatasetInspector.aedat(url), json: json)
        }
    }

    /// Builds (or loads) the joint dataset and reports how long it took.
    static func loadDataset(_ url: URL, scale: Int, cache: String?) throws {
        var configuration = JointDatasetConfiguration(dataFolder: url, cacheDirectory: cache.map { URL(fileURLWithPath: $0) })
        configuration.scale = scale
        let start = Date()
        let (train, test) = try JointDataset.load(configuration)
        let loaded = Date().timeIntervalSince(start)
        let decodeStart = Date()
        let n = min(train.count, 200)
        for i in 0..<n { _ = try train.sample(i) }
        let perSample = Date().timeIntervalSince(decodeStart) / Double(max(n, 1))
        print("""
        joint dataset: train \(train.count) pairs, test \(test.count) pairs
          visual \(train.visualShape) (\(train.visualFrames.encoding), \(train.visualFrames.origin)), audio \(train.audioShape) (\(train.audioFrames.encoding), \(train.audioFrames.origin))
          ready in \(String(format: "%.3f", loaded)) s; sample(i) takes \(String(format: "%.3f", perSample * 1000)) ms
        """)
        if !train.warnings.isEmpty { print("  \(train.warnings.count) source samples skipped") }
    }

    static func printFile(_ s: EventFileSummary, json: Bool) throws {
        if json { print(try DatasetInspector.json(s)); return }
        print("""
        \(s.file)
          format    \(s.format)
          sensor    \(s.sensor)
          events    \(s.events) (ON \(s.onEvents), OFF \(s.offEvents))
          duration  \(String(format: "%.3f", Double(s.durationUs) / 1e6)) s (\(s.durationUs) µs)
          label     \(s.label ?? "-")
        """)
    }
}

/// A command-line mistake; printed as is.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
