import Foundation
import SpikeTensor

/// Audio samples, one array per channel, nominally in −1…1.
public struct Waveform: Sendable, Equatable {
    /// Samples per second per channel (Hz).
    public var sampleRate: Int
    /// `channels[c][i]`: sample i of channel c; all channels have the same length.
    public var channels: [[Float]]

    public init(sampleRate: Int, channels: [[Float]]) {
        precondition(channels.allSatisfy { $0.count == channels.first?.count }, "Waveform: channels differ in length")
        self.sampleRate = sampleRate; self.channels = channels
    }

    /// A one-channel waveform.
    public init(sampleRate: Int, mono: [Float]) { self.init(sampleRate: sampleRate, channels: [mono]) }

    /// Samples per channel.
    public var frameCount: Int { channels.first?.count ?? 0 }
    /// Duration in seconds: frameCount / sampleRate.
    public var durationSeconds: Double { sampleRate > 0 ? Double(frameCount) / Double(sampleRate) : 0 }

    /// The mean of the channels, sample by sample: mono[i] = (1/C) Σ_c channels[c][i].
    public var mono: [Float] {
        guard channels.count > 1 else { return channels.first ?? [] }
        var out = channels[0]
        for c in 1..<channels.count {
            for i in 0..<out.count { out[i] += channels[c][i] }
        }
        let scale = 1 / Float(channels.count)
        for i in 0..<out.count { out[i] *= scale }
        return out
    }
}

/// RIFF/WAVE audio files.
///
/// Reads the `fmt ` and `data` chunks and skips any others (chunks of odd size are followed by
/// a pad byte). Encodings: PCM (format 1) with 8-bit unsigned, 16-, 24- or 32-bit signed
/// samples, IEEE float (format 3) with 32 or 64 bits, and WAVE_FORMAT_EXTENSIBLE (0xFFFE)
/// whose sub-format GUID names PCM or float. Integer samples map to −1…1 by dividing by
/// 2^(bits−1) (8-bit: (v − 128)/128). Anything else (μ-law, A-law, ADPCM …) gives
/// `EventIOError.unsupportedEncoding`; a chunk that runs past the end of the file gives
/// `.truncated` with its offset.
public enum WAV {
    public static func read(_ url: URL) throws -> Waveform {
        try decode(try _FileBytes.read(url), source: url.path)
    }

    private struct Format {
        var tag: UInt16, channels: Int, sampleRate: Int, blockAlign: Int, bits: Int
    }

