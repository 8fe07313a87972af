import CZlib
import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// gzip-compresses bytes with zlib (windowBits 15 + 16 = gzip wrapper), for hand-made files.
private func gzip(_ input: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
    var input = input
    let produced = input.withUnsafeMutableBufferPointer { inp in
        output.withUnsafeMutableBufferPointer { out -> Int in
            stream.next_in = inp.baseAddress; stream.avail_in = uInt(inp.count)
            stream.next_out = out.baseAddress; stream.avail_out = uInt(out.count)
            deflate(&stream, Z_FINISH)
            return out.count - Int(stream.avail_out)
        }
    }
    return Array(output[..<produced])
}

final class IDXTests: XCTestCase {
    func testRealMNISTSubsets() throws {
        let folder = try sharedData("mnist")
        let images = try IDX.readImages(folder.appendingPathComponent("train-5k-images-idx3-ubyte.gz"))
        let labels = try IDX.readLabels(folder.appendingPathComponent("train-5k-labels-idx1-ubyte.gz"))
        XCTAssertEqual([images.count, images.rows, images.cols], [5000, 28, 28])
        XCTAssertEqual(images.pixels.count, 5000 * 28 * 28)
        XCTAssertEqual(labels.count, 5000)
        var perClass = [Int](repeating: 0, count: 10)
        for l in labels { XCTAssertLessThan(l, 10); if l < 10 { perClass[Int(l)] += 1 } }
        XCTAssertEqual(perClass, [Int](repeating: 500, count: 10))   // README: 500 per class
        // An MNIST digit: black border (first row empty), some ink (255) in the middle.
        let first = images.image(0)
        XCTAssertEqual(first.count, 784)
        XCTAssertTrue(first[0..<28].allSatisfy { $0 == 0 })
        XCTAssertGreaterThan(first.filter { $0 > 128 }.count, 30)

        let test = try IDX.readImages(folder.appendingPathComponent("t10k-first5000-images-idx3-ubyte.gz"))
        let testLabels = try IDX.readLabels(folder.appendingPathComponent("t10k-first5000-labels-idx1-ubyte.gz"))
        XCTAssertEqual(test.count, 5000); XCTAssertEqual(testLabels.count, 5000)
        XCTAssertEqual(Array(testLabels.prefix(5)), [7, 2, 1, 0, 4])   // the well-known first MNIST test labels
    }

    func testPlainAndGzipHandMadeFiles() throws {
        // Two 2×3 images: header 0x00000803, 2, 2, 3 then 12 pixel bytes 0…11.
        let plain = be32(2051) + be32(2) + be32(2) + be32(3) + (0..<12).map { UInt8($0) }
        let dir = try temporaryFolder(self)
        for (name, bytes) in [("p.idx", plain), ("g.idx.gz", gzip(plain))] {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            let images = try IDX.readImages(url)
            XCTAssertEqual([images.count, images.rows, images.cols], [2, 2, 3])
            XCTAssertEqual(images.image(1), [6, 7, 8, 9, 10, 11])
        }
        let labels = be32(2049) + be32(3) + [4, 0, 9]
        XCTAssertEqual(try IDX.decodeLabels(gzip(labels), source: "l"), [4, 0, 9])
    }

    func testWrongMagicShortDataAndBrokenGzip() throws {
        let dir = try temporaryFolder(self)
        let labels = be32(2049) + be32(3) + [4, 0, 9]
        // Labels read as images: wrong magic.
        let url = dir.appendingPathComponent("labels.idx")
        try Data(labels).write(to: url)
        XCTAssertThrowsEventIOError(try IDX.readImages(url), file: url.path) {
            if case .badHeader = $0 { return true } else { return false }
        }
        // 3 labels declared, 2 present: truncated at the end of the file (offset 8 + 2 = 10).
        XCTAssertThrowsEventIOError(try IDX.decodeLabels(Array(labels.dropLast()), source: "short"), file: "short") {
            if case .truncated(_, 10, _) = $0 { return true } else { return false }
        }
        // Extra bytes after the data.
        XCTAssertThrowsEventIOError(try IDX.decodeLabels(labels + [1], source: "long"), file: "long") {
            if case .malformed = $0 { return true } else { return false }
        }
        // Header cut short.
        XCTAssertThrowsEventIOError(try IDX.decodeImages(be32(2051) + be32(2), source: "hdr"), file: "hdr") {
            if case .truncated = $0 { return true } else { return false }
        }
        // A gzip stream cut in half, and one with corrupted deflate data.
        let zipped = gzip(be32(2051) + be32(1) + be32(28) + be32(28) + [UInt8](repeating: 7, count: 784))
        XCTAssertThrowsEventIOError(try IDX.decodeImages(Array(zipped.prefix(zipped.count / 2)), source: "half.gz"), file: "half.gz") {
            if case .truncated = $0 { return true } else { return false }
        }
        var corrupt = zipped
        for i in 10..<min(20, corrupt.count) { corrupt[i] = 0xFF }
        XCTAssertThrowsEventIOError(try IDX.decodeImages(corrupt, source: "bad.gz"), file: "bad.gz") {
            if case .malformed = $0 { return true }
            if case .truncated = $0 { return true }
            return false
        }
        XCTAssertThrowsEventIOError(try IDX.decodeLabels([], source: "e"), .emptyFile(file: "e"))
    }
}
