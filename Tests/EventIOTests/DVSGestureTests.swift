import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// A DVS128 Gesture-shaped folder written by the test: AEDAT 3.1 recordings, labels CSVs
/// with a repeated class and overlapping windows, and the two trial lists.
final class DVSGestureTests: XCTestCase {
    /// trial → rows (class, start, end); the recording spans 0 ..< 100,000 µs.
    static let trials: [(name: String, train: Bool, rows: [(Int, Int64, Int64)])] = [
        ("user01_fluorescent", true, [(1, 1_000, 10_000), (2, 12_000, 20_000), (11, 30_000, 45_000)]),
        ("user01_led", true, [(3, 0, 5_000), (4, 5_000, 9_000), (11, 50_000, 99_999)]),
        // class 5 twice in one file (as user26_fluorescent)
        ("user26_fluorescent", false, [(5, 2_000, 8_000), (5, 40_000, 60_000), (6, 70_000, 80_000)]),
        // overlapping windows (as user22_led)
        ("user22_led", true, [(7, 10_000, 30_000), (8, 25_000, 40_000), (9, 39_000, 41_000), (10, 60_000, 61_000)]),
    ]

    func makeFolder() throws -> (URL, [String: DVSEvents]) {
        let folder = try temporaryFolder(self)
        var g = SeededGenerator(seed: 128)
        var recordings: [String: DVSEvents] = [:]
        for trial in Self.trials {
            var e = randomDVSEvents(&g, count: 2_000, maxGap: 100)      // about 0 ..< 100,000 µs
            for i in 0..<e.count { e.t[i] = min(e.t[i], 99_999) }
            try AEDAT31.write(e, to: folder.appendingPathComponent(trial.name + ".aedat"), eventsPerPacket: 333)
            let csv = "class,startTime_usec,endTime_usec\r\n" + trial.rows.map { "\($0.0),\($0.1),\($0.2)\r\n" }.joined()
            try Data(csv.utf8).write(to: folder.appendingPathComponent(trial.name + "_labels.csv"))
            recordings[trial.name] = e
        }
        let train = Self.trials.filter(\.train).map { $0.name + ".aedat" }.joined(separator: "\n") + "\n\n"
        let test = Self.trials.filter { !$0.train }.map { $0.name + ".aedat" }.joined(separator: "\n")
        try Data(train.utf8).write(to: folder.appendingPathComponent("trials_to_train.txt"))
        try Data(test.utf8).write(to: folder.appendingPathComponent("trials_to_test.txt"))
        return (folder, recordings)
    }

    func testOfficialSplitCountsEveryRowPerClass() throws {
        let (folder, _) = try makeFolder()
        let gesture = try DVSGestureFolder(folder)
        XCTAssertEqual(gesture.trainTrials, ["user01_fluorescent", "user01_led", "user22_led"])
        XCTAssertEqual(gesture.testTrials, ["user26_fluorescent"])
        // label = class − 1; train: classes 1,2,11 | 3,4,11 | 7,8,9,10; test: 5,5,6.
        XCTAssertEqual(try gesture.countsPerClass(.train), [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 2])
        XCTAssertEqual(try gesture.countsPerClass(.test), [0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0])
        XCTAssertEqual(try gesture.samples(.train).count, 10)
        XCTAssertEqual(try gesture.samples(.test).map(\.label), [4, 4, 5])

        let s = try XCTUnwrap(try DatasetInspector.eventDatasetFolder(folder))
        XCTAssertEqual(s.format, "DVS128 Gesture")
        XCTAssertEqual(s.trainPerClass, [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 2])
        XCTAssertEqual(s.testPerClass, [0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0])
        XCTAssertEqual(s.train, 10); XCTAssertEqual(s.test, 3)
        XCTAssertEqual(s.classes.count, 11)
    }

    func testSamplesAreCutStartInclusiveEndExclusiveAndOverlapsShareEvents() throws {
        let (folder, recordings) = try makeFolder()
        let gesture = try DVSGestureFolder(folder)
        for trial in Self.trials {
            let cut = try gesture.events(trial: trial.name)
            XCTAssertEqual(cut.count, trial.rows.count)
            let all = recordings[trial.name]!
            for (i, (sample, events)) in cut.enumerated() {
                let (cls, start, end) = trial.rows[i]
                XCTAssertEqual(sample.label, cls - 1)
                XCTAssertEqual(sample.index, i)
                let expected = all.t.indices.filter { all.t[$0] >= start && all.t[$0] < end }
                XCTAssertEqual(events.t, expected.map { all.t[$0] }, "\(trial.name) row \(i)")
                XCTAssertEqual(events.x, expected.map { all.x[$0] })
                XCTAssertEqual(events.sensor, .dvs128)
                XCTAssertFalse(events.isEmpty)
            }
            XCTAssertEqual(try gesture.events(of: cut[0].sample), cut[0].events)
        }
        // user22_led: rows 0 and 1 overlap on 25,000 ..< 30,000, so an event there is in both.
        let overlapping = try gesture.events(trial: "user22_led")
        let shared = Set(overlapping[0].events.t).intersection(overlapping[1].events.t)
        XCTAssertFalse(shared.isEmpty)
        XCTAssertTrue(shared.allSatisfy { $0 >= 25_000 && $0 < 30_000 })
        // An event exactly at a boundary goes to the window that starts there only.
        var e = DVSEvents(sensor: .dvs128)
        for t: Int64 in [4_999, 5_000, 8_999, 9_000] { e.append(t: t, x: 1, y: 2, polarity: 1) }
        let w = DVSGestureWindow(classID: 4, startMicroseconds: 5_000, endMicroseconds: 9_000)
        XCTAssertEqual(DVSGestureFolder.cut(e, w).t, [5_000, 8_999])
    }

    func testFramesAreDownsampledToTheNetworksInput() throws {
        let (folder, _) = try makeFolder()
        let sample = try DVSGestureFolder(folder).events(trial: "user01_fluorescent")[2].events
        let frames = DVSGestureFolder.frames(sample, framing: DVSFraming(timesteps: 8, value: .count), downsample: 4)
        XCTAssertEqual(frames.shape, [8, 2, 32, 32])
        XCTAssertEqual(frames.scalars.reduce(0, +), Float(sample.count))   // counting keeps every event
        XCTAssertEqual(DVSGestureFolder.frames(sample, framing: DVSFraming(timesteps: 8)).shape, [8, 2, 128, 128])
    }

    func testBadLabelsAndMissingListsAreClearErrors() throws {
        let (folder, _) = try makeFolder()
        let csv = folder.appendingPathComponent("user01_led_labels.csv")
        for (text, needle) in [("class,startTime_usec,endTime_usec\n1,5,9\n12,0,5\n", "line 3: class 12"),
                               ("class,startTime_usec,endTime_usec\n3,9,9\n", "line 2: the window"),
                               ("class,startTime_usec,endTime_usec\n3,abc,9\n", "line 2: '3,abc,9'")] {
            try Data(text.utf8).write(to: csv)
            XCTAssertThrowsEventIOError(try DVSGestureFolder(folder).samples(.train), file: csv.path) {
                $0.description.contains(needle)
            }
        }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("trials_to_test.txt"))
        XCTAssertThrowsError(try DVSGestureFolder(folder)) { error in
            XCTAssertTrue("\(error)".contains("trials_to_test.txt"), "\(error)")
        }
    }
}
