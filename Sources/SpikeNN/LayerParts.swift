/// The two parts of the layers made of a synapse and its neurons (`Layer.parts`), in the
/// order they run and the order of their description items.
extension SynapseThenLIF {
    public var parts: [Layer] { [synapse, lif] }
}

extension SynapseThenNeurons {
    public var parts: [Layer] { [synapse, neurons] }
}
