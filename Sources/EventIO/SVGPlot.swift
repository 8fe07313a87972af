import Foundation
import SpikeTensor

/// Small SVG writers: a generic line plot (e.g. accuracy over epochs), a grouped bar chart and the primitives
/// the event renderers use. Coordinates in SVG user units (px), origin top left.
public enum SVGPlot {
    /// One line of a plot: `points` are (x, y) in data units.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// CSS colour, e.g. "#1f77b4".
        public var color: String
        /// Optional shaded band (lower, upper) at each point's x, e.g. min–max over repeats.
        public var band: [(low: Double, high: Double)]?
        public init(name: String, points: [(x: Double, y: Double)], color: String,
                    band: [(low: Double, high: Double)]? = nil) {
            precondition(band == nil || band!.count == points.count, "band needs one (low, high) per point")
            self.name = name; self.points = points; self.color = color; self.band = band
        }
    }

    /// Default colours for series without a colour of their own.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// A line plot with axes, ticks, labels and a legend, as SVG text.
    ///
    /// The data range is taken from the points (or `yRange` when given); ticks are
    /// "nice" steps of 1, 2 or 5 × 10ⁿ.
    public static func lines(series: [Series], title: String, xLabel: String, yLabel: String,
                             yRange: ClosedRange<Double>? = nil,
                             width: Int = 640, height: Int = 400) -> String {
        let all = series.flatMap(\.points)
        let bands = series.flatMap { $0.band ?? [] }
        let ys = all.map(\.y) + bands.map(\.low) + bands.map(\.high)
        let xMin = all.map(\.x).min() ?? 0, xMax = max(all.map(\.x).max() ?? 1, xMin + 1e-9)
        let yMin = yRange?.lowerBound ?? (ys.min() ?? 0)
        let yMax = max(yRange?.upperBound ?? (ys.max() ?? 1), yMin + 1e-9)
        let frame = PlotFrame(names: series.map(\.name), width: width, height: height)
        let (left, right, top, bottom) = (frame.left, frame.right, frame.top, frame.bottom)
        // Whole-number x data (epochs) get whole-number ticks.
        let integerX = all.allSatisfy { $0.x == $0.x.rounded() }
        let xTicks = niceTicks(xMin, xMax).filter { !integerX || $0 == $0.rounded() }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - yMin) / (yMax - yMin) * (bottom - top) }

        var svg = frame.start(title: title)
        svg += axes(left: left, right: right, top: top, bottom: bottom,
                    xTicks: xTicks.map { ($0, px($0)) },
                    yTicks: niceTicks(yMin, yMax).map { ($0, py($0)) },
                    xLabel: xLabel, yLabel: yLabel, color: "black")
        for s in series {
            guard let band = s.band else { continue }
            let upper = zip(s.points, band).map { String(format: "%.2f,%.2f", px($0.x), py($1.high)) }
            let lower = zip(s.points, band).reversed().map { String(format: "%.2f,%.2f", px($0.x), py($1.low)) }
            svg += "<polygon fill=\"\(s.color)\" fill-opacity=\"0.15\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"/>\n"
        }
        for (i, s) in series.enumerated() {
            let path = s.points.map { String(format: "%.2f,%.2f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            svg += frame.legendEntry(i, name: s.name, color: s.color, box: false)
        }
        return svg + "</svg>\n"
    }

    /// A grouped bar chart: one group per label, one bar per series in each group
    /// (`values[series][group]`), with a zero line, y ticks and a legend, as SVG text. Bars
    /// of negative values hang below the zero line.
    public static func bars(groups: [String], series: [(name: String, color: String, values: [Double])],
                            title: String, yLabel: String, width: Int = 640, height: Int = 400) -> String {
        precondition(series.allSatisfy { $0.values.count == groups.count }, "one value per group in every series")
        let values = series.flatMap(\.values)
        let yMin = min(0, values.min() ?? 0), yMax = max(max(0, values.max() ?? 1), yMin + 1e-9)
        let frame = PlotFrame(names: series.map(\.name), width: width, height: height)
        let (left, right, top, bottom) = (frame.left, frame.right, frame.top, frame.bottom)
        func py(_ y: Double) -> Double { bottom - (y - yMin) / (yMax - yMin) * (bottom - top) }
        let groupWidth = (right - left) / Double(max(groups.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))

        var svg = frame.start(title: title)
        svg += axes(left: left, right: right, top: top, bottom: bottom,
                    xTicks: [], yTicks: niceTicks(yMin, yMax).map { ($0, py($0)) },
                    xLabel: "", yLabel: yLabel, color: "black")
        for (g, label) in groups.enumerated() {
            let x0 = left + Double(g) * groupWidth + groupWidth * 0.1
            for (k, s) in series.enumerated() {
                let v = s.values[g], y = py(max(v, 0)), h = abs(py(v) - py(0))
                svg += String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\"/>\n",
                              x0 + Double(k) * barWidth, y, barWidth * 0.95, h, s.color)
            }
            svg += text(left + (Double(g) + 0.5) * groupWidth, bottom + 18, label, size: 11, anchor: "middle")
        }
        svg += String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>\n", left, py(0), right, py(0))
        for (i, s) in series.enumerated() { svg += frame.legendEntry(i, name: s.name, color: s.color, box: true) }
        return svg + "</svg>\n"
    }

    /// The layout both charts share: the plot area, and a legend in a right margin wide
    /// enough for the longest series name (≈ 7 px a character). Pixels from the top left.
    struct PlotFrame {
        /// Total width: the requested plot width plus the legend margin.
        let width: Int, height: Int
        let left: Double, right: Double, top: Double, bottom: Double

        init(names: [String], width plotWidth: Int, height: Int) {
            let legendWidth = Double(names.map(\.count).max() ?? 0) * 7 + 44
            width = plotWidth + Int(legendWidth)
            self.height = height
            left = 60; right = Double(width) - 20 - legendWidth; top = 36; bottom = Double(height) - 46
        }

        /// The SVG header, white background and centred title.
        func start(title: String) -> String {
            header(width: width, height: height, background: "white")
                + text(Double(width) / 2, 22, title, size: 15, anchor: "middle")
        }

        /// Legend row `i`: a line (line plots) or a filled box (bar charts), then the name.
        func legendEntry(_ i: Int, name: String, color: String, box: Bool) -> String {
            let ly = top + 8 + Double(i) * 18
            let marker = box
                ? "<rect x=\"\(right + 12)\" y=\"\(ly - 6)\" width=\"20\" height=\"12\" fill=\"\(color)\"/>\n"
                : "<line x1=\"\(right + 12)\" y1=\"\(ly)\" x2=\"\(right + 32)\" y2=\"\(ly)\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            return marker + text(right + 38, ly + 4, name, size: 12, anchor: "start")
        }
    }

    // MARK: Primitives (shared with the event renderers)

    static func header(width: Int, height: Int, background: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"\(background)\"/>\n"
    }

    static func text(_ x: Double, _ y: Double, _ s: String, size: Int, anchor: String,
                     color: String = "black", rotate: Bool = false) -> String {
        let escaped = s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        let transform = rotate ? " transform=\"rotate(-90 \(x) \(y))\"" : ""
        return "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"\(color)\"\(transform)>\(escaped)</text>\n"
    }

    /// A frame with tick marks and tick labels; ticks are (value, pixel position).
    static func axes(left: Double, right: Double, top: Double, bottom: Double,
                     xTicks: [(Double, Double)], yTicks: [(Double, Double)],
                     xLabel: String, yLabel: String, color: String) -> String {
        var s = "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(right - left)\" height=\"\(bottom - top)\" fill=\"none\" stroke=\"\(color)\"/>\n"
        for (v, x) in xTicks {
            s += "<line x1=\"\(x)\" y1=\"\(bottom)\" x2=\"\(x)\" y2=\"\(bottom + 5)\" stroke=\"\(color)\"/>\n"
            s += text(x, bottom + 18, tickLabel(v), size: 11, anchor: "middle", color: color)
        }
        for (v, y) in yTicks {
            s += "<line x1=\"\(left - 5)\" y1=\"\(y)\" x2=\"\(left)\" y2=\"\(y)\" stroke=\"\(color)\"/>\n"
            s += text(left - 8, y + 4, tickLabel(v), size: 11, anchor: "end", color: color)
        }
        s += text((left + right) / 2, bottom + 36, xLabel, size: 12, anchor: "middle", color: color)
        s += text(16, (top + bottom) / 2, yLabel, size: 12, anchor: "middle", color: color, rotate: true)
        return s
    }

    /// Tick values in [lo, hi] at a step of 1, 2 or 5 × 10ⁿ giving about 4–10 ticks.
    public static func niceTicks(_ lo: Double, _ hi: Double, target: Int = 6) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(target)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var v = ceil(lo / step - 1e-9) * step
        while v <= hi + step * 1e-9 { ticks.append(v); v += step }
        return ticks
    }

    static func tickLabel(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%g", v)
    }
}
