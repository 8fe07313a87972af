import XCTest
@testable import EventIO
import SpikeTensor

/// SHD/SSC files that once read as something they are not (issue 40): damaged
/// variable-length heaps (read as garbage, or looping libhdf5 until the 60 s limit of the
/// child-process check), a float label 1.5 truncated to 1, times that go backwards. Fixtures
/// written by h5py and patched byte-wise (bench/make_shd_fixture.py).
final class SHDHostileFileTests: XCTestCase {
    private func fixture(_ name: String) -> URL { TestPaths.fixtures.appendingPathComponent(name) }

    /// Each damaged heap is one error naming the file, the dataset and the sample, found by
    /// the bounded check before libhdf5 reads an element: all six in well under the child's
    /// 60 s limit (the zeroed collection made it loop until that limit).
    func testDamagedHeapsAreFastErrorsNamingFileAndSample() throws {
        unsetenv("SPIKEFUSE_HDF5_CHECK_SECONDS")
        let cases: [(String, Int, String)] = [("missing-object", 2, "heap object 999 is not in"),
                                              ("zeroed-objects", 0, "is not in the heap collection"),
                                              ("bad-signature", 0, "no heap collection"),
                                              ("past-end", 1, "past the end of the file"),
                                              ("wrong-length", 3, "1000 values of 4 bytes"),
                                              ("small-collection", 0, "claims 32 bytes")]
        let start = Date()
        for (name, sample, reason) in cases {
            let url = fixture("shd-heap-\(name).h5")
            XCTAssertThrowsError(try SHDFile.open(url), name) { error in
                guard case let .corruptFile(file, path, index, text)? = error as? DatasetError else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(file, url.path, name)
                XCTAssertEqual(path, "spikes/times", name)
                XCTAssertEqual(index, sample, name)
                XCTAssertTrue(text.contains(reason), "\(name): \(text)")
                XCTAssertTrue("\(error)".contains("corrupt"), "\(error)")
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "fast errors, not the child's time limit")
        // The file they were patched from reads.
        let intact = try SHDFile.open(fixture("shd-heap-intact.h5"))
        XCTAssertEqual(intact.labels, [3, 19, 10, 1])
        XCTAssertEqual(try intact.events(3).channel, [1, 2, 6])
    }

    /// Labels are whole numbers in range: a float 1.5 is an error naming file, index and
    /// value (HDF5 asked for integers gives 1); floats holding whole numbers are accepted.
    func testFloatLabelThatIsNotAnIntegerIsAnError() throws {
        let url = fixture("shd-float-label.h5")
        XCTAssertThrowsError(try SHDFile.open(url)) { error in
            XCTAssertEqual(error as? DatasetError,
                           .badLabel(file: url.path, path: "labels", index: 1, value: 1.5, reason: "is not an integer"))
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("sample 1") && "\(error)".contains("1.5"), "\(error)")
        }
        let dir = try temporaryFolder(self)
        let whole = dir.appendingPathComponent("whole.h5"), named = dir.appendingPathComponent("named.h5")
        try SHDFile.write([(label: 2, events: CochleaEvents(channelCount: 700))], to: whole)
        XCTAssertEqual(try SHDFile.open(whole).labels, [2])
        XCTAssertEqual(try SHDFile.open(whole).classes, 20, "without extra/keys: SHD's 20 classes")
        // The range of labels is the count of names in extra/keys.
        try SHDFile.write([(label: 20, events: CochleaEvents(channelCount: 700))], classNames: (0..<21).map { "c\($0)" }, to: named)
        XCTAssertEqual(try SHDFile.open(named).classes, 21)
        XCTAssertEqual(try SHDFile.open(named).labels, [20])
    }

    /// A sample whose times go backwards is an error naming it and the event (render and
    /// inspect used to trap, or report a negative duration); its neighbours still read.
    func testTimesGoingBackwardsAreAnErrorNamingTheSample() throws {
        let url = fixture("shd-unsorted-times.h5")
        let file = try SHDFile.open(url)
        XCTAssertEqual(try file.events(0).t, [0, 100_000])
        XCTAssertThrowsError(try file.events(1)) { error in
            XCTAssertEqual(error as? DatasetError, .timestampsDecreasing(file: url.path, key: "sample 1", index: 1))
        }
        XCTAssertThrowsError(try DatasetInspector.shdSample(file, index: 1))
        XCTAssertThrowsError(try file.events(2)) { XCTAssertTrue("\($0)".contains("out of 0..<2"), "\($0)") }
    }

