// `spikefuse-bench --readers [--events N] [--seconds S]`: decoding speed of each event-file
// reader in events per second, on one synthetic recording per format held in memory (so the
// disk is not measured). All formats carry the same events where they can: N events (default
// 1,000,000) in bursts of neighbouring pixels of one row, about one event per µs; AEDAT 2.0
// and N-MNIST carry the same stream folded into their 128×128 and 34×34 sensors.
// Each reader decodes its bytes repeatedly for S seconds (default 2) after one warm-up; the
// best run counts (the machine is shared).
import SpikeTensor
import EventIO
import Foundation

enum ReaderThroughput {
    /// Bursty events on a 1280×720 sensor, file order, times non-decreasing.
    static func events(count: Int) -> DVSEvents {
        var g = SeededGenerator(seed: 41)
        var e = DVSEvents(sensor: SensorSize(width: 1280, height: 720))
        e.reserveCapacity(count)
        var t: Int64 = 1_000_000
        while e.count < count {
            t += Int64(g.next() % 8)
            let y = UInt16(g.next() % 720), p = UInt8(g.next() % 2)
            if g.next() % 2 == 0 {
                let base = Int(g.next() % (1280 - 32)), mask = g.next()
                for bit in 0..<32 where mask >> UInt64(bit) & 1 == 1 && e.count < count {
                    e.append(t: t, x: UInt16(base + bit), y: y, polarity: p)
                }
            } else {
                e.append(t: t, x: UInt16(g.next() % 1280), y: y, polarity: p)
            }
        }
        return e
    }

    static func header(_ lines: [String]) -> [UInt8] { Array(lines.map { "% \($0)\n" }.joined().utf8) }

