import XCTest
@testable import EventIO
import SpikeTensor

/// N-MNIST `.bin` files and Spiking Heidelberg Digits HDF5 files (issue 20): writers for
/// fixtures, readers that give the events back, and errors that name the file.
final class CommunityDatasetTests: XCTestCase {
    /// Bytes worked by hand: x 3, y 33, ON, t 0x12345 (74,565 µs); x 0, y 0, OFF, t 2²³ − 1.
    func testNMNISTBitFieldsDecodeAsDocumented() throws {
        let bytes: [UInt8] = [3, 33, 0x80 | 0x01, 0x23, 0x45,   0, 0, 0x7F, 0xFF, 0xFF]
        let e = try NMNIST.decode(bytes, source: "hand.bin")
        XCTAssertEqual(e.sensor, SensorSize(width: 34, height: 34))
        XCTAssertEqual(e.x, [3, 0]); XCTAssertEqual(e.y, [33, 0])
        XCTAssertEqual(e.polarity, [1, 0]); XCTAssertEqual(e.t, [0x12345, (1 << 23) - 1])
        XCTAssertEqual(try NMNIST.encode(e), bytes, "encode is the inverse")
    }

    func testNMNISTWriteReadAndErrors() throws {
        let dir = try temporaryFolder(self)
        var rng = SeededGenerator(seed: 9)
        var e = DVSEvents(sensor: NMNIST.sensor)
        for i in 0..<500 {
            e.t.append(Int64(i * 600)); e.x.append(UInt16(rng.nextInt(below: 34))); e.y.append(UInt16(rng.nextInt(below: 34)))
            e.polarity.append(UInt8(rng.nextInt(below: 2)))
        }
        for (split, digit) in [("Train", 3), ("Test", 7)] {
            let folder = dir.appendingPathComponent("\(split)/\(digit)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try NMNIST.write(e, to: folder.appendingPathComponent("00001.bin"))
        }
        let layout = NMNISTLayout(root: dir)
        XCTAssertTrue(NMNISTLayout.looksLikeNMNIST(dir))
        let recordings = try layout.recordings()
        XCTAssertEqual(recordings.map(\.digit), [3, 7]); XCTAssertEqual(recordings.map(\.split), [.train, .test])
        XCTAssertEqual(try NMNIST.read(recordings[0].url), e)

        let truncated = dir.appendingPathComponent("bad.bin")
        try Data([1, 2, 3, 4, 5, 6, 7]).write(to: truncated)
        XCTAssertThrowsError(try NMNIST.read(truncated)) { XCTAssertTrue("\($0)".contains("bad.bin") && "\($0)".contains("5-byte"), "\($0)") }
        let outside = dir.appendingPathComponent("outside.bin")
        try Data([40, 1, 0, 0, 0]).write(to: outside)
        XCTAssertThrowsError(try NMNIST.read(outside)) { XCTAssertTrue("\($0)".contains("34×34"), "\($0)") }
        var late = e; late.t[0] = 1 << 23
        XCTAssertThrowsError(try NMNIST.write(late, to: dir.appendingPathComponent("late.bin"))) {
            XCTAssertTrue("\($0)".contains("23-bit"), "\($0)")
        }
        XCTAssertThrowsError(try NMNISTLayout(root: dir.appendingPathComponent("none")).recordings())
    }

    func testSHDWriteReadAndErrors() throws {
        let dir = try temporaryFolder(self)
        let url = dir.appendingPathComponent("shd_test.h5")
        let a = CochleaEvents(channelCount: 700, t: [0, 1500, 250_000], channel: [0, 699, 350])
        let b = CochleaEvents(channelCount: 700, t: [], channel: [])
        try SHDFile.write([(label: 13, events: a), (label: 2, events: b)], to: url)
        let file = try SHDFile.open(url)
        XCTAssertEqual(file.labels, [13, 2])
        XCTAssertEqual(SHDFile.digit(label: 13), 3, "German 'drei' is digit 3")
        XCTAssertEqual(try file.events(0), a, "times in µs survive float32 seconds at these values")
        XCTAssertEqual(try file.events(1).count, 0)
        XCTAssertThrowsError(try SHDFile.write([(label: 20, events: a)], to: url)) { XCTAssertTrue("\($0)".contains("0…19"), "\($0)") }
        // An N-TIDIGITS-shaped file is not an SHD file: the missing dataset is named.
        let ntidigits = dir.appendingPathComponent("n.hdf5")
        try NTidigitsFile.write([], to: ntidigits)
        XCTAssertThrowsError(try SHDFile.open(ntidigits)) { XCTAssertTrue("\($0)".contains("spikes"), "\($0)") }
    }

    /// Files in the published SHD layout written by h5py (bench/make_shd_fixture.py), with
    /// spike times stored as float16 and as float32: the reader converts both.
    func testSHDFilesWrittenByH5pyRead() throws {
        for name in ["shd-h5py-float16.h5", "shd-h5py-float32.h5"] {
            let file = try SHDFile.open(TestPaths.fixtures.appendingPathComponent(name))
            XCTAssertEqual(file.labels, [3, 19, 10], name)
            XCTAssertEqual(try file.events(0), CochleaEvents(channelCount: 700, t: [0, 250_000, 500_000], channel: [0, 699, 12]), name)
            XCTAssertEqual(try file.events(1).count, 0, name)
            XCTAssertEqual(try file.events(2).t, [125_000], name)
        }
    }

    /// `HDF5Tree.read` (NIR files) reads a file once in a child process first, as the
    /// N-TIDIGITS reader does: the files that crash or hang libhdf5 are errors naming them.
    func testHDF5TreeSurvivesFilesThatCrashTheLibrary() throws {
        setenv("SPIKEFUSE_HDF5_CHECK_SECONDS", "3", 1)
        defer { unsetenv("SPIKEFUSE_HDF5_CHECK_SECONDS") }
        for name in ["ntidigits-crash-heap.hdf5", "ntidigits-crash-heap2.hdf5", "ntidigits-crash-overlap.hdf5", "ntidigits-hang.hdf5"] {
            let url = TestPaths.fixtures.appendingPathComponent(name)
            // A crash in the child, a hang, or a clean HDF5 error found after the check: one
            // error naming the file in every case (and this process still running).
            XCTAssertThrowsError(try HDF5Tree.read(url), name) { error in
                XCTAssertTrue("\(error)".contains(name), "\(name): \(error)")
            }
        }
        // The clean fixture reads as a tree.
        let tree = try HDF5Tree.read(TestPaths.fixtures.appendingPathComponent("ntidigits-mini.hdf5"))
        XCTAssertNotNil(tree["train_labels"])
    }
}
