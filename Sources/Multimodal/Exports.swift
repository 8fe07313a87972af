// The umbrella module: `import Multimodal` brings every SpikeFuse module; no other module
// re-exports its dependencies.
@_exported import SpikeTensor
@_exported import SpikeNN
@_exported import EventIO
@_exported import SensorEmulation
@_exported import AtomicFiles
@_exported import TensorBoardEvents
