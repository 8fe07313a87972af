import SpikeTensor

/// A pure function on DVS events (crop, filter, downsample …), as a small value type.
///
/// Transforms keep the time order of the events they keep. Compose them with `then` or a
/// `DVSPipeline`:
///
/// ```swift
/// let prepare = CentroidCrop(width: 56, height: 56).then(Downsample(factor: 2))
/// let small = prepare(events)              // sensor 28×28
/// ```
public protocol DVSTransform: Sendable {
    func callAsFunction(_ events: DVSEvents) -> DVSEvents
}

/// A pure function on cochlea events, as a small value type.
public protocol CochleaTransform: Sendable {
    func callAsFunction(_ events: CochleaEvents) -> CochleaEvents
}

/// DVS transforms applied in order, first to last.
public struct DVSPipeline: DVSTransform {
    public var stages: [any DVSTransform]
    public init(_ stages: [any DVSTransform]) { self.stages = stages }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        stages.reduce(events) { $1($0) }
    }
}

/// Cochlea transforms applied in order, first to last.
public struct CochleaPipeline: CochleaTransform {
    public var stages: [any CochleaTransform]
    public init(_ stages: [any CochleaTransform]) { self.stages = stages }
    public func callAsFunction(_ events: CochleaEvents) -> CochleaEvents {
        stages.reduce(events) { $1($0) }
    }
}

extension DVSTransform {
    /// This transform, then `next`.
    public func then(_ next: any DVSTransform) -> DVSPipeline {
        if let pipeline = self as? DVSPipeline { return DVSPipeline(pipeline.stages + [next]) }
        return DVSPipeline([self, next])
    }
}

extension CochleaTransform {
    /// This transform, then `next`.
    public func then(_ next: any CochleaTransform) -> CochleaPipeline {
        if let pipeline = self as? CochleaPipeline { return CochleaPipeline(pipeline.stages + [next]) }
        return CochleaPipeline([self, next])
    }
}

extension DVSEvents {
    /// The events whose index satisfies `keep`, in order (same sensor).
    @inline(__always) func _filtered(_ keep: (Int) -> Bool) -> DVSEvents {
        _mapped(sensor: sensor) { i in keep(i) ? (x[i], y[i]) : nil }
    }

    /// Keeps event i when `place(i)` returns its new (x, y), in order, on `sensor`.
    /// Output columns are sized for every event, written through pointers, then trimmed.
    @inline(__always) func _mapped(sensor: SensorSize, _ place: (Int) -> (UInt16, UInt16)?) -> DVSEvents {
        let n = count
        var ts = [Int64](repeating: 0, count: n), xs = [UInt16](repeating: 0, count: n)
        var ys = [UInt16](repeating: 0, count: n), ps = [UInt8](repeating: 0, count: n)
        var kept = 0
        t.withUnsafeBufferPointer { tIn in
        polarity.withUnsafeBufferPointer { pIn in
        ts.withUnsafeMutableBufferPointer { tOut in
        xs.withUnsafeMutableBufferPointer { xOut in
        ys.withUnsafeMutableBufferPointer { yOut in
        ps.withUnsafeMutableBufferPointer { pOut in
            for i in 0..<n {
                guard let (nx, ny) = place(i) else { continue }
                tOut[kept] = tIn[i]; xOut[kept] = nx; yOut[kept] = ny; pOut[kept] = pIn[i]
                kept += 1
            }
        }}}}}}
        if kept < n {
            ts.removeLast(n - kept); xs.removeLast(n - kept); ys.removeLast(n - kept); ps.removeLast(n - kept)
        }
        return DVSEvents(sensor: sensor, t: ts, x: xs, y: ys, polarity: ps)
    }
}

extension CochleaEvents {
    func _filtered(_ keep: (Int) -> Bool) -> CochleaEvents {
        var out = CochleaEvents(channelCount: channelCount)
        out.t.reserveCapacity(count); out.channel.reserveCapacity(count)
        for i in 0..<count where keep(i) { out.append(t: t[i], channel: channel[i]) }
        return out
    }
}
