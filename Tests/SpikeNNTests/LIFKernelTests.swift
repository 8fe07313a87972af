import XCTest
@testable import SpikeNN
import SpikeTensor

final class LIFKernelTests: XCTestCase {
    func runKernelForTests(_ currents: [Float], _ grads: [Float], steps: Int, neurons: Int, _ p: LIFParameters)
        -> (u: [Float], o: [Float], dI: [Float]) {
        var u = [Float](repeating: .nan, count: currents.count), o = u, dI = u
        currents.withUnsafeBufferPointer { i in
            u.withUnsafeMutableBufferPointer { m in
                o.withUnsafeMutableBufferPointer { s in
                    LIFKernel.forward(current: i.baseAddress!, membrane: m.baseAddress!, spikes: s.baseAddress!,
                                      steps: steps, neurons: neurons, parameters: p)
                }
            }
        }
        grads.withUnsafeBufferPointer { g in
            u.withUnsafeBufferPointer { m in
                dI.withUnsafeMutableBufferPointer { d in
                    LIFKernel.backward(gradSpikes: g.baseAddress!, membrane: m.baseAddress!, gradCurrent: d.baseAddress!,
                                       steps: steps, neurons: neurons, parameters: p)
                }
            }
        }
        return (u, o, dI)
    }

    /// Fused kernel vs the scalar reference on random currents, for several τ, Vth and a:
    /// spikes and membranes identical, gradients within 1e-5 relative.
    func testFusedKernelMatchesScalarReference() {
        var rng = SeededGenerator(seed: 21)
        let (steps, neurons) = (24, 40)
        for p in [LIFParameters(tau: 0.2), LIFParameters(tau: 0.9), LIFParameters(tau: 0.1, threshold: 0.3, surrogateWidth: 0.5),
                  LIFParameters(tau: 0.1, threshold: 0.5, surrogateWidth: 1.0, surrogateDampening: 0.3)] {
            let currents = randomArray(steps * neurons, &rng, -0.4, 1.0)
            let grads = randomArray(steps * neurons, &rng)
            let fast = runKernelForTests(currents, grads, steps: steps, neurons: neurons, p)
            let ref = ReferenceLIF.forward(currents: currents, steps: steps, neurons: neurons, p)
            XCTAssertEqual(fast.o, ref.o, "spikes \(p)")
            XCTAssertEqual(fast.u, ref.u, "membrane \(p)")
            XCTAssertGreaterThan(ref.o.reduce(0, +), 10, "test input should make neurons fire")
            let refGrad = ReferenceLIF.backward(gradSpikes: grads, u: ref.u, o: ref.o, steps: steps, neurons: neurons, p)
            assertClose(fast.dI, refGrad, tolerance: 1e-5, "dI \(p)")
        }
    }

    /// One neuron, four steps, τ = 0.5, Vth = 0.5, a = 1 (surrogate window |u − 0.5| < 0.5,
    /// i.e. 0 < u < 1, height 1). All numbers are exact in binary floating point.
    ///
    /// Forward, I = [0.75, 0.25, 0.875, 0.375]:
    ///   t0: u = 0.75                          ≥ 0.5 → o = 1 (spike)
    ///   t1: u = 0.5·0.75·(1 − 1) + 0.25 = 0.25 (reset) → o = 0
    ///   t2: u = 0.5·0.25·(1 − 0) + 0.875 = 1.0 → o = 1; |1.0 − 0.5| = 0.5 is NOT < 0.5 → h = 0 (window edge)
    ///   t3: u = 0.5·1.0·(1 − 1) + 0.375 = 0.375 (reset) → o = 0
    /// Backward, g_o = [1, 2, 3, 4], δu[4] = 0:
    ///   t3: δo = 4;                          δu3 = 4·h(0.375)=4·1 + 0            = 4
    ///   t2: δo = 3 + 4·(−0.5·1.0) = 1;       δu2 = 1·h(1.0)=0 + 4·0.5·(1 − 1)    = 0
    ///   t1: δo = 2 + 0·(−0.5·0.25) = 2;      δu1 = 2·1 + 0·0.5·(1 − 0)           = 2
    ///   t0: δo = 1 + 2·(−0.5·0.75) = 0.25;   δu0 = 0.25·1 + 2·0.5·(1 − 1)        = 0.25
    /// (Detaching the reset would give δu0 = 1; using ≤ at the window edge would give δu2 = 1.)
    func testHandWorkedFourStepExample() {
        let p = LIFParameters(tau: 0.5, threshold: 0.5, surrogateWidth: 1.0)
        let result = runKernelForTests([0.75, 0.25, 0.875, 0.375], [1, 2, 3, 4], steps: 4, neurons: 1, p)
        XCTAssertEqual(result.u, [0.75, 0.25, 1.0, 0.375])
        XCTAssertEqual(result.o, [1, 0, 1, 0])
        XCTAssertEqual(result.dI, [0.25, 2, 0, 4])
    }

