@_exported import SpikeTensor
