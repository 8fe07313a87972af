import Foundation
import SpikeTensor

/// One labelled window of a DVS128 Gesture labels CSV: `class,startTime_usec,endTime_usec`.
public struct DVSGestureWindow: Sendable, Hashable {
    /// The file's class id, 1–11.
    public var classID: Int
    /// start ≤ t < end, µs on the recording's own clock.
    public var startMicroseconds: Int64
    public var endMicroseconds: Int64
    /// The label used for training: classID − 1, 0–10.
    public var label: Int { classID - 1 }
}

/// One sample of the dataset: a window of one trial (recording).
public struct DVSGestureSample: Sendable, Equatable {
    /// The trial's name, e.g. "user01_fluorescent".
    public var trial: String
    /// The window's position in the trial's labels CSV (0-based, file order).
    public var index: Int
    public var window: DVSGestureWindow
    /// classID − 1, 0–10.
    public var label: Int { window.label }
}

/// The IBM DVS128 Gesture dataset in its original form: a folder with
///
///     userNN_<lighting>.aedat            AEDAT 3.1 recording of a DVS128 (128×128)
///     userNN_<lighting>_labels.csv       class,startTime_usec,endTime_usec (classes 1–11)
///     trials_to_train.txt                one recording per line (user01_fluorescent.aedat …)
///     trials_to_test.txt
///
/// A sample is the events of one CSV row with start ≤ t < end (µs, the recording's clock, not
/// shifted), labelled class − 1 (0–10). Every row is a sample: a class id can repeat within a
/// file and windows can overlap (an event then belongs to both samples). The split is the
/// official one (the two text files; 1176 train / 288 test samples in the full dataset).
/// Events keep the recording's origin (top-left) and polarity (1 = ON); see `AEDAT31`.
///
/// ```swift
/// let gesture = try DVSGestureFolder(URL(fileURLWithPath: "DvsGesture"))
/// let train = try gesture.samples(.train)               // [DVSGestureSample], CSVs only
/// let cut = try gesture.events(trial: train[0].trial)   // each window's events, file read once
/// ```
public struct DVSGestureFolder: Sendable {
    public static let classCount = 11
    /// Class names by label 0–10 (class ids 1–11).
    public static let classNames = [
        "hand clap", "right hand wave", "left hand wave", "right arm clockwise",
        "right arm counter-clockwise", "left arm clockwise", "left arm counter-clockwise",
        "arm roll", "air drums", "air guitar", "other gestures",
    ]
    public static let trainListName = "trials_to_train.txt"
    public static let testListName = "trials_to_test.txt"

    public let folder: URL
    /// Trial names (no extension) of each split, in the list files' order.
    public let trainTrials: [String]
    public let testTrials: [String]

