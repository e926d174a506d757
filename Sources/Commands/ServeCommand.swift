import MCPAuth

/// `mcpctl serve`: the OAuth 2.1 authorization server and MCP gateway.
enum ServeCommand {
    static func run(_ c: Context) throws -> Int32 {
        throw CommandFailure(message: "'serve' is not built yet in this version", code: ExitCode.failure)
    }
}
