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
    func _filtered(_ keep: (Int) -> Bool) -> DVSEvents {
        var out = DVSEvents(sensor: sensor)
        out.reserveCapacity(count)
        for i in 0..<count where keep(i) {
            out.append(t: t[i], x: x[i], y: y[i], polarity: polarity[i])
        }
        return out
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