    static func evt2(_ e: DVSEvents) -> [UInt8] {
        var out = header(["format EVT2;height=720;width=1280", "end"])
        var high: Int64 = -1
        func word(_ w: UInt32) { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        for i in 0..<e.count {
            if e.t[i] >> 6 != high { high = e.t[i] >> 6; word(8 << 28 | UInt32(high & 0x0FFF_FFFF)) }
            word(UInt32(e.polarity[i]) << 28 | UInt32(e.t[i] & 63) << 22 | UInt32(e.x[i]) << 11 | UInt32(e.y[i]))
        }
        return out
    }

    static func evt21(_ e: DVSEvents) -> [UInt8] {
        var out = header(["format EVT21;height=720;width=1280", "end"])
        var high: Int64 = -1
        func word(_ w: UInt64) { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        var i = 0
        while i < e.count {
            if e.t[i] >> 6 != high { high = e.t[i] >> 6; word(UInt64(8 << 28 | UInt32(high & 0x0FFF_FFFF)) << 32) }
            var mask: UInt64 = 1
            var j = i + 1
            while j < e.count, e.t[j] == e.t[i], e.y[j] == e.y[i], e.polarity[j] == e.polarity[i],
                  e.x[j] > e.x[j - 1], Int(e.x[j]) < Int(e.x[i]) + 32 {
                mask |= 1 << UInt64(e.x[j] - e.x[i]); j += 1
            }
            let head = UInt32(e.polarity[i]) << 28 | UInt32(e.t[i] & 63) << 22 | UInt32(e.x[i]) << 11 | UInt32(e.y[i])
            word(UInt64(head) << 32 | mask)
            i = j
        }
        return out
    }

    static func evt3(_ e: DVSEvents) -> [UInt8] {
        var out = header(["evt 3.0", "geometry 1280x720"])
        func word(_ w: UInt16) { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        var high = -1, low = -1, row = -1
        var i = 0
        while i < e.count {
            let t = Int(e.t[i])
            if (t >> 12) & 0xFFF != high {
                high = (t >> 12) & 0xFFF; low = -1; word(0x8000 | UInt16(high))
            }
            if t & 0xFFF != low { low = t & 0xFFF; word(0x6000 | UInt16(low)) }
            if Int(e.y[i]) != row { row = Int(e.y[i]); word(UInt16(row)) }
            var j = i + 1
            while j < e.count, e.t[j] == e.t[i], e.y[j] == e.y[i], e.polarity[j] == e.polarity[i],
                  e.x[j] > e.x[j - 1], Int(e.x[j]) < Int(e.x[i]) + 32 { j += 1 }
            let p = UInt16(e.polarity[i]) << 11
            if j - i >= 3 {
                var mask = 0
                for k in i..<j { mask |= 1 << (Int(e.x[k]) - Int(e.x[i])) }
                word(0x3000 | p | e.x[i])
                word(0x4000 | UInt16(mask & 0xFFF)); word(0x4000 | UInt16((mask >> 12) & 0xFFF)); word(0x5000 | UInt16((mask >> 24) & 0xFF))
                i = j
            } else {
                word(0x2000 | p | e.x[i]); i += 1
            }
        }
        return out
    }

    static func dat(_ e: DVSEvents) -> [UInt8] {
        var out = header(["Version 2", "Width 1280", "Height 720"]) + [12, 8]
        out.reserveCapacity(out.count + 8 * e.count)
        for i in 0..<e.count {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: e.t[i]).littleEndian) { out.append(contentsOf: $0) }
            let w = UInt32(e.x[i]) | UInt32(e.y[i]) << 14 | UInt32(e.polarity[i]) << 28
            withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The same stream folded into a smaller sensor (x mod width, y mod height).
    static func folded(_ e: DVSEvents, into sensor: SensorSize) -> DVSEvents {
        DVSEvents(sensor: sensor, t: e.t, x: e.x.map { $0 % UInt16(sensor.width) }, y: e.y.map { $0 % UInt16(sensor.height) },
                  polarity: e.polarity)
    }

    static func run(count: Int, seconds: Double) throws {
        let e = events(count: count)
        let small = folded(e, into: .dvs128)
        let nmnist = folded(DVSEvents(sensor: e.sensor, t: e.t.map { $0 % (1 << 23) }.sorted(), x: e.x, y: e.y, polarity: e.polarity),
                            into: NMNIST.sensor)
        let cases: [(String, [UInt8], ([UInt8]) throws -> DVSEvents)] = [
            ("AEDAT 2.0", AEDAT.encode(small), { try AEDAT.decode($0, source: "bench") }),
            ("N-MNIST", try NMNIST.encode(nmnist), { try NMNIST.decode($0, source: "bench") }),
            ("Prophesee EVT 2.0", evt2(e), { try PropheseeRAW.decode($0, source: "bench") }),
            ("Prophesee EVT 2.1", evt21(e), { try PropheseeRAW.decode($0, source: "bench") }),
            ("Prophesee EVT 3.0", evt3(e), { try PropheseeRAW.decode($0, source: "bench") }),
            ("Prophesee DAT", dat(e), { try PropheseeDAT.decode($0, source: "bench") }),
        ]
        print("reader throughput: \(count) events per file, best of \(seconds) s per reader, load \(String(format: "%.1f", loadAverage()))")
        print("format                 bytes/event   best ms   M events/s")
        let clock = ContinuousClock()
        for (name, bytes, decode) in cases {
            let first = try decode(bytes)
            guard first.count == count else { throw EventIOError.malformed(file: name, detail: "decoded \(first.count) events, not \(count)") }
            var best = Double.infinity
            let start = clock.now
            var runs = 0
            while runs < 3 || Self.seconds(clock.now - start) < seconds {
                let t0 = clock.now
                let decoded = try decode(bytes)
                best = min(best, Self.seconds(clock.now - t0))
                precondition(decoded.count == count)
                runs += 1
            }
            print(name.padding(toLength: 22, withPad: " ", startingAt: 0)
                  + String(format: " %11.2f %9.2f %12.1f", Double(bytes.count) / Double(count), best * 1000, Double(count) / best / 1e6))
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
