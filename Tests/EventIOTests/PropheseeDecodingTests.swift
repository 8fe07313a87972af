import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// Hand-built words for each rule of the Prophesee decoders (docs/event-formats.md).
final class PropheseeDecodingTests: XCTestCase {
    static func header(_ lines: [String]) -> [UInt8] { Array(lines.map { "% \($0)\n" }.joined().utf8) }
    static func evt2(_ words: [UInt32], format: String = "EVT2;height=720;width=1280") -> [UInt8] {
        header(["format \(format)", "end"]) + words.flatMap { le32($0) }
    }
    static func cd2(_ p: UInt32, ts: UInt32, x: UInt32, y: UInt32) -> UInt32 { p << 28 | ts << 22 | x << 11 | y }
    static func high2(_ h: UInt32) -> UInt32 { 8 << 28 | h }
    static func evt3(_ words: [UInt16], lines: [String] = ["evt 3.0", "geometry 1280x720"]) -> [UInt8] {
        header(lines) + words.flatMap { le16($0) }
    }
    static func evt21(_ words: [UInt64], legacy: Bool = false) -> [UInt8] {
        header(["format EVT21;height=720;width=1280" + (legacy ? ";endianness=legacy" : ""), "end"])
            + words.flatMap { w -> [UInt8] in
                let lo = UInt32(w & 0xFFFF_FFFF), hi = UInt32(w >> 32)
                return legacy ? le32(hi) + le32(lo) : le32(lo) + le32(hi)
            }
    }
    static func dat(_ records: [(UInt32, UInt32)], lines: [String] = ["Version 2", "Width 304", "Height 240"],
                    type: UInt8 = 12, size: UInt8 = 8) -> [UInt8] {
        header(lines) + [type, size] + records.flatMap { le32($0.0) + le32($0.1) }
    }

    func testEVT2TimeIsTimeHighTimes64PlusTheLowBitsAndWraps() throws {
        let top: UInt32 = (1 << 28) - 1
        let r = try PropheseeRAW.decodeRecording(Self.evt2([
            Self.cd2(1, ts: 1, x: 3, y: 4),                  // before any TIME_HIGH: skipped
            Self.high2(top), Self.cd2(1, ts: 5, x: 1279, y: 719), Self.cd2(0, ts: 63, x: 0, y: 0),
            0xA << 28,                                        // external trigger: counted
            Self.high2(0), Self.cd2(0, ts: 3, x: 10, y: 20),  // the 2³⁴ µs wrap
        ]), source: "w")
        let t0 = Int64(top) << 6
        XCTAssertEqual(r.events.t, [t0 + 5, t0 + 63, (1 << 34) + 3])
        XCTAssertEqual(r.events.x, [1279, 0, 10])
        XCTAssertEqual(r.events.y, [719, 0, 20])
        XCTAssertEqual(r.events.polarity, [1, 0, 0])
        XCTAssertEqual(r.timestampWraps, 1)
        XCTAssertEqual(r.wordsBeforeFirstTimeHigh, 1)
        XCTAssertEqual(r.otherWords, 1)
    }

    func testEVT2SmallFallOfTimeHighIsABackwardJumpNotAWrap() throws {
        let bytes = Self.evt2([Self.high2(100), Self.cd2(1, ts: 0, x: 1, y: 1), Self.high2(99), Self.cd2(1, ts: 0, x: 1, y: 1)])
        let body = Self.header(["format EVT2;height=720;width=1280", "end"]).count
        XCTAssertThrowsEventIOError(try PropheseeRAW.decode(bytes, source: "back"),
                                    .timestampJump(file: "back", offset: body + 12,
                                                   detail: "event at 6336 µs after one at 6400 µs (back by 64 µs, not a clock wrap)"))
        let clamped = try PropheseeRAW.decodeRecording(bytes, source: "back", options: .init(backwardTimestamps: .clamp))
        XCTAssertEqual(clamped.events.t, [6400, 6400])
        XCTAssertEqual(clamped.clampedTimestamps, 1)
    }

