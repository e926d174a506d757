// The driver of bench/sha256.sh: times mcpctl's own SHA-256 (Sources/MCPAuth/Crypto/SHA256.swift, compiled
// into this program) over (a) one large buffer, streamed, and (b) many short messages shaped like audit
// rows (32-byte previous hash + a ~264-byte row encoding), the work `audit verify` does per row.
import Foundation

func seconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

let args = CommandLine.arguments
let megabytes = args.count > 1 ? Int(args[1]) ?? 256 : 256
let rowCount = args.count > 2 ? Int(args[2]) ?? 1_000_000 : 1_000_000
let rowBytes = args.count > 3 ? Int(args[3]) ?? 264 : 264

// (a) bulk: one message of `megabytes` MiB fed in 64 KiB updates.
let chunk = [UInt8]((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31) })
var sink: UInt8 = 0
var w0 = seconds(), c0 = cpuSeconds()
var hasher = SHA256.Hasher()
for _ in 0..<(megabytes * 16) { hasher.update(chunk) }
sink ^= hasher.finalize()[0]
var wall = seconds() - w0, cpu = cpuSeconds() - c0
let bulkBytes = Double(megabytes) * 1_048_576
print("bulk: \(megabytes) MiB in \(String(format: "%.3f", wall)) s -> \(String(format: "%.0f", bulkBytes / wall / 1e6)) MB/s wall, \(String(format: "%.0f", bulkBytes / cpu / 1e6)) MB/s per CPU-second")

// (b) rows: SHA-256(prev || row) for `rowCount` rows of `rowBytes` bytes, as the verifier hashes them.
let row = [UInt8]((0..<rowBytes).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) })
var prev = [UInt8](repeating: 0, count: 32)
w0 = seconds(); c0 = cpuSeconds()
prev.withUnsafeMutableBytes { prevBytes in
    row.withUnsafeBytes { rowBytes in
        for _ in 0..<rowCount {
            var h = SHA256.Hasher()
            h.update(UnsafeRawBufferPointer(prevBytes))
            h.update(rowBytes)
            let d = h.finalize()
            prevBytes[0] = d[0]
        }
    }
}
sink ^= prev[0]
wall = seconds() - w0; cpu = cpuSeconds() - c0
let rowTotal = Double(rowCount * (32 + rowBytes))
print("rows: \(rowCount) x (32 + \(rowBytes)) bytes in \(String(format: "%.3f", wall)) s -> \(String(format: "%.0f", Double(rowCount) / wall)) rows/s, \(String(format: "%.0f", rowTotal / cpu / 1e6)) MB/s of message per CPU-second, \(String(format: "%.2f", cpu / Double(rowCount) * 1e6)) µs CPU per row")
#if MULTIBUFFER
// (c) the same rows through the multi-buffer hasher (four messages per SIMD lane set), padded beforehand
// as the verifier lays them out, in batches of 2048 rows.
let batch = 2048
let messageLength = 32 + rowBytes
let padded = messageLength + SHA256.paddingLength(forMessageLength: messageLength)
let base = UnsafeMutableRawPointer.allocate(byteCount: padded * batch, alignment: 64)
let offsets = UnsafeMutablePointer<Int>.allocate(capacity: batch + 1)
let digests = UnsafeMutableRawPointer.allocate(byteCount: 32 * batch, alignment: 64)
for i in 0..<batch {
    offsets[i] = i * padded
    base.advanced(by: i * padded).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: i), count: messageLength)
    SHA256.writePadding(to: base + i * padded + messageLength, messageLength: messageLength)
}
offsets[batch] = batch * padded
w0 = seconds(); c0 = cpuSeconds()
var done = 0
while done < rowCount {
    let n = min(batch, rowCount - done)
    SHA256.hashPadded(base: base, offsets: offsets, count: n, digests: digests)
    sink ^= digests.load(as: UInt8.self)
    done += n
}
wall = seconds() - w0; cpu = cpuSeconds() - c0
print("rows, multi-buffer: \(rowCount) x (32 + \(rowBytes)) bytes in \(String(format: "%.3f", wall)) s -> \(String(format: "%.0f", Double(rowCount) / wall)) rows/s, \(String(format: "%.0f", rowTotal / cpu / 1e6)) MB/s of message per CPU-second, \(String(format: "%.2f", cpu / Double(rowCount) * 1e6)) µs CPU per row")
#endif
if sink == 0x5a { print("") }  // keeps the results observable
