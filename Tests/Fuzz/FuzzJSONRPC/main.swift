import FuzzSupport

// libFuzzer drives fuzzJSONRPC (one input per call) with the command-line flags given.
runLibFuzzer(fuzzJSONRPC)
