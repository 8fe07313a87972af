import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

/// `../shared/data` relative to the repository root (found from this source file); a
/// worktree checked out one level deeper (…/wt/<name>) also finds `../../shared/data`.
func sharedDataFolder() throws -> URL {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }   // …/Tests/SensorEmulationTests/File.swift → root
    let candidates = [root.deletingLastPathComponent().appendingPathComponent("shared/data"),
                      root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")]
    guard let data = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
        throw XCTSkip("…/shared/data not found: \(candidates[0].path)")
    }
    return data
}

/// Summary statistics of a DVS recording, as compared in the calibration table.
struct DVSRecordingStats: CustomStringConvertible {
    var count: Int
    var onFraction: Double
    var durationSeconds: Double
    /// 2nd–98th percentile range of x and y, pixels.
    var extentX: Double, extentY: Double
    /// Events per pixel per second outside the central 64×64 box (background activity).
    var backgroundRateHz: Double

    init(_ e: DVSEvents) {
        count = e.count
        onFraction = e.count > 0 ? Double(e.onCount) / Double(e.count) : 0
        durationSeconds = Double(e.durationMicroseconds) * 1e-6
        func range(_ v: [UInt16]) -> Double {
            let s = v.sorted()
            guard !s.isEmpty else { return 0 }
            return Double(s[Int(0.98 * Double(s.count - 1))]) - Double(s[Int(0.02 * Double(s.count - 1))])
        }
        extentX = range(e.x); extentY = range(e.y)
        var outside = 0
        for k in 0..<e.count where !(32..<96).contains(Int(e.x[k])) || !(32..<96).contains(Int(e.y[k])) { outside += 1 }
        let pixels = Double(e.sensor.width * e.sensor.height - 64 * 64)
        backgroundRateHz = durationSeconds > 0 ? Double(outside) / pixels / durationSeconds : 0
    }

    var description: String {
        String(format: "events %d, ON %.3f, %.3f s, extent %.0f×%.0f px, background %.4f Hz/px",
               count, onFraction, durationSeconds, extentX, extentY, backgroundRateHz)
    }
}