    func testEVT21MaskGivesOneEventPerSetBitAndLegacySwapsHalves() throws {
        let cd: UInt64 = 1 << 60 | 7 << 54 | 100 << 43 | 50 << 32 | 0b1000_0000_0000_0000_0000_0000_0000_0101
        let high: UInt64 = 8 << 60 | 2 << 32
        for legacy in [false, true] {
            let r = try PropheseeRAW.decodeRecording(Self.evt21([high, cd, 0xE << 60], legacy: legacy), source: "v")
            XCTAssertEqual(r.events.x, [100, 102, 131])
            XCTAssertEqual(r.events.y, [50, 50, 50])
            XCTAssertEqual(r.events.t, [135, 135, 135])        // 2 · 64 + 7
            XCTAssertEqual(r.events.polarity, [1, 1, 1])
            XCTAssertEqual(r.otherWords, 1)
            XCTAssertEqual(r.legacyEndianness, legacy)
        }
        // Wrap: only from the largest TIME_HIGH to a smaller one (OpenEB).
        let top: UInt64 = (1 << 28) - 1
        let r = try PropheseeRAW.decodeRecording(Self.evt21([8 << 60 | top << 32, cd, 8 << 60, cd]), source: "w")
        XCTAssertEqual(r.events.t.last, (1 << 34) + 7)
        XCTAssertEqual(r.timestampWraps, 1)
    }

