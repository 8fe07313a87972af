import Foundation
import XCTest
@testable import TensorBoardEvents

/// The hand-written TensorBoard encoder against bytes the `tensorboard` package wrote
/// (`bench/make_tensorboard_fixture.py`), CRC-32C against its published check value, and the
/// reader against damaged files.
final class TensorBoardEventsTests: XCTestCase {
    /// The fixture's events, as the script lists them.
    private let fixtureEvents: [TensorBoardEvent] = [
        .fileVersion(wallTime: 1765000000.25),
        TensorBoardEvent(wallTime: 1765000001.5, step: 1, scalars: [.init(tag: "loss/train/total", value: 2.25)]),
        TensorBoardEvent(wallTime: 1765000002.75, step: 2, scalars: [.init(tag: "accuracy/test/fusion", value: 97.8),
                                                                     .init(tag: "attention/w_v", value: 0)]),
        TensorBoardEvent(wallTime: 1765000003.0, step: 300, scalars: [.init(tag: "batch/loss/total", value: -0.125)]),
        TensorBoardEvent(wallTime: 1765000004.125, step: 1234567890123, scalars: [.init(tag: "lr", value: 0.001)]),
    ]

    private func fixture() throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/events.out.tfevents.fixture")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw XCTSkip("fixture missing: \(url.path) (bench/make_tensorboard_fixture.py writes it)")
        }
        return Array(data)
    }

    func testCRC32CCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)   // RFC 3720 B.4
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    func testEncoderWritesTheBytesTensorBoardWrites() throws {
        let expected = try fixture()
        let mine = fixtureEvents.flatMap { TFRecord.frame($0.encoded()) }
        XCTAssertEqual(mine.count, expected.count)
        if let i = zip(mine, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("first differing byte at offset \(i)")
        }
        XCTAssertEqual(mine, expected)
    }

    func testReaderDecodesTensorBoardsFile() throws {
        let records = try TFRecord.records(try fixture(), source: "fixture")
        let events = try records.map { try TensorBoardEvent(decoding: $0, source: "fixture") }
        XCTAssertEqual(events, fixtureEvents)
    }

    func testDamagedFilesAreErrorsNamingTheOffset() throws {
        var bytes = try fixture()
        let first = 16 + 24          // the file_version record: 16 bytes of framing, 24 of event
        bytes[first + 20] ^= 1       // inside the second record's data
        XCTAssertThrowsError(try TFRecord.records(bytes, source: "f")) { error in
            XCTAssertEqual(error as? TFRecordError, TFRecordError(source: "f", offset: first, reason: "the data's CRC does not match"))
        }
        let cut = Array(try fixture().dropLast(3))
        XCTAssertThrowsError(try TFRecord.records(cut, source: "f")) { XCTAssertTrue("\($0)".contains("past the end"), "\($0)") }
    }

    func testWriterAppendsRecords() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID())")
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(TFRecord.frame(fixtureEvents[0].encoded()))))
        do {
            let writer = try TensorBoardEventWriter(appendingTo: url)
            try writer.append(Array(fixtureEvents[1...2]))
            try writer.append(Array(fixtureEvents[3...]))
        }
        XCTAssertEqual(try TensorBoardEvent.read(url), fixtureEvents)
        XCTAssertEqual(Array(FileManager.default.contents(atPath: url.path)!), try fixture())
    }
}