    /// Fails if the gradient through the reset term (∂u[t+1]/∂o[t] = −τ·u[t]) is dropped:
    /// the kernel must match the full reference and differ clearly from the detached one.
    func testResetPathGradientIsKept() {
        var rng = SeededGenerator(seed: 22)
        let (steps, neurons) = (16, 30)
        let p = LIFParameters(tau: 0.9)
        let currents = randomArray(steps * neurons, &rng, -0.2, 0.9)
        let grads = randomArray(steps * neurons, &rng)
        let fast = runKernelForTests(currents, grads, steps: steps, neurons: neurons, p)
        let full = ReferenceLIF.backward(gradSpikes: grads, u: fast.u, o: fast.o, steps: steps, neurons: neurons, p)
        let detached = ReferenceLIF.backward(gradSpikes: grads, u: fast.u, o: fast.o, steps: steps, neurons: neurons, p,
                                             detachReset: true)
        assertClose(fast.dI, full, tolerance: 1e-5, "with reset path")
        let largestGap = zip(fast.dI, detached).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(largestGap, 1e-2, "kernel gradient equals the detached-reset gradient")
    }

    /// The LIF layer on a 5-D tensor equals the kernel/reference per neuron, and each forward
    /// restarts from u = o = 0 (running the same input twice gives the same spikes).
    func testLIFLayerMatchesReferenceAndResetsState() {
        var rng = SeededGenerator(seed: 23)
        let shape = [6, 2, 3, 2, 2]
        let input = randomTensor(shape, &rng, -0.3, 1.0)
        let layer = LIF(LIFParameters(tau: 0.2))
        let spikes = layer.forward(input)
        let neurons = input.count / 6
        let ref = ReferenceLIF.forward(currents: input.scalars, steps: 6, neurons: neurons, layer.neuron)
        XCTAssertEqual(spikes.shape, shape)
        XCTAssertEqual(spikes.scalars, ref.o)
        XCTAssertEqual(layer.membrane.scalars, ref.u)
        XCTAssertEqual(layer.forward(input).scalars, ref.o, "second forward must start from zero state")
        let g = randomTensor(shape, &rng)
        let dI = layer.backward(g)
        assertClose(dI.scalars, ReferenceLIF.backward(gradSpikes: g.scalars, u: ref.u, o: ref.o, steps: 6,
                                                      neurons: neurons, layer.neuron), tolerance: 1e-5, "layer backward")
    }
}

extension LIFKernelTests {
    /// Enough neurons (> 2 × 16 384) that the fused scans split across cores: still identical
    /// spikes and reference gradients.
    func testParallelScanMatchesScalarReference() {
        var rng = SeededGenerator(seed: 24)
        let (steps, neurons) = (3, 40_000)
        let p = LIFParameters(tau: 0.2)
        let currents = randomArray(steps * neurons, &rng, -0.4, 1.0)
        let grads = randomArray(steps * neurons, &rng)
        let fast = runKernelForTests(currents, grads, steps: steps, neurons: neurons, p)
        let ref = ReferenceLIF.forward(currents: currents, steps: steps, neurons: neurons, p)
        XCTAssertEqual(fast.o, ref.o)
        assertClose(fast.dI, ReferenceLIF.backward(gradSpikes: grads, u: ref.u, o: ref.o, steps: steps, neurons: neurons, p),
                    tolerance: 1e-5, "dI")
    }
}

