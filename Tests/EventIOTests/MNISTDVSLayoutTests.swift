import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

final class MNISTDVSLayoutTests: XCTestCase {
    func testFileNames() {
        let n = MNISTDVSFileName(parsing: "mnist_0_scale04_0001.aedat")
        XCTAssertEqual(n, MNISTDVSFileName(digit: 0, scale: 4, index: 1))
        XCTAssertEqual(n?.fileName, "mnist_0_scale04_0001.aedat")
        XCTAssertEqual(MNISTDVSFileName(parsing: "mnist_7_scale16_0999.aedat")?.scale, 16)
        XCTAssertEqual(MNISTDVSFileName(parsing: "mnist_0_scale08_0001_qt1.aedat")?.index, 1)
        XCTAssertNil(MNISTDVSFileName(parsing: "mnist_0_scale05_0001.aedat"))
        XCTAssertNil(MNISTDVSFileName(parsing: "mnist_x_scale04_0001.aedat"))
        XCTAssertNil(MNISTDVSFileName(parsing: "notes.txt"))
    }

    func testListsByDigitThenIndexAndReportsMissingFolder() throws {
        let root = try TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for d in 0...9 {
            for scale in [4, 8] {
                let folder = root.appendingPathComponent("grabbed_data\(d)/scale\(scale)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for i in [3, 1, 10] {
                    let name = MNISTDVSFileName(digit: d, scale: scale, index: i).fileName
                    try Data().write(to: folder.appendingPathComponent(name))
                }
                try Data().write(to: folder.appendingPathComponent("readme.txt"))
            }
        }
        let list = try MNISTDVSLayout(root: root).recordings()
        XCTAssertEqual(list.count, 30)
        XCTAssertEqual(list.prefix(4).map { [$0.digit, $0.name.index] }, [[0, 1], [0, 3], [0, 10], [1, 1]])
        XCTAssertEqual(list.last?.url.lastPathComponent, "mnist_9_scale04_0010.aedat")
        XCTAssertEqual(try MNISTDVSLayout(root: root, scale: 8).recordings().first?.name.scale, 8)
        XCTAssertThrowsError(try MNISTDVSLayout(root: root, scale: 16).recordings()) { error in
            guard case let DatasetError.missingFolder(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("grabbed_data0/scale16"), path)
        }
        XCTAssertThrowsError(try MNISTDVSLayout(root: root.appendingPathComponent("nope")).recordings())
    }
}
