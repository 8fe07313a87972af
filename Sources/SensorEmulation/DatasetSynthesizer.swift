import Dispatch
import Foundation
import SpikeTensor
import EventIO

/// Everything that decides how hard the synthesised dataset is (defaults = shipped dataset).
public struct SynthesisSettings: Sendable {
    /// Handwriting variation of the procedural digits.
    public var handwriting: HandwritingSettings
    /// Speaker/noise variation of the procedural speech (also sets the sample rate).
    public var speech: SpeechSettings
    /// The visual recording set-up (monitor, motion, DVS pixel and noise model).
    public var recorder: DVSMonitorRecorder
    /// The cochlea.
    public var cochlea: CochleaEmulator
    /// `--corrupt P` and the corruption strengths.
    public var corruption: CorruptionSettings

    public init(handwriting: HandwritingSettings = HandwritingSettings(), speech: SpeechSettings = SpeechSettings(),
                recorder: DVSMonitorRecorder = .mnistDVSPreset, cochlea: CochleaEmulator = .nTidigitsPreset,
                corruption: CorruptionSettings = CorruptionSettings()) {
        self.handwriting = handwriting; self.speech = speech; self.recorder = recorder
        self.cochlea = cochlea; self.corruption = corruption
    }
}

/// What to synthesise: `pairCount` audiovisual pairs from `seed`.
///
/// Pair i has label `i mod 10` and is the k-th pair of its class, k = i / 10. Its visual
/// recording is MNIST-DVS index k + 1 of that digit; its audio recording is spoken by
/// synthetic speaker ⌊k/2⌋ in session a (k even) or b (k odd), key
/// `{man|woman}-s{NN}-{a|b}-{z|1…9}`. Within each class the first ⌈n/2⌉ pairs are the
/// training split (so train and test speakers are disjoint, as in TIDIGITS).
public struct SynthesisPlan: Sendable {
    public var pairCount: Int
    public var seed: UInt64
    public var settings: SynthesisSettings
    public var visualSource: VisualSource
    public var audioSource: AudioSource

    public init(pairCount: Int, seed: UInt64, settings: SynthesisSettings = SynthesisSettings(),
                visualSource: VisualSource = .procedural, audioSource: AudioSource = .procedural) {
        self.pairCount = pairCount; self.seed = seed; self.settings = settings
        self.visualSource = visualSource; self.audioSource = audioSource
    }

    public func label(ofPair i: Int) -> Int { i % 10 }
    /// k: how many pairs of the same class come before pair i.
    public func occurrence(ofPair i: Int) -> Int { i / 10 }
    /// Number of pairs with label `digit`.
    public func count(ofClass digit: Int) -> Int { pairCount / 10 + (digit < pairCount % 10 ? 1 : 0) }
    /// Split of pair i: the first ⌈n/2⌉ of its class train.
    public func split(ofPair i: Int) -> Split {
        occurrence(ofPair: i) < (count(ofClass: label(ofPair: i)) + 1) / 2 ? .train : .test
    }

    /// Which of the `sourceCount` real images or recordings of pair i's class the pair uses,
    /// and how many earlier pairs of its split already used that source (`repetition`).
    ///
    /// The class's sources are split like its pairs: the first ⌈s/2⌉ serve the training pairs,
    /// the rest the test pairs, each cycled when a split has more pairs than sources (the
    /// paper's "first 50 % for training", applied to every source set). No image or
    /// recording appears in both splits, so test accuracy is measured on unseen digits and
    /// utterances. With one source only, both splits share it.
    public func source(ofPair i: Int, sourceCount s: Int) -> (index: Int, repetition: Int) {
        precondition(s > 0, "a class without sources")
        let k = occurrence(ofPair: i)
        if s == 1 { return (0, k) }
        let trainSources = (s + 1) / 2
        if split(ofPair: i) == .train { return (k % trainSources, k / trainSources) }
        let j = k - (count(ofClass: label(ofPair: i)) + 1) / 2, testSources = s - trainSources
        return (trainSources + j % testSources, j / testSources)
    }
}

/// One emulated MNIST-DVS-like recording.
public struct VisualRecording: Sendable, Equatable {
    public var events: DVSEvents
    /// Digit 0…9.
    public var label: Int
    /// MNIST-DVS recording index (1-based) within its digit: file `mnist_{d}_scale04_{index:04}.aedat`.
    public var index: Int
}

/// One emulated N-TIDIGITS-like recording.
public struct AudioRecording: Sendable, Equatable {
    public var events: CochleaEvents
    /// Digit 0…9.
    public var label: Int
    /// N-TIDIGITS-style key, e.g. `woman-s02-b-z`.
    public var key: String
    public var split: Split
}

