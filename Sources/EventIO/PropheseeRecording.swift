import Foundation
import SpikeTensor

/// Options and results shared by the Prophesee readers (`PropheseeRAW`, `PropheseeDAT`).

/// The encodings of Prophesee (Metavision) event files.
public enum PropheseeEncoding: String, Sendable, Equatable, CaseIterable {
    /// EVT 2.0 RAW: 32-bit words, one CD event per word (Gen3, Gen4 EVK2).
    case evt2 = "EVT 2.0"
    /// EVT 2.1 RAW: 64-bit words, up to 32 CD events of one row per word (IMX636, GenX320).
    case evt21 = "EVT 2.1"
    /// EVT 3.0 RAW: 16-bit words, stateful, vectorised (EVK3/EVK4, Gen4.1, IMX636).
    case evt3 = "EVT 3.0"
    /// DAT: 8-byte CD records (the automotive datasets, Metavision's `.dat` export).
    case dat = "DAT"
}

/// Options of the Prophesee readers. The defaults read camera recordings exactly.
public struct PropheseeReadOptions: Sendable, Equatable {
    /// Sensor size to use when the header names none (no `width`/`height` in `% format`, no
    /// `% geometry`, no DAT `% Width`/`% Height`). With nil the result's sensor is the events'
    /// extent (max x + 1 × max y + 1) and only the format's address range is checked.
    public var sensor: SensorSize?
    /// An event outside the sensor: `.error` (default, `addressOutOfRange` with the word's
    /// offset) or `.skip` (dropped and counted). OpenEB drops such events silently.
    public var invalidAddresses: AEDATAddressPolicy
    /// An event earlier than the one before it that is not a clock wrap: `.error` (default,
    /// `timestampJump`) or `.clamp` (the previous time, counted).
    public var backwardTimestamps: AEDATBackwardTimePolicy
    /// A word whose type the format does not define (e.g. EVT 2.0 type 0x3): `.error`
    /// (default, `malformed` naming the offset) or `.skip` (counted; OpenEB skips them).
    public var undefinedWords: AEDATAddressPolicy

    public init(sensor: SensorSize? = nil, invalidAddresses: AEDATAddressPolicy = .error,
                backwardTimestamps: AEDATBackwardTimePolicy = .error, undefinedWords: AEDATAddressPolicy = .error) {
        self.sensor = sensor; self.invalidAddresses = invalidAddresses
        self.backwardTimestamps = backwardTimestamps; self.undefinedWords = undefinedWords
    }
}

/// A decoded Prophesee file: the CD events and what the reader met on the way.
///
/// Events: `t` in µs as the file's clock gives it (not shifted to start at 0; unwrapped past
/// the format's clock width), `x` column from the left and `y` row from the top (the sensor's
/// own addresses, as Metavision gives them), polarity 1 = ON (CD_ON, brightness rose), 0 = OFF;
/// in file order.
public struct PropheseeRecording: Sendable, Equatable {
    public var events: DVSEvents
    public var encoding: PropheseeEncoding
    /// EVT 2.1 with `endianness=legacy` (the two 32-bit halves of each word swapped).
    public var legacyEndianness: Bool
    public var header: PropheseeHeader
    /// Whether the sensor size came from the header (else from the options or the events).
    public var sensorFromHeader: Bool
    /// Words before the first TIME_HIGH (their time is unknown; the spec and OpenEB skip them).
    public var wordsBeforeFirstTimeHigh = 0
    /// Words that are not CD events: external triggers, IMU, monitoring, continuation words,
    /// EVT 3.0 exposure-measurement (EM) events.
    public var otherWords = 0
    /// EVT 3.0 event words before any ADDR_Y, or vector words before any VECT_BASE_X (no
    /// address to decode them with; OpenEB drops them too).
    public var wordsWithoutAddress = 0
    /// Clock wraps unwrapped (EVT 2.0/2.1: 2³⁴ µs; EVT 3.0: 2²⁴ µs; DAT: 2³² µs).
    public var timestampWraps = 0
    /// Events dropped by `invalidAddresses: .skip`.
    public var skippedInvalidAddresses = 0
    /// Words skipped by `undefinedWords: .skip`.
    public var skippedUndefinedWords = 0
    /// Times raised to the previous one by `backwardTimestamps: .clamp`.
    public var clampedTimestamps = 0
}

/// A Prophesee file reader (`PropheseeRAW`, `PropheseeDAT`): `decodeRecording` is its one
/// definition; reading a file and keeping only the events derive from it.
public protocol PropheseeFileReader {
    /// Decodes a whole file's bytes with the header and the reader's counts; `source` names
    /// them in errors.
    static func decodeRecording(_ bytes: [UInt8], source: String, options: PropheseeReadOptions) throws -> PropheseeRecording
}

extension PropheseeFileReader {
    /// Reads the file at `url`.
    public static func read(_ url: URL, options: PropheseeReadOptions = .init()) throws -> DVSEvents {
        try readRecording(url, options: options).events
    }

    /// Reads the file at `url` with its header and the reader's counts.
    public static func readRecording(_ url: URL, options: PropheseeReadOptions = .init()) throws -> PropheseeRecording {
        try decodeRecording(try _FileBytes.read(url), source: url.path, options: options)
    }

    /// Decodes a file's bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String, options: PropheseeReadOptions = .init()) throws -> DVSEvents {
        try decodeRecording(bytes, source: source, options: options).events
    }
}
