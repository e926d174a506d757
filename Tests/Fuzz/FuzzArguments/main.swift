import FuzzSupport

// libFuzzer drives fuzzArguments (one input per call) with the command-line flags given.
runLibFuzzer(fuzzArguments)
