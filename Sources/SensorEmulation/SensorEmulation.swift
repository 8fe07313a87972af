@_exported import EventIO
