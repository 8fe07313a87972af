import Multimodal
import Foundation

/// A node of the Neuromorphic Intermediate Representation (NIR, github.com/neuromorphs/NIR),
/// the node types SpikeFuse's networks need. Shapes exclude batch and time, as in NIR.
public enum NIRNode: Equatable, Sendable {
    case input(shape: [Int])
    case output(shape: [Int])
    /// y = W·x + b, weight `[out, in]`.
    case affine(weight: Tensor, bias: Tensor)
    /// y = W·x, weight `[out, in]`.
    case linear(weight: Tensor)
    /// weight `[Cout, Cin, kH, kW]`; stride, padding, dilation per spatial axis; input_shape `[H, W]`.
    case conv2d(weight: Tensor, bias: Tensor, stride: [Int], padding: [Int], dilation: [Int], groups: Int, inputShape: [Int]?)
    case sumPool2d(kernel: [Int], stride: [Int], padding: [Int])
    case avgPool2d(kernel: [Int], stride: [Int], padding: [Int])
    /// Flattens axes `startDim…endDim` of an input of shape `inputShape` (no batch axis).
    case flatten(startDim: Int, endDim: Int, inputShape: [Int]?)
    /// τ·dv/dt = (v_leak − v) + r·I; spike and reset to v_reset when v crosses v_threshold.
    /// Every field holds one value per neuron (shape of the population).
    case lif(tau: Tensor, r: Tensor, vLeak: Tensor, vThreshold: Tensor, vReset: Tensor)
    /// τ_syn·dI/dt = −I + w_in·x;  τ_mem·dv/dt = (v_leak − v) + r·I; spike and reset as LIF.
    case cubaLIF(tauSyn: Tensor, tauMem: Tensor, r: Tensor, vLeak: Tensor, vThreshold: Tensor, vReset: Tensor, wIn: Tensor)
    /// dv/dt = r·I; spike and reset to v_reset when v crosses v_threshold.
    case integrateAndFire(r: Tensor, vThreshold: Tensor, vReset: Tensor)

    /// NIR's type name, as stored in the node's `type` dataset.
    public var typeName: String {
        switch self {
        case .input: return "Input"
        case .output: return "Output"
        case .affine: return "Affine"
        case .linear: return "Linear"
        case .conv2d: return "Conv2d"
        case .sumPool2d: return "SumPool2d"
        case .avgPool2d: return "AvgPool2d"
        case .flatten: return "Flatten"
        case .lif: return "LIF"
        case .cubaLIF: return "CubaLIF"
        case .integrateAndFire: return "IF"
        }
    }
}

/// An NIR graph: named nodes, directed edges (source, target) — a cycle is a recurrent
/// connection with one time step of delay — and free-form metadata.
public struct NIRGraph: Equatable, Sendable {
    public var nodes: [String: NIRNode]
    public var edges: [(source: String, target: String)]
    /// Graph metadata datasets (`node/metadata/…`), e.g. `dt`.
    public var metadata: [String: HDF5Node]
    /// Per-node metadata (`node/nodes/<name>/metadata/…`).
    public var nodeMetadata: [String: [String: HDF5Node]]

    public init(nodes: [String: NIRNode] = [:], edges: [(source: String, target: String)] = [],
                metadata: [String: HDF5Node] = [:], nodeMetadata: [String: [String: HDF5Node]] = [:]) {
        self.nodes = nodes; self.edges = edges; self.metadata = metadata; self.nodeMetadata = nodeMetadata
    }

    public static func == (a: NIRGraph, b: NIRGraph) -> Bool {
        a.nodes == b.nodes && a.metadata == b.metadata && a.nodeMetadata == b.nodeMetadata
            && a.edges.map { [$0.source, $0.target] } == b.edges.map { [$0.source, $0.target] }
    }

    /// Names of the nodes with an edge into `name`, in edge order.
    public func sources(of name: String) -> [String] { edges.filter { $0.target == name }.map(\.source) }
    /// Names of the nodes `name` has an edge to, in edge order.
    public func targets(of name: String) -> [String] { edges.filter { $0.source == name }.map(\.target) }
}

/// Errors reading an NIR file or graph, each naming the file and the node.
public enum NIRError: Error, CustomStringConvertible, Equatable {
    case invalid(file: String, reason: String)
    case unsupported(file: String, node: String, reason: String)
    /// An `import --check` file (input and expected spikes) that cannot be compared.
    case badCheck(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let file, let reason): return "\(file): not a NIR graph SpikeFuse can read: \(reason)"
        case .unsupported(let file, let node, let reason): return "\(file): node '\(node)': \(reason)"
        case .badCheck(let file, let reason): return "\(file): \(reason)"
        }
    }
}

