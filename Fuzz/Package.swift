// swift-tools-version:6.0
// libFuzzer harnesses for every parser (AEDAT 2.0/3.1/4.0 files and the AEDAT 4.0 network stream, Prophesee RAW and DAT, WAV, IDX/gzip, N-TIDIGITS HDF5,
// N-MNIST/N-Caltech101, SHD/SSC, the frame
// cache, safetensors with its config metadata, run-directory files, NIR graph import) (a separate package so the main build never
// needs the fuzzer runtime). Build and run: `Fuzz/run.sh` (see docs/event-formats.md).
//
// SwiftPM links an executable's `main` under another name, so each harness's main.swift
// hands control to libFuzzer with `LLVMFuzzerRunDriver` (declared in CFuzzerDriver).
import PackageDescription

let harness = [Target.Dependency.product(name: "EventIO", package: "SpikeFuse"), "CFuzzerDriver"]
let modelHarness = [Target.Dependency.product(name: "Multimodal", package: "SpikeFuse"), "CFuzzerDriver"]
let nirHarness = modelHarness + [.product(name: "NIRInterchange", package: "SpikeFuse")]

let package = Package(
    name: "SpikeFuseFuzz",
    dependencies: [.package(name: "SpikeFuse", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "AEDATFuzz", dependencies: harness),
        .executableTarget(name: "AEDAT31Fuzz", dependencies: harness),
        .executableTarget(name: "AEDAT4Fuzz", dependencies: harness),
        .executableTarget(name: "AEDAT4StreamFuzz", dependencies: harness),
        .executableTarget(name: "WAVFuzz", dependencies: harness),
        .executableTarget(name: "IDXFuzz", dependencies: harness),
        .executableTarget(name: "HDF5Fuzz", dependencies: harness),
        .executableTarget(name: "NMNISTFuzz", dependencies: harness),
        .executableTarget(name: "SHDFuzz", dependencies: harness),
        .executableTarget(name: "FrameCacheFuzz", dependencies: harness),
        .executableTarget(name: "SafeTensorsFuzz", dependencies: modelHarness),
        .executableTarget(name: "RunFilesFuzz", dependencies: modelHarness),
        .executableTarget(name: "PropheseeRAWFuzz", dependencies: harness),
        .executableTarget(name: "PropheseeDATFuzz", dependencies: harness),
        .executableTarget(name: "NIRFuzz", dependencies: nirHarness),
    ]
)
