import Foundation
import SpikeNN
import SpikeTensor
import Synchronization

// The schedulers behind `StreamingInference.run` (Streaming.swift): the pipelined visual chain
// on two cores beside the audio network, and the layer-major scan of a chain over a recording.

/// The visual chain of `StreamingInference.run` split in two stages pipelined over time, on
/// two cores together with the audio network:
///
/// - the front stage (conv1 → LIF → pool) steps t = 0, 1, … and leaves each step's output
///   `[B, …]` in a ring of slots;
/// - the back stage (conv2 … fc2) steps t once slot t is there;
/// - the audio network steps t = 0, 1, … (independent of both).
///
/// One core prefers front, then audio, then back steps; the other back, then front, then
/// audio; each takes the next step of whichever is free and due, so the cores share the work
/// as it comes and one thread alone also finishes (no deadlock when both loops run on one
/// thread, in either order). Each of the three runs its steps once, in order, under its own
/// lock, so whichever thread runs a step the outputs are those of the plain scans, bit for
/// bit. Memory: `ring·B·(front output)` floats, ring = max(8 steps, 4 MB) ≤ T (6.4 MB at
/// B = 32 for the paper's network; all 64 steps, 1.6 MB, at B = 1).
final class VisualPipeline {
    /// Steps of one of the three parts, run in order by whichever thread claims the next.
    private final class Part {
        let lock = NSLock()
        /// Steps done; written under `lock` after the step's data, read without it.
        let done = Atomic<Int>(0)
        let steps: Int
        init(steps: Int) { self.steps = steps }
        var finished: Bool { done.load(ordering: .acquiring) == steps }
        /// Runs step t = `done` if one is left, `due(t)` and no other thread is in this part.
        func tryNext(_ due: (Int) -> Bool, _ body: (Int) -> Void) -> Bool {
            guard lock.try() else { return false }
            defer { lock.unlock() }
            let t = done.load(ordering: .relaxed)
            guard t < steps, due(t) else { return false }
            body(t)
            done.store(t + 1, ordering: .releasing)
            return true
        }
    }

    let front: [LayerStep]
    let back: [LayerStep]
    let ring: Int                        // slots: 8 steps, or more up to `ringFloats` (all T for batch 1)
    let slotCount: Int                   // B·(front output shape) floats per step
    let outputCount: Int                 // B·classes floats per step
    let slots: StepBuffer                // [ring, B, …front output]
    let input: UnsafePointer<Float>, inputStride: Int              // [T, B, P, S, S]
    let output: UnsafeMutablePointer<Float>, outputStride: Int     // [T, B, classes]
    let audio: ((Int) -> Void)?          // audio step i of `audioSteps` (writes its own output)
    private let frontPart: Part, backPart: Part, audioPart: Part

    init(_ chain: ChainStep, split: Int, batch: Int, steps: Int, input: UnsafePointer<Float>, inputStride: Int,
         output: UnsafeMutablePointer<Float>, outputStride: Int, audio: ((Int) -> Void)?, audioSteps: Int,
         ringFloats: Int) {
        front = Array(chain.steps[..<split])
        back = Array(chain.steps[split...])
        slotCount = batch * front.last!.outputShape.reduce(1, *)
        outputCount = batch * chain.outputShape.reduce(1, *)
        ring = min(steps, max(8, ringFloats / max(1, slotCount)))
        slots = StepBuffer(ring * slotCount)
        self.input = input; self.inputStride = inputStride
        self.output = output; self.outputStride = outputStride
        self.audio = audio
        frontPart = Part(steps: steps); backPart = Part(steps: steps); audioPart = Part(steps: audio == nil ? 0 : audioSteps)
    }

    /// The next front step, when its slot is free (the back stage is done with step t − ring).
    private func tryFront() -> Bool {
        frontPart.tryNext({ t in t - self.backPart.done.load(ordering: .acquiring) < self.ring }) { t in
            var x = input + t * inputStride
            for s in front { x = s.step(x) }
            (slots.pointer + (t % ring) * slotCount).update(from: x, count: slotCount)
        }
    }

    /// The next back step, when its slot is produced.
    private func tryBack() -> Bool {
        backPart.tryNext({ t in t < self.frontPart.done.load(ordering: .acquiring) }) { t in
            var x = UnsafePointer(slots.pointer + (t % ring) * slotCount)
            for s in back { x = s.step(x) }
            (output + t * outputStride).update(from: x, count: outputCount)
        }
    }

    private func tryAudio() -> Bool {
        guard let audio else { return false }
        return audioPart.tryNext({ _ in true }, audio)
    }

    /// Until the front and audio steps are all done: front, else audio, else back steps.
    func runFrontAndAudio() {
        while !(frontPart.finished && audioPart.finished) {
            if !tryFront() && !tryAudio() && !tryBack() { sched_yield() }   // the other core is mid-step
        }
    }

    /// Until the back steps are all done: back, else front, else audio steps.
    func runBack() {
        while !backPart.finished {
            if !tryBack() && !tryFront() && !tryAudio() { sched_yield() }
        }
    }
}

/// A chain of steps scanned layer-major over a recording: step i of `count` = L·T runs layer
/// i / T at time t = i % T, reading the previous layer's output of step t from a `[T, B, …]`
/// buffer (the first layer reads the input) and writing its own (the last layer writes
/// `output`). Run in order i = 0, 1, …, it gives every layer the inputs and the order of
/// steps that the step-major scan gives, so the same outputs.
final class LayerMajorScan {
    let steps: [LayerStep]
    let recording: Int                                     // T
    let input: UnsafePointer<Float>, inputStride: Int       // [T, B, …in]
    let output: UnsafeMutablePointer<Float>, outputStride: Int   // [T, B, …out]
    let widths: [Int]                                      // B·(each step's output shape)
    let buffers: [StepBuffer]                              // [T, B, …] after every step but the last
    var count: Int { steps.count * recording }

    init(_ chain: LayerStep, batch: Int, steps recording: Int, input: UnsafePointer<Float>, inputStride: Int,
         output: UnsafeMutablePointer<Float>, outputStride: Int) {
        steps = (chain as? ChainStep)?.steps ?? [chain]
        self.recording = recording
        self.input = input; self.inputStride = inputStride
        self.output = output; self.outputStride = outputStride
        widths = steps.map { batch * $0.outputShape.reduce(1, *) }
        buffers = widths.dropLast().map { StepBuffer(recording * $0) }
    }

    func run(_ i: Int) {
        let layer = i / recording, t = i % recording
        let x = layer == 0 ? input + t * inputStride : UnsafePointer(buffers[layer - 1].pointer + t * widths[layer - 1])
        let y = steps[layer].step(x)
        if layer == steps.count - 1 {
            (output + t * outputStride).update(from: y, count: widths[layer])
        } else {
            (buffers[layer].pointer + t * widths[layer]).update(from: y, count: widths[layer])
        }
    }
}
