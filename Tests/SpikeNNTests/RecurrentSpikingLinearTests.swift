import XCTest
@testable import SpikeNN
import SpikeTensor

/// Full recurrent STBP vs a scalar reference written from the equations:
///   I[t,b,i] = Σ_j W[i,j]·x[t,b,j] + b[i] + Σ_j R[i,j]·o[t−1,b,j]
///   u, o by eqs. 1–4;  backward (Double), δu[T] = 0:
///   δo[t,b,j] = g[t,b,j] − τ·u[t,b,j]·δu[t+1,b,j] + Σ_i R[i,j]·δu[t+1,b,i]
///   δu[t,b,j] = δo·h(u) + δu[t+1,b,j]·τ·(1 − o[t,b,j])
///   dW[i,j] = Σ δu[t,b,i]·x[t,b,j],  db[i] = Σ δu[t,b,i],  dR[i,j] = Σ_{t≥1} δu[t,b,i]·o[t−1,b,j],
///   dx[t,b,j] = Σ_i δu[t,b,i]·W[i,j]
final class RecurrentSpikingLinearTests: XCTestCase {
    struct ReferenceResult { var o, u, dW, db, dR, dx: [Float] }

    static func reference(x: Tensor, g: Tensor, w: [Float], bias: [Float], r: [Float], p: LIFParameters,
                          inF: Int, outF: Int) -> ReferenceResult {
        let steps = x.shape[0], batch = x.shape[1]
        var u = [Float](repeating: 0, count: steps * batch * outF), o = u
        for b in 0..<batch {
            for t in 0..<steps {
                for i in 0..<outF {
                    var current = Double(bias[i])
                    for j in 0..<inF { current += Double(w[i * inF + j]) * Double(x.scalars[(t * batch + b) * inF + j]) }
                    var uPrev = 0.0, oPrev = 0.0
                    if t > 0 {
                        for j in 0..<outF { current += Double(r[i * outF + j]) * Double(o[((t - 1) * batch + b) * outF + j]) }
                        uPrev = Double(u[((t - 1) * batch + b) * outF + i])
                        oPrev = Double(o[((t - 1) * batch + b) * outF + i])
                    }
                    let ut = Double(p.tau) * uPrev * (1 - oPrev) + current
                    u[(t * batch + b) * outF + i] = Float(ut)
                    o[(t * batch + b) * outF + i] = Float(ut) >= p.threshold ? 1 : 0
                }
            }
        }
        var du = [Double](repeating: 0, count: u.count)
        let tau = Double(p.tau)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            for b in 0..<batch {
                for j in 0..<outF {
                    let k = (t * batch + b) * outF + j
                    var dO = Double(g.scalars[k]), next = 0.0
                    if t < steps - 1 {
                        next = du[((t + 1) * batch + b) * outF + j]
                        dO += -tau * Double(u[k]) * next
                        for i in 0..<outF { dO += Double(r[i * outF + j]) * du[((t + 1) * batch + b) * outF + i] }
                    }
                    du[k] = dO * ReferenceLIF.h(u[k], p) + next * tau * (1 - Double(o[k]))
                }
            }
        }
        var dW = [Double](repeating: 0, count: outF * inF), db = [Double](repeating: 0, count: outF)
        var dR = [Double](repeating: 0, count: outF * outF), dx = [Double](repeating: 0, count: x.count)
        for t in 0..<steps {
            for b in 0..<batch {
                for i in 0..<outF {
                    let d = du[(t * batch + b) * outF + i]
                    db[i] += d
                    for j in 0..<inF {
                        dW[i * inF + j] += d * Double(x.scalars[(t * batch + b) * inF + j])
                        dx[(t * batch + b) * inF + j] += d * Double(w[i * inF + j])
                    }
                    if t > 0 { for j in 0..<outF { dR[i * outF + j] += d * Double(o[((t - 1) * batch + b) * outF + j]) } }
                }
            }
        }
        let f = { (a: [Double]) in a.map { Float($0) } }
        return ReferenceResult(o: o, u: u, dW: f(dW), db: f(db), dR: f(dR), dx: f(dx))
    }

    /// 5 outputs, and 16 (a multiple of 8: the dense steps' products run `DenseKernels.rowProduct`
    /// where it replaces BLAS, forward and backward).
    func testFullBackwardMatchesScalarReference() {
        var rng = SeededGenerator(seed: 41)
        let (steps, batch) = (10, 3)
        let cases: [(LIFParameters, SynapticKernel, Int)] = [
            (LIFParameters(tau: 0.1), .dense, 5), (LIFParameters(tau: 0.1), .sparse, 5),
            (LIFParameters(tau: 0.8, threshold: 0.4, surrogateWidth: 0.7), .dense, 5),
            (LIFParameters(tau: 0.8, threshold: 0.4, surrogateWidth: 0.7), .automatic(maxDensity: 0.5), 5),
            (LIFParameters(tau: 0.8, threshold: 0.4, surrogateWidth: 0.7, surrogateDampening: 0.3), .dense, 5),
            (LIFParameters(tau: 0.1), .dense, 16),
            (LIFParameters(tau: 0.8, threshold: 0.4, surrogateWidth: 0.7), .dense, 16),
        ]
        for (p, kernel, outF) in cases {
            let inF = 6
            let layer = RecurrentSpikingLinear(name: "a", inFeatures: inF, outFeatures: outF, neuron: p, rng: &rng)
            layer.kernel = kernel
            // Larger recurrent weights so the R path changes the dynamics.
            layer.recurrentWeight.value = randomTensor([outF, outF], &rng, -0.8, 0.8)
            let x = randomSpikes([steps, batch, inF], rate: 0.5, &rng)
            let g = randomTensor([steps, batch, outF], &rng)
            let spikes = layer.forward(x)
            let dx = layer.backward(g)
            let ref = Self.reference(x: x, g: g, w: layer.weight.value.scalars, bias: layer.bias.value.scalars,
                                     r: layer.recurrentWeight.value.scalars, p: p, inF: inF, outF: outF)
            XCTAssertEqual(spikes.scalars, ref.o, "spikes")
            XCTAssertGreaterThan(ref.o.reduce(0, +), 5, "test input should make neurons fire")
            assertClose(layer.membrane.scalars, ref.u, tolerance: 1e-5, "membrane")
            assertClose(layer.weight.grad.scalars, ref.dW, tolerance: 1e-5, "dW")
            assertClose(layer.bias.grad.scalars, ref.db, tolerance: 1e-5, "db")
            assertClose(layer.recurrentWeight.grad.scalars, ref.dR, tolerance: 1e-5, "dR")
            assertClose(dx.scalars, ref.dx, tolerance: 1e-5, "dx")
            XCTAssertTrue(layer.recurrentWeight.grad.scalars.contains { abs($0) > 1e-3 }, "dR should be nonzero")
        }
    }

    /// The parameters are named and drawn in the documented order: weight, bias, recurrent_weight.
    func testParameterNamesShapesAndInitOrder() {
        var rng = SeededGenerator(seed: 42)
        let layer = RecurrentSpikingLinear(name: "audio.rnn1", inFeatures: 4, outFeatures: 9, neuron: LIFParameters(tau: 0.1), rng: &rng)
        XCTAssertEqual(layer.parameters.map(\.name), ["audio.rnn1.weight", "audio.rnn1.bias", "audio.rnn1.recurrent_weight"])
        XCTAssertEqual(layer.parameters.map(\.value.shape), [[9, 4], [9], [9, 9]])
        var expected = SeededGenerator(seed: 42)
        let w = (0..<36).map { _ in expected.nextUniform(-0.5, 0.5) }      // 1/√4
        let b = (0..<9).map { _ in expected.nextUniform(-0.5, 0.5) }
        let r = (0..<81).map { _ in expected.nextUniform(-1 / 3, 1 / 3) }   // 1/√9 (fan_in = out)
        XCTAssertEqual(layer.weight.value.scalars, w)
        XCTAssertEqual(layer.bias.value.scalars, b)
        XCTAssertEqual(layer.recurrentWeight.value.scalars, r)
        XCTAssertEqual(rng, expected, "no extra draws")
    }
}