    /// SHD's 20 classes and SSC's 35, with the class names of `extra/keys`.
    func testSHD20AndSSCKeepTheirClassesAndNames() throws {
        let shd = try SHDFile.open(fixture("shd20-h5py.h5"))
        XCTAssertEqual(shd.classes, 20)
        XCTAssertEqual(shd.labels, Array(0..<20))
        XCTAssertEqual(shd.classNames.first, "english-zero"); XCTAssertEqual(shd.classNames[13], "german-drei")
        XCTAssertEqual(SHDFile.digit(label: shd.labels[13]), 3, "the joint dataset's folding is kept")
        XCTAssertEqual(try shd.events(19).channel, [570])

        let ssc = try SHDFile.open(fixture("ssc-h5py.h5"))
        XCTAssertEqual(ssc.classes, SHDFile.sscClassCount)
        XCTAssertEqual(ssc.labels, [0, 34, 17])
        XCTAssertEqual(ssc.labels.map { ssc.classNames[$0] }, ["backward", "zero", "nine"])
        XCTAssertEqual(try ssc.events(1), CochleaEvents(channelCount: 700, t: [250_000], channel: [699]))
        XCTAssertEqual(try DatasetInspector.shdSample(ssc, index: 1).label, "34 (zero)")
        XCTAssertEqual(try DatasetInspector.shdSample(ssc, index: 1).format, "SSC HDF5 sample")

        // The writer keeps names: an SSC-shaped file written here reads back the same.
        let dir = try temporaryFolder(self)
        let url = dir.appendingPathComponent("ssc_test.h5")
        let events = CochleaEvents(channelCount: 700, t: [0, 2000], channel: [5, 6])
        try SHDFile.write([(label: 34, events: events), (label: 7, events: events)], classNames: ssc.classNames, to: url)
        let back = try SHDFile.open(url)
        XCTAssertEqual(back.classNames, ssc.classNames)
        XCTAssertEqual(back.labels, [34, 7])
        XCTAssertThrowsError(try SHDFile.write([(label: 35, events: events)], classNames: ssc.classNames, to: url)) {
            XCTAssertTrue("\($0)".contains("0…34"), "\($0)")
        }
    }
}

/// SHD's 20 classes and SSC's 35 as datasets of their own (issue 41): full labels, framed audio.
final class SHDClassDatasetTests: XCTestCase {
    func testTwentyAndThirtyFiveClassesWithFramedAudio() throws {
        let shd = SHDClassDataset(file: try SHDFile.open(TestPaths.fixtures.appendingPathComponent("shd20-h5py.h5")),
                                  framing: CochleaFraming(timesteps: 4))
        XCTAssertEqual(shd.classCount, 20)
        XCTAssertEqual((0..<shd.count).map(shd.label), Array(0..<20), "German digits keep labels 10…19")
        let s = try shd.sample(19)
        XCTAssertEqual(s.label, 19)
        XCTAssertEqual(s.audio.shape, [4, 700]); XCTAssertEqual(s.visual.shape, [4, 1, 1, 1])
        XCTAssertEqual(s.audio.scalars.reduce(0, +), 1)
        XCTAssertEqual(s.audio.scalars.firstIndex(of: 1).map { $0 % 700 }, 570, "sample 19's one spike is on fibre 570")
        XCTAssertThrowsError(try shd.sample(20))

        let ssc = SHDClassDataset(file: try SHDFile.open(TestPaths.fixtures.appendingPathComponent("ssc-h5py.h5")),
                                  framing: CochleaFraming(timesteps: 2))
        XCTAssertEqual(ssc.classCount, 35)
        XCTAssertEqual(try ssc.sample(1).label, 34)
        XCTAssertEqual(ssc.classNames[try ssc.sample(1).label], "zero")
    }
}
