import Foundation
import TensorBoardEvents

/// `RUN_DIR/tb/events.out.tfevents.*`: a run's metrics as TensorBoard scalars, for
/// `tensorboard --logdir RUN_DIR` (docs/reports.md). Rank 0's `Trainer` writes it.
///
/// The event file holds nothing metrics.jsonl does not: `events(of:)` maps each epoch's
/// `EpochMetrics` to events. At the start of a run (fresh or resumed) the file is written
/// anew, atomically, from the epochs metrics.jsonl keeps, and older event files are removed;
/// during the run the trainer appends each logged batch loss and each finished epoch. So
/// after `--resume` the file holds every epoch once, events of a killed epoch included
/// nowhere, exactly as if the run had not been interrupted (wall times aside).
///
/// Tags (one event per epoch at step = epoch, all its scalars in one summary):
///
///     loss/train/<term>, loss/test/<term>    visual, audio, fusion, total (mean over the set)
///     accuracy/test/<head>                   visual, audio, fusion, in %
///     attention/w_v, attention/w_a           mean test attention weights
///     learning_rate, samples_per_second      of the epoch's training
///     firing_rate/<layer>                    spikes per neuron per time step (`NeuronActivity`)
///     never_firing/<layer>                   fraction of neurons silent on the activity batch
///     membrane_mean/<layer>, membrane_std/<layer>, in_surrogate_window/<layer>
///     gradient_norm/<layer>                  L2 norm of the layer's loss gradient, epoch mean
///
/// and, at step = batches trained since the run's start, `batch/loss/<term>`: the mean loss
/// of the last `Trainer.lossLogInterval` batches (`BatchLoss`).
public struct TensorBoardLog {
    public let folder: URL
    public init(_ run: RunDirectory) { folder = run.tensorBoardFolder }

    /// The event of one batch-loss log.
    public static func event(_ b: BatchLoss) -> TensorBoardEvent {
        TensorBoardEvent(wallTime: b.wallTime, step: Int64(b.step),
                         scalars: b.loss.sorted { $0.key < $1.key }.map { .init(tag: "batch/loss/" + $0.key, value: Float($0.value)) })
    }

    /// The epoch's scalars, as one event at step = epoch.
    public static func epochEvent(_ m: EpochMetrics) -> TensorBoardEvent {
        var s: [TensorBoardEvent.Scalar] = []
        func add(_ tag: String, _ v: Double?) { if let v { s.append(.init(tag: tag, value: Float(v))) } }
        for (k, v) in m.trainLoss.sorted(by: { $0.key < $1.key }) { add("loss/train/" + k, v) }
        for (k, v) in m.testLoss.sorted(by: { $0.key < $1.key }) { add("loss/test/" + k, v) }
        add("accuracy/test/visual", m.testVisual)
        add("accuracy/test/audio", m.testAudio)
        add("accuracy/test/fusion", m.testFusion)
        if let w = m.attention, w.count == 2 { add("attention/w_v", w[0]); add("attention/w_a", w[1]) }
        add("learning_rate", m.learningRate)
        add("samples_per_second", m.samplesPerSecond)
        for a in m.activity ?? [] {
            add("firing_rate/" + a.layer, a.firingRate)
            add("never_firing/" + a.layer, a.silentFraction)
            add("membrane_mean/" + a.layer, a.membraneMean)
            add("membrane_std/" + a.layer, a.membraneStd)
            add("in_surrogate_window/" + a.layer, a.surrogateFraction)
        }
        for (k, v) in (m.gradientNorms ?? [:]).sorted(by: { $0.key < $1.key }) { add("gradient_norm/" + k, v) }
        return TensorBoardEvent(wallTime: m.wallTime ?? 0, step: Int64(m.epoch), scalars: s)
    }

    /// Every event of one epoch in the order the trainer writes them: its batch losses, then
    /// its scalars.
    public static func events(of m: EpochMetrics) -> [TensorBoardEvent] {
        (m.batchLosses ?? []).map(event) + [epochEvent(m)]
    }

    /// The event files in the folder, in name order (the order TensorBoard reads them).
    public func eventFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("events.out.tfevents.") }.sorted().map { folder.appendingPathComponent($0) }
    }

    /// Writes a new event file from `history` (the epochs metrics.jsonl keeps), atomically,
    /// removes every other event file in the folder, and returns the file open for appending.
    public func start(history: [EpochMetrics], now: Double = Date().timeIntervalSince1970) throws -> TensorBoardEventWriter {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(TensorBoardEvent.fileName(wallTime: now, host: Self.host))
        let events = [TensorBoardEvent.fileVersion(wallTime: now)] + history.flatMap(Self.events(of:))
        try writeAtomically(Data(events.flatMap { TFRecord.frame($0.encoded()) }), to: url)
        for old in eventFiles() where old.lastPathComponent != url.lastPathComponent {
            try FileManager.default.removeItem(at: old)
        }
        return try TensorBoardEventWriter(appendingTo: url)
    }

    /// Every event of the folder's files, in the order TensorBoard reads them.
    public func read() throws -> [TensorBoardEvent] {
        try eventFiles().flatMap { try TensorBoardEvent.read($0) }
    }

    /// This machine's name, the last part of an event file's name by TensorBoard's convention.
    static var host: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        let s = String(cString: name).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        return s.isEmpty ? "localhost" : s
    }
}
