import Foundation
import SpikeTensor

/// Pictures of event streams, like the paper's Fig. 2.
///
/// - DVS: events accumulated per pixel over a time slice; ON events in warm yellow, OFF in
///   blue, both in white-ish mix, on a dark background; brightness grows with the count,
///   saturating at `saturation` events. `slices` panels side by side split the recording
///   into equal time slices (labelled with their span in ms). Each sensor pixel becomes a
///   `pixelScale` × `pixelScale` block so a 128×128 recording is legible.
/// - Cochlea: a raster, x = time in ms from the first event (with ticks), y = channel
///   0 (bottom) to 63 (top); every event a small dot.
public enum EventRenderer {
    public static let background: RasterCanvas.Color = (14, 16, 24)
    static let onColor = (r: 1.0, g: 0.85, b: 0.25)
    static let offColor = (r: 0.25, g: 0.55, b: 1.0)
    static let ink: RasterCanvas.Color = (200, 200, 210)

    /// The DVS picture as a canvas.
    public static func dvs(_ events: DVSEvents, slices: Int = 1, pixelScale: Int = 4,
                           saturation: Int = 3) -> RasterCanvas {
        let n = max(1, slices)
        let w = events.sensor.width, h = events.sensor.height
        let gap = 8, labelHeight = 22
        let panelW = w * pixelScale, panelH = h * pixelScale
        var canvas = RasterCanvas(width: n * panelW + (n + 1) * gap, height: panelH + 2 * gap + labelHeight,
                                  background: (0, 0, 0))
        // From the earliest to the latest event (the readers give them in time order; the
        // picture does not rely on it).
        let t0 = events.t.min() ?? 0
        let span = max(1, Double(events.t.max() ?? 0) - Double(t0) + 1)   // µs, in Double: no overflow
        // Counts [slice][y][x][polarity], slice k = floor((t − t0)·n / span).
        var on = [Int](repeating: 0, count: n * w * h), off = on
        for i in 0..<events.count {
            let x = Int(events.x[i]), y = Int(events.y[i])
            guard x < w, y < h else { continue }
            let k = Int(((Double(events.t[i]) - Double(t0)) * Double(n) / span).rounded(.down))
            let cell = (min(max(k, 0), n - 1) * h + y) * w + x
            if events.polarity[i] != 0 { on[cell] += 1 } else { off[cell] += 1 }
        }
        for k in 0..<n {
            let left = gap + k * (panelW + gap)
            canvas.fill(x: left, y: gap, w: panelW, h: panelH, background)
            for y in 0..<h {
                for x in 0..<w {
                    let cell = (k * h + y) * w + x
                    guard on[cell] + off[cell] > 0 else { continue }
                    let a = min(1, Double(on[cell]) / Double(saturation))
                    let b = min(1, Double(off[cell]) / Double(saturation))
                    func channel(_ bg: UInt8, _ onPart: Double, _ offPart: Double) -> UInt8 {
                        UInt8(min(255, Double(bg) + 255 * (a * onPart + b * offPart)))
                    }
                    let color = (channel(background.r, onColor.r, offColor.r),
                                 channel(background.g, onColor.g, offColor.g),
                                 channel(background.b, onColor.b, offColor.b))
                    canvas.fill(x: left + x * pixelScale, y: gap + y * pixelScale, w: pixelScale, h: pixelScale, color)
                }
            }
            let from = Double(span) * Double(k) / Double(n) / 1000, to = Double(span) * Double(k + 1) / Double(n) / 1000
            let label = n == 1 ? "\(Int(to.rounded())) ms" : "\(Int(from.rounded()))-\(Int(to.rounded())) ms"
            canvas.text(label, x: left + (panelW - RasterCanvas.textWidth(label)) / 2, y: gap + panelH + 6, ink)
        }
        return canvas
    }

