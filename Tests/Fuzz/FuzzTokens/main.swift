import FuzzSupport

// libFuzzer drives fuzzTokens (one input per call) with the command-line flags given.
runLibFuzzer(fuzzTokens)
