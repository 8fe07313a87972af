import Foundation
import SpikeTensor

/// What `spikefuse inspect` reports about one event file, one HDF5 sample or a data folder.
/// Encodes to JSON with snake_case keys.
public struct EventFileSummary: Codable, Sendable, Equatable {
    public var file: String
    /// "AEDAT 2.0 (DVS128)" or "N-TIDIGITS HDF5 sample".
    public var format: String
    /// "128x128" for a DVS, "64 channels" for a cochlea.
    public var sensor: String
    public var events: Int
    public var durationUs: Int64
    /// ON/OFF counts (a cochlea sample reports all events as ON, 0 OFF: CochleaAMS1b
    /// addresses here carry no polarity).
    public var onEvents: Int
    public var offEvents: Int
    /// The class: the digit of an MNIST-DVS file name, the digits of an N-TIDIGITS key; nil
    /// when the name says nothing.
    public var label: String?
    /// Sensor width and height in pixels (nil for a cochlea).
    public var width: Int? = nil
    public var height: Int? = nil
    /// Times of the first and last event in file order, µs as recorded (nil when empty).
    public var tFirstUs: Int64? = nil
    public var tLastUs: Int64? = nil
    /// A multi-stream file's streams (AEDAT 4.0), written only for such files.
    public var streams: [EventFileStream]? = nil

    enum CodingKeys: String, CodingKey {
        case file, format, sensor, events, durationUs = "duration_us", onEvents = "on_events",
             offEvents = "off_events", label, width, height, tFirstUs = "t_first_us", tLastUs = "t_last_us", on, off, streams
    }

    /// Writes every key, `"label": null` included, so JSON readers always find the fields.
    /// `on` and `off` repeat `on_events` and `off_events` (the names issue 41 asks for).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file); try c.encode(format, forKey: .format)
        try c.encode(sensor, forKey: .sensor); try c.encode(events, forKey: .events)
        try c.encode(durationUs, forKey: .durationUs); try c.encode(onEvents, forKey: .onEvents)
        try c.encode(offEvents, forKey: .offEvents); try c.encode(label, forKey: .label)
        try c.encode(width, forKey: .width); try c.encode(height, forKey: .height)
        try c.encode(tFirstUs, forKey: .tFirstUs); try c.encode(tLastUs, forKey: .tLastUs)
        try c.encode(onEvents, forKey: .on); try c.encode(offEvents, forKey: .off)
        try c.encodeIfPresent(streams, forKey: .streams)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decode(String.self, forKey: .file); format = try c.decode(String.self, forKey: .format)
        sensor = try c.decode(String.self, forKey: .sensor); events = try c.decode(Int.self, forKey: .events)
        durationUs = try c.decode(Int64.self, forKey: .durationUs); onEvents = try c.decode(Int.self, forKey: .onEvents)
        offEvents = try c.decode(Int.self, forKey: .offEvents); label = try c.decodeIfPresent(String.self, forKey: .label)
        width = try c.decodeIfPresent(Int.self, forKey: .width); height = try c.decodeIfPresent(Int.self, forKey: .height)
        tFirstUs = try c.decodeIfPresent(Int64.self, forKey: .tFirstUs); tLastUs = try c.decodeIfPresent(Int64.self, forKey: .tLastUs)
        streams = try c.decodeIfPresent([EventFileStream].self, forKey: .streams)
    }

    public init(file: String, format: String, sensor: String, events: Int, durationUs: Int64, onEvents: Int,
                offEvents: Int, label: String?, width: Int? = nil, height: Int? = nil, tFirstUs: Int64? = nil,
                tLastUs: Int64? = nil) {
        self.file = file; self.format = format; self.sensor = sensor; self.events = events
        self.durationUs = durationUs; self.onEvents = onEvents; self.offEvents = offEvents; self.label = label
        self.width = width; self.height = height; self.tFirstUs = tFirstUs; self.tLastUs = tLastUs
    }

    /// The summary of a DVS event file read through the registry.
    public init(file: String, _ f: EventFile) {
        let e = f.events
        self.init(file: file, format: f.format, sensor: "\(e.sensor.width)x\(e.sensor.height)", events: e.count,
                  durationUs: e.durationMicroseconds, onEvents: e.onCount, offEvents: e.offCount, label: f.label,
                  width: e.sensor.width, height: e.sensor.height, tFirstUs: e.t.first, tLastUs: e.t.last)
        streams = f.streams
    }
}

