import XCTest
import Foundation

/// What a run of the `spikefuse` tool printed and returned.
struct ToolResult { var status: Int32; var stdout: String; var stderr: String }

/// Runs the `spikefuse` binary built beside the test bundle (skips the test when absent).
func runSpikefuse(_ arguments: [String], environment: [String: String] = [:]) throws -> ToolResult {
    let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("spikefuse")
    guard FileManager.default.isExecutableFile(atPath: tool.path) else {
        throw XCTSkip("spikefuse binary not found at \(tool.path)")
    }
    let p = Process()
    p.executableURL = tool
    p.arguments = arguments
    if !environment.isEmpty {
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ToolResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
}
