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
        var time = PropheseeTimeHigh(wrapFall: ((1 << 28) - 1) << 6)   // from the largest value to 0
        var offset = body
        for _ in 0..<words {
            defer { offset &+= 8 }
            let first = raw._littleEndianUInt32(at: offset), second = raw._littleEndianUInt32(at: offset &+ 4)
            let head = legacy ? first : second, mask = legacy ? second : first
            let type = head >> 28
            if type <= 1 {
                guard time.started else { recording.wordsBeforeFirstTimeHigh += 1; continue }
                let t = time.base + Int64((head >> 22) & 63)
                let x = Int((head >> 11) & 0x7FF), y = Int(head & 0x7FF)
                let polarity = UInt8(truncatingIfNeeded: type)
                try output.emitMask(mask, t: t, xBase: x, y: y, polarity: polarity, offset: offset)
            } else if type == 8 {
                time.read(head, recording: &recording)
            } else if type == 0xA || type == 0xE || type == 0xF {
                if time.started { recording.otherWords += 1 } else { recording.wordsBeforeFirstTimeHigh += 1 }
            } else {
                try PropheseeRAW.undefinedWord(type, offset: offset, encoding: .evt21, source: output.source,
                                               recording: &recording, options: options)
            }
        }
    }
}
