import Foundation
import SpikeTensor

/// Prophesee (Metavision) RAW files: EVT 2.0, EVT 2.1 and EVT 3.0.
///
/// Layout: a `% ` header (`PropheseeHeader`), then little-endian words of the encoding the
/// header names, in either style:
///
///     % format EVT3;height=720;width=1280          (current; EVT2, EVT21, EVT3; options
///     % end                                         width, height, endianness=legacy)
///
///     % evt 3.0                                     (older; 2.0, 2.1 or 3.0)
///     % geometry 1280x720
///
/// Both may be present; sizes that disagree are an error (as in OpenEB). `% endianness legacy`
/// is accepted as a key too. A header with no size reads with `PropheseeReadOptions.sensor`,
/// else the events' extent.
///
/// Events (all encodings): `t` in µs as the camera clock gives it, not shifted to start at 0,
/// unwrapped past the clock's width; `x` column from the left, `y` row from the top, the
/// sensor's own addresses (origin top-left, as Metavision gives them); polarity 1 = ON
/// (CD_ON, brightness rose), 0 = OFF (CD_OFF); in file order. Words before the first
/// TIME_HIGH carry no time and are skipped (spec and OpenEB). Encodings: `PropheseeEVT2`,
/// `PropheseeEVT21`, `PropheseeEVT3` describe each.
///
/// ```swift
/// let events = try PropheseeRAW.read(URL(fileURLWithPath: "recording.raw"))   // DVSEvents
/// ```
public enum PropheseeRAW: PropheseeFileReader {
    /// Decodes RAW bytes with the header and the reader's counts.
    public static func decodeRecording(_ bytes: [UInt8], source: String,
                                       options: PropheseeReadOptions = .init()) throws -> PropheseeRecording {
        guard !bytes.isEmpty else { throw EventIOError.emptyFile(file: source) }
        let header = PropheseeHeader(parsing: bytes)
        let (encoding, legacy, sensor) = try describe(header, source: source)
        let wordSize = encoding == .evt21 ? 8 : encoding == .evt3 ? 2 : 4
        let bodyLength = bytes.count - header.bodyOffset
        guard bodyLength % wordSize == 0 else {
            throw EventIOError.truncated(file: source, offset: bytes.count - bodyLength % wordSize,
                detail: "the \(encoding.rawValue) body is \(bodyLength) bytes, not a whole number of \(wordSize)-byte words")
        }
        let known = sensor ?? options.sensor
        var recording = PropheseeRecording(events: DVSEvents(sensor: known ?? SensorSize(width: 1, height: 1)),
                                           encoding: encoding, legacyEndianness: legacy, header: header,
                                           sensorFromHeader: sensor != nil)
        let width = known?.width ?? addressLimit, height = known?.height ?? addressLimit
        let before = recording
        let result = try bytes.withUnsafeBytes { raw in
            let body = header.bodyOffset
            func decode(capacity: Int, guessed: Bool = false) throws -> _CDEventOutput.Result {
                try _CDEventOutput.collect(capacity: capacity, width: width, height: height, sensorKnown: known != nil,
                                           source: source, options: options) { output in
                    switch encoding {
                    case .evt2: try PropheseeEVT2.decode(raw, from: body, into: &output, recording: &recording, options: options)
                    case .evt21: try PropheseeEVT21.decode(raw, from: body, legacy: legacy, into: &output,
                                                            recording: &recording, options: options)
                    case .evt3: try PropheseeEVT3.decode(raw, from: body, guessedCapacity: guessed, into: &output,
                                                          recording: &recording, options: options)
                    case .dat: break
                    }
                }
            }
            switch encoding {
            case .evt2: return try decode(capacity: PropheseeEVT2.capacity(raw, from: body))
            case .evt21: return try decode(capacity: PropheseeEVT21.capacity(raw, from: body, legacy: legacy))
            default:
                // EVT 3.0 in one pass when 2 events per word is room enough (it checks), else
                // counted exactly and decoded again: counting first costs a quarter of the time.
                do {
                    return try decode(capacity: (raw.count - body) + 16, guessed: true)   // 2 per 2-byte word
                } catch is _CDEventOutput.OutOfRoom {
                    recording = before
                    return try decode(capacity: PropheseeEVT3.capacity(raw, from: body))
                }
            }
        }
        recording.skippedInvalidAddresses = result.skippedInvalid
        recording.clampedTimestamps = result.clamped
        recording.events = result.events
        return recording
    }

