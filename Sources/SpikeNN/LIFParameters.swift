/// Parameters of the iterative leaky integrate-and-fire neuron (paper eqs. 1–4, 9).
///
/// - `tau`: membrane decay factor τ per time step (dimensionless, 0 < τ ≤ 1; the paper uses
///   0.2 visual, 0.1 auditory, 0.9 cross-modal).
/// - `threshold`: firing threshold V_th (dimensionless membrane units), paper 0.5.
/// - `surrogateWidth`: width a of the rectangular surrogate gradient, paper 1.0.
public struct LIFParameters: Sendable, Equatable {
    public var tau: Float
    public var threshold: Float
    public var surrogateWidth: Float

    public init(tau: Float, threshold: Float = 0.5, surrogateWidth: Float = 1.0) {
        self.tau = tau
        self.threshold = threshold
        self.surrogateWidth = surrogateWidth
    }
}
