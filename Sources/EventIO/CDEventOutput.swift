import SpikeTensor

/// The output of the Prophesee decoders: event columns written through pointers into the
/// result's arrays (sized by a first counting pass, so no growth, bounds check or final copy),
/// plus the checks every decoded event passes: its address inside the sensor (or the format's
/// address range) and a time no earlier than the previous event's.
///
/// Usage: `_CDEventOutput.collect(capacity:…) { output in … output.emit(…) … }` where capacity
/// is at least the number of events the decoder can emit.
struct _CDEventOutput: ~Copyable {
    private let t: UnsafeMutablePointer<Int64>
    private let x: UnsafeMutablePointer<UInt16>
    private let y: UnsafeMutablePointer<UInt16>
    private let p: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    /// Room for this many events in all.
    let capacity: Int
    /// Events must have x < width and y < height (the sensor, or the format's address range).
    let width: Int, height: Int
    /// True when width × height is the sensor (from the header or options), not just a range.
    let sensorKnown: Bool
    let source: String
    let skipInvalid: Bool, clampBackward: Bool
    private(set) var previous = Int64.min
    private(set) var maxX = -1, maxY = -1
    private(set) var skippedInvalid = 0, clamped = 0

    private init(t: UnsafeMutablePointer<Int64>, x: UnsafeMutablePointer<UInt16>, y: UnsafeMutablePointer<UInt16>,
                 p: UnsafeMutablePointer<UInt8>, capacity: Int, width: Int, height: Int, sensorKnown: Bool, source: String,
                 options: PropheseeReadOptions) {
        self.t = t; self.x = x; self.y = y; self.p = p; self.capacity = capacity
        self.width = width; self.height = height; self.sensorKnown = sensorKnown; self.source = source
        skipInvalid = options.invalidAddresses == .skip
        clampBackward = options.backwardTimestamps == .clamp
    }

    /// Thrown by a decoder that checks `capacity` itself (EVT 3.0) when a guessed capacity is
    /// too small: the caller counts exactly and decodes again.
    struct OutOfRoom: Error {}

    /// What `collect` returns: the events and the counts of the checks.
    struct Result {
        var events: DVSEvents
        var skippedInvalid: Int
        var clamped: Int
    }

    /// Runs `body` with an output that has room for `capacity` events (the decoder must never
    /// emit more) and returns them as `DVSEvents`: the known sensor, else the events' extent
    /// (at least 1×1).
    static func collect(capacity: Int, width: Int, height: Int, sensorKnown: Bool, source: String,
                        options: PropheseeReadOptions, _ body: (inout _CDEventOutput) throws -> Void) throws -> Result {
        let room = max(1, capacity)
        var xs: [UInt16] = [], ys: [UInt16] = [], ps: [UInt8] = []
        var extent = (x: -1, y: -1), skipped = 0, clamped = 0
        let ts = try [Int64](unsafeUninitializedCapacity: room) { tb, tn in
            xs = try [UInt16](unsafeUninitializedCapacity: room) { xb, xn in
                ys = try [UInt16](unsafeUninitializedCapacity: room) { yb, yn in
                    ps = try [UInt8](unsafeUninitializedCapacity: room) { pb, pn in
                        var output = _CDEventOutput(t: tb.baseAddress!, x: xb.baseAddress!, y: yb.baseAddress!,
                                                    p: pb.baseAddress!, capacity: room, width: width, height: height,
                                                    sensorKnown: sensorKnown, source: source, options: options)
                        try body(&output)
                        precondition(output.count <= room, "_CDEventOutput: a decoder emitted more events than it counted")
                        tn = output.count; xn = output.count; yn = output.count; pn = output.count
                        extent = (output.maxX, output.maxY); skipped = output.skippedInvalid; clamped = output.clamped
                    }
                }
            }
        }
        let sensor = sensorKnown ? SensorSize(width: width, height: height)
                                 : SensorSize(width: max(1, extent.x + 1), height: max(1, extent.y + 1))
        return Result(events: DVSEvents(sensor: sensor, t: ts, x: xs, y: ys, polarity: ps),
                      skippedInvalid: skipped, clamped: clamped)
    }

    /// Appends one event after the checks; `offset` is its word's byte offset.
    @inline(__always) mutating func emit(t time: Int64, x column: Int, y row: Int, polarity: UInt8, offset: Int) throws {
        if column >= width || row >= height {
            if skipInvalid { skippedInvalid += 1; return }
            throw outside(column, row, offset)
        }
        var time = time
        if time < previous {
            if clampBackward { time = previous; clamped += 1 } else { throw backward(time, offset) }
        }
        previous = time
        if column > maxX { maxX = column }
        if row > maxY { maxY = row }
        t[count] = time
        x[count] = UInt16(truncatingIfNeeded: column)
        y[count] = UInt16(truncatingIfNeeded: row)
        p[count] = polarity
        count &+= 1
    }

    /// Appends one event per set bit i of `mask` at (xBase + i, row), in increasing i, all at
    /// `time`. The checks run once for the word when
    /// it is wholly inside the sensor and not back in time, else per event through `emit`.
    @inline(__always) mutating func emitMask(_ mask: UInt32, t time: Int64, xBase: Int, y row: Int, polarity: UInt8,
                                             offset: Int) throws {
        guard mask != 0 else { return }
        let last = xBase + (31 - mask.leadingZeroBitCount)
        guard last < width, row < height, time >= previous else {
            var bits = mask
            while bits != 0 {
                let i = bits.trailingZeroBitCount
                bits &= bits &- 1
                try emit(t: time, x: xBase + i, y: row, polarity: polarity, offset: offset)
            }
            return
        }
        previous = time
        if last > maxX { maxX = last }
        if row > maxY { maxY = row }
        let r = UInt16(truncatingIfNeeded: row)
        var bits = mask
        var n = count
        while bits != 0 {
            let i = bits.trailingZeroBitCount
            bits &= bits &- 1
            t[n] = time
            x[n] = UInt16(truncatingIfNeeded: xBase &+ i)
            y[n] = r
            p[n] = polarity
            n &+= 1
        }
        count = n
    }

    @inline(never) private func outside(_ column: Int, _ row: Int, _ offset: Int) -> EventIOError {
        .addressOutOfRange(file: source, offset: offset,
            detail: "event at (x \(column), y \(row)) is outside the " + (sensorKnown
                ? "\(width)×\(height) sensor the header names" : "format's \(width)×\(height) address range"))
    }

    @inline(never) private func backward(_ time: Int64, _ offset: Int) -> EventIOError {
        .timestampJump(file: source, offset: offset,
            detail: "event at \(time) µs after one at \(previous) µs (back by \(previous - time) µs, not a clock wrap)")
    }
}
