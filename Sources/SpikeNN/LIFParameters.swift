import SpikeTensor

/// Parameters of the iterative leaky integrate-and-fire neuron (paper eqs. 1–4, 9).
///
/// - `tau`: membrane decay factor τ per time step (dimensionless, 0 < τ ≤ 1; the paper uses
///   0.2 visual, 0.1 auditory, 0.9 cross-modal).
/// - `threshold`: firing threshold V_th (dimensionless membrane units), paper 0.5.
/// - `surrogateWidth`: width a of the rectangular surrogate gradient, paper 1.0.
/// - `surrogateDampening`: factor γ (0 < γ ≤ 1) on the surrogate's height, so that
///   h(u) = (γ/a)·1{|u − V_th| < a/2}; 1 is the paper's eq. 9. Below 1 it damps gradients
///   that travel through many spikes (the "dampened pseudo-derivative" of Bellec et al., 2018,
///   γ = 0.3, for recurrent SNNs): in a recurrent layer each reverse step multiplies δu by
///   about γ·h·Rᵀ, which with γ = 1 grows without bound once R is trained (docs/model.md).
public struct LIFParameters: Sendable, Equatable {
    public var tau: Float
    public var threshold: Float
    public var surrogateWidth: Float
    public var surrogateDampening: Float

    public init(tau: Float, threshold: Float = 0.5, surrogateWidth: Float = 1.0, surrogateDampening: Float = 1.0) {
        self.tau = tau
        self.threshold = threshold
        self.surrogateWidth = surrogateWidth
        self.surrogateDampening = surrogateDampening
    }

    /// The surrogate's height γ/a inside its window.
    public var surrogateHeight: Float { surrogateDampening / surrogateWidth }
}
