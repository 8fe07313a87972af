import Foundation

/// Two more SVG charts for run reports: a heat map (confusion matrices) and a spike raster
/// (which neuron fired at which time step).
extension SVGPlot {
    /// A heat map of `values[row][column]` (≥ 0), white for 0 to dark blue for the largest
    /// value of its row (rows normalised, so each true class reads as a distribution); each
    /// cell shows `cellText[row][column]` when cells are large enough.
    public static func heatMap(_ values: [[Double]], rowLabels: [String], columnLabels: [String], cellText: [[String]]? = nil,
                               title: String, xLabel: String, yLabel: String, cell: Int = 28) -> String {
        precondition(values.count == rowLabels.count && values.allSatisfy { $0.count == columnLabels.count },
                     "one value per row and column label")
        let left = 70.0, top = 40.0
        let width = Int(left) + cell * columnLabels.count + 20, height = Int(top) + cell * rowLabels.count + 50
        var svg = header(width: width, height: height, background: "white")
        svg += text(Double(width) / 2, 22, title, size: 15, anchor: "middle")
        for (r, row) in values.enumerated() {
            let rowMax = max(row.max() ?? 0, 1e-12)
            for (c, v) in row.enumerated() {
                let f = max(0, min(1, v / rowMax))
                // White → #08306b (dark blue), linear in each channel.
                let rgb = [(255.0, 8.0), (255.0, 48.0), (255.0, 107.0)].map { Int(($0.0 + f * ($0.1 - $0.0)).rounded()) }
                let x = left + Double(c * cell), y = top + Double(r * cell)
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(rgb[0]),\(rgb[1]),\(rgb[2]))\" stroke=\"#ddd\"/>\n"
                if let t = cellText?[r][c], cell >= 18, !t.isEmpty {
                    svg += text(x + Double(cell) / 2, y + Double(cell) / 2 + 4, t, size: 10, anchor: "middle",
                                color: f > 0.5 ? "white" : "black")
                }
            }
        }
        for (r, label) in rowLabels.enumerated() {
            svg += text(left - 6, top + (Double(r) + 0.5) * Double(cell) + 4, label, size: 11, anchor: "end")
        }
        for (c, label) in columnLabels.enumerated() {
            svg += text(left + (Double(c) + 0.5) * Double(cell), top + Double(rowLabels.count * cell) + 16, label,
                        size: 11, anchor: "middle")
        }
        let bottom = top + Double(rowLabels.count * cell)
        svg += text(left + Double(columnLabels.count * cell) / 2, bottom + 36, xLabel, size: 12, anchor: "middle")
        svg += text(16, (top + bottom) / 2, yLabel, size: 12, anchor: "middle", rotate: true)
        return svg + "</svg>\n"
    }

    /// A spike raster: a dash at (time step `t`, row `row`) for each spike of `rows` neurons
    /// over `steps` time steps; row 0 at the top. `rowTicks` label chosen rows (e.g. classes).
    public static func raster(spikes: [(t: Int, row: Int)], steps: Int, rows: Int, title: String, yLabel: String,
                              width: Int = 760, rowTicks: [(row: Int, label: String)]? = nil,
                              color: String = "#1f4e9c") -> String {
        let plotHeight = Double(min(max(rows * 3, 60), 240))
        let height = Int(plotHeight) + 82
        let left = 60.0, right = Double(width) - 20, top = 36.0, bottom = top + plotHeight
        let dx = (right - left) / Double(max(steps, 1)), dy = (bottom - top) / Double(max(rows, 1))
        var svg = header(width: width, height: height, background: "white")
        svg += text(Double(width) / 2, 22, title, size: 15, anchor: "middle")
        var path = ""
        for s in spikes where s.t >= 0 && s.t < steps && s.row >= 0 && s.row < rows {
            path += String(format: "M%.1f %.1fh%.1f", left + Double(s.t) * dx, top + (Double(s.row) + 0.5) * dy, max(dx * 0.8, 0.8))
        }
        if !path.isEmpty {
            svg += "<path d=\"\(path)\" stroke=\"\(color)\" stroke-width=\"\(String(format: "%.2f", max(dy * 0.9, 0.6)))\"/>\n"
        }
        let ticks = rowTicks ?? niceTicks(0, Double(max(rows - 1, 1)), target: 4).map { (Int($0), tickLabel($0)) }
        svg += axes(left: left, right: right, top: top, bottom: bottom,
                    xTicks: niceTicks(0, Double(max(steps - 1, 1))).map { ($0, left + ($0 + 0.5) * dx) },
                    yTicks: [], xLabel: "time step", yLabel: yLabel, color: "black")
        for (row, label) in ticks where row < rows {
            let y = top + (Double(row) + 0.5) * dy
            svg += "<line x1=\"\(left - 5)\" y1=\"\(y)\" x2=\"\(left)\" y2=\"\(y)\" stroke=\"black\"/>\n"
            svg += text(left - 8, y + 4, label, size: 11, anchor: "end")
        }
        return svg + "</svg>\n"
    }
}
