import CZlib
import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

final class PNGTests: XCTestCase {
    /// Splits PNG bytes into (type, data, stored CRC) chunks after the signature.
    private func chunks(_ png: [UInt8]) throws -> [(type: String, data: [UInt8], crc: UInt32)] {
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func u32(_ o: Int) -> UInt32 { png[o..<(o + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        var result: [(String, [UInt8], UInt32)] = []
        var o = 8
        while o + 12 <= png.count {
            let n = Int(u32(o))
            let type = String(decoding: png[(o + 4)..<(o + 8)], as: UTF8.self)
            let data = Array(png[(o + 8)..<(o + 8 + n)])
            result.append((type, data, u32(o + 8 + n)))
            o += 12 + n
        }
        XCTAssertEqual(o, png.count, "chunks fill the file exactly")
        return result
    }

    func testEncodeDecodesBackWithZlibAndCorrectCRCs() throws {
        let width = 7, height = 5
        var g = SeededGenerator(seed: 3)
        let rgb = (0..<(width * height * 3)).map { _ in UInt8.random(in: 0...255, using: &g) }
        let png = try PNG.encode(rgb: rgb, width: width, height: height)
        let parts = try chunks(png)
        XCTAssertEqual(parts.map(\.type), ["IHDR", "IDAT", "IEND"])
        for p in parts {
            // CRC-32 over type + data, computed independently with a bitwise loop
            // (polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in Array(p.type.utf8) + p.data {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            XCTAssertEqual(p.crc, crc ^ 0xFFFF_FFFF, p.type)
        }
        // IHDR: width 7, height 5, depth 8, colour type 2, compression 0, filter 0, interlace 0.
        XCTAssertEqual(parts[0].data, [0, 0, 0, 7, 0, 0, 0, 5, 8, 2, 0, 0, 0])
        // Inflate IDAT: height rows of (filter byte 0, width·3 bytes).
        let idat = parts[1].data
        var raw = [UInt8](repeating: 0, count: height * (width * 3 + 1))
        var rawCount = uLongf(raw.count)
        XCTAssertEqual(uncompress(&raw, &rawCount, idat, uLong(idat.count)), Z_OK)
        XCTAssertEqual(Int(rawCount), raw.count)
        var pixels: [UInt8] = []
        let stride = width * 3 + 1
        for y in 0..<height {
            let start: Int = y * stride
            XCTAssertEqual(raw[start], 0, "filter type None")
            pixels += raw[(start + 1)..<(start + stride)]
        }
        XCTAssertEqual(pixels, rgb)
    }

    func testRejectsWrongSize() {
        XCTAssertThrowsError(try PNG.encode(rgb: [1, 2, 3], width: 2, height: 1))
    }

    func testNiceTicks() {
        // Range 0…2210 with ~6 ticks: raw step 368 → next of {100,200,500,1000} ≥ 368 is 500.
        XCTAssertEqual(SVGPlot.niceTicks(0, 2210), [0, 500, 1000, 1500, 2000])
        // 0.9…1.0: raw 0.0167 → 0.02 steps from 0.9.
        XCTAssertEqual(SVGPlot.niceTicks(0.9, 1.0).count, 6)
    }

    func testLinePlotSVG() {
        let svg = SVGPlot.lines(series: [.init(name: "train", points: [(0, 0.5), (1, 0.9)], color: "#f00")],
                                title: "Accuracy", xLabel: "epoch", yLabel: "accuracy", yRange: 0...1)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("<polyline"))
        XCTAssertTrue(svg.contains(">train</text>"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
    }

    /// Bars: values 2 and −1 on a y range [−1, 2]; the plot spans y = 36…354 px (height 400,
    /// bottom margin 46), so 1 unit = 318/3 = 106 px: the bar of 2 is 212 px tall and ends on
    /// the zero line at 354 − 106 = 248; the bar of −1 hangs 106 px below it.
    func testGroupedBarSVG() {
        let svg = SVGPlot.bars(groups: ["clean", "bad"], series: [("w_v", "#00f", [2, -1])],
                               title: "Attention", yLabel: "weight", width: 640, height: 400)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        XCTAssertTrue(svg.contains(">clean</text>") && svg.contains(">bad</text>") && svg.contains(">w_v</text>"))
        XCTAssertTrue(svg.contains("y=\"36.00\" width="), "the bar of 2 starts at the top of the plot")
        XCTAssertTrue(svg.contains("height=\"212.00\""), svg)
        XCTAssertTrue(svg.contains("y=\"248.00\" width=") && svg.contains("height=\"106.00\""), "the bar of −1 hangs from zero")
    }
}
