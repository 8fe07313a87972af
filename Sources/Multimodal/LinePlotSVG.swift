import Foundation

/// A small SVG line plot: one line per series over x = 1…n, with an optional shaded band
/// (low…high) per series, axes with ticks, and a legend. Used for Fig. 3-style curves.
public struct LinePlotSVG {
    public struct Series {
        public var name: String
        public var values: [Double]
        public var low: [Double]?
        public var high: [Double]?
        public init(name: String, values: [Double], low: [Double]? = nil, high: [Double]? = nil) {
            self.name = name; self.values = values; self.low = low; self.high = high
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 720.0, height = 440.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
    }

    static let colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    public func render() -> String {
        let left = 64.0, right = 170.0, top = 40.0, bottom = 52.0
        let plotW = width - left - right, plotH = height - top - bottom
        let n = max(1, series.map(\.values.count).max() ?? 1)
        let all = series.flatMap { $0.values + ($0.low ?? []) + ($0.high ?? []) }.filter(\.isFinite)
        var yMin = (all.min() ?? 0), yMax = (all.max() ?? 1)
        if yMax - yMin < 1e-9 { yMin -= 1; yMax += 1 }
        let pad = (yMax - yMin) * 0.08
        yMin -= pad; yMax += pad
        func px(_ i: Int) -> Double { left + (n == 1 ? plotW / 2 : Double(i) / Double(n - 1) * plotW) }
        func py(_ v: Double) -> Double { top + (1 - (v - yMin) / (yMax - yMin)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="14">\(escape(title))</text>

        """
        // Axes, grid and ticks.
        for k in 0...5 {
            let v = yMin + Double(k) / 5 * (yMax - yMin)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(v)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(String(format: "%.1f", v))</text>\n"
        }
        let step = max(1, n / 10)
        for i in stride(from: 0, to: n, by: step) {
            s += "<text x=\"\(f(px(i)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(i + 1)</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (k, ser) in series.enumerated() {
            let colour = Self.colours[k % Self.colours.count]
            if let low = ser.low, let high = ser.high, low.count == ser.values.count, high.count == ser.values.count {
                let upper = high.indices.map { "\(f(px($0))),\(f(py(high[$0])))" }
                let lower = low.indices.reversed().map { "\(f(px($0))),\(f(py(low[$0])))" }
                s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
            }
            let points = ser.values.indices.map { "\(f(px($0))),\(f(py(ser.values[$0])))" }.joined(separator: " ")
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            let ly = top + 14 + Double(k) * 20
            s += "<line x1=\"\(f(left + plotW + 12))\" y1=\"\(f(ly))\" x2=\"\(f(left + plotW + 36))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(f(left + plotW + 42))\" y=\"\(f(ly + 4))\">\(escape(ser.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
