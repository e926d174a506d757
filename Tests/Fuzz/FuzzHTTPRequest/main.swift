import FuzzSupport

// libFuzzer drives fuzzHTTPRequest (one input per call) with the command-line flags given.
runLibFuzzer(fuzzHTTPRequest)
