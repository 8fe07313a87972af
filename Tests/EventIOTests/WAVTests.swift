import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// A hand-made WAV: RIFF header, any chunks given as (id, body), sizes filled in, odd bodies padded.
private func riff(_ chunks: [(String, [UInt8])]) -> [UInt8] {
    var body = Array("WAVE".utf8)
    for (id, data) in chunks {
        body += Array(id.utf8) + le32(UInt32(data.count)) + data
        if data.count % 2 == 1 { body.append(0) }
    }
    return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
}

private func fmt(tag: UInt16, channels: UInt16, rate: UInt32, bits: UInt16) -> [UInt8] {
    let align = channels * bits / 8
    return le16(tag) + le16(channels) + le32(rate) + le32(rate &* UInt32(align)) + le16(align) + le16(bits)
}

final class WAVTests: XCTestCase {
    func testAllFSDDFilesDecodeAs8kHzMono() throws {
        let folder = try sharedData("fsdd")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".wav") }
        XCTAssertEqual(names.count, 2000)
        var shortest = Double.infinity, longest = 0.0
        for name in names {
            let w = try WAV.read(folder.appendingPathComponent(name))
            XCTAssertEqual(w.sampleRate, 8000, name)
            XCTAssertEqual(w.channels.count, 1, name)
            shortest = min(shortest, w.durationSeconds); longest = max(longest, w.durationSeconds)
        }
        // README: 0.14–2.3 s.
        XCTAssertGreaterThanOrEqual(shortest, 0.13); XCTAssertLessThanOrEqual(longest, 2.35)
        // A spoken digit is audible: peak amplitude well above silence, within −1…1.
        let w = try WAV.read(folder.appendingPathComponent("0_george_0.wav"))
        let peak = w.mono.map { abs($0) }.max() ?? 0
        XCTAssertTrue(peak > 0.05 && peak <= 1)
    }

    func testHandWorkedSampleCodes() throws {
        // 16-bit: −32768 → −1, 16384 → 0.5.  8-bit: 0 → −1, 192 → (192 − 128)/128 = 0.5.
        // 24-bit: 0x400000 → 4194304 / 8388608 = 0.5; 0xC00000 → −4194304 → −0.5.
        let s16 = riff([("fmt ", fmt(tag: 1, channels: 1, rate: 8000, bits: 16)),
                        ("data", le16(0x8000) + le16(16384))])
        XCTAssertEqual(try WAV.decode(s16, source: "s16").channels, [[-1, 0.5]])
        let s8 = riff([("fmt ", fmt(tag: 1, channels: 1, rate: 8000, bits: 8)), ("data", [0, 192, 128])])
        XCTAssertEqual(try WAV.decode(s8, source: "s8").channels, [[-1, 0.5, 0]])   // odd data size: padded
        let s24 = riff([("fmt ", fmt(tag: 1, channels: 1, rate: 8000, bits: 24)), ("data", [0, 0, 0x40, 0, 0, 0xC0])])
        XCTAssertEqual(try WAV.decode(s24, source: "s24").channels, [[0.5, -0.5]])
        // Stereo float32, interleaved L R L R: (0.25, −0.75), (1, 0) → mono (−0.25, 0.5).
        let f32 = [Float(0.25), -0.75, 1, 0].flatMap { le32($0.bitPattern) }
        let stereo = try WAV.decode(riff([("fmt ", fmt(tag: 3, channels: 2, rate: 44100, bits: 32)), ("data", f32)]), source: "f")
        XCTAssertEqual(stereo.sampleRate, 44100)
        XCTAssertEqual(stereo.channels, [[0.25, 1], [-0.75, 0]])
        XCTAssertEqual(stereo.mono, [-0.25, 0.5])
        // Float64.
        let f64 = [0.125, -1.0].flatMap { v -> [UInt8] in let b = v.bitPattern; return le32(UInt32(b & 0xFFFF_FFFF)) + le32(UInt32(b >> 32)) }
        XCTAssertEqual(try WAV.decode(riff([("fmt ", fmt(tag: 3, channels: 1, rate: 16000, bits: 64)), ("data", f64)]), source: "d").channels,
                       [[0.125, -1]])
    }

    func testExtensibleFormatAndUnknownChunksAreSkipped() throws {
        // WAVE_FORMAT_EXTENSIBLE: 16 basic bytes, cbSize 22, valid bits, channel mask, GUID of PCM.
        let guid: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let ext = fmt(tag: 0xFFFE, channels: 1, rate: 8000, bits: 16) + le16(22) + le16(16) + le32(4) + guid
        let bytes = riff([("LIST", Array("odd".utf8)), ("fmt ", ext), ("fact", le32(2)), ("data", le16(16384) + le16(0xC000))])
        XCTAssertEqual(try WAV.decode(bytes, source: "ext").channels, [[0.5, -0.5]])
    }

    /// Audio that would become a sample with no events, or garbage, is refused, naming the file.
    func testEmptyAbsurdAndNonFiniteAudioAreRefused() throws {
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try WAV.decode(bytes, source: "x.wav"); return "" } catch { return "\(error)" }
        }
        let empty = message(riff([("fmt ", fmt(tag: 1, channels: 1, rate: 8000, bits: 16)), ("data", [])]))
        XCTAssertTrue(empty.contains("x.wav") && empty.contains("no samples"), empty)
        let absurd = message(riff([("fmt ", fmt(tag: 1, channels: 1, rate: 4_294_967_295, bits: 16)), ("data", le16(1))]))
        XCTAssertTrue(absurd.contains("x.wav") && absurd.contains("4294967295 Hz"), absurd)
        let slow = message(riff([("fmt ", fmt(tag: 1, channels: 1, rate: 999, bits: 16)), ("data", le16(1))]))
        XCTAssertTrue(slow.contains("999 Hz"), slow)
        let nan = message(riff([("fmt ", fmt(tag: 3, channels: 1, rate: 8000, bits: 32)), ("data", le32(0) + le32(Float.nan.bitPattern))]))
        XCTAssertTrue(nan.contains("x.wav") && nan.contains("sample 1") && nan.contains("nan"), nan)
    }

    func testWriteReadRoundTripAllEncodings() throws {
        var g = SeededGenerator(seed: 3)
        let dir = try temporaryFolder(self)
        let w = Waveform(sampleRate: 22050, channels: (0..<3).map { _ in (0..<101).map { _ in g.nextUniform(-1, 1) } })
        for (bits, float) in [(8, false), (16, false), (24, false), (32, false), (32, true)] {
            let url = dir.appendingPathComponent("w\(bits)\(float).wav")
            try WAV.write(w, to: url, bitsPerSample: bits, float: float)
            let back = try WAV.read(url)
            XCTAssertEqual(back.sampleRate, 22050)
            XCTAssertEqual(back.channels.count, 3)
            // Quantisation error ≤ one code step 2^−(bits−1) (rounding gives half; the cap at +1 a full step).
            let tolerance: Float = float ? 0 : 1 / Float(1 << (bits - 1))
            for c in 0..<3 { for i in 0..<101 {
                XCTAssertEqual(back.channels[c][i], w.channels[c][i], accuracy: tolerance, "bits \(bits) float \(float)")
            }}
        }
        XCTAssertThrowsError(try WAV.write(w, to: dir.appendingPathComponent("x.wav"), bitsPerSample: 12))
    }

    func testBadInput() throws {
        let ok = fmt(tag: 1, channels: 1, rate: 8000, bits: 16)
        XCTAssertThrowsEventIOError(try WAV.decode([], source: "e"), .emptyFile(file: "e"))
        XCTAssertThrowsEventIOError(try WAV.decode(Array("RIFF....AVI LIST".utf8), source: "avi"), file: "avi") {
            if case .badHeader = $0 { return true } else { return false }
        }
        // μ-law (7) and IMA ADPCM (0x11): typed unsupported-encoding errors naming the file.
        for tag: UInt16 in [7, 0x11] {
            let bytes = riff([("fmt ", fmt(tag: tag, channels: 1, rate: 8000, bits: 8)), ("data", [1, 2])])
            let url = try temporaryFolder(self).appendingPathComponent("enc\(tag).wav")
            try Data(bytes).write(to: url)
            XCTAssertThrowsEventIOError(try WAV.read(url), file: url.path) {
                if case .unsupportedEncoding = $0 { return true } else { return false }
            }
        }
        // 12-bit PCM is not a supported container.
        XCTAssertThrowsEventIOError(try WAV.decode(riff([("fmt ", fmt(tag: 1, channels: 1, rate: 8000, bits: 12))]), source: "b12"), file: "b12") {
            if case .unsupportedEncoding = $0 { return true } else { return false }
        }
        // Data chunk declares 100 bytes, file has 4: truncated at the chunk header (12 + 8 + 16 = 36).
        var cut = riff([("fmt ", ok), ("data", [1, 2, 3, 4])])
        cut.replaceSubrange(40..<44, with: le32(100))
        XCTAssertThrowsEventIOError(try WAV.decode(cut, source: "cut"), file: "cut") {
            if case .truncated(_, 36, _) = $0 { return true } else { return false }
        }
        // 3 data bytes of 16-bit mono: the second sample frame is incomplete (data starts at 44, offset 46).
        XCTAssertThrowsEventIOError(try WAV.decode(riff([("fmt ", ok), ("data", [1, 2, 3])]), source: "half"), file: "half") {
            if case .truncated(_, 46, _) = $0 { return true } else { return false }
        }
        // data before fmt; no data at all; fmt too short; inconsistent block align.
        XCTAssertThrowsEventIOError(try WAV.decode(riff([("data", [1, 2]), ("fmt ", ok)]), source: "order"), file: "order") {
            if case .malformed = $0 { return true } else { return false }
        }
        XCTAssertThrowsEventIOError(try WAV.decode(riff([("fmt ", ok)]), source: "nodata"), file: "nodata") {
            if case .malformed = $0 { return true } else { return false }
        }
        XCTAssertThrowsEventIOError(try WAV.decode(riff([("fmt ", Array(ok.prefix(10)))]), source: "fmt10"), file: "fmt10") {
            if case .truncated = $0 { return true } else { return false }
        }
        var badAlign = ok; badAlign.replaceSubrange(12..<14, with: le16(3))
        XCTAssertThrowsEventIOError(try WAV.decode(riff([("fmt ", badAlign), ("data", [1, 2, 3])]), source: "align"), file: "align") {
            if case .badHeader = $0 { return true } else { return false }
        }
    }
}
