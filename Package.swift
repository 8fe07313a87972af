// swift-tools-version:6.0
// SpikeFuse — event-based multimodal spiking neural networks in Swift.
//
// Modules in dependency order:
//   AtomicFiles, CSpikeKernels → SpikeTensor → SpikeNN → EventIO → SensorEmulation → Multimodal
//   (TensorBoardEvents, standalone → Multimodal)
//   → NIRInterchange, MPICluster → spikefuse
// C libraries come from Debian through system-library targets (pkg-config).
import PackageDescription

// Every build, tests included, is checked: release is `-O` (preconditions and overflow checks
// on). Hot loops run over raw pointers, which carry no bounds checks of their own. Measured
// against -Ounchecked (spikefuse-bench --single … train 32, two runs each): visual training
// 35 vs 38 samples/s, auditory 145 vs 166; the demo's training 20.5 vs 20.3 samples/s.

let package = Package(
    name: "SpikeFuse",
    products: [
        .library(name: "AtomicFiles", targets: ["AtomicFiles"]),
        .library(name: "SpikeTensor", targets: ["SpikeTensor"]),
        .library(name: "SpikeNN", targets: ["SpikeNN"]),
        .library(name: "EventIO", targets: ["EventIO"]),
        .library(name: "SensorEmulation", targets: ["SensorEmulation"]),
        .library(name: "TensorBoardEvents", targets: ["TensorBoardEvents"]),
        .library(name: "Multimodal", targets: ["Multimodal"]),
        .library(name: "NIRInterchange", targets: ["NIRInterchange"]),
        .library(name: "MPICluster", targets: ["MPICluster"]),
        .executable(name: "spikefuse", targets: ["spikefuse"]),
    ],
    targets: [
        // MARK: C shims (Debian packages, found through pkg-config)
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),

        // MARK: Own C: the event-driven scatters in a baseline and an AVX2 variant, chosen at run
        // time (Swift has no per-function target attributes); SpikeTensor holds their reference.
        .target(name: "CSpikeKernels"),

        // MARK: Public modules
        .target(name: "AtomicFiles"),
        .target(name: "SpikeTensor", dependencies: ["CBLAS", "CSpikeKernels"]),
        .target(name: "SpikeNN", dependencies: ["SpikeTensor", "AtomicFiles", "CSpikeKernels"]),
        .target(name: "EventIO", dependencies: ["SpikeTensor", "AtomicFiles", "CHDF5", "CZlib", "CLZ4", "CZstd"]),
        .target(name: "SensorEmulation", dependencies: ["EventIO", "AtomicFiles"]),
        .target(name: "TensorBoardEvents"),
        .target(name: "Multimodal", dependencies: ["SpikeNN", "EventIO", "SensorEmulation", "TensorBoardEvents"],
                resources: [.copy("Networks")]),
        .target(name: "NIRInterchange", dependencies: ["Multimodal"]),
        .target(name: "MPICluster", dependencies: ["Multimodal", "CMPI"]),
        .executableTarget(name: "spikefuse", dependencies: ["Multimodal", "NIRInterchange", "MPICluster"]),
        .executableTarget(name: "spikefuse-bench", dependencies: ["Multimodal"]),

        // MARK: Tests
        .testTarget(name: "AtomicFilesTests", dependencies: ["AtomicFiles"]),
        .testTarget(name: "SpikeTensorTests", dependencies: ["SpikeTensor"]),
        .testTarget(name: "SpikeNNTests", dependencies: ["SpikeNN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EventIOTests", dependencies: ["EventIO"], exclude: ["Fixtures"]),
        .testTarget(name: "SensorEmulationTests", dependencies: ["SensorEmulation"]),
        .testTarget(name: "TensorBoardEventsTests", dependencies: ["TensorBoardEvents"], exclude: ["Fixtures"]),
        .testTarget(name: "MultimodalTests", dependencies: ["Multimodal"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NIRInterchangeTests", dependencies: ["NIRInterchange"], resources: [.copy("Fixtures")]),
    ]
)
