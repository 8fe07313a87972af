/// The growing output of the Prophesee decoders: event columns written through pointers (no
/// per-event bounds or capacity checks beyond `reserve`), plus the checks every decoded event
/// passes: its address inside the sensor (or the format's address range) and a time no
/// earlier than the previous event's.
///
/// Usage: `reserve(k)` before a word that can give up to k events, then `emit` each.
struct _CDEventOutput: ~Copyable {
    private var t: UnsafeMutablePointer<Int64>
    private var x: UnsafeMutablePointer<UInt16>
    private var y: UnsafeMutablePointer<UInt16>
    private var p: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int
    /// Events must have x < width and y < height (the sensor, or the format's address range).
    let width: Int, height: Int
    /// True when width × height is the sensor (from the header or options), not just a range.
    let sensorKnown: Bool
    let source: String
    let skipInvalid: Bool, clampBackward: Bool
    private(set) var previous = Int64.min
    private(set) var maxX = -1, maxY = -1
    private(set) var skippedInvalid = 0, clamped = 0

    init(capacity: Int, width: Int, height: Int, sensorKnown: Bool, source: String, options: PropheseeReadOptions) {
        let c = max(16, capacity)
        t = .allocate(capacity: c); x = .allocate(capacity: c); y = .allocate(capacity: c); p = .allocate(capacity: c)
        self.capacity = c
        self.width = width; self.height = height; self.sensorKnown = sensorKnown; self.source = source
        skipInvalid = options.invalidAddresses == .skip
        clampBackward = options.backwardTimestamps == .clamp
    }

    deinit { t.deallocate(); x.deallocate(); y.deallocate(); p.deallocate() }

    /// Room for `n` more events.
    @inline(__always) mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count + n) }
    }

    @inline(never) private mutating func grow(_ needed: Int) {
        let c = max(needed, capacity * 2)
        func move<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let new = UnsafeMutablePointer<T>.allocate(capacity: c)
            new.moveInitialize(from: old, count: count)
            old.deallocate()
            return new
        }
        t = move(t); x = move(x); y = move(y); p = move(p)
        capacity = c
    }

    /// Appends one event (room reserved) after the checks; `offset` is its word's byte offset.
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

    @inline(never) private func outside(_ column: Int, _ row: Int, _ offset: Int) -> EventIOError {
        .addressOutOfRange(file: source, offset: offset,
            detail: "event at (x \(column), y \(row)) is outside the " + (sensorKnown
                ? "\(width)×\(height) sensor the header names" : "format's \(width)×\(height) address range"))
    }

    @inline(never) private func backward(_ time: Int64, _ offset: Int) -> EventIOError {
        .timestampJump(file: source, offset: offset,
            detail: "event at \(time) µs after one at \(previous) µs (back by \(previous - time) µs, not a clock wrap)")
    }

    /// The events as `DVSEvents`: the known sensor, else the events' extent (at least 1×1).
    consuming func events() -> DVSEvents {
        let sensor = sensorKnown ? SensorSize(width: width, height: height)
                                 : SensorSize(width: max(1, maxX + 1), height: max(1, maxY + 1))
        return DVSEvents(sensor: sensor,
                         t: Array(UnsafeBufferPointer(start: t, count: count)),
                         x: Array(UnsafeBufferPointer(start: x, count: count)),
                         y: Array(UnsafeBufferPointer(start: y, count: count)),
                         polarity: Array(UnsafeBufferPointer(start: p, count: count)))
    }
}
