import CFuzzerDriver
import Foundation
import Multimodal
import NIRInterchange

/// libFuzzer entry point: a valid NIR graph (a small A-Network or V-Network, exported by
/// SpikeFuse) edited by the fuzz bytes, then imported the way `spikefuse import` does. Each
/// 8-byte group is one edit: a parameter value set to any float (1e30, NaN, −0 …), an Input or
/// Output shape changed, an edge added, removed or duplicated, a node removed. The import must
/// either refuse the graph or give a network whose membranes stay finite on a fixed input
/// (`NIRImport`'s documented range); a trap or a non-finite membrane is a finding. The raw
/// HDF5 parsing under `NIRFile.read` is HDF5Fuzz's.
func smallGraph(_ mode: TrainingMode) -> NIRGraph {
    var c = ModelConfiguration()
    c.mode = mode; c.timesteps = 4; c.visualChannels = [2, 2]; c.visualHidden = 4; c.imageSize = 8
    c.audioChannels = 6; c.audioHidden = 4; c.classes = 3
    return try! NIRExport.graph(try! MultimodalNetwork(c, seed: 1))
}
let graphs = [smallGraph(.audio), smallGraph(.visual)]

func edited(_ bytes: [UInt8]) -> NIRGraph {
    var g = graphs[Int(bytes.first ?? 0) & 1]
    let names = g.nodes.keys.sorted()
    var i = 1
    while i + 8 <= bytes.count {
        let op = bytes[i], pick = Int(bytes[i + 1]), index = Int(bytes[i + 2]) | Int(bytes[i + 3]) << 8
        let value = Float(bitPattern: UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24)
        let name = names[pick % names.count]
        func set(_ t: Tensor) -> Tensor {
            guard t.count > 0 else { return t }
            var u = t; u.scalars[index % t.count] = value; return u
        }
        switch (op % 6, g.nodes[name]) {
        case (0, .affine(let w, let b)?): g.nodes[name] = op & 8 == 0 ? .affine(weight: set(w), bias: b) : .affine(weight: w, bias: set(b))
        case (0, .linear(let w)?): g.nodes[name] = .linear(weight: set(w))
        case (0, .conv2d(let w, let b, let s, let p, let d, let groups, let input)?):
            g.nodes[name] = .conv2d(weight: set(w), bias: b, stride: s, padding: p, dilation: d, groups: groups, inputShape: input)
        case (0, .lif(let tau, let r, let leak, let th, let reset)?):
            switch (op >> 3) % 4 {
            case 0: g.nodes[name] = .lif(tau: set(tau), r: r, vLeak: leak, vThreshold: th, vReset: reset)
            case 1: g.nodes[name] = .lif(tau: tau, r: set(r), vLeak: leak, vThreshold: th, vReset: reset)
            case 2: g.nodes[name] = .lif(tau: Tensor(repeating: value, shape: tau.shape), r: r, vLeak: leak, vThreshold: th, vReset: reset)
            default: g.nodes[name] = .lif(tau: tau, r: Tensor(repeating: value, shape: r.shape), vLeak: leak,
                                          vThreshold: Tensor(repeating: value, shape: th.shape), vReset: reset)
            }
        case (1, .output?): g.nodes[name] = .output(shape: [index % 12])
        case (1, .input?): g.nodes[name] = .input(shape: (0..<(1 + pick % 3)).map { _ in index % 12 })
        case (2, _): g.edges.append((source: name, target: names[index % names.count]))
        case (3, _) where !g.edges.isEmpty: g.edges.remove(at: index % g.edges.count)
        case (4, _) where !g.edges.isEmpty: g.edges.append(g.edges[index % g.edges.count])
        case (5, _) where op & 8 != 0: g.nodes[name] = nil; g.edges.removeAll { $0.source == name || $0.target == name }
        default: break
        }
        i += 8
    }
    return g
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNIR(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data!, count: size)) : []
    guard let network = try? NIRImport.network(edited(bytes), file: "fuzz.nir") else { return 0 }
    let c = network.configuration
    guard c.timesteps * (c.mode == .visual ? c.visualFrameShape.reduce(1, *) : c.audioChannels) <= 1 << 16 else { return 0 }
    network.setTraining(true)     // keep membranes for NeuronActivity
    let input = Tensor(repeating: 1, shape: [c.timesteps, 2] + (c.mode == .visual ? c.visualFrameShape : [c.audioChannels]))
    let out = c.mode == .visual ? network.forward(visual: input, audio: nil).visual! : network.forward(visual: nil, audio: input).audio!
    precondition(out.scalars.allSatisfy { $0 == 0 || $0 == 1 }, "output spikes are not 0 or 1")
    for a in (network.visual.map(NeuronActivity.of) ?? []) + (network.audio.map(NeuronActivity.of) ?? []) where !a.membraneMean.isFinite || !a.membraneStd.isFinite {
        fatalError("imported network has non-finite membranes in \(a.layer)")
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzNIR(data, size) })
