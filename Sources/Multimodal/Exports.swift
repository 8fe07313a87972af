@_exported import SpikeNN
@_exported import EventIO
@_exported import SensorEmulation
@_exported import AtomicFiles