/// NIR's on-disk form (as `nir/serialization.py` writes it): an HDF5 file with a root
/// `version` string and a group `node` of type `NIRGraph` holding `nodes/<name>/` (a `type`
/// string and one dataset per field) and `edges`, an (N, 2) array of strings.
public enum NIRFile {
    /// The NIR version this writer follows.
    public static let version = "1.0.8"

    public static func write(_ graph: NIRGraph, to url: URL) throws {
        var nodes: [String: HDF5Node] = [:]
        for (name, node) in graph.nodes {
            var fields = fieldsOf(node)
            fields["type"] = .string(node.typeName)
            if let m = graph.nodeMetadata[name], !m.isEmpty { fields["metadata"] = .group(m) }
            nodes[name] = .group(fields)
        }
        var root: [String: HDF5Node] = [
            "type": .string("NIRGraph"),
            "nodes": .group(nodes),
            "edges": .strings(graph.edges.flatMap { [$0.source, $0.target] }, shape: [graph.edges.count, 2]),
        ]
        if !graph.metadata.isEmpty { root["metadata"] = .group(graph.metadata) }
        try HDF5Tree.write(["version": .string(version), "node": .group(root)], to: url)
    }

    public static func read(_ url: URL) throws -> NIRGraph {
        let file = url.path
        let top = try HDF5Tree.read(url)
        guard let root = top["node"]?.children else { throw NIRError.invalid(file: file, reason: "no group 'node'") }
        guard case .strings(let type, _)? = root["type"], type == ["NIRGraph"] else {
            throw NIRError.invalid(file: file, reason: "'node' is not of type NIRGraph")
        }
        guard let nodeGroups = root["nodes"]?.children else { throw NIRError.invalid(file: file, reason: "no group 'node/nodes'") }
        var graph = NIRGraph()
        for (name, group) in nodeGroups {
            guard let fields = group.children else { throw NIRError.invalid(file: file, reason: "node '\(name)' is not a group") }
            graph.nodes[name] = try node(fields, name: name, file: file)
            if let m = fields["metadata"]?.children { graph.nodeMetadata[name] = m }
        }
        switch root["edges"] {
        case .strings(let s, let shape)? where shape.count == 2 && shape[1] == 2:
            graph.edges = stride(from: 0, to: s.count, by: 2).map { (s[$0], s[$0 + 1]) }
        case .strings(let s, _)? where s.isEmpty: break
        default: throw NIRError.invalid(file: file, reason: "'node/edges' is not an (N, 2) array of node names")
        }
        for e in graph.edges where graph.nodes[e.source] == nil || graph.nodes[e.target] == nil {
            throw NIRError.invalid(file: file, reason: "edge \(e.source) → \(e.target) names a node the graph lacks")
        }
        graph.metadata = root["metadata"]?.children ?? [:]
        return graph
    }

    // MARK: fields

    private static func fieldsOf(_ node: NIRNode) -> [String: HDF5Node] {
        func ints(_ v: [Int]) -> HDF5Node { .integers(v.map(Int64.init), shape: [v.count]) }
        func int(_ v: Int) -> HDF5Node { .integers([Int64(v)], shape: []) }
        func floats(_ t: Tensor) -> HDF5Node { .floats(t.scalars.map(Double.init), shape: t.shape, bits: 32) }
        switch node {
        case .input(let shape), .output(let shape): return ["shape": ints(shape)]
        case .affine(let w, let b): return ["weight": floats(w), "bias": floats(b)]
        case .linear(let w): return ["weight": floats(w)]
        case .conv2d(let w, let b, let stride, let padding, let dilation, let groups, let inputShape):
            var f = ["weight": floats(w), "bias": floats(b), "stride": ints(stride), "padding": ints(padding),
                     "dilation": ints(dilation), "groups": int(groups)]
            if let inputShape { f["input_shape"] = ints(inputShape) }
            return f
        case .sumPool2d(let k, let s, let p), .avgPool2d(let k, let s, let p):
            return ["kernel_size": ints(k), "stride": ints(s), "padding": ints(p)]
        case .flatten(let start, let end, let inputShape):
            var f = ["start_dim": int(start), "end_dim": int(end)]
            if let inputShape { f["input_type"] = ints(inputShape) }
            return f
        case .lif(let tau, let r, let vLeak, let vThreshold, let vReset):
            return ["tau": floats(tau), "r": floats(r), "v_leak": floats(vLeak), "v_threshold": floats(vThreshold),
                    "v_reset": floats(vReset)]
        case .cubaLIF(let tauSyn, let tauMem, let r, let vLeak, let vThreshold, let vReset, let wIn):
            return ["tau_syn": floats(tauSyn), "tau_mem": floats(tauMem), "r": floats(r), "v_leak": floats(vLeak),
                    "v_threshold": floats(vThreshold), "v_reset": floats(vReset), "w_in": floats(wIn)]
        case .integrateAndFire(let r, let vThreshold, let vReset):
            return ["r": floats(r), "v_threshold": floats(vThreshold), "v_reset": floats(vReset)]
        }
    }