    func testEVT3StateVectorsTimeAndEMRows() throws {
        let words: [UInt16] = [
            0x2000 | 5,                     // ADDR_X before the first TIME_HIGH: skipped
            0x8000 | 1,                     // TIME_HIGH 1 → t = 4096
            0x2000 | 7,                     // ADDR_X before any ADDR_Y: no address
            0x4000 | 1,                     // VECT_12 before any VECT_BASE_X: no address
            0x0000 | 30,                    // ADDR_Y 30
            0x6000 | 10,                    // TIME_LOW 10 → t = 4106
            0x2000 | 0x800 | 1279,          // ADDR_X 1279, ON
            0x3000 | 64,                    // VECT_BASE_X 64, OFF
            0x4000 | 0b1000_0000_0001,      // x 64, 75
            0x4000 | 0b0000_0000_0010,      // x 77
            0x5000 | 0b1000_0000,           // x 95
            0x8000 | 1,                     // same TIME_HIGH: low kept
            0x2000 | 3,                     // x 3 at 4106
            0x8000 | 2,                     // new TIME_HIGH: low restarts at 0 → 8192
            0x2000 | 4,
            0x1000 | 31,                    // EM row: not CD
            0x2000 | 9,                     // skipped (EM)
            0xA000, 0xE000, 0xF000, 0x7000, // trigger, others, continued: counted
        ]
        let r = try PropheseeRAW.decodeRecording(Self.evt3(words), source: "s")
        XCTAssertEqual(r.events.x, [1279, 64, 75, 77, 95, 3, 4])
        XCTAssertEqual(r.events.y, [30, 30, 30, 30, 30, 30, 30])
        XCTAssertEqual(r.events.t, [4106, 4106, 4106, 4106, 4106, 4106, 8192])
        XCTAssertEqual(r.events.polarity, [1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(r.wordsBeforeFirstTimeHigh, 1)
        XCTAssertEqual(r.wordsWithoutAddress, 2)
        XCTAssertEqual(r.otherWords, 6)                    // EM ADDR_Y, its ADDR_X, and the four
    }

    /// Dense vectors (32 events per 4 words) overflow the one-pass guess of 2 events per word:
    /// the reader counts and decodes again, with the same events and counts as ever.
    func testDenseEVT3VectorsDecodeThroughTheCountedPass() throws {
        var words: [UInt16] = [0x6000, 0x8000 | 3, 0x0000 | 7, 0xE000]
        for row in 0..<50 {
            words += [0x0000 | UInt16(row), 0x3000 | 0x800 | 64, 0x4000 | 0xFFF, 0x4000 | 0xFFF, 0x5000 | 0xFF]
        }
        let r = try PropheseeRAW.decodeRecording(Self.evt3(words), source: "dense")
        XCTAssertEqual(r.events.count, 50 * 32)
        XCTAssertEqual(r.events.x, (0..<50).flatMap { _ in (64..<96).map(UInt16.init) })
        XCTAssertEqual(r.events.y, (0..<50).flatMap { row in [UInt16](repeating: UInt16(row), count: 32) })
        XCTAssertEqual(Set(r.events.t), [3 << 12])
        XCTAssertEqual(r.wordsBeforeFirstTimeHigh, 1)
        XCTAssertEqual(r.otherWords, 1)
    }

    /// The 24-bit wrap: TIME_HIGH falling by at least 2048 adds 2²⁴ µs; expelliarmus 1.x adds
    /// 4096 µs more there (docs/event-formats.md).
    func testEVT3WrapsAt2To24() throws {
        let r = try PropheseeRAW.decodeRecording(Self.evt3([0x8000 | 4095, 0x0000 | 1, 0x6000 | 4095, 0x2000 | 2,
                                                             0x8000 | 0, 0x6000 | 5, 0x2000 | 2,
                                                             0x8000 | 2047]), source: "w")
        XCTAssertEqual(r.events.t, [(1 << 24) - 1, (1 << 24) + 5])
        XCTAssertEqual(r.timestampWraps, 1)
    }

    func testDATLayoutsAndWrap() throws {
        let v2 = try PropheseeDAT.decodeRecording(Self.dat([(UInt32.max - 1, 303 | 239 << 14 | 1 << 28), (3, 2 | 5 << 14)]), source: "d")
        XCTAssertEqual(v2.events.t, [Int64(UInt32.max) - 1, (1 << 32) + 3])
        XCTAssertEqual(v2.events.x, [303, 2])
        XCTAssertEqual(v2.events.y, [239, 5])
        XCTAssertEqual(v2.events.polarity, [1, 0])
        XCTAssertEqual(v2.timestampWraps, 1)
        let v1 = try PropheseeDAT.decode(Self.dat([(7, 300 | 200 << 9 | 1 << 17)], lines: ["Version 1", "Width 304", "Height 240"]),
                                         source: "d1")
        XCTAssertEqual(v1.x, [300]); XCTAssertEqual(v1.y, [200]); XCTAssertEqual(v1.polarity, [1]); XCTAssertEqual(v1.t, [7])
    }

    func testHeaderStylesAndSensorFallbacks() throws {
        let words = [Self.high2(1), Self.cd2(1, ts: 0, x: 600, y: 400)]
        let geometry = try PropheseeRAW.decodeRecording(Self.header(["evt 2.0", "geometry 640x480"]) + words.flatMap { le32($0) }, source: "g")
        XCTAssertEqual(geometry.events.sensor, SensorSize(width: 640, height: 480))
        let none = try PropheseeRAW.decodeRecording(Self.header(["evt 2.0"]) + words.flatMap { le32($0) }, source: "n")
        XCTAssertFalse(none.sensorFromHeader)
        XCTAssertEqual(none.events.sensor, SensorSize(width: 601, height: 401))
        let given = try PropheseeRAW.decode(Self.header(["evt 2.0"]) + words.flatMap { le32($0) }, source: "n",
                                            options: .init(sensor: SensorSize(width: 1280, height: 720)))
        XCTAssertEqual(given.sensor, SensorSize(width: 1280, height: 720))
        let key = try PropheseeRAW.decodeRecording(Self.header(["format EVT21;width=1280;height=720", "endianness legacy", "end"]),
                                                   source: "k")
        XCTAssertTrue(key.legacyEndianness)
        XCTAssertEqual(key.events.count, 0)
    }
}