/// Sample counts of an N-TIDIGITS file.
public struct NTidigitsSummary: Codable, Sendable, Equatable {
    public struct SplitCounts: Codable, Sendable, Equatable {
        public var samples: Int
        public var singleDigit: Int
        /// Single-digit samples per class name ("z", "o", "1" … "9").
        public var perClass: [String: Int]
        enum CodingKeys: String, CodingKey { case samples, singleDigit = "single_digit", perClass = "per_class" }
    }
    public var file: String
    public var format: String
    public var train: SplitCounts
    public var test: SplitCounts
    /// Keys that do not parse.
    public var malformedKeys: Int
    /// Keys listed more than once in a split (each is used once).
    public var duplicateKeys: Int
    /// Samples with no events (they frame to all-zero inputs) and samples that do not read.
    public var emptySamples: Int
    public var unreadableSamples: Int
    enum CodingKeys: String, CodingKey {
        case file, format, train, test, malformedKeys = "malformed_keys", duplicateKeys = "duplicate_keys"
        case emptySamples = "empty_samples", unreadableSamples = "unreadable_samples"
    }
}

/// Per-class counts of a data folder and the joint dataset's split sizes.
public struct DatasetFolderSummary: Codable, Sendable, Equatable {
    public struct ClassCounts: Codable, Sendable, Equatable {
        public var label: Int
        /// MNIST-DVS recordings at the scale (nil without MNIST-DVS).
        public var visual: Int?
        /// Single-digit N-TIDIGITS samples (nil without the HDF5 file).
        public var audio: Int?
    }
    public var folder: String
    public var format: String
    public var scale: Int
    public var classes: [ClassCounts]
    /// Joint pairs per split (with both sets; with one set, that set's first-half split sizes).
    public var train: Int
    public var test: Int
    /// Why the joint dataset cannot be built from this folder (then train = test = 0).
    public var problem: String?
    /// The folder's n-tidigits.hdf5 in detail (duplicate keys, samples with no events), if any.
    public var audioFile: NTidigitsSummary?
    enum CodingKeys: String, CodingKey { case folder, format, scale, classes, train, test, problem, audioFile = "audio_file" }
}

public enum DatasetInspector {
    /// Summary of a DVS event file of any format in `EventFileFormat.all` (found by content,
    /// else extension): format, sensor, counts, first and last time, label.
    public static func eventFile(_ url: URL) throws -> EventFileSummary {
        EventFileSummary(file: url.path, try EventFileFormat.read(url))
    }

    /// Summary of an AEDAT file (label from an MNIST-DVS file name).
    public static func aedat(_ url: URL) throws -> EventFileSummary {
        EventFileSummary(file: url.path, try EventFileFormat.aedat.read(url))
    }

    /// Summary of an N-MNIST `.bin` recording (label: its digit folder's name, if a digit).
    public static func nmnist(_ url: URL) throws -> EventFileSummary {
        EventFileSummary(file: url.path, try EventFileFormat.nmnist.read(url))
    }

    /// Summary of an N-Caltech101 `.bin` recording (label: its class folder's name).
    public static func ncaltech101(_ url: URL) throws -> EventFileSummary {
        EventFileSummary(file: url.path, try EventFileFormat.nmnist.read(url))
    }

    /// Recordings per class of an N-Caltech101 folder (`Caltech101/{class}/*.bin`).
    public static func ncaltech101Folder(_ url: URL) throws -> (classNames: [String], perClass: [Int]) {
        let layout = NCaltech101Layout(root: url)
        let names = try layout.classNames()
        var perClass = [Int](repeating: 0, count: names.count)
        for r in try layout.recordings() { perClass[r.label] += 1 }
        return (names, perClass)
    }

    /// Summary of sample `index` of an SHD or SSC file (label as stored, with its class name
    /// from `extra/keys` when the file has them).
    public static func shdSample(_ file: SHDFile, index: Int) throws -> EventFileSummary {
        guard index >= 0, index < file.count else {
            throw DatasetError.badConfiguration("\(file.url.path): sample \(index) out of 0..<\(file.count)")
        }
        let events = try file.events(index)
        return EventFileSummary(file: "\(file.url.path)#\(index)", format: file.classes == SHDFile.sscClassCount ? "SSC HDF5 sample" : "SHD HDF5 sample",
                                sensor: "\(events.channelCount) channels", events: events.count,
                                durationUs: events.durationMicroseconds, onEvents: events.count, offEvents: 0,
                                label: String(file.labels[index])
                                    + (file.classNames.isEmpty ? "" : " (\(file.classNames[file.labels[index]]))"),
                                tFirstUs: events.t.first, tLastUs: events.t.last)
    }

