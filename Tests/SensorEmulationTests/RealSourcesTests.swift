import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class RealSourcesTests: XCTestCase {
    func testSpokenDigitFileNames() {
        let ok = SpokenDigitFile(url: URL(fileURLWithPath: "/x/7_jackson_32.wav"))
        XCTAssertEqual(ok?.digit, 7); XCTAssertEqual(ok?.speaker, "jackson"); XCTAssertEqual(ok?.index, 32)
        for bad in ["7_jackson.wav", "12_a_1.wav", "x_a_1.wav", "7_jackson_32.mp3", "7__3.wav", "7_a_-1.wav"] {
            XCTAssertNil(SpokenDigitFile(url: URL(fileURLWithPath: "/x/" + bad)), bad)
        }
    }

    /// Real sources are split like the pairs: no image or recording serves both splits, every
    /// source of a split is used, and (source, repetition) never repeats within a class.
    func testRealSourcesAreSplitLikeThePairs() {
        for (pairs, sources) in [(100, 7), (1000, 200), (10_000, 200), (10_000, 1009), (30, 1), (41, 3)] {
            let plan = SynthesisPlan(pairCount: pairs, seed: 1)
            for digit in 0..<10 {
                let ids = (0..<pairs).filter { plan.label(ofPair: $0) == digit }
                var used: [Split: Set<Int>] = [.train: [], .test: []]
                var seen = Set<[Int]>()
                for i in ids {
                    let (index, repetition) = plan.source(ofPair: i, sourceCount: sources)
                    XCTAssertTrue((0..<sources).contains(index))
                    used[plan.split(ofPair: i)]!.insert(index)
                    XCTAssertTrue(seen.insert([index, repetition]).inserted, "pair \(i) repeats source \(index)×\(repetition)")
                }
                let train = used[.train]!, test = used[.test]!
                if sources > 1 {
                    XCTAssertTrue(train.isDisjoint(with: test), "\(pairs) pairs, \(sources) sources, digit \(digit)")
                    // a split with at least as many pairs as its half of the sources uses all of them
                    let trainPairs = ids.filter { plan.split(ofPair: $0) == .train }.count
                    XCTAssertEqual(train.count, min(trainPairs, (sources + 1) / 2))
                    let testPairs = ids.count - trainPairs
                    XCTAssertEqual(test.count, min(testPairs, sources - (sources + 1) / 2))
                } else {
                    XCTAssertEqual(train.union(test), [0])
                }
            }
        }
    }

    /// Real FSDD recordings and real MNIST images through the same emulators (skips without
    /// ../shared/data). Prints the per-recording event counts used in docs/emulators.md.
    func testRealSourcesThroughTheEmulators() throws {
        let data = try sharedDataFolder()
        let files = try SpokenDigitFile.list(folder: data.appendingPathComponent("fsdd"))
        XCTAssertEqual(files.count, 2000)
        var counts: [Int] = []
        for d in 0...9 {
            let f = files.first { $0.digit == d && $0.speaker == "jackson" && $0.index == 0 }!
            var rng = SeededGenerator(seed: UInt64(d))
            counts.append(try f.cochleaEvents(using: &rng).count)
        }
        print("FSDD jackson_0 cochlea events per digit 0…9: \(counts)")
        XCTAssertTrue(counts.allSatisfy { $0 > 300 })

        let mnist = data.appendingPathComponent("mnist")
        let names = try FileManager.default.contentsOfDirectory(atPath: mnist.path)
        guard let imagesName = names.first(where: { $0.hasPrefix("t10k") && $0.contains("images") }),
              let labelsName = names.first(where: { $0.hasPrefix("t10k") && $0.contains("labels") }) else {
            throw XCTSkip("no t10k IDX files in \(mnist.path)")
        }
        let images = try IDX.readImages(mnist.appendingPathComponent(imagesName))
        let labels = try IDX.readLabels(mnist.appendingPathComponent(labelsName))
        let plan = SynthesisPlan(pairCount: 10, seed: 1,
                                 visualSource: .images(images, labels: labels),
                                 audioSource: .recordings(files))
        let pairs = try DatasetSynthesizer(plan: plan).run()
        print("real MNIST t10k → emulated DVS events per digit 0…9: \(pairs.map(\.visual.events.count))")
        for p in pairs {
            XCTAssertGreaterThan(p.visual.events.count, 3000)
            XCTAssertNotNil(try? NTidigitsKey(parsing: p.audio.key), p.audio.key)
        }
    }
}
