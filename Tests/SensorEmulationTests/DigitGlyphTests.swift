import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class DigitGlyphTests: XCTestCase {
    func testImagesAreMNISTLikeAndCentred() {
        let r = DigitGlyphRenderer()
        for digit in 0...9 {
            for seed in 0..<5 {
                var rng = SeededGenerator(seed: UInt64(seed * 10 + digit))
                let img = r.render(digit: digit, using: &rng)
                XCTAssertEqual(img.count, 28 * 28)
                let ink = img.reduce(0) { $0 + Int($1) }
                XCTAssertGreaterThan(ink, 255 * 20, "digit \(digit): too little ink")
                XCTAssertGreaterThan(img.max() ?? 0, 180)
                // centre of mass within 3 px of the image centre (14, 14) — translation ≤ 1.5 px
                var mx = 0.0, my = 0.0
                for y in 0..<28 { for x in 0..<28 { let v = Double(img[y * 28 + x]); mx += v * (Double(x) + 0.5); my += v * (Double(y) + 0.5) } }
                mx /= Double(ink); my /= Double(ink)
                XCTAssertEqual(mx, 14, accuracy: 3, "digit \(digit) seed \(seed)")
                XCTAssertEqual(my, 14, accuracy: 3, "digit \(digit) seed \(seed)")
                // nothing touches the border rows/columns (20 px box + margin)
                XCTAssertEqual((0..<28).map { Int(img[$0]) + Int(img[27 * 28 + $0]) }.reduce(0, +), 0)
            }
        }
    }

    func testSameSeedSamePixelsDifferentSeedsDiffer() {
        let r = DigitGlyphRenderer()
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let ia = r.render(digit: 3, using: &a), ib = r.render(digit: 3, using: &b), ic = r.render(digit: 3, using: &c)
        XCTAssertEqual(ia, ib)
        XCTAssertNotEqual(ia, ic)
    }

    /// Anti-aliasing by hand: a horizontal segment at y = 14.5 (a pixel-centre row), pen width 2:
    /// reach = w/2 + 0.5 = 1.5; row 14 (d = 0) → coverage 1 → 255; rows 13/15 (d = 1) → 0.5 → 128;
    /// rows 12/16 (d = 2) → 0.
    func testRasteriserCoverage() {
        let r = DigitGlyphRenderer()
        let img = r.rasterise([[SIMD2(4, 14.5), SIMD2(24, 14.5)]], penWidth: 2, ink: 1)
        XCTAssertEqual(img[14 * 28 + 10], 255)
        XCTAssertEqual(img[13 * 28 + 10], 128)
        XCTAssertEqual(img[15 * 28 + 10], 128)
        XCTAssertEqual(img[12 * 28 + 10], 0)
        XCTAssertEqual(img[16 * 28 + 10], 0)
    }

    /// Prints a few glyphs as ASCII (for eyeballing with `--filter testPrintGlyphs`); asserts
    /// that all ten digits render differently from each other.
    func testPrintGlyphs() {
        let r = DigitGlyphRenderer()
        var images: [[UInt8]] = []
        for d in 0...9 {
            var rng = SeededGenerator(seed: UInt64(d))
            let img = r.render(digit: d, using: &rng)
            images.append(img)
            if ProcessInfo.processInfo.environment["SPIKEFUSE_PRINT_GLYPHS"] != nil {
                for y in stride(from: 0, to: 28, by: 1) {
                    print((0..<28).map { img[y * 28 + $0] > 128 ? "#" : img[y * 28 + $0] > 40 ? "+" : "." }.joined())
                }
            }
        }
        XCTAssertEqual(Set(images.map { $0 }).count, 10)
        if let seeds = ProcessInfo.processInfo.environment["SPIKEFUSE_GLYPH_GRID"] {
            for d in 0...9 {
                let imgs = (0..<Int(seeds)!).map { s -> [UInt8] in var g = SeededGenerator(seed: UInt64(1000 * d + s)); return r.render(digit: d, using: &g) }
                for y in stride(from: 0, to: 28, by: 2) {
                    print(imgs.map { img in (0..<28).map { img[y * 28 + $0] > 100 || img[min(27, y + 1) * 28 + $0] > 100 ? "#" : "." }.joined() }.joined(separator: " "))
                }
            }
        }
    }
}
