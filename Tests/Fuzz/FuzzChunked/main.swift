import FuzzSupport

// libFuzzer drives fuzzChunked (one input per call) with the command-line flags given.
runLibFuzzer(fuzzChunked)