/// One synthesised pair, with the corruption applied to it.
public struct SynthesizedPair: Sendable, Equatable {
    public var visual: VisualRecording
    public var audio: AudioRecording
    public var corruption: CorruptionKind
}

/// A synthetic speaker of the dataset (fixed voice across all digits and sessions).
public struct SyntheticSpeaker: Sendable, Equatable {
    public var gender: NTidigitsKey.Gender
    public var voice: SpeakerVoice

    /// Speaker j of the dataset `seed`: gender by a fair coin; men F0 80–150 Hz and vocal-tract
    /// scale 0.85–1.02, women F0 160–250 Hz and scale 1.02–1.15 (clamped to the settings' ranges).
    public static func make(seed: UInt64, index j: Int, settings: SpeechSettings) -> SyntheticSpeaker {
        var rng = EmulationSeeds.generator(seed: seed, index: j, stream: .speakers)
        let woman = rng.nextInt(below: 2) == 1
        let (pLo, pHi): (Float, Float) = woman ? (160, 250) : (80, 150)
        let v = settings.vocalTractVariation
        let (tLo, tHi): (Float, Float) = woman ? (1 + 0.13 * v / 0.15, 1 + v) : (1 - v, 1 + 0.13 * v / 0.15)
        let pitch = min(max(rng.nextUniform(pLo, pHi), settings.pitchRangeHz.lowerBound), settings.pitchRangeHz.upperBound)
        let voice = SpeakerVoice(pitchHz: pitch, vocalTractScale: rng.nextUniform(min(tLo, tHi), max(tLo, tHi)),
                                 rate: 1 + settings.rateVariation * rng.nextUniform(-0.6, 0.6),
                                 loudnessDB: settings.loudnessVariationDB * rng.nextUniform(-0.5, 0.5))
        return SyntheticSpeaker(gender: woman ? .woman : .man, voice: voice)
    }
}

/// Produces the dataset of a `SynthesisPlan`: deterministic from the seed, samples computed
/// in parallel (`DispatchQueue.concurrentPerform`), each from its own generators derived from
/// (seed, pair index), so the result does not depend on scheduling.
///
/// ```swift
/// let data = try DatasetSynthesizer(plan: SynthesisPlan(pairCount: 1000, seed: 7)).run { done, total in
///     print("\(done)/\(total)")
/// }
/// ```
public struct DatasetSynthesizer: Sendable {
    public var plan: SynthesisPlan

    public init(plan: SynthesisPlan) { self.plan = plan }

    /// Synthesises every pair. `progress(done, total)` is called after each pair, from worker
    /// threads (serialised by a lock; keep it cheap).
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [SynthesizedPair] {
        let n = plan.pairCount
        guard n >= 0 else { throw EmulationError.invalidParameter("pair count \(n) < 0") }
        try validateSources()
        let results = ResultSlots<Result<SynthesizedPair, Error>>(count: n)
        let counter = ProgressCounter()
        DispatchQueue.concurrentPerform(iterations: n) { i in
            results[i] = Result { try self.pair(i) }
            counter.increment { done in progress?(done, n) }
        }
        return try results.values().map { try $0!.get() }
    }

