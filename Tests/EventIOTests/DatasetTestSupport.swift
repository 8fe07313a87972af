import Foundation
import XCTest

/// Paths shared by the dataset tests.
enum TestPaths {
    /// Tests/EventIOTests/
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    /// Tests/EventIOTests/Fixtures/ (EventIOTests declares no resources, so found via #filePath).
    static let fixtures = testsFolder.appendingPathComponent("Fixtures")
    /// The repository root.
    static let repositoryRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    /// `../shared/data` next to the repository (real samples; never copied in).
    static let sharedData = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// The shared data folder, or an XCTSkip when it is absent.
    static func requireSharedData() throws -> URL {
        guard FileManager.default.fileExists(atPath: sharedData.path) else {
            throw XCTSkip("…/shared/data not found: \(sharedData.path)")
        }
        return sharedData
    }

    /// A fresh empty temporary folder.
    static func temporaryFolder(_ name: String = #function) throws -> URL {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("spikefuse-\(clean)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
