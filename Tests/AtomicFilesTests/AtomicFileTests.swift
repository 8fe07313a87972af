import XCTest
@testable import AtomicFiles

final class AtomicFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        chmod(folder.path, 0o755)
        try? FileManager.default.removeItem(at: folder)
    }

    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
    }

    func testWriteReplacesTheFileAndLeavesNoTemporary() throws {
        let url = folder.appendingPathComponent("a.bin")
        try AtomicFile.write([1, 2, 3], to: url)
        try AtomicFile.write([4, 5], to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([4, 5]))
        XCTAssertEqual(try leftovers(), [])
    }

    /// A write that fails (here: a body that throws half-way, as a full disk would) keeps the
    /// previous file intact and removes its temporary.
    func testFailedReplaceKeepsThePreviousFile() throws {
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        try AtomicFile.write(Array("old".utf8), to: url)
        struct DiskFull: Error {}
        XCTAssertThrowsError(try AtomicFile.replace(url) { temporary in
            try Data("half".utf8).write(to: temporary)
            throw DiskFull()
        })
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "old")
        XCTAssertEqual(try leftovers(), [])
    }

    /// A folder that cannot be written: the error names the target; the old file stays.
    func testUnwritableFolderIsAnErrorNamingTheFile() throws {
        guard getuid() != 0 else {
            // root ignores permission bits; the injected failure above covers the same path.
            throw XCTSkip("running as root: a read-only folder is still writable")
        }
        let url = folder.appendingPathComponent("m.jsonl")
        try AtomicFile.write(Array("old".utf8), to: url)
        chmod(folder.path, 0o555)
        XCTAssertThrowsError(try AtomicFile.write(Array("new".utf8), to: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "old")
    }

    /// A missing folder fails cleanly, naming the target.
    func testMissingFolderIsAnErrorNamingTheFile() {
        let url = folder.appendingPathComponent("no/such/dir/x.json")
        XCTAssertThrowsError(try AtomicFile.write([1], to: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    func testStaleTemporariesAreRemoved() throws {
        let url = folder.appendingPathComponent("epoch-0001.safetensors")
        let stale = AtomicFile.temporaryURL(for: url)
        try Data([0]).write(to: stale)
        try Data([1]).write(to: url)
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(in: folder).map(\.lastPathComponent), [stale.lastPathComponent])
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path))
        XCTAssertEqual(try leftovers(), [])
    }
}
