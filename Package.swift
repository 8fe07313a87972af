// swift-tools-version:6.0
// SpikeFuse — event-based multimodal spiking neural networks in Swift.
//
// Modules in dependency order:
//   SpikeTensor → SpikeNN → EventIO → SensorEmulation → Multimodal → spikefuse
// C libraries come from Debian through system-library targets (pkg-config).
import PackageDescription

let optimise: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "SpikeFuse",
    products: [
        .library(name: "SpikeTensor", targets: ["SpikeTensor"]),
        .library(name: "SpikeNN", targets: ["SpikeNN"]),
        .library(name: "EventIO", targets: ["EventIO"]),
        .library(name: "SensorEmulation", targets: ["SensorEmulation"]),
        .library(name: "Multimodal", targets: ["Multimodal"]),
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

        // MARK: Public modules
        .target(name: "SpikeTensor", dependencies: ["CBLAS"], swiftSettings: optimise),
        .target(name: "SpikeNN", dependencies: ["SpikeTensor"], swiftSettings: optimise),
        .target(name: "EventIO", dependencies: ["SpikeTensor", "CHDF5", "CZlib"], swiftSettings: optimise),
        .target(name: "SensorEmulation", dependencies: ["EventIO"], swiftSettings: optimise),
        .target(name: "Multimodal", dependencies: ["SpikeNN", "EventIO", "SensorEmulation"],
                swiftSettings: optimise),
        .executableTarget(name: "spikefuse", dependencies: ["Multimodal"], swiftSettings: optimise),
        .executableTarget(name: "spikefuse-bench", dependencies: ["Multimodal"], swiftSettings: optimise),

        // MARK: Tests
        .testTarget(name: "SpikeTensorTests", dependencies: ["SpikeTensor"]),
        .testTarget(name: "SpikeNNTests", dependencies: ["SpikeNN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EventIOTests", dependencies: ["EventIO"], exclude: ["Fixtures"]),
        .testTarget(name: "SensorEmulationTests", dependencies: ["SensorEmulation"]),
        .testTarget(name: "MultimodalTests", dependencies: ["Multimodal"], resources: [.copy("Fixtures")]),
    ]
)
