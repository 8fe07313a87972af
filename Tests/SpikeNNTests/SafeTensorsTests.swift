import Foundation
import XCTest
@testable import SpikeNN
import SpikeTensor

final class SafeTensorsTests: XCTestCase {
    // MARK: Helpers

    /// A safetensors file made by hand: the 8-byte length, `header` as is, then `buffer`.
    private func file(_ header: String, _ buffer: [UInt8] = []) -> [UInt8] {
        let h = Array(header.utf8)
        var out: [UInt8] = []
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64(i)))) }
        return out + h + buffer
    }

    /// Decodes `bytes` and returns the error, failing the test when decoding succeeds.
    private func decodeError(_ bytes: [UInt8], line: UInt = #line) -> SafeTensorsError? {
        do {
            _ = try SafeTensors.decode(bytes, source: "test.safetensors")
            XCTFail("decoding succeeded but should have failed", line: line)
            return nil
        } catch {
            XCTAssertTrue(error.description.hasPrefix("test.safetensors: "),
                          "error does not name the file: \(error)", line: line)
            return error
        }
    }

    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // MARK: Round trip

    func testRoundTripThroughFileKeepsValuesOrderAndMetadata() throws {
        var g = SeededGenerator(seed: 7)
        let a = Tensor(shape: [3, 4], scalars: (0..<12).map { _ in Float.random(in: -5...5, using: &g) })
        let special = Tensor(shape: [5], scalars: [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude])
        let scalar = Tensor(shape: [], scalars: [3.5])
        let empty = Tensor(shape: [2, 0], scalars: [])
        let tensors: [(name: String, tensor: Tensor)] = [
            ("visual.conv1.weight", a), ("spécial \"quoted\"\n", special), ("scalar", scalar), ("empty", empty),
        ]
        let metadata = ["config": "{\"mode\": \"multimodal\", \"tau\": 0.2}", "τ": "µs\\"]
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("model.safetensors")
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        // Overwriting an existing file works too (rename replaces it).
        try SafeTensors.write(tensors, metadata: metadata, to: url)

        let read = try SafeTensors.read(url)
        XCTAssertEqual(read.names, ["visual.conv1.weight", "spécial \"quoted\"\n", "scalar", "empty"])
        XCTAssertEqual(read.metadata, metadata)
        for (name, tensor) in tensors {
            let got = try read.tensor(named: name)
            XCTAssertEqual(got.shape, tensor.shape, name)
            // Bit patterns, so NaN and -0 are checked exactly.
            XCTAssertEqual(got.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern), name)
            XCTAssertEqual(read.dtypes[name], "F32")
        }
        // Only the final file is left: the temporary file was renamed.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.safetensors"])
    }

    func testEncodedHeaderIsPaddedToEightBytesAndDataFollowsLittleEndian() throws {
        let bytes = try SafeTensors.encode([("x", Tensor(shape: [2], scalars: [1, -2]))], metadata: [:])
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(bytes.count, 8 + n + 8)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}")
        // 1.0 = 0x3F800000, -2.0 = 0xC0000000, little-endian.
        XCTAssertEqual(Array(bytes[(8 + n)...]), [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    func testWriteRejectsDuplicateAndReservedNamesAndMissingFolder() throws {
        let t = Tensor(shape: [1], scalars: [1])
        XCTAssertThrowsError(try SafeTensors.encode([("a", t), ("a", t)], metadata: [:])) { error in
            XCTAssertEqual(error as? SafeTensorsError, .duplicateName(source: "<memory>", name: "a"))
        }
        XCTAssertThrowsError(try SafeTensors.encode([("__metadata__", t)], metadata: [:])) { error in
            guard case .invalidName = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try SafeTensors.encode([("", t)], metadata: [:]))
        let url = URL(fileURLWithPath: "/nonexistent-folder-\(UUID().uuidString)/x.safetensors")
        XCTAssertThrowsError(try SafeTensors.write([("a", t)], to: url)) { error in
            guard case .writeFailed = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(url.path))
        }
        XCTAssertThrowsError(try SafeTensors.read(url)) { error in
            guard case .unreadable = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
    }

    // MARK: A file written by Python's safetensors package

    /// `python_written.safetensors` comes from `bench/make_fixtures.py`: tensor values
    /// are formulas of the row-major flat index i (listed there and in its metadata).
    func testReadsFileWrittenByPythonSafetensors() throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let file = try SafeTensors.read(folder.appendingPathComponent("python_written.safetensors"))

        func check(_ name: String, dtype: String, shape: [Int], _ formula: (Int) -> Double,
                   line: UInt = #line) throws {
            let t = try file.tensor(named: name)
            XCTAssertEqual(file.dtypes[name], dtype, name, line: line)
            XCTAssertEqual(t.shape, shape, name, line: line)
            XCTAssertEqual(t.scalars, (0..<t.count).map { Float(formula($0)) }, name, line: line)
        }
        try check("f32", dtype: "F32", shape: [2, 3, 4]) { Double($0) * 0.25 - 3 }
        // Float(Double) rounds to nearest, as the reader's F64 → F32 conversion must.
        try check("f64", dtype: "F64", shape: [5]) { 1 / Double($0 + 1) }
        try check("f16", dtype: "F16", shape: [3, 2]) { (Double($0) - 2.5) * 0.5 }
        try check("bf16", dtype: "BF16", shape: [3]) { [1.0, -2.5, 0.15625][$0] }
        try check("i64", dtype: "I64", shape: [4]) { Double(($0 - 1) * 1000) }
        try check("i32", dtype: "I32", shape: [3]) { Double(($0 - 1) * 7) }
        try check("i16", dtype: "I16", shape: [2]) { [-32768, 32767][$0] }
        try check("i8", dtype: "I8", shape: [2]) { [-128, 127][$0] }
        try check("u8", dtype: "U8", shape: [4]) { [0, 1, 128, 255][$0] }
        try check("bool", dtype: "BOOL", shape: [3]) { [1, 0, 1][$0] }
        // Smallest subnormal, smallest normal, largest finite half, −∞.
        try check("f16_special", dtype: "F16", shape: [4]) { [0x1p-24, 0x1p-14, 65504, -.infinity][$0] }
        try check("scalar", dtype: "F32", shape: []) { _ in 42.5 }
        try check("empty", dtype: "F32", shape: [0, 3]) { _ in 0 }

        XCTAssertEqual(Set(file.names), ["f32", "f64", "f16", "bf16", "i64", "i32", "i16", "i8", "u8",
                                         "bool", "f16_special", "scalar", "empty"])
        XCTAssertEqual(file.names.count, 13)
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertEqual(file.metadata["producer"], "bench/make_fixtures.py")
        XCTAssertEqual(file.metadata["unicode"], "τ = 0.2 µs \"quoted\"")
        XCTAssertNotNil(file.metadata["formulas"])
    }

    /// The half-precision converter against Swift's own `Float16` on all 65,536 patterns.
    func testHalfToFloatMatchesFloat16ForEveryBitPattern() {
        #if !(os(macOS) && arch(x86_64))
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = SafeTensors.halfToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN, "\(bits)")
            } else if got.bitPattern != expected.bitPattern {
                XCTFail("half \(String(bits, radix: 16)): got \(got), expected \(expected)")
                return
            }
        }
        #endif
    }

    // MARK: Corrupt files: every one is a typed error, never a crash

    private let buffer12 = [UInt8](repeating: 0, count: 12)

    func testTruncatedHeaderLength() {
        XCTAssertEqual(decodeError([1, 2, 3]), .truncatedHeader(source: "test.safetensors", byteCount: 3))
        XCTAssertEqual(decodeError([]), .truncatedHeader(source: "test.safetensors", byteCount: 0))
    }

    func testHeaderLengthBeyondFile() {
        var bytes = file("{}")
        bytes[0] = 200  // claims a 200-byte header; the file has 10 bytes
        XCTAssertEqual(decodeError(bytes),
                       .headerLengthBeyondFile(source: "test.safetensors", headerLength: 200, fileSize: 10))
        let huge: [UInt8] = [255, 255, 255, 255, 255, 255, 255, 255, 0x7B, 0x7D]
        guard case .headerTooLarge = decodeError(huge) else { return XCTFail() }
    }

    func testBadJSON() {
        guard case let .badJSON(_, offset, _) = decodeError(file("{\"a\": nope}")) else { return XCTFail() }
        XCTAssertEqual(offset, 8 + 6)  // the 'n' of "nope" is byte 6 of the header
        guard case .badJSON = decodeError(file("[1, 2]")) else { return XCTFail() }
        guard case .badJSON = decodeError(file("{\"a\": {}")) else { return XCTFail() }
        guard case .badJSON = decodeError(file("{} trailing")) else { return XCTFail() }
        guard case .badJSON = decodeError(file(String(repeating: "[", count: 10_000))) else { return XCTFail() }
        guard case .badJSON = decodeError(file("{\"__metadata__\": {\"k\": 3}}")) else { return XCTFail() }
        guard case .badJSON = decodeError(file("{\"__metadata__\": [\"k\"]}")) else { return XCTFail() }
        guard case .badJSON = decodeError(file("{\"a\\ud800\": 1}")) else { return XCTFail() }
        guard case .badJSON = decodeError([2, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE]) else { return XCTFail() }
    }

    func testBadEntries() {
        guard case .badEntry = decodeError(file("{\"a\": 3}")) else { return XCTFail() }
        guard case .badEntry = decodeError(file("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", [0, 0, 0, 0]))
        else { return XCTFail() }
        guard case .badEntry = decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", [0, 0, 0, 0]))
        else { return XCTFail() }
        guard case .badEntry = decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", [0, 0, 0, 0]))
        else { return XCTFail() }
        guard case .badEntry = decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", [0, 0, 0, 0]))
        else { return XCTFail() }
    }

    func testUnknownDType() {
        XCTAssertEqual(decodeError(file("{\"a\": {\"dtype\": \"F8_E4M3\", \"shape\": [1], \"data_offsets\": [0, 1]}}", [0])),
                       .unknownDType(source: "test.safetensors", name: "a", dtype: "F8_E4M3"))
    }

    func testOffsetsOutOfRange() {
        XCTAssertEqual(decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", buffer12)),
                       .offsetsOutOfRange(source: "test.safetensors", name: "a", begin: 0, end: 16, bufferSize: 12))
        guard case .offsetsOutOfRange = decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", buffer12))
        else { return XCTFail() }
        guard case .offsetsOutOfRange = decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", buffer12))
        else { return XCTFail() }
        // An offset beyond Int is not an integer literal the reader accepts.
        guard case .badEntry = decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 99999999999999999999]}}", buffer12))
        else { return XCTFail() }
    }

    func testOverlappingOffsets() {
        let header = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
            + "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}"
        XCTAssertEqual(decodeError(file(header, buffer12)),
                       .overlappingOffsets(source: "test.safetensors", name: "b", other: "a"))
    }

    func testOffsetsNotCoveringTheBuffer() {
        let gap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
            + "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}"
        XCTAssertEqual(decodeError(file(gap, buffer12)),
                       .bufferNotCovered(source: "test.safetensors", gapBegin: 4, gapEnd: 8))
        let trailing = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}"
        XCTAssertEqual(decodeError(file(trailing, buffer12)),
                       .bufferNotCovered(source: "test.safetensors", gapBegin: 4, gapEnd: 12))
    }

    func testShapeTimesDTypeSizeMismatch() {
        XCTAssertEqual(decodeError(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 12]}}", buffer12)),
                       .sizeMismatch(source: "test.safetensors", name: "a", shape: [2], dtype: "F32",
                                     expectedBytes: 8, actualBytes: 12))
        // 2^62 · 2^62 elements overflows Int: still a size mismatch, not a crash.
        let big = "{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4611686018427387904], \"data_offsets\": [0, 12]}}"
        guard case .sizeMismatch = decodeError(file(big, buffer12)) else { return XCTFail() }
    }

    func testDuplicateNames() {
        let header = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
            + "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}"
        XCTAssertEqual(decodeError(file(header, [UInt8](repeating: 0, count: 8))),
                       .duplicateName(source: "test.safetensors", name: "a"))
    }

    func testMissingTensorIsTypedError() throws {
        let bytes = try SafeTensors.encode([("a", Tensor(shape: [1], scalars: [1]))], metadata: [:])
        let decoded = try SafeTensors.decode(bytes, source: "m.safetensors")
        XCTAssertThrowsError(try decoded.tensor(named: "b")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingTensor(source: "m.safetensors", name: "b"))
        }
    }

    /// Every truncation and thousands of random byte corruptions of a valid file either
    /// decode or throw a `SafeTensorsError` (a crash would end the test process).
    func testTruncatedAndCorruptedFilesNeverCrash() throws {
        let valid = try SafeTensors.encode(
            [("w", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])), ("b", Tensor(shape: [3], scalars: [7, 8, 9]))],
            metadata: ["k": "v"])
        XCTAssertNoThrow(try SafeTensors.decode(valid, source: "valid"))
        for length in 0..<valid.count {
            XCTAssertThrowsError(try SafeTensors.decode(Array(valid[0..<length]), source: "cut"))
        }
        var g = SeededGenerator(seed: 2026)
        var failures = 0
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &g) {
                bytes[Int.random(in: 0..<bytes.count, using: &g)] = UInt8.random(in: 0...255, using: &g)
            }
            do { _ = try SafeTensors.decode(bytes, source: "fuzz") } catch { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
    }

    // MARK: The LIF golden fixture (from bench/make_fixtures.py)

    /// Re-derives `lif_golden.safetensors` with a plain scalar LIF written here:
    /// u[t] = τ·u[t−1]·(1 − o[t−1]) + I[t], o[t] = 1{u[t] ≥ 0.5}; backward with
    /// h(u) = 1{|u − 0.5| < 0.5} and the reset term not detached:
    ///   dL/do[t] = g[t] + dL/du[t+1]·(−τ·u[t]),  dL/du[t] = dL/do[t]·h(u[t]) + dL/du[t+1]·τ·(1 − o[t]).
    /// Float32 forward in the same operation order must match the file bit for bit.
    func testLIFGoldenFixtureFollowsTheBindingRecurrence() throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let file = try SafeTensors.read(folder.appendingPathComponent("lif_golden.safetensors"))
        XCTAssertEqual(file.metadata["threshold"], "0.5")
        for prefix in ["", "tau0.2."] {
            let tau = try XCTUnwrap(Float(file.metadata[prefix + "tau"] ?? ""))
            let current = try file.tensor(named: prefix + "current")
            let gradSpikes = try file.tensor(named: prefix + "grad_spikes")
            XCTAssertEqual(current.shape, [20, 16])
            let (T, N) = (current.shape[0], current.shape[1])
            var u = [Float](repeating: 0, count: T * N), o = u
            for t in 0..<T {
                for n in 0..<N {
                    let previousU: Float = t > 0 ? u[(t - 1) * N + n] : 0
                    let previousO: Float = t > 0 ? o[(t - 1) * N + n] : 0
                    u[t * N + n] = tau * previousU * (1 - previousO) + current[t, n]
                    o[t * N + n] = u[t * N + n] >= 0.5 ? 1 : 0
                }
            }
            XCTAssertEqual(try file.tensor(named: prefix + "membrane").scalars, u, "tau \(tau)")
            XCTAssertEqual(try file.tensor(named: prefix + "spikes").scalars, o, "tau \(tau)")
            // Edge cases placed at t = 0: I = 0.5 spikes (u ≥ Vth); I = 1.0 and 0.0 lie on
            // the open edges of the surrogate window, so their h(u) = 0.
            XCTAssertEqual(o[0], 1)
            var gradU = [Double](repeating: 0, count: T * N)
            let tauD = Double(tau)
            for n in 0..<N {
                var next = 0.0
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let i = t * N + n
                    var dO = Double(gradSpikes[t, n])
                    if t + 1 < T { dO += next * (-tauD * Double(u[i])) }
                    let h = abs(Double(u[i]) - 0.5) < 0.5 ? 1.0 : 0.0
                    gradU[i] = dO * h + (t + 1 < T ? next * tauD * Double(1 - o[i]) : 0)
                    next = gradU[i]
                }
            }
            let expected = try file.tensor(named: prefix + "grad_current")
            let worst = zip(gradU, expected.scalars).map { abs($0 - Double($1)) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-5, "tau \(tau): largest |dL/dI − PyTorch| = \(worst)")
            XCTAssertEqual(gradU[1], 0)  // u[0, 1] = 1.0: on the window's edge
            XCTAssertGreaterThan(expected.scalars.filter { $0 != 0 }.count, T * N / 4)
        }
    }
}