extension LIFKernelTests {
    /// The C step kernels (every variant this CPU runs) against the Swift reference steps, bit
    /// for bit: membranes drawn around V_th with values exactly at V_th and at the surrogate
    /// window's edges V_th ± a/2, with and without the previous membrane / δu[t+1] / extra
    /// gradient, neuron counts with and without a tail of fewer than eight, aliased outputs.
    func testCStepsMatchTheSwiftReferenceBitForBit() {
        var rng = SeededGenerator(seed: 91)
        let p = LIFParameters(tau: 0.3, threshold: 0.5, surrogateWidth: 1.0, surrogateDampening: 0.3)
        let edges: [Float] = [0.5, 0.0, 1.0, -0.0, 0.49999997, 1.0000001]
        func draw(_ n: Int) -> [Float] {
            (0..<n).map { i in i % 5 == 0 ? edges[(i / 5) % edges.count] : rng.nextUniform(-0.6, 1.6) }
        }
        for n in [1, 7, 8, 29, 1000] {
            let current = draw(n), previous = draw(n), g = draw(n), extra = draw(n), next = draw(n), u = draw(n)
            for variant in VectorKernels.available {
                assertForwardMatchesReference(current: current, previous: previous, parameters: p, "n \(n) \(variant)") {
                    VectorKernels.lifForwardStep(current: current, previousMembrane: $0, membrane: &$1, spikes: &$2,
                                                 neurons: n, tau: p.tau, threshold: p.threshold, variant: variant)
                }
                for (withNext, withExtra) in [(false, false), (false, true), (true, false), (true, true)] {
                    var d1 = [Float](repeating: .nan, count: n), d2 = d1
                    extra.withUnsafeBufferPointer { e in
                        next.withUnsafeBufferPointer { nx in
                            let ep = withExtra ? e.baseAddress! : nil, np = withNext ? nx.baseAddress! : nil
                            LIFKernel.referenceBackwardStep(gradSpikes: g, extraGradSpikes: ep, membrane: u, nextGradCurrent: np,
                                                            gradCurrent: &d1, neurons: n, parameters: p)
                            VectorKernels.lifBackwardStep(gradSpikes: g, extraGradSpikes: ep, membrane: u, nextGradCurrent: np,
                                                          gradCurrent: &d2, neurons: n, tau: p.tau, threshold: p.threshold,
                                                          halfWidth: 0.5 * p.surrogateWidth, height: p.surrogateHeight,
                                                          variant: variant)
                        }
                    }
                    XCTAssertEqual(d1.map(\.bitPattern), d2.map(\.bitPattern), "backward n \(n) \(variant) next \(withNext) extra \(withExtra)")
                }
                // In place, as the layers call them: membrane over current, δu[t] over δu[t+1].
                var inPlace = current, spikes = [Float](repeating: .nan, count: n)
                var m1 = [Float](repeating: .nan, count: n), s1 = m1
                LIFKernel.referenceForwardStep(current: current, previousMembrane: previous, membrane: &m1, spikes: &s1,
                                               neurons: n, parameters: p)
                inPlace.withUnsafeMutableBufferPointer { io in
                    VectorKernels.lifForwardStep(current: io.baseAddress!, previousMembrane: previous, membrane: io.baseAddress!,
                                                 spikes: &spikes, neurons: n, tau: p.tau, threshold: p.threshold, variant: variant)
                }
                XCTAssertEqual(inPlace.map(\.bitPattern), m1.map(\.bitPattern), "forward in place n \(n) \(variant)")
                var d1 = [Float](repeating: .nan, count: n), deltas = next
                LIFKernel.referenceBackwardStep(gradSpikes: g, extraGradSpikes: nil, membrane: u, nextGradCurrent: next,
                                                gradCurrent: &d1, neurons: n, parameters: p)
                deltas.withUnsafeMutableBufferPointer { d in
                    VectorKernels.lifBackwardStep(gradSpikes: g, extraGradSpikes: nil, membrane: u, nextGradCurrent: d.baseAddress!,
                                                  gradCurrent: d.baseAddress!, neurons: n, tau: p.tau, threshold: p.threshold,
                                                  halfWidth: 0.5 * p.surrogateWidth, height: p.surrogateHeight, variant: variant)
                }
                XCTAssertEqual(deltas.map(\.bitPattern), d1.map(\.bitPattern), "backward in place n \(n) \(variant)")
            }
        }
    }

