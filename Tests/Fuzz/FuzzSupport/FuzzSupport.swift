import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif

/// What every fuzz target shares: reading libFuzzer's input, cutting it into socket-sized pieces, and
/// stopping with a message when a property of the code under test does not hold.

/// The input libFuzzer hands to `LLVMFuzzerTestOneInput`, copied into an array.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the run (libFuzzer records the input as a crash) when `condition` is false.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    guard condition() else { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// Consecutive pieces of `bytes`, 1 to 32 bytes long, their sizes drawn from `seed`: how a socket might
/// deliver the same stream, so an incremental parser can be checked against one fed everything at once.
public func pieces(of bytes: ArraySlice<UInt8>, seed: UInt8) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var state = UInt32(seed) | 0x100
    var start = bytes.startIndex
    while start < bytes.endIndex {
        // xorshift32: cheap, deterministic sizes.
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        let end = min(bytes.endIndex, start + 1 + Int(state % 32))
        result.append(bytes[start..<end])
        start = end
    }
    return result
}

/// The input split into its first byte (a knob for the target) and the rest; nil for an empty input.
public func knobAndRest(_ bytes: [UInt8]) -> (knob: UInt8, rest: ArraySlice<UInt8>)? {
    guard let knob = bytes.first else { return nil }
    return (knob, bytes.dropFirst())
}

/// Runs libFuzzer with the process's arguments on `testOneInput`, then exits with its status.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
