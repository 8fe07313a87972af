import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

final class JointPairingTests: XCTestCase {
    func testFirstHalfPerClass() {
        // Class 0 at indices 0,1,2 → ⌈3/2⌉ = 2 train (0,1), test (2);
        // class 1 at 3,4,5,6 → 2 train (3,4), test (5,6).
        let labels = [0, 0, 0, 1, 1, 1, 1]
        XCTAssertEqual(JointPairing.firstHalf(labels: labels, split: .train, classCount: 2), [0, 1, 3, 4])
        XCTAssertEqual(JointPairing.firstHalf(labels: labels, split: .test, classCount: 2), [2, 5, 6])
    }

    func testPairingCyclesAudioOfSameClass() throws {
        // Visual: 6 samples per class for 2 classes → 3 train each.
        // Audio: class 0 has 4 samples (2 train), class 1 has 2 (1 train).
        let visual = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
        let audio = [0, 1, 0, 0, 1, 0]            // class 0 at 0,2,3,5; class 1 at 1,4
        let splits = [Split](repeating: .train, count: 6)
        let train = try JointPairing.pairs(visualLabels: visual, audioLabels: audio, audioFileSplits: splits,
                                           mode: .firstHalf, split: .train, classCount: 2)
        // Class 0 train audio = first 2 of [0,2,3,5] = [0,2]; visual train [0,1,2] → audio 0,2,0.
        // Class 1 train audio = first 1 of [1,4] = [1]; visual train [6,7,8] → audio 1,1,1.
        XCTAssertEqual(train, [JointPair(visual: 0, audio: 0, label: 0), JointPair(visual: 1, audio: 2, label: 0),
                               JointPair(visual: 2, audio: 0, label: 0), JointPair(visual: 6, audio: 1, label: 1),
                               JointPair(visual: 7, audio: 1, label: 1), JointPair(visual: 8, audio: 1, label: 1)])
        let test = try JointPairing.pairs(visualLabels: visual, audioLabels: audio, audioFileSplits: splits,
                                          mode: .firstHalf, split: .test, classCount: 2)
        // Class 0 test audio [3,5]; class 1 test audio [4].
        XCTAssertEqual(test.map(\.audio), [3, 5, 3, 4, 4, 4])
        XCTAssertEqual(test.map(\.visual), [3, 4, 5, 9, 10, 11])
        for p in train + test { XCTAssertEqual(visual[p.visual], p.label); XCTAssertEqual(audio[p.audio], p.label) }
    }

    func testHDF5SplitModeAndMissingAudio() throws {
        let visual = [0, 0, 1, 1]
        let audio = [0, 1, 0, 1]
        let splits: [Split] = [.test, .train, .train, .test]
        let train = try JointPairing.pairs(visualLabels: visual, audioLabels: audio, audioFileSplits: splits,
                                           mode: .hdf5, split: .train, classCount: 2)
        XCTAssertEqual(train, [JointPair(visual: 0, audio: 2, label: 0), JointPair(visual: 2, audio: 1, label: 1)])
        XCTAssertThrowsError(try JointPairing.pairs(visualLabels: visual, audioLabels: [0, 0, 0, 0],
                                                    audioFileSplits: splits, mode: .hdf5, split: .train,
                                                    classCount: 2, audioSource: "a.hdf5")) { error in
            XCTAssertEqual(error as? DatasetError, .noAudioForClass(label: 1, split: .train, file: "a.hdf5"))
        }
    }
}