    /// `cStep(previous, &membrane, &spikes)` against the Swift reference step on `current`, bit
    /// for bit, without and with the previous membrane.
    private func assertForwardMatchesReference(current: [Float], previous: [Float], parameters p: LIFParameters,
                                               _ label: String,
                                               _ cStep: (UnsafePointer<Float>?, inout [Float], inout [Float]) -> Void,
                                               file: StaticString = #filePath, line: UInt = #line) {
        let n = current.count
        for withPrevious in [false, true] {
            var m1 = [Float](repeating: .nan, count: n), s1 = m1, m2 = m1, s2 = m1
            previous.withUnsafeBufferPointer { prev in
                let pp = withPrevious ? prev.baseAddress! : nil
                LIFKernel.referenceForwardStep(current: current, previousMembrane: pp, membrane: &m1, spikes: &s1,
                                               neurons: n, parameters: p)
                cStep(pp, &m2, &s2)
            }
            XCTAssertEqual(m1.map(\.bitPattern), m2.map(\.bitPattern), "u, \(label), previous \(withPrevious)", file: file, line: line)
            XCTAssertEqual(s1, s2, "o, \(label), previous \(withPrevious)", file: file, line: line)
        }
    }

    /// The biased C step (bias add and LIF update in one pass) against the add followed by the
    /// Swift reference step, bit for bit, for channel counts with and without an 8-lane tail.
    func testBiasedStepIsTheAddThenTheStep() {
        var rng = SeededGenerator(seed: 92)
        let p = LIFParameters(tau: 0.2)
        for (channels, rows) in [(32, 7), (5, 3), (13, 4), (8, 1)] {
            let n = channels * rows
            let sums = (0..<n).map { _ in rng.nextUniform(-0.5, 1.2) }
            let bias = (0..<channels).map { _ in rng.nextUniform(-0.3, 0.3) }
            let previous = (0..<n).map { _ in rng.nextUniform(-0.2, 1.0) }
            let current = (0..<n).map { sums[$0] + bias[$0 % channels] }
            for variant in VectorKernels.available {
                assertForwardMatchesReference(current: current, previous: previous, parameters: p,
                                              "\(channels) channels \(variant)") {
                    VectorKernels.lifForwardStep(sums: sums, bias: bias, channels: channels, previousMembrane: $0,
                                                 membrane: &$1, spikes: &$2, neurons: n, tau: p.tau,
                                                 threshold: p.threshold, variant: variant)
                }
                // the kept copy of u: streamed where 16-byte aligned (offset 0 of an allocation),
                // stored plainly where not (offset 1); either way u's bits
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: n + 4)
                defer { buffer.deallocate() }
                for offset in [0, 1] {
                    let kept = buffer + offset
                    kept.update(repeating: .nan, count: n)
                    var membrane = [Float](repeating: 0, count: n), spikes = membrane
                    VectorKernels.lifForwardStep(sums: sums, bias: bias, channels: channels, previousMembrane: previous,
                                                 membrane: &membrane, spikes: &spikes, keptMembrane: kept, neurons: n,
                                                 tau: p.tau, threshold: p.threshold, variant: variant)
                    XCTAssertEqual(UnsafeBufferPointer(start: kept, count: n).map(\.bitPattern), membrane.map(\.bitPattern),
                                   "\(channels) channels \(variant), kept copy at offset \(offset)")
                }
            }
        }
    }
}