    /// The cochlea raster as a canvas: plot area `plotWidth` × (64·`rowHeight`) px.
    public static func cochlea(_ events: CochleaEvents, plotWidth: Int = 800, rowHeight: Int = 4) -> RasterCanvas {
        let channels = max(1, events.channelCount)
        let left = 56, right = 20, top = 14, bottom = 46
        let plotH = channels * rowHeight
        var canvas = RasterCanvas(width: left + plotWidth + right, height: top + plotH + bottom, background: (0, 0, 0))
        canvas.fill(x: left, y: top, w: plotWidth, h: plotH, background)
        let t0 = events.t.min() ?? 0
        let durationMs = max(1, (Double(events.t.max() ?? 0) - Double(t0)) / 1000)
        for i in 0..<events.count {
            let c = Int(events.channel[i])
            guard c < channels else { continue }
            let x = left + Int((Double(events.t[i]) - Double(t0)) / 1000 / durationMs * Double(plotWidth - 2))
            let y = top + (channels - 1 - c) * rowHeight   // channel 0 at the bottom
            canvas.fill(x: x, y: y, w: 2, h: max(1, rowHeight - 1), (255, 190, 60))
        }
        // Axes: x ticks in ms, y ticks every 16 channels.
        canvas.fill(x: left, y: top + plotH, w: plotWidth, h: 1, ink)
        canvas.fill(x: left - 1, y: top, w: 1, h: plotH, ink)
        for v in SVGPlot.niceTicks(0, durationMs) {
            let x = left + Int(v / durationMs * Double(plotWidth - 2))
            canvas.fill(x: x, y: top + plotH, w: 1, h: 6, ink)
            let label = SVGPlot.tickLabel(v)
            canvas.text(label, x: x - RasterCanvas.textWidth(label) / 2, y: top + plotH + 10, ink)
        }
        canvas.text("t (ms)", x: left + plotWidth / 2 - RasterCanvas.textWidth("t (ms)") / 2, y: top + plotH + 28, ink)
        for c in stride(from: 0, to: channels, by: 16) + [channels - 1] {
            let y = top + (channels - 1 - c) * rowHeight + rowHeight / 2
            canvas.fill(x: left - 6, y: y, w: 5, h: 1, ink)
            canvas.text("\(c)", x: left - 10 - RasterCanvas.textWidth("\(c)"), y: y - 5, ink)
        }
        canvas.text("ch", x: 4, y: top + plotH / 2 - 5, ink)
        return canvas
    }

    /// The cochlea raster as SVG (text labels in a real font).
    public static func cochleaSVG(_ events: CochleaEvents, title: String = "") -> String {
        let channels = max(1, events.channelCount)
        let width = 860, height = 420
        let left = 60.0, right = Double(width) - 20, top = 36.0, bottom = Double(height) - 46
        let t0 = events.t.min() ?? 0
        let durationMs = max(1, (Double(events.t.max() ?? 0) - Double(t0)) / 1000)
        func px(_ ms: Double) -> Double { left + ms / durationMs * (right - left) }
        func py(_ c: Double) -> Double { bottom - (c + 0.5) / Double(channels) * (bottom - top) }
        var svg = SVGPlot.header(width: width, height: height, background: "white")
        svg += SVGPlot.text(Double(width) / 2, 22, title, size: 15, anchor: "middle")
        var dots = ""
        for i in 0..<events.count where Int(events.channel[i]) < channels {
            dots += String(format: "M%.1f %.1fh1.5", px((Double(events.t[i]) - Double(t0)) / 1000), py(Double(events.channel[i])))
        }
        svg += "<path d=\"\(dots)\" stroke=\"#d9480f\" stroke-width=\"\(String(format: "%.1f", (bottom - top) / Double(channels)))\"/>\n"
        svg += SVGPlot.axes(left: left, right: right, top: top, bottom: bottom,
                            xTicks: SVGPlot.niceTicks(0, durationMs).map { ($0, px($0)) },
                            yTicks: [0, 16, 32, 48, Double(channels - 1)].map { ($0, py($0)) },
                            xLabel: "time (ms)", yLabel: "channel", color: "black")
        return svg + "</svg>\n"
    }

    /// The DVS picture as SVG: one square per active pixel (all slices accumulated).
    public static func dvsSVG(_ events: DVSEvents, pixelScale: Int = 4) -> String {
        let canvas = dvs(events, slices: 1, pixelScale: 1)
        let w = events.sensor.width, h = events.sensor.height
        var svg = SVGPlot.header(width: w * pixelScale, height: h * pixelScale,
                                 background: "rgb(\(background.r),\(background.g),\(background.b))")
        for y in 0..<h {
            for x in 0..<w {
                let c = canvas.pixel(8 + x, 8 + y)
                guard c != background else { continue }
                svg += "<rect x=\"\(x * pixelScale)\" y=\"\(y * pixelScale)\" width=\"\(pixelScale)\" height=\"\(pixelScale)\" fill=\"rgb(\(c.r),\(c.g),\(c.b))\"/>\n"
            }
        }
        return svg + "</svg>\n"
    }
}