    private static func node(_ f: [String: HDF5Node], name: String, file: String) throws -> NIRNode {
        guard case .strings(let t, _)? = f["type"], let type = t.first else {
            throw NIRError.invalid(file: file, reason: "node '\(name)' has no type")
        }
        func field(_ key: String) throws -> HDF5Node {
            guard let v = f[key] else { throw NIRError.invalid(file: file, reason: "node '\(name)' (\(type)) has no field '\(key)'") }
            return v
        }
        func tensor(_ key: String) throws -> Tensor {
            switch try field(key) {
            case .floats(let v, let shape, _): return Tensor(shape: shape, scalars: v.map { Float($0) })
            case .integers(let v, let shape): return Tensor(shape: shape, scalars: v.map { Float($0) })
            default: throw NIRError.invalid(file: file, reason: "node '\(name)' field '\(key)' is not numeric")
            }
        }
        func ints(_ key: String, count: Int? = nil) throws -> [Int] {
            let values: [Int]
            switch try field(key) {
            case .integers(let v, _): values = v.map { Int($0) }
            case .floats(let v, _, _) where v.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e9 }): values = v.map { Int($0) }
            default: throw NIRError.invalid(file: file, reason: "node '\(name)' field '\(key)' is not integers")
            }
            if let count, values.count == 1 { return Array(repeating: values[0], count: count) }   // NIR allows a scalar
            if let count, values.count != count {
                throw NIRError.invalid(file: file, reason: "node '\(name)' field '\(key)' has \(values.count) values, expected \(count)")
            }
            return values
        }
        func int(_ key: String) throws -> Int {
            let v = try ints(key)
            guard v.count == 1 else { throw NIRError.invalid(file: file, reason: "node '\(name)' field '\(key)' is not one integer") }
            return v[0]
        }
        switch type {
        case "Input": return .input(shape: try ints("shape"))
        case "Output": return .output(shape: try ints("shape"))
        case "Affine": return .affine(weight: try tensor("weight"), bias: try tensor("bias"))
        case "Linear": return .linear(weight: try tensor("weight"))
        case "Conv2d":
            return .conv2d(weight: try tensor("weight"), bias: try tensor("bias"), stride: try ints("stride", count: 2),
                           padding: try ints("padding", count: 2), dilation: try ints("dilation", count: 2),
                           groups: try int("groups"), inputShape: f["input_shape"] == nil ? nil : try ints("input_shape"))
        case "SumPool2d", "AvgPool2d":
            let k = try ints("kernel_size", count: 2), s = try ints("stride", count: 2), p = try ints("padding", count: 2)
            return type == "SumPool2d" ? .sumPool2d(kernel: k, stride: s, padding: p) : .avgPool2d(kernel: k, stride: s, padding: p)
        case "Flatten":
            return .flatten(startDim: try int("start_dim"), endDim: try int("end_dim"),
                            inputShape: f["input_type"] == nil ? nil : try ints("input_type"))
        case "LIF":
            let tau = try tensor("tau")
            return .lif(tau: tau, r: try tensor("r"), vLeak: try tensor("v_leak"), vThreshold: try tensor("v_threshold"),
                        vReset: f["v_reset"] == nil ? Tensor(zeros: tau.shape) : try tensor("v_reset"))
        case "CubaLIF":
            let tauMem = try tensor("tau_mem")
            // NIR allows a scalar w_in (default 1) for the whole population.
            let wIn = f["w_in"] == nil ? Tensor(repeating: 1, shape: tauMem.shape) : try tensor("w_in")
            return .cubaLIF(tauSyn: try tensor("tau_syn"), tauMem: tauMem, r: try tensor("r"), vLeak: try tensor("v_leak"),
                            vThreshold: try tensor("v_threshold"),
                            vReset: f["v_reset"] == nil ? Tensor(zeros: tauMem.shape) : try tensor("v_reset"),
                            wIn: wIn.count == 1 && tauMem.count > 1 ? Tensor(repeating: wIn.scalars[0], shape: tauMem.shape) : wIn)
        case "IF":
            let r = try tensor("r")
            return .integrateAndFire(r: r, vThreshold: try tensor("v_threshold"),
                                     vReset: f["v_reset"] == nil ? Tensor(zeros: r.shape) : try tensor("v_reset"))
        default:
            throw NIRError.unsupported(file: file, node: name,
                                       reason: "NIR node type \(type) is not supported (SpikeFuse reads Input, Output, Affine, "
                                           + "Linear, Conv2d, SumPool2d, AvgPool2d, Flatten, LIF, CubaLIF, IF)")
        }
    }
}
