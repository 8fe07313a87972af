import XCTest
@testable import SpikeNN
import SpikeTensor

final class AdamTests: XCTestCase {
    /// lr = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8, p0 = 1.
    /// Step 1, g = 0.5: m = 0.05, v = 0.00025, m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25,
    ///   p1 = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002.
    /// Step 2, g = −0.25: m = 0.9·0.05 − 0.1·0.25 = 0.02, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225,
    ///   m̂ = 0.02/(1 − 0.81) = 0.1052631579, v̂ = 0.00031225/(1 − 0.998001) = 0.1562031016,
    ///   p2 = 0.9 − 0.1·0.1052631579/(√0.1562031016 + 1e-8) = 0.9 − 0.1·0.1052631579/0.3952253809 = 0.8733662967.
    func testTwoStepsAgainstHandComputedValues() {
        let p = Parameter(name: "p", value: Tensor(shape: [2], scalars: [1, -1]))
        let adam = Adam(parameters: [p], learningRate: 0.1)
        p.grad = Tensor(shape: [2], scalars: [0.5, -0.5])
        adam.step()
        XCTAssertEqual(p.value.scalars[0], 0.900000002, accuracy: 1e-6)
        XCTAssertEqual(p.value.scalars[1], -0.900000002, accuracy: 1e-6)
        p.grad = Tensor(shape: [2], scalars: [-0.25, 0.25])
        adam.step()
        XCTAssertEqual(p.value.scalars[0], 0.8733662967, accuracy: 1e-6)
        XCTAssertEqual(p.value.scalars[1], -0.8733662967, accuracy: 1e-6)
        XCTAssertEqual(adam.stepCount, 2)
        adam.zeroGradients()
        XCTAssertEqual(p.grad.scalars, [0, 0])
    }

    /// A learning-rate scale s on one parameter gives exactly the steps of an Adam at lr·s,
    /// and leaves the other parameters' steps unchanged.
    func testLearningRateScaleIsAParameterGroupRate() {
        let grads: [[Float]] = [[0.5, -0.2], [-0.25, 0.3], [0.1, 0.1]]
        let scaled = Parameter(name: "a", value: Tensor(shape: [2], scalars: [1, -1]))
        let plain = Parameter(name: "b", value: Tensor(shape: [2], scalars: [1, -1]))
        let alone = Parameter(name: "a", value: Tensor(shape: [2], scalars: [1, -1]))
        let both = Adam(parameters: [scaled, plain], learningRate: 0.1)
        both.learningRateScales = [0.25, 1]
        let reference = Adam(parameters: [alone], learningRate: 0.025)
        let referencePlain = Parameter(name: "b", value: Tensor(shape: [2], scalars: [1, -1]))
        let reference2 = Adam(parameters: [referencePlain], learningRate: 0.1)
        for g in grads {
            for p in [scaled, plain, alone, referencePlain] { p.grad = Tensor(shape: [2], scalars: g) }
            both.step(); reference.step(); reference2.step()
        }
        XCTAssertEqual(scaled.value.scalars, alone.value.scalars)
        XCTAssertEqual(plain.value.scalars, referencePlain.value.scalars)
        XCTAssertNotEqual(scaled.value.scalars, plain.value.scalars)
    }

    /// State round trip: a fresh optimiser loaded with the state continues identically.
    func testStateRoundTripAndErrors() throws {
        let p1 = Parameter(name: "w", value: Tensor(shape: [3], scalars: [1, 2, 3]))
        let a1 = Adam(parameters: [p1])
        p1.grad = Tensor(shape: [3], scalars: [0.1, -0.2, 0.3])
        a1.step()
        let p2 = Parameter(name: "w", value: p1.value)
        let a2 = Adam(parameters: [p2])
        let state = Dictionary(uniqueKeysWithValues: a1.stateTensors().map { ($0.name, $0.tensor) })
        XCTAssertEqual(Set(state.keys), ["adam.m.w", "adam.v.w"])
        try a2.loadState(state, stepCount: a1.stepCount)
        p2.grad = p1.grad
        a1.step(); a2.step()
        XCTAssertEqual(p1.value, p2.value)
        XCTAssertThrowsError(try a2.loadState(["adam.m.w": state["adam.m.w"]!], stepCount: 1)) { error in
            XCTAssertEqual(error as? AdamStateError, .missingTensor(name: "adam.v.w"))
            XCTAssertTrue("\(error)".contains("adam.v.w"))
        }
        var bad = state
        bad["adam.v.w"] = Tensor(zeros: [4])
        XCTAssertThrowsError(try a2.loadState(bad, stepCount: 1)) { error in
            XCTAssertEqual(error as? AdamStateError, .shapeMismatch(name: "adam.v.w", expected: [3], found: [4]))
        }
    }
}
