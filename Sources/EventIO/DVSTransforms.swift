import SpikeTensor

/// Keeps events with start ≤ t < end (µs). Works on DVS and cochlea events.
public struct TimeWindow: DVSTransform, CochleaTransform, Equatable {
    public var startMicroseconds: Int64
    public var endMicroseconds: Int64
    public init(startMicroseconds: Int64, endMicroseconds: Int64) {
        self.startMicroseconds = startMicroseconds; self.endMicroseconds = endMicroseconds
    }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        events._filtered { events.t[$0] >= startMicroseconds && events.t[$0] < endMicroseconds }
    }
    public func callAsFunction(_ events: CochleaEvents) -> CochleaEvents {
        events._filtered { events.t[$0] >= startMicroseconds && events.t[$0] < endMicroseconds }
    }
}

/// Keeps events inside the box x ≤ ex < x + width, y ≤ ey < y + height and moves them to the
/// box's coordinates (ex − x, ey − y); the result's sensor is width × height. Parts of the box
/// outside the sensor simply hold no events.
public struct SpatialCrop: DVSTransform, Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "SpatialCrop: width and height must be ≥ 1")
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        let (x0, y0, w, h) = (x, y, width, height)
        return events.x.withUnsafeBufferPointer { xs in
            events.y.withUnsafeBufferPointer { ys in
                events._mapped(sensor: SensorSize(width: w, height: h)) { i in
                    let ex = Int(xs[i]) - x0, ey = Int(ys[i]) - y0
                    guard ex >= 0, ex < w, ey >= 0, ey < h else { return nil }
                    return (UInt16(truncatingIfNeeded: ex), UInt16(truncatingIfNeeded: ey))
                }
            }
        }
    }
}

/// A `SpatialCrop` of width × height centred on the recording's event centroid
/// (x̄, ȳ) = (mean x, mean y) over all events, clamped so the box stays on the sensor:
/// left = clamp(round(x̄ − (width − 1)/2), 0, sensorWidth − width) (0 when the box is wider
/// than the sensor), likewise top. Example: DVS128, width 56, centroid x̄ = 60.1 →
/// left = round(60.1 − 27.5) = round(32.6) = 33.
public struct CentroidCrop: DVSTransform, Equatable {
    public var width: Int, height: Int
    public init(width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "CentroidCrop: width and height must be ≥ 1")
        self.width = width; self.height = height
    }
    /// The crop box (left, top) this transform would use on `events`.
    public func box(for events: DVSEvents) -> (x: Int, y: Int) {
        guard !events.isEmpty else { return (0, 0) }
        let sx = events.x.withUnsafeBufferPointer { $0.reduce(0) { $0 + Int($1) } }
        let sy = events.y.withUnsafeBufferPointer { $0.reduce(0) { $0 + Int($1) } }
        let n = Double(events.count)
        func left(_ mean: Double, _ size: Int, _ sensor: Int) -> Int {
            let l = Int((mean - Double(size - 1) / 2).rounded())
            return max(0, min(l, sensor - size))
        }
        return (left(Double(sx) / n, width, events.sensor.width), left(Double(sy) / n, height, events.sensor.height))
    }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        let (x, y) = box(for: events)
        return SpatialCrop(x: x, y: y, width: width, height: height)(events)
    }
}

/// Integer spatial downsampling: (x, y) → (⌊x / f⌋, ⌊y / f⌋); the sensor becomes
/// ⌈W / f⌉ × ⌈H / f⌉. Every event is kept (counting framing adds them up).
public struct Downsample: DVSTransform, Equatable {
    public var factor: Int
    public init(factor: Int) {
        precondition(factor >= 1, "Downsample: factor must be ≥ 1")
        self.factor = factor
    }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        let f = factor
        var out = events
        out.sensor = SensorSize(width: (events.sensor.width + f - 1) / f, height: (events.sensor.height + f - 1) / f)
        // ⌊v / f⌋ from a table for on-sensor values (a division per event is slow),
        // by division for anything beyond it.
        let divisor = UInt16(clamping: f)
        let table = (0..<max(1, min(65536, max(events.sensor.width, events.sensor.height)))).map { UInt16($0 / f) }
        table.withUnsafeBufferPointer { quotient in
            let limit = quotient.count
            out.x.withUnsafeMutableBufferPointer { xs in
                for i in xs.indices { let v = Int(xs[i]); xs[i] = v < limit ? quotient[v] : xs[i] / divisor }
            }
            out.y.withUnsafeMutableBufferPointer { ys in
                for i in ys.indices { let v = Int(ys[i]); ys[i] = v < limit ? quotient[v] : ys[i] / divisor }
            }
        }
        return out
    }
}

/// Sets every polarity to 1 (ON), so ON and OFF events become one kind. (`DVSFraming` can
/// also merge polarities itself with `mergePolarity: true`, giving P = 1.)
public struct MergePolarity: DVSTransform, Equatable {
    public init() {}
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        var out = events
        out.polarity = [UInt8](repeating: 1, count: events.count)
        return out
    }
}

/// Background-activity (noise) filter: keeps event i only if one of the 8 neighbouring pixels
/// (not the pixel itself) produced an event j < i with t_i − t_j < window (µs). Every event,
/// kept or not, counts as its pixel having fired. Same rule as Tonic's `Denoise`.
/// Cost: O(n) with a per-pixel last-time map.
public struct BackgroundActivityFilter: DVSTransform, Equatable {
    public var timeWindowMicroseconds: Int64
    public init(timeWindowMicroseconds: Int64) { self.timeWindowMicroseconds = timeWindowMicroseconds }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        let w = events.sensor.width, h = events.sensor.height
        guard w > 0, h > 0 else { return DVSEvents(sensor: events.sensor) }
        // last[(y + 1) · (w + 2) + (x + 1)]: last time pixel (x, y) fired; a 1-pixel border
        // that never fires avoids edge checks.
        let stride = w + 2
        var last = [Int64](repeating: .min, count: (w + 2) * (h + 2))
        let window = timeWindowMicroseconds
        return events._filtered { i in
            let x = Int(events.x[i]), y = Int(events.y[i])
            guard x < w, y < h else { return false }
            let t = events.t[i]
            let centre = (y + 1) * stride + (x + 1)
            let above = centre - stride, below = centre + stride
            let newest = max(max(max(last[above - 1], last[above]), max(last[above + 1], last[centre - 1])),
                             max(max(last[centre + 1], last[below - 1]), max(last[below], last[below + 1])))
            last[centre] = t
            return newest != .min && t - newest < window
        }
    }
}

/// Refractory filter: drops event i if the last *kept* event of the same pixel (any
/// polarity) is less than `period` µs before it (t_i − t_last < period).
public struct RefractoryFilter: DVSTransform, Equatable {
    public var periodMicroseconds: Int64
    public init(periodMicroseconds: Int64) { self.periodMicroseconds = periodMicroseconds }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        let w = events.sensor.width, h = events.sensor.height
        guard w > 0, h > 0 else { return DVSEvents(sensor: events.sensor) }
        var last = [Int64](repeating: .min, count: w * h)
        let period = periodMicroseconds
        return events._filtered { i in
            let x = Int(events.x[i]), y = Int(events.y[i])
            guard x < w, y < h else { return false }
            let p = y * w + x, t = events.t[i]
            if last[p] != .min && t - last[p] < period { return false }
            last[p] = t
            return true
        }
    }
}
