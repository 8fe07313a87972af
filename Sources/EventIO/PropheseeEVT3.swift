import SpikeTensor

/// Prophesee EVT 3.0: 16-bit little-endian words, the type in bits 12–15; the decoder keeps
/// state (row, vector base, time) between words.
///
///     0x0 ADDR_Y        y in bits 0–10 (bit 11: master/slave camera); CD events follow
///     0x1 (EM) ADDR_Y   an exposure-measurement row: the event words that follow are not CD
///     0x2 ADDR_X        x bits 0–10, polarity bit 11: one event at (x, y)
///     0x3 VECT_BASE_X   x bits 0–10, polarity bit 11: the base of the vectors that follow
///     0x4 VECT_12       bits 0–11 valid: an event at base + i per set bit i; base += 12
///     0x5 VECT_8        bits 0–7 valid: an event at base + i per set bit i; base += 8
///     0x6 TIME_LOW      t[11:0]
///     0x8 TIME_HIGH     t[23:12]; when it changes, t[11:0] restarts at 0 until a TIME_LOW
///     0x7 CONTINUED_4, 0xA EXT_TRIGGER, 0xD IMU, 0xE OTHERS, 0xF CONTINUED_12  skipped, counted
///     0x9, 0xB, 0xC     undefined
///
/// The 24-bit time wraps every 2²⁴ µs = 16.777216 s: a TIME_HIGH that falls by at least 2048
/// (half its range) adds 2²⁴ µs (OpenEB's rule); a smaller fall makes the following events go
/// back in time (`backwardTimestamps`). Words before the first TIME_HIGH are skipped (their
/// time is unknown). Event words before any ADDR_Y, or vectors before any VECT_BASE_X, have no
/// address and are skipped and counted (OpenEB drops them too); event words of an EM row
/// count as other words. Polarity 1 = ON, 0 = OFF;
/// origin top-left.
enum PropheseeEVT3 {
    /// ADDR_X words plus the set valid bits of the vector words: at least the events `decode` emits.
    /// Branch-free (the word types come in no predictable order): the valid bits are counted
    /// by a 4096-entry table, since the baseline x86-64 target has no popcount instruction.
    static func capacity(_ raw: UnsafeRawBufferPointer, from body: Int) -> Int {
        var n = 0
        bitCounts.withUnsafeBufferPointer { bits in
            var offset = body
            while offset &+ 2 <= raw.count {
                let word = raw._littleEndianUInt16(at: offset)
                let type = word >> 12
                let mask: UInt16 = type == 0x4 ? 0xFFF : type == 0x5 ? 0xFF : 0
                n &+= Int(bits[Int(word & mask)]) &+ (type == 0x2 ? 1 : 0)
                offset &+= 2
            }
        }
        return n
    }

    /// bitCounts[v] = the number of set bits of v, v < 4096.
    static let bitCounts: [UInt8] = (0..<4096).map { UInt8($0.nonzeroBitCount) }

    /// Decodes the words from `body` on. With `guessedCapacity`, throws `OutOfRoom` when the
    /// output may not hold the next word's events (the caller then counts with `capacity`).
    static func decode(_ raw: UnsafeRawBufferPointer, from body: Int, guessedCapacity: Bool = false,
                       into output: inout _CDEventOutput, recording: inout PropheseeRecording,
                       options: PropheseeReadOptions) throws {
        let end = body + (raw.count - body) / 2 * 2
        var offset = body
        // Words before the first TIME_HIGH carry no time: skipped.
        while offset < end, raw._littleEndianUInt16(at: offset) >> 12 != 8 { offset &+= 2 }
        recording.wordsBeforeFirstTimeHigh += (offset - body) / 2
        guard offset < end else { return }
        var high = Int(raw._littleEndianUInt16(at: offset) & 0xFFF), low = 0   // t[23:12], t[11:0]
        offset &+= 2
        var wraps: Int64 = 0                       // wraps · 2²⁴
        var now = Int64(high << 12)                // wraps + high << 12 + low
        var y = -1                                 // current row, −1 before the first ADDR_Y
        var cdRow = -1                             // y when the row is a CD row (ADDR_Y, not EM), else −1
        var base = -1                              // vector base x, −1 before the first VECT_BASE_X
        var basePolarity: UInt8 = 0
        var other = 0, withoutAddress = 0, wrapCount = 0
        // With a guessed capacity, stop (OutOfRoom) once fewer than 12 places are left.
        let room = guessedCapacity ? output.capacity - 12 : Int.max
        while offset < end {
            if output.count > room { throw _CDEventOutput.OutOfRoom() }
            let word = Int(raw._littleEndianUInt16(at: offset))
            switch word >> 12 {
            case 0x2:
                if cdRow >= 0 {
                    try output.emit(t: now, x: word & 0x7FF, y: cdRow, polarity: UInt8(truncatingIfNeeded: (word >> 11) & 1),
                                    offset: offset)
                } else if y < 0 { withoutAddress += 1 } else { other += 1 }          // no row yet / an EM event
            case 0x4:
                if base >= 0 && cdRow >= 0 {
                    try output.emitMask(UInt32(truncatingIfNeeded: word & 0xFFF), t: now, xBase: base, y: cdRow,
                                        polarity: basePolarity, offset: offset)
                } else if base < 0 || y < 0 { withoutAddress += 1 } else { other += 1 }
                if base >= 0 { base &+= 12 }
            case 0x5:
                if base >= 0 && cdRow >= 0 {
                    try output.emitMask(UInt32(truncatingIfNeeded: word & 0xFF), t: now, xBase: base, y: cdRow,
                                        polarity: basePolarity, offset: offset)
                } else if base < 0 || y < 0 { withoutAddress += 1 } else { other += 1 }
                if base >= 0 { base &+= 8 }
            case 0x0:
                y = word & 0x7FF
                cdRow = y
            case 0x3:
                base = word & 0x7FF
                basePolarity = UInt8(truncatingIfNeeded: (word >> 11) & 1)
            case 0x6:
                low = word & 0xFFF
                now = wraps + Int64(high << 12 | low)
            case 0x8:
                let h = word & 0xFFF
                if high >= 2048 + h {
                    wraps += 1 << 24
                    wrapCount += 1
                }
                if h != high { low = 0 }
                high = h
                now = wraps + Int64(high << 12 | low)
            case 0x1:
                cdRow = -1
                y = word & 0x7FF
                other += 1
            case 0x7, 0xA, 0xD, 0xE, 0xF:
                other += 1
            default:
                try PropheseeRAW.undefinedWord(UInt32(word >> 12), offset: offset, encoding: .evt3, source: output.source,
                                               recording: &recording, options: options)
            }
            offset &+= 2
        }
        recording.otherWords += other
        recording.wordsWithoutAddress += withoutAddress
        recording.timestampWraps += wrapCount
    }
}
