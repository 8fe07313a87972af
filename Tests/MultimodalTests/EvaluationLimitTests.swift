import XCTest
@testable import Multimodal

final class EvaluationLimitTests: XCTestCase {
    /// `--test-limit N` on a dataset listed class by class (the joint dataset's order) must
    /// keep every class: the indices are spread evenly, not the first N.
    func testLimitedEvaluationSpreadsOverTheDataset() {
        XCTAssertEqual(evenlySpreadIndices(count: 5, of: 10), [0, 2, 4, 6, 8])
        XCTAssertEqual(evenlySpreadIndices(count: 4, of: 4), [0, 1, 2, 3])
        XCTAssertEqual(evenlySpreadIndices(count: 0, of: 7), [])
        // 10 classes of 500 samples each, listed by class; 1,000 chosen → 100 per class.
        let chosen = evenlySpreadIndices(count: 1000, of: 5000)
        XCTAssertEqual(Set(chosen).count, 1000)
        let perClass = Dictionary(grouping: chosen, by: { $0 / 500 }).mapValues(\.count)
        XCTAssertEqual(perClass.count, 10)
        XCTAssertTrue(perClass.values.allSatisfy { $0 == 100 }, "\(perClass)")
        // 7 of 23: strictly increasing, in range.
        let odd = evenlySpreadIndices(count: 7, of: 23)
        XCTAssertEqual(odd, odd.sorted()); XCTAssertEqual(Set(odd).count, 7)
        XCTAssertTrue(odd.allSatisfy { (0..<23).contains($0) })
    }
}
