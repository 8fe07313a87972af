@testable import Multimodal

/// A small synthetic task for trainer tests: its two splits and training settings.
func syntheticTask(trainCount: Int, testCount: Int, epochs: Int, batchSize: Int, seed: UInt64,
                   learningRate: Float) -> (train: SyntheticDataset, test: SyntheticDataset, training: TrainingConfiguration) {
    var data = SyntheticDatasetConfiguration()
    data.trainCount = trainCount
    data.testCount = testCount
    var training = TrainingConfiguration()
    training.epochs = epochs
    training.batchSize = batchSize
    training.seed = seed
    training.learningRate = learningRate
    return (SyntheticDataset(data, split: .train), SyntheticDataset(data, split: .test), training)
}

/// Metrics without the wall-clock fields, for comparing runs that must agree bit for bit.
func timeless(_ m: [EpochMetrics]) -> [EpochMetrics] {
    m.map {
        var x = $0
        x.samplesPerSecond = 0; x.trainSeconds = 0; x.testSeconds = 0; x.wallTime = nil
        x.batchLosses = x.batchLosses?.map { var b = $0; b.wallTime = 0; return b }
        return x
    }
}
