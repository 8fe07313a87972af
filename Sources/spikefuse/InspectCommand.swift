import EventIO
import Foundation

/// `spikefuse inspect FILE|DIR [--json] [--key KEY] [--scale S]`: what an event file, an
/// N-TIDIGITS HDF5 file (or one of its samples) or a data folder holds.
enum InspectCommand {
    static let command = Command(summary: "describe an event file, an N-TIDIGITS file or a data folder",
                                 run: run)

    static let help = """
    usage: spikefuse inspect FILE|DIR [--json] [--key KEY] [--scale 4|8|16] [--load [--cache CACHEDIR]]
      FILE.aedat        format, sensor size, events, duration, ON/OFF counts, label (MNIST-DVS name);
                        AEDAT 2.0, AEDAT 3.1 (DVS128 Gesture, DAVIS) and CIFAR10-DVS recordings
      FILE.aedat4       the same for AEDAT 4.0 (DV: DVXplorer, DAVIS346; uncompressed, LZ4, Zstd), and
                        its streams (events EVTS, frames FRME, IMU IMUS, triggers TRIG …)
      DIR (Gesture)     a DVS128 Gesture folder (trials_to_train.txt …): train/test samples per class
      DIR (CIFAR10-DVS) class folders airplane/ … truck/: samples per class, 90/10 split
      FILE.bin          the same for an N-MNIST recording (label: its digit folder), or an
                        N-Caltech101 one when it sits in Caltech101/{class}/ (label: the class)
      FILE.raw, .dat    the same for a Prophesee EVT 2.0/2.1/3.0 RAW or DAT recording (any event file
                        format `spikefuse convert --help` lists; found by content, else extension)
      FILE.hdf5         N-TIDIGITS sample counts per split and class; with --key one sample's summary
      FILE.h5           an SHD or SSC file (spikes/times, spikes/units, labels, extra/keys):
                        samples per class with the class names; --key N summarises sample N
      DIR               per-class counts of grabbed_data*/scale{S} (or N-MNIST's Train/, Test/, or
                        N-Caltech101's Caltech101/{class}/) and
                        n-tidigits.hdf5 (or shd_train.h5, shd_test.h5), joint split sizes
      --json            print one JSON object
      --load            (DIR) build the joint dataset with default settings, framing every sample
                        (or loading the cache in CACHEDIR), and report the times
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        let json = a.flag("json"), load = a.flag("load")
        let key = try a.string("key"), cache = try a.string("cache")
        let scale = try a.int("scale") ?? 4
        try a.finish()
        guard [4, 8, 16].contains(scale) else { throw UsageError("--scale needs 4, 8 or 16") }
        guard a.positional.count == 1, let path = a.positional.first else {
            throw UsageError("inspect needs one FILE or DIR (see --help)")
        }
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw UsageError("\(path): no such file or folder")
        }
        if isFolder.boolValue, !load, let s = try DatasetInspector.eventDatasetFolder(url) {
            try printEventDatasetFolder(s, json: json)
        } else if isFolder.boolValue, load {
            try loadDataset(url, scale: scale, cache: cache)
        } else if isFolder.boolValue, case let c = JointDatasetConfiguration(dataFolder: url),
                  c.visualFormat == .nmnist || c.audioFormat == .shd {
            try communityFolder(url, scale: scale, json: json)
        } else if isFolder.boolValue, NCaltech101Layout.looksLikeNCaltech101(url) {
            try ncaltech101Folder(url, json: json)
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
            if let a = s.audioFile {
                if a.duplicateKeys > 0 { print("n-tidigits.hdf5: \(a.duplicateKeys) keys listed more than once (each used once)") }
                if a.emptySamples > 0 { print("n-tidigits.hdf5: \(a.emptySamples) samples with no events") }
                if a.unreadableSamples > 0 { print("n-tidigits.hdf5: \(a.unreadableSamples) samples that do not read") }
            }
        } else if ["hdf5", "h5"].contains(url.pathExtension.lowercased()) {
            switch try CochleaHDF5File.open(url) {
            case .shd(let shd):
                if let key {
                    guard let index = Int(key) else { throw UsageError("an SHD file's --key is a sample number, got '\(key)'") }
                    try printFile(try DatasetInspector.shdSample(shd, index: index), json: json)
                    return
                }
                var perClass = [Int](repeating: 0, count: shd.classes)
                for label in shd.labels { perClass[label] += 1 }
                let ssc = shd.classes == SHDFile.sscClassCount
                if json {
                    let object: [String: Any] = ["file": url.path, "format": ssc ? "SSC" : "SHD", "samples": shd.count,
                                                 "classes": shd.classes, "class_names": shd.classNames, "per_class": perClass]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                    return
                }
                print("\(url.path): \(ssc ? "SSC (Spiking Speech Commands)" : "SHD (Spiking Heidelberg Digits)"), \(shd.count) samples, "
                      + "\(shd.classes) classes, \(SHDFile.channelCount) channels")
                if shd.classNames.isEmpty {
                    print("  per class (0–9 English, 10–19 German): " + perClass.enumerated().map { "\($0):\($1)" }.joined(separator: " "))
                } else {
                    print("  per class: " + perClass.enumerated().map { "\($0) \(shd.classNames[$0]):\($1)" }.joined(separator: " "))
                }
            case .ntidigits(let file):
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
                if s.duplicateKeys > 0 { print("  \(s.duplicateKeys) keys listed more than once (each used once)") }
                if s.emptySamples > 0 { print("  \(s.emptySamples) samples with no events") }
                if s.unreadableSamples > 0 { print("  \(s.unreadableSamples) samples that do not read (spikefuse inspect FILE --key KEY says why)") }
            }
        } else {
            try printFile(try DatasetInspector.eventFile(url), json: json)   // any EventFileFormat
        }
    }

    /// Per-class train/test counts of a DVS128 Gesture or CIFAR10-DVS folder.
    static func printEventDatasetFolder(_ s: EventDatasetFolderSummary, json: Bool) throws {
        if json { print(try DatasetInspector.json(s)); return }
        print("\(s.folder): \(s.format) (\(s.split))")
        print("label  train   test  class")
        for (i, name) in s.classes.enumerated() {
            print(String(format: "%5d  %5d  %5d  %@", i, s.trainPerClass[i], s.testPerClass[i], name))
        }
        print("total  \(s.train) train, \(s.test) test samples")
    }

    /// Per-class counts and joint split sizes of a folder with N-MNIST and/or SHD data.
    static func communityFolder(_ url: URL, scale: Int, json: Bool) throws {
        var configuration = JointDatasetConfiguration(dataFolder: url)
        configuration.scale = scale
        let catalog = try JointDatasetCatalog(configuration: configuration)
        let train = try catalog.pairs(split: .train, mode: configuration.splitMode).count
        let test = try catalog.pairs(split: .test, mode: configuration.splitMode).count
        let format = "\(configuration.visualFormat.rawValue) + \(configuration.audioFormat.rawValue)"
        if json {
            let object: [String: Any] = ["folder": url.path, "format": format, "visual_per_class": catalog.visualCountPerClass,
                                         "audio_per_class": catalog.audioCountPerClass, "train": train, "test": test]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("\(url.path): \(format)")
        print("class  visual  audio")
        for c in 0..<10 {
            print(String(format: "%5d  %6d  %5d", c, catalog.visualCountPerClass[c], catalog.audioCountPerClass[c]))
        }
        print("joint split (first 50 % per class): train \(train), test \(test)")
    }

    /// Recordings per class of an N-Caltech101 folder.
    static func ncaltech101Folder(_ url: URL, json: Bool) throws {
        let (names, perClass) = try DatasetInspector.ncaltech101Folder(url)
        if json {
            let object: [String: Any] = ["folder": url.path, "format": "N-Caltech101", "classes": names.count,
                                         "class_names": names, "per_class": perClass, "recordings": perClass.reduce(0, +)]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("\(url.path): N-Caltech101, \(perClass.reduce(0, +)) recordings, \(names.count) classes (sensor up to \(NCaltech101.sensor))")
        for (k, name) in names.enumerated() { print(String(format: "%5d  %@  %d", k, name, perClass[k])) }
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
          time      \(s.tFirstUs.map { "\($0)" } ?? "-") … \(s.tLastUs.map { "\($0)" } ?? "-") µs
          events    \(s.events) (ON \(s.onEvents), OFF \(s.offEvents))
          duration  \(String(format: "%.3f", Double(s.durationUs) / 1e6)) s (\(s.durationUs) µs)
          label     \(s.label ?? "-")
        """)
        for stream in s.streams ?? [] {
            print("  stream \(stream.id)  \(stream.type), \(stream.packets) packets" + (stream.read ? " (its events are read)" : " (skipped)"))
        }
    }
}
