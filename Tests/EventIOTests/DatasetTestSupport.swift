import Foundation
import XCTest
import SpikeTensor

/// Paths shared by the dataset tests.
enum TestPaths {
    /// Tests/EventIOTests/
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    /// Tests/EventIOTests/Fixtures/ (EventIOTests declares no resources, so found via #filePath).
    static let fixtures = testsFolder.appendingPathComponent("Fixtures")
    /// The repository root.
    static let repositoryRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    /// A fresh empty temporary folder.
    static func temporaryFolder(_ name: String = #function) throws -> URL {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("spikefuse-\(clean)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