    /// Whether `folder` looks like a DVS128 Gesture folder (it has `trials_to_train.txt`).
    public static func isGestureFolder(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(trainListName).path)
    }

    /// Reads the two trial lists. Lines are trimmed; empty lines are skipped; a `.aedat`
    /// ending is dropped.
    public init(_ folder: URL) throws {
        self.folder = folder
        trainTrials = try Self.trialList(folder.appendingPathComponent(Self.trainListName))
        testTrials = try Self.trialList(folder.appendingPathComponent(Self.testListName))
    }

    public func trials(_ split: Split) -> [String] { split == .train ? trainTrials : testTrials }

    public func recordingURL(trial: String) -> URL { folder.appendingPathComponent(trial + ".aedat") }
    public func labelsURL(trial: String) -> URL { folder.appendingPathComponent(trial + "_labels.csv") }

    /// The samples of a split, in list order then CSV order (reads only the CSVs).
    public func samples(_ split: Split) throws -> [DVSGestureSample] {
        var out: [DVSGestureSample] = []
        for trial in trials(split) {
            for (i, w) in try Self.windows(labelsURL(trial: trial)).enumerated() {
                out.append(DVSGestureSample(trial: trial, index: i, window: w))
            }
        }
        return out
    }

    /// Samples per label 0–10 of a split.
    public func countsPerClass(_ split: Split) throws -> [Int] {
        var counts = [Int](repeating: 0, count: Self.classCount)
        for s in try samples(split) { counts[s.label] += 1 }
        return counts
    }

    /// Every window of one trial with its events (the recording is read once).
    public func events(trial: String, options: AEDAT31ReadOptions = .init()) throws -> [(sample: DVSGestureSample, events: DVSEvents)] {
        let windows = try Self.windows(labelsURL(trial: trial))
        let recording = try AEDAT31.read(recordingURL(trial: trial), options: options)
        return windows.enumerated().map { i, w in
            (DVSGestureSample(trial: trial, index: i, window: w), Self.cut(recording, w))
        }
    }

    /// The events of one sample (reads its whole recording; use `events(trial:)` for many).
    public func events(of sample: DVSGestureSample, options: AEDAT31ReadOptions = .init()) throws -> DVSEvents {
        Self.cut(try AEDAT31.read(recordingURL(trial: sample.trial), options: options), sample.window)
    }

    /// The events with start ≤ t < end (binary search; `events.t` is non-decreasing).
    public static func cut(_ events: DVSEvents, _ window: DVSGestureWindow) -> DVSEvents {
        func firstIndex(atLeast t: Int64) -> Int {
            var lo = 0, hi = events.count
            while lo < hi { let mid = (lo + hi) / 2; if events.t[mid] < t { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        let a = firstIndex(atLeast: window.startMicroseconds)
        let b = max(a, firstIndex(atLeast: window.endMicroseconds))
        return DVSEvents(sensor: events.sensor, t: Array(events.t[a..<b]), x: Array(events.x[a..<b]),
                         y: Array(events.y[a..<b]), polarity: Array(events.polarity[a..<b]))
    }

    /// The rows of a labels CSV. A first line that is not three integers is the header.
    /// Errors name the file and the line: a row without three integer fields, a class outside
    /// 1–11, or end ≤ start.
    public static func windows(_ url: URL) throws -> [DVSGestureWindow] {
        try windows(csv: try _FileBytes.read(url), source: url.path)
    }

    /// The rows of labels-CSV bytes; `source` names them in errors.
    public static func windows(csv bytes: [UInt8], source: String) throws -> [DVSGestureWindow] {
        let lines = String(decoding: bytes, as: UTF8.self).split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        var out: [DVSGestureWindow] = []
        for (n, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.compactMap { Int64($0) }
            guard fields.count == 3, numbers.count == 3 else {
                if n == 0 { continue }   // the header: class,startTime_usec,endTime_usec
                throw EventIOError.malformed(file: source,
                    detail: "line \(n + 1): '\(line.prefix(80))' is not class,startTime_usec,endTime_usec")
            }
            guard (1...Int64(classCount)).contains(numbers[0]) else {
                throw EventIOError.malformed(file: source, detail: "line \(n + 1): class \(numbers[0]) is not in 1–\(classCount)")
            }
            guard numbers[1] < numbers[2] else {
                throw EventIOError.malformed(file: source,
                    detail: "line \(n + 1): the window \(numbers[1]) ..< \(numbers[2]) µs is empty (end ≤ start)")
            }
            out.append(DVSGestureWindow(classID: Int(numbers[0]), startMicroseconds: numbers[1], endMicroseconds: numbers[2]))
        }
        return out
    }

    static func trialList(_ url: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError.io(file: url.path,
                reason: "missing: a DVS128 Gesture folder has \(trainListName) and \(testListName)")
        }
        let text = String(decoding: try _FileBytes.read(url), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .map { $0.hasSuffix(".aedat") ? String($0.dropLast(".aedat".count)) : $0 }
    }
}

extension DVSGestureFolder {
    /// A sample's events as a network input: `Downsample(factor: downsample)` (128×128 →
    /// ⌈128/f⌉², e.g. 32×32 for f = 4), then `framing`: a tensor `[T, P, 128/f, 128/f]`.
    public static func frames(_ events: DVSEvents, framing: DVSFraming, downsample: Int = 1) -> Tensor {
        framing(downsample > 1 ? Downsample(factor: downsample)(events) : events)
    }
}
