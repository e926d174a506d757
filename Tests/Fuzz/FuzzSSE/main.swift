import FuzzSupport

// libFuzzer drives fuzzSSE (one input per call) with the command-line flags given.
runLibFuzzer(fuzzSSE)