    /// Summary of one N-TIDIGITS sample (searched in train, then test, unless `split` is given).
    public static func ntidigitsSample(_ file: NTidigitsFile, key: String, split: Split? = nil) throws -> EventFileSummary {
        let chosen = split ?? (file.keys(.train).contains(key) ? .train : .test)
        let events = try file.events(key: key, split: chosen)
        let parsed = try? NTidigitsKey(parsing: key)
        return EventFileSummary(file: "\(file.url.path):\(chosen.rawValue)/\(key)", format: "N-TIDIGITS HDF5 sample",
                                sensor: "\(events.channelCount) channels", events: events.count,
                                durationUs: events.durationMicroseconds, onEvents: events.count, offEvents: 0,
                                label: parsed.map { String($0.digits) }, tFirstUs: events.t.first, tLastUs: events.t.last)
    }

    /// Counts per split and class of an N-TIDIGITS file.
    public static func ntidigits(_ file: NTidigitsFile) -> NTidigitsSummary {
        var malformed = 0
        func counts(_ split: Split) -> NTidigitsSummary.SplitCounts {
            var perClass: [String: Int] = [:]
            var single = 0
            for key in file.keys(split) {
                guard let k = try? NTidigitsKey(parsing: key) else { malformed += 1; continue }
                if k.isSingleDigit { single += 1; perClass[String(k.digits), default: 0] += 1 }
            }
            return .init(samples: file.keys(split).count, singleDigit: single, perClass: perClass)
        }
        let train = counts(.train), test = counts(.test)
        var empty = 0, unreadable = 0
        for split in Split.allCases {
            for key in file.keys(split) {
                if let events = try? file.events(key: key, split: split) { if events.count == 0 { empty += 1 } } else { unreadable += 1 }
            }
        }
        return NTidigitsSummary(file: file.url.path, format: "N-TIDIGITS HDF5", train: train, test: test,
                                malformedKeys: malformed,
                                duplicateKeys: Split.allCases.reduce(0) { $0 + file.duplicateKeys($1).count },
                                emptySamples: empty, unreadableSamples: unreadable)
    }

    /// Counts of a data folder holding `grabbed_data*` and/or `n-tidigits.hdf5`.
    public static func folder(_ url: URL, scale: Int = 4, splitMode: JointSplitMode = .firstHalf) throws -> DatasetFolderSummary {
        let layout = MNISTDVSLayout(root: url, scale: scale)
        let hdf5 = url.appendingPathComponent("n-tidigits.hdf5")
        let hasVisual = !layout.digitsPresent().isEmpty
        let hasAudio = FileManager.default.fileExists(atPath: hdf5.path)
        guard hasVisual || hasAudio else {
            throw DatasetError.io(file: url.path, reason: "not a data folder: it holds neither grabbed_data0…9 nor n-tidigits.hdf5")
        }
        let visual = hasVisual ? try layout.recordings(requireAllDigits: false) : []
        var audio: [JointAudioSample] = []
        var audioFile: NTidigitsSummary?
        if hasAudio {
            let file = try NTidigitsFile.open(hdf5)
            audioFile = ntidigits(file)
            for split in Split.allCases {
                for key in file.keys(split) {
                    if let k = try? NTidigitsKey(parsing: key), let label = k.jointLabel {
                        audio.append(JointAudioSample(key: key, fileSplit: split, label: label))
                    }
                }
            }
        }
        let classes = (0..<10).map { c in
            DatasetFolderSummary.ClassCounts(label: c,
                                             visual: hasVisual ? visual.filter { $0.digit == c }.count : nil,
                                             audio: hasAudio ? audio.filter { $0.label == c }.count : nil)
        }
        func size(_ split: Split) throws -> Int {
            if hasVisual && hasAudio {
                return try JointPairing.pairs(visualLabels: visual.map(\.digit), audioLabels: audio.map(\.label),
                                              audioFileSplits: audio.map(\.fileSplit), mode: splitMode,
                                              split: split, audioSource: hdf5.path).count
            }
            let labels = hasVisual ? visual.map(\.digit) : audio.map(\.label)
            return JointPairing.firstHalf(labels: labels, split: split, classCount: 10).count
        }
        let format = hasVisual && hasAudio ? "joint MNIST-DVS + N-TIDIGITS folder"
            : hasVisual ? "MNIST-DVS folder" : "N-TIDIGITS folder"
        do {
            return DatasetFolderSummary(folder: url.path, format: format, scale: scale, classes: classes,
                                        train: try size(.train), test: try size(.test), problem: nil, audioFile: audioFile)
        } catch let error as DatasetError {
            return DatasetFolderSummary(folder: url.path, format: format, scale: scale, classes: classes,
                                        train: 0, test: 0, problem: error.description, audioFile: audioFile)
        }
    }

    /// Pretty, sorted-key JSON of a summary.
    public static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
