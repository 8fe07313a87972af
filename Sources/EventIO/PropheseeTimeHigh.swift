/// The TIME_HIGH counter of Prophesee EVT 2.0 and 2.1: each TIME_HIGH word carries t[33:6]; an
/// event's time is the last TIME_HIGH · 64 + its own t[5:0] µs, plus 2³⁴ µs per wrap. A wrap is
/// a TIME_HIGH that falls by at least `wrapFall` µs (the format's rule: EVT 2.0 and 2.1 differ
/// in it); a smaller fall is kept as a step back in time. Nothing is known before the first one.
struct PropheseeTimeHigh {
    /// Whether a TIME_HIGH has been read.
    private(set) var started = false
    /// The last TIME_HIGH · 64.
    private var high: Int64 = 0
    /// `high` + wraps · 2³⁴: the time of an event with t[5:0] = 0.
    private(set) var base: Int64 = 0
    let wrapFall: Int64

    init(wrapFall: Int64) { self.wrapFall = wrapFall }

    /// Reads a TIME_HIGH word's 28-bit payload (t[33:6]); counts a wrap in `recording`.
    mutating func read(_ payload: UInt32, recording: inout PropheseeRecording) {
        let h = Int64(payload & 0x0FFF_FFFF) << 6
        if started, h < high, high - h >= wrapFall {
            base += 1 << 34
            recording.timestampWraps += 1
        }
        base += h - high
        high = h
        started = true
    }
}