    /// Decodes WAV bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Waveform {
        guard !bytes.isEmpty else { throw EventIOError.emptyFile(file: source) }
        guard bytes.count >= 12 else {
            throw EventIOError.truncated(file: source, offset: 0, detail: "\(bytes.count) bytes, too short for a RIFF/WAVE header (12)")
        }
        guard bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw EventIOError.badHeader(file: source, detail: "not a RIFF/WAVE file (no 'RIFF' … 'WAVE' at byte 0)")
        }
        return try bytes.withUnsafeBytes { raw -> Waveform in
            var format: Format?
            var position = 12
            while position + 8 <= raw.count {
                let id = String(decoding: raw[position..<position + 4], as: UTF8.self)
                let size = Int(raw._littleEndianUInt32(at: position + 4))
                let body = position + 8
                guard size <= raw.count - body else {
                    throw EventIOError.truncated(file: source, offset: position,
                        detail: "chunk '\(id)' declares \(size) bytes, only \(raw.count - body) remain")
                }
                switch id {
                case "fmt ":
                    format = try parseFormat(raw, at: body, size: size, chunkOffset: position, source: source)
                case "data":
                    guard let format else {
                        throw EventIOError.malformed(file: source, detail: "'data' chunk at byte \(position) comes before any 'fmt ' chunk")
                    }
                    return try samples(raw, at: body, size: size, format: format, chunkOffset: position, source: source)
                default:
                    break   // LIST, fact, cue … are skipped
                }
                position = body + size + (size & 1)
            }
            if position < raw.count {
                throw EventIOError.truncated(file: source, offset: position,
                    detail: "\(raw.count - position) trailing bytes, too short for a chunk header")
            }
            throw EventIOError.malformed(file: source, detail: format == nil ? "no 'fmt ' chunk" : "no 'data' chunk")
        }
    }

    /// The KSDATAFORMAT_SUBTYPE GUID tail shared by PCM and IEEE float: after the 2-byte tag.
    private static let guidTail: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]

    private static func parseFormat(_ raw: UnsafeRawBufferPointer, at body: Int, size: Int,
                                    chunkOffset: Int, source: String) throws -> Format {
        guard size >= 16 else {
            throw EventIOError.truncated(file: source, offset: chunkOffset, detail: "'fmt ' chunk has \(size) bytes, needs at least 16")
        }
        var tag = raw._littleEndianUInt16(at: body)
        let channels = Int(raw._littleEndianUInt16(at: body + 2))
        let sampleRate = Int(raw._littleEndianUInt32(at: body + 4))
        let blockAlign = Int(raw._littleEndianUInt16(at: body + 12))
        let bits = Int(raw._littleEndianUInt16(at: body + 14))
        if tag == 0xFFFE {
            guard size >= 40 else {
                throw EventIOError.truncated(file: source, offset: chunkOffset,
                    detail: "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk has \(size) bytes, needs 40")
            }
            let guid = Array(raw[(body + 24)..<(body + 40)])
            guard Array(guid[2...]) == guidTail else {
                throw EventIOError.unsupportedEncoding(file: source, detail: "WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID")
            }
            tag = UInt16(guid[0]) | UInt16(guid[1]) << 8
        }
        let supported: Bool
        switch tag {
        case 1: supported = [8, 16, 24, 32].contains(bits)
        case 3: supported = bits == 32 || bits == 64
        default:
            let names: [UInt16: String] = [2: "MS ADPCM", 6: "A-law", 7: "μ-law", 0x11: "IMA ADPCM", 0x55: "MP3"]
            throw EventIOError.unsupportedEncoding(file: source,
                detail: "format tag \(tag)\(names[tag].map { " (\($0))" } ?? ""); only PCM (1), IEEE float (3) and extensible PCM/float are read")
        }
        guard supported else {
            throw EventIOError.unsupportedEncoding(file: source,
                detail: "\(tag == 1 ? "PCM" : "float") with \(bits) bits per sample")
        }
        guard (1_000...384_000).contains(sampleRate) else {
            throw EventIOError.badHeader(file: source,
                detail: "sample rate \(sampleRate) Hz is outside 1 kHz–384 kHz (at byte \(body + 4))")
        }
        guard channels >= 1, blockAlign == channels * bits / 8 else {
            throw EventIOError.badHeader(file: source,
                detail: "'fmt ' fields disagree: \(channels) channels, \(sampleRate) Hz, \(bits) bits, block align \(blockAlign)")
        }
        return Format(tag: tag, channels: channels, sampleRate: sampleRate, blockAlign: blockAlign, bits: bits)
    }

    private static func samples(_ raw: UnsafeRawBufferPointer, at body: Int, size: Int, format: Format,
                                chunkOffset: Int, source: String) throws -> Waveform {
        guard size % format.blockAlign == 0 else {
            throw EventIOError.truncated(file: source, offset: body + (size / format.blockAlign) * format.blockAlign,
                detail: "'data' chunk of \(size) bytes ends inside a \(format.blockAlign)-byte sample frame")
        }
        let frames = size / format.blockAlign
        guard frames > 0 else {
            throw EventIOError.malformed(file: source, detail: "the 'data' chunk at byte \(chunkOffset) holds no samples")
        }
        let bytesPerSample = format.bits / 8
        var channels = [[Float]](repeating: [], count: format.channels)
        for c in 0..<format.channels {
            channels[c] = [Float](unsafeUninitializedCapacity: frames) { out, initialised in
                var offset = body + c * bytesPerSample
                let step = format.blockAlign
                switch (format.tag, format.bits) {
                case (1, 8):
                    for i in 0..<frames { out[i] = (Float(raw[offset]) - 128) / 128; offset += step }
                case (1, 16):
                    for i in 0..<frames {
                        out[i] = Float(Int16(bitPattern: raw._littleEndianUInt16(at: offset))) / 32768; offset += step
                    }
                case (1, 24):
                    for i in 0..<frames {
                        let u = Int32(raw[offset]) | Int32(raw[offset + 1]) << 8 | Int32(raw[offset + 2]) << 16
                        out[i] = Float((u << 8) >> 8) / 8_388_608; offset += step
                    }
                case (1, 32):
                    for i in 0..<frames {
                        out[i] = Float(Double(Int32(bitPattern: raw._littleEndianUInt32(at: offset))) / 2_147_483_648); offset += step
                    }
                case (3, 32):
                    for i in 0..<frames {
                        out[i] = Float(bitPattern: raw._littleEndianUInt32(at: offset)); offset += step
                    }
                default: // (3, 64)
                    for i in 0..<frames {
                        let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                        out[i] = Float(Double(bitPattern: bits)); offset += step
                    }
                }
                initialised = frames
            }
        }
        // Only IEEE float samples can be NaN or infinite (PCM codes map into −1…1).
        for (c, samples) in channels.enumerated() where format.tag == 3 {
            if let i = samples.firstIndex(where: { !$0.isFinite }) {
                throw EventIOError.malformed(file: source,
                    detail: "sample \(i) of channel \(c) is \(samples[i]) (at byte \(body + i * format.blockAlign + c * bytesPerSample))")
            }
        }
        return Waveform(sampleRate: format.sampleRate, channels: channels)
    }

    /// Encodes a waveform as WAV: PCM with 8, 16, 24 or 32 bits, or IEEE float 32 when
    /// `float` is true. Samples are clamped to −1…1 and rounded to the nearest integer code
    /// (v · 2^(bits−1), capped at 2^(bits−1) − 1; 8-bit adds 128).
    public static func encode(_ w: Waveform, bitsPerSample: Int = 16, float: Bool = false) throws -> [UInt8] {
        guard float ? bitsPerSample == 32 : [8, 16, 24, 32].contains(bitsPerSample) else {
            throw EventIOError.unsupportedEncoding(file: "<WAV.encode>",
                detail: "cannot write \(float ? "float" : "PCM") with \(bitsPerSample) bits")
        }
        guard !w.channels.isEmpty, w.sampleRate >= 1, w.channels.count <= 65535 else {
            throw EventIOError.unencodable(file: "<WAV.encode>", detail: "\(w.channels.count) channels at \(w.sampleRate) Hz")
        }
        let channelCount = w.channels.count, frames = w.frameCount
        guard w.channels.allSatisfy({ $0.count == frames }) else {
            throw EventIOError.unencodable(file: "<WAV.encode>", detail: "channels differ in length")
        }
        let bytesPerSample = bitsPerSample / 8
        let blockAlign = channelCount * bytesPerSample
        let dataSize = frames * blockAlign
        guard dataSize + 36 <= Int(UInt32.max) else {
            throw EventIOError.unencodable(file: "<WAV.encode>", detail: "\(dataSize) data bytes exceed RIFF's 4 GiB")
        }
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataSize + 1)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { out.append(contentsOf: $0) } }
        out.append(contentsOf: "RIFF".utf8); u32(36 + dataSize + (dataSize & 1)); out.append(contentsOf: "WAVE".utf8)
        out.append(contentsOf: "fmt ".utf8); u32(16)
        u16(float ? 3 : 1); u16(channelCount); u32(w.sampleRate); u32(w.sampleRate * blockAlign)
        u16(blockAlign); u16(bitsPerSample)
        out.append(contentsOf: "data".utf8); u32(dataSize)
        let scale = Double(1 << (bitsPerSample - 1))
        for i in 0..<frames {
            for c in 0..<channelCount {
                let v = Double(min(1, max(-1, w.channels[c][i].isNaN ? 0 : w.channels[c][i])))
                if float { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { out.append(contentsOf: $0) }; continue }
                let code = Int64(min(scale - 1, (v * scale).rounded()))
                switch bitsPerSample {
                case 8: out.append(UInt8(code + 128))
                case 16: u16(Int(UInt16(bitPattern: Int16(code))))
                case 24: for k in 0..<3 { out.append(UInt8(truncatingIfNeeded: code >> (8 * k))) }
                default: u32(Int(UInt32(bitPattern: Int32(code))))
                }
            }
        }
        if dataSize & 1 == 1 { out.append(0) }
        return out
    }

    /// Writes a waveform to `url` atomically (see `encode` for the sample coding).
    public static func write(_ w: Waveform, to url: URL, bitsPerSample: Int = 16, float: Bool = false) throws {
        do {
            try _FileBytes.writeAtomically(try encode(w, bitsPerSample: bitsPerSample, float: float), to: url)
        } catch let error as EventIOError {
            switch error {
            case .unsupportedEncoding(_, let d): throw EventIOError.unsupportedEncoding(file: url.path, detail: d)
            case .unencodable(_, let d): throw EventIOError.unencodable(file: url.path, detail: d)
            default: throw error
            }
        }
    }
}
