import FuzzSupport

// libFuzzer drives fuzzForm (one input per call) with the command-line flags given.
runLibFuzzer(fuzzForm)
