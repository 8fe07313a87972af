import Foundation
import Multimodal
import SpikeNN
import SpikeTensor

/// `--data-path DIR [--batch B] [--batches N]`: where a training batch's time goes between the
/// data and the network, on a joint dataset folder (`spikefuse synth` writes one): the wall
/// time of assembling each batch from the frame store (`makeBatch`: decode the cached frames,
/// interleave them time-major), then of the paper network's forward and backward on it, per
/// batch, over the first N batches of the training split. The trainer runs the same two calls
/// per step (`Trainer.trainStep`), the first on one core while the other waits.
func measureDataPath(folder: String, batch: Int, batches: Int) throws {
    let source = DataSource.joint(JointDatasetConfiguration(dataFolder: URL(fileURLWithPath: folder)))
    let (train, _) = try source.datasets()
    var model = ModelConfiguration()
    model.mode = .multimodal
    model = source.fitting(model)            // the sizes `spikefuse train` takes from this data
    let net = try MultimodalNetwork(model, seed: 1)
    let n = min(batches, train.count / batch)
    guard n > 0 else { throw BenchError.usage("\(folder): fewer than \(batch) training samples") }
    var assemble = 0.0, stacked = 0.0, step = 0.0
    for j in 0...n {            // batch 0 warms up and is not counted
        let indices = ArraySlice((j % n * batch)..<(j % n * batch + batch))
        let t0 = Date()
        _ = try makeBatchBySamples(train, indices: indices)     // the way before: whole samples, then stacked
        let t1 = Date()
        let b = try makeBatch(train, indices: indices)
        let t2 = Date()
        _ = net.forwardBackward(visual: b.visual, audio: b.audio, labels: b.labels)
        net.parameters.forEach { $0.grad.zero() }
        let t3 = Date()
        if j > 0 { stacked += t1.timeIntervalSince(t0); assemble += t2.timeIntervalSince(t1); step += t3.timeIntervalSince(t2) }
    }
    let ms = { (s: Double) in s / Double(n) * 1000 }
    print(String(format: "data path, batch %d, %d batches: assembling %.2f ms (by whole samples, stacked: %.2f ms), forward+backward %.1f ms per batch (data %.1f %% of the step; stacked %.1f %%)",
                 batch, n, ms(assemble), ms(stacked), ms(step), 100 * assemble / (assemble + step), 100 * stacked / (stacked + step)))
}