    /// Pair `i` alone (what `run` computes for it).
    public func pair(_ i: Int) throws -> SynthesizedPair {
        let label = plan.label(ofPair: i), k = plan.occurrence(ofPair: i)
        let settings = plan.settings
        var corruptionRNG = EmulationSeeds.generator(seed: plan.seed, index: i, stream: .corruption)
        let chosen = settings.corruption.choose(using: &corruptionRNG)
        let corruption = settings.corruption.splits.contains(plan.split(ofPair: i)) ? chosen : .none

        // visual
        var glyphRNG = EmulationSeeds.generator(seed: plan.seed, index: i, stream: .glyph)
        let image: [UInt8], width: Int, height: Int
        switch plan.visualSource {
        case .procedural:
            image = DigitGlyphRenderer(settings: settings.handwriting).render(digit: label, using: &glyphRNG)
            width = DigitGlyphRenderer.side; height = DigitGlyphRenderer.side
        case let .images(images, labels):
            let ofClass = labels.indices.filter { Int(labels[$0]) == label }
            image = images.image(ofClass[plan.source(ofPair: i, sourceCount: ofClass.count).index])
            width = images.cols; height = images.rows
        }
        var dvsRNG = EmulationSeeds.generator(seed: plan.seed, index: i, stream: .dvs)
        var visual = try settings.recorder.record(image: image, width: width, height: height, using: &dvsRNG)
        if corruption.modality == "visual" {
            visual = settings.corruption.corruptVisual(visual, kind: corruption, using: &corruptionRNG)
        }

        // audio
        var speechRNG = EmulationSeeds.generator(seed: plan.seed, index: i, stream: .speech)
        let samples: [Float], sampleRate: Double, key: String
        let session = k % 2 == 0 ? "a" : "b"
        let digitChar = label == 0 ? "z" : String(label)
        switch plan.audioSource {
        case .procedural:
            let speaker = SyntheticSpeaker.make(seed: plan.seed, index: k / 2, settings: settings.speech)
            var voice = speaker.voice
            // token-to-token variation of the same speaker: ±5 % pitch, ±5 % rate, ±2 dB
            voice.pitchHz *= 1 + 0.05 * speechRNG.nextUniform(-1, 1)
            voice.rate *= 1 + 0.05 * speechRNG.nextUniform(-1, 1)
            voice.loudnessDB += 2 * speechRNG.nextUniform(-1, 1)
            samples = FormantSynthesizer(settings: settings.speech).synthesize(digit: label, voice: voice, using: &speechRNG)
            sampleRate = settings.speech.sampleRate
            key = "\(speaker.gender.rawValue)-s\(String(format: "%02d", k / 2 + 1))-\(session)-\(digitChar)"
        case let .recordings(files):
            // Ordered by (index, speaker), so both splits hold every speaker and no utterance
            // (FSDD's own split is by index too; 4 speakers are too few to split by speaker).
            let ofClass = files.filter { $0.digit == label }
                .sorted { ($0.index, $0.speaker) < ($1.index, $1.speaker) }
            let (index, cycle) = plan.source(ofPair: i, sourceCount: ofClass.count)
            let file = ofClass[index]
            let wave = try WAV.read(file.url)
            samples = wave.mono; sampleRate = Double(wave.sampleRate)
            key = "man-\(file.speaker)\(file.index)\(cycle > 0 ? "r\(cycle)" : "")-\(session)-\(digitChar)"
        }
        var cochleaRNG = EmulationSeeds.generator(seed: plan.seed, index: i, stream: .cochlea)
        let input = corruption == .audioLowSNR ? settings.corruption.addLowSNRNoise(samples, using: &corruptionRNG) : samples
        var audio = try settings.cochlea.emulate(samples: input, sampleRate: sampleRate, using: &cochleaRNG)
        if corruption == .audioNoiseBurst {
            audio = settings.corruption.corruptAudio(audio, durationMicroseconds: Int64(Double(samples.count) / sampleRate * 1e6),
                                                     using: &corruptionRNG)
        }
        return SynthesizedPair(visual: VisualRecording(events: visual, label: label, index: k + 1),
                               audio: AudioRecording(events: audio, label: label, key: key, split: plan.split(ofPair: i)),
                               corruption: corruption)
    }

    func validateSources() throws {
        let needed = (0..<10).filter { plan.count(ofClass: $0) > 0 }
        if case let .images(images, labels) = plan.visualSource {
            guard labels.count == images.count else {
                throw EmulationError.invalidParameter("\(images.count) images but \(labels.count) labels")
            }
            for d in needed where !labels.contains(UInt8(d)) {
                throw EmulationError.invalidParameter("no image of digit \(d) among the \(labels.count) given")
            }
        }
        if case let .recordings(files) = plan.audioSource {
            for d in needed where !files.contains(where: { $0.digit == d }) {
                throw EmulationError.invalidParameter("no recording of digit \(d) among the \(files.count) given")
            }
        }
    }
}

/// Fixed slots that concurrent workers fill, one distinct index each.
/// `@unchecked Sendable`: every index is written by exactly one `concurrentPerform` iteration
/// and read only after `concurrentPerform` returns, so no two threads touch the same slot.
final class ResultSlots<T>: @unchecked Sendable {
    private var storage: UnsafeMutableBufferPointer<T?>
    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }
    deinit { storage.deinitialize(); storage.deallocate() }
    subscript(i: Int) -> T? {
        get { storage[i] }
        set { storage[i] = newValue }
    }
    func values() -> [T?] { Array(storage) }
}

/// A lock-protected counter. `@unchecked Sendable`: `count` is only touched under `lock`.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    /// Adds one and calls `report` with the new count while holding the lock.
    func increment(_ report: (Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        count += 1
        report(count)
    }
}
