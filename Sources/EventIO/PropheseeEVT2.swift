import SpikeTensor

/// Prophesee EVT 2.0: 32-bit little-endian words, the type in bits 28–31.
///
///     0x0 CD_OFF, 0x1 CD_ON   y bits 0–10, x bits 11–21, t[5:0] bits 22–27    one event
///     0x8 TIME_HIGH           t[33:6] in bits 0–27
///     0xA EXT_TRIGGER, 0xD IMU, 0xE OTHER, 0xF CONTINUED                    skipped, counted
///     anything else                                                         undefined
///
/// Event time = TIME_HIGH · 64 + t[5:0] µs (34 bits, plus 2³⁴ per wrap). A wrap is a TIME_HIGH
/// that falls by at least 2³⁴ − 64 − 10,000 µs (OpenEB's rule); a smaller fall makes the
/// following events go back in time (`backwardTimestamps`). Polarity: CD_ON = 1, CD_OFF = 0.
/// Origin top-left (the sensor's addresses). Words before the first TIME_HIGH are skipped.
enum PropheseeEVT2 {
    /// OpenEB's EVT 2.0 loop threshold: the largest TIME_HIGH time minus 10 ms.
    static let wrapFall: Int64 = (((1 << 28) - 1) << 6) - 10_000

    /// At most one event per word.
    static func capacity(_ raw: UnsafeRawBufferPointer, from body: Int) -> Int { (raw.count - body) / 4 }

    static func decode(_ raw: UnsafeRawBufferPointer, from body: Int, into output: inout _CDEventOutput,
                       recording: inout PropheseeRecording, options: PropheseeReadOptions) throws {
        let words = (raw.count - body) / 4
        var time = PropheseeTimeHigh(wrapFall: wrapFall)
        var offset = body
        for _ in 0..<words {
            defer { offset &+= 4 }
            let word = raw._littleEndianUInt32(at: offset)
            let type = word >> 28
            if type <= 1 {
                guard time.started else { recording.wordsBeforeFirstTimeHigh += 1; continue }
                try output.emit(t: time.base + Int64((word >> 22) & 63), x: Int((word >> 11) & 0x7FF), y: Int(word & 0x7FF),
                                polarity: UInt8(truncatingIfNeeded: type), offset: offset)
            } else if type == 8 {
                time.read(word, recording: &recording)
            } else if type == 0xA || type == 0xD || type == 0xE || type == 0xF {
                if time.started { recording.otherWords += 1 } else { recording.wordsBeforeFirstTimeHigh += 1 }
            } else {
                try PropheseeRAW.undefinedWord(type, offset: offset, encoding: .evt2, source: output.source,
                                               recording: &recording, options: options)
            }
        }
    }
}