    /// EVT addresses are 11-bit: no sensor is wider or taller than 2048.
    static let addressLimit = 2048

    /// The encoding, legacy endianness and sensor size (when given) the header names.
    static func describe(_ header: PropheseeHeader, source: String) throws -> (PropheseeEncoding, Bool, SensorSize?) {
        let region = "the header (bytes 0..<\(header.bodyOffset))"
        var encoding: PropheseeEncoding
        var options: [String: String] = [:]
        if let format = header.fields["format"] {
            let parts = format.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = (parts.first ?? "").uppercased()
            switch name {
            case "EVT2", "EVT2.0": encoding = .evt2
            case "EVT21", "EVT2.1": encoding = .evt21
            case "EVT3", "EVT3.0": encoding = .evt3
            default:
                throw EventIOError.unsupportedEncoding(file: source,
                    detail: "format '\(name)' in \(region); this reader decodes EVT2, EVT21 and EVT3")
            }
            for part in parts.dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { options[pair[0].lowercased()] = pair[1] }
            }
        } else if let evt = header.fields["evt"] {
            switch evt {
            case "2.0": encoding = .evt2
            case "2.1": encoding = .evt21
            case "3.0": encoding = .evt3
            default:
                throw EventIOError.unsupportedEncoding(file: source,
                    detail: "'% evt \(evt)' in \(region); this reader decodes 2.0, 2.1 and 3.0")
            }
        } else {
            throw EventIOError.badHeader(file: source,
                detail: "\(region) names no encoding: neither '% format EVT…' nor '% evt …' (is it a Prophesee RAW file?)")
        }
        let width = try header.dimension(options["width"], named: "format width", limit: addressLimit, source: source)
        let height = try header.dimension(options["height"], named: "format height", limit: addressLimit, source: source)
        var sensor = width.flatMap { w in height.map { SensorSize(width: w, height: $0) } }
        if let geometry = header.fields["geometry"] {
            let sides = geometry.split(separator: "x", omittingEmptySubsequences: false).map(String.init)
            guard sides.count == 2,
                  let w = try header.dimension(sides[0], named: "geometry width", limit: addressLimit, source: source),
                  let h = try header.dimension(sides[1], named: "geometry height", limit: addressLimit, source: source) else {
                throw EventIOError.badHeader(file: source, detail: "'% geometry \(geometry)' in \(region) is not WIDTHxHEIGHT")
            }
            if (width != nil && width != w) || (height != nil && height != h) {
                throw EventIOError.badHeader(file: source,
                    detail: "'% geometry \(geometry)' disagrees with the format's width \(width.map(String.init) ?? "-") and height \(height.map(String.init) ?? "-") in \(region)")
            }
            sensor = SensorSize(width: w, height: h)
        }
        let endianness = options["endianness"] ?? header.fields["endianness"]
        guard endianness == nil || endianness == "legacy" || endianness == "little" else {
            throw EventIOError.unsupportedEncoding(file: source, detail: "endianness '\(endianness!)' in \(region); known: little, legacy")
        }
        let legacy = endianness == "legacy"
        if legacy && encoding != .evt21 {
            throw EventIOError.badHeader(file: source, detail: "endianness=legacy in \(region) applies to EVT 2.1 only, not \(encoding.rawValue)")
        }
        return (encoding, legacy, sensor)
    }

    /// The error for a word of a type the encoding does not define (or nil when skipped).
    static func undefinedWord(_ type: UInt32, offset: Int, encoding: PropheseeEncoding, source: String,
                              recording: inout PropheseeRecording, options: PropheseeReadOptions) throws {
        if options.undefinedWords == .skip { recording.skippedUndefinedWords += 1; return }
        throw EventIOError.malformed(file: source,
            detail: "word at byte offset \(offset) has type 0x\(String(type, radix: 16, uppercase: true)), which \(encoding.rawValue) does not define")
    }
}
