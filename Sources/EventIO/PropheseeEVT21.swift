import SpikeTensor

/// Prophesee EVT 2.1: 64-bit little-endian words, the type in bits 60–63.
///
///     0x0 EVT_NEG, 0x1 EVT_POS   bits 0–31 valid mask, y bits 32–42, x base bits 43–53,
///                                t[5:0] bits 54–59: one event at (x base + i, y) per set bit i,
///                                in increasing i
///     0x8 TIME_HIGH              t[33:6] in bits 32–59
///     0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED                       skipped, counted
///     anything else                                                    undefined
///
/// `endianness=legacy` (IMX636 on older Metavision): the two 32-bit halves are swapped, so
/// the type/time/address half comes first in the file and the valid mask second.
/// Event time = TIME_HIGH · 64 + t[5:0] µs; a wrap (2³⁴ µs) is a TIME_HIGH that falls from its
/// largest value to 0 (OpenEB's rule). Polarity: EVT_POS = 1 (ON), EVT_NEG = 0 (OFF).
/// Origin top-left. Words before the first TIME_HIGH are skipped.
enum PropheseeEVT21 {
    /// The number of set valid bits of the CD words: at least the events `decode` emits.
    static func capacity(_ raw: UnsafeRawBufferPointer, from body: Int, legacy: Bool) -> Int {
        var n = 0
        var offset = body
        while offset &+ 8 <= raw.count {
            let first = raw._littleEndianUInt32(at: offset), second = raw._littleEndianUInt32(at: offset &+ 4)
            let head = legacy ? first : second, mask = legacy ? second : first
            if head >> 28 <= 1 { n &+= mask.nonzeroBitCount }
            offset &+= 8
        }
        return n
    }

    static func decode(_ raw: UnsafeRawBufferPointer, from body: Int, legacy: Bool, into output: inout _CDEventOutput,
                       recording: inout PropheseeRecording, options: PropheseeReadOptions) throws {
        let words = (raw.count - body) / 8
        var started = false
        var high: Int64 = 0                        // last TIME_HIGH · 64
        var base: Int64 = 0                        // high + wraps · 2³⁴
        let largest: Int64 = ((1 << 28) - 1) << 6
        var offset = body
        for _ in 0..<words {
            defer { offset &+= 8 }
            let first = raw._littleEndianUInt32(at: offset), second = raw._littleEndianUInt32(at: offset &+ 4)
            let head = legacy ? first : second, mask = legacy ? second : first
            let type = head >> 28
            if type <= 1 {
                guard started else { recording.wordsBeforeFirstTimeHigh += 1; continue }
                let t = base + Int64((head >> 22) & 63)
                let x = Int((head >> 11) & 0x7FF), y = Int(head & 0x7FF)
                let polarity = UInt8(truncatingIfNeeded: type)
                try output.emitMask(mask, t: t, xBase: x, y: y, polarity: polarity, offset: offset)
            } else if type == 8 {
                let h = Int64(head & 0x0FFF_FFFF) << 6
                if started, h < high, high - h >= largest {
                    base += 1 << 34
                    recording.timestampWraps += 1
                }
                base += h - high
                high = h
                started = true
            } else if type == 0xA || type == 0xE || type == 0xF {
                if started { recording.otherWords += 1 } else { recording.wordsBeforeFirstTimeHigh += 1 }
            } else {
                try PropheseeRAW.undefinedWord(type, offset: offset, encoding: .evt21, source: output.source,
                                               recording: &recording, options: options)
            }
        }
    }
}
