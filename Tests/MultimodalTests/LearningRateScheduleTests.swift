import XCTest
@testable import Multimodal

final class LearningRateScheduleTests: XCTestCase {
    /// Cosine over E = 4 epochs: ½(1 + cos(π·k/4)) for k = 0…3 = 1, 0.853553, 0.5, 0.146447
    /// (cos(π/4) = 0.707107, cos(3π/4) = −0.707107); constant is 1 throughout.
    func testCosineFactors() {
        let expected: [Float] = [1, 0.853553, 0.5, 0.146447]
        for (e, f) in expected.enumerated() {
            XCTAssertEqual(LearningRateSchedule.cosine.factor(epoch: e + 1, of: 4), f, accuracy: 1e-5)
            XCTAssertEqual(LearningRateSchedule.constant.factor(epoch: e + 1, of: 4), 1)
        }
    }

    /// New runs anneal by default; a config.json written before the default changed (no
    /// `learningRateSchedule` key) resumes with the constant rate it was trained with, and a
    /// run's own setting survives the round trip.
    func testDefaultIsCosineAndOldConfigurationsStayConstant() throws {
        XCTAssertEqual(TrainingConfiguration().learningRateSchedule, .cosine)
        var written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfiguration())) as! [String: Any]
        XCTAssertEqual(written["learningRateSchedule"] as? String, "cosine")
        written.removeValue(forKey: "learningRateSchedule")
        let old = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: written))
        XCTAssertEqual(old.learningRateSchedule, .constant)
        var constant = TrainingConfiguration(); constant.learningRateSchedule = .constant
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(constant)), constant)
    }
}
