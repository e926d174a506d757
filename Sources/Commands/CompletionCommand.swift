/// `mcpctl completion bash|zsh|fish`, rendered from the command table.
enum CompletionCommand {
    static func run(_ c: Context) throws -> Int32 {
        guard let script = CompletionRenderer.render(shell: c.argument(0), parser: CommandTable.parser) else {
            throw CommandUsageError(message: "Unknown shell '\(c.argument(0))': use bash, zsh or fish")
        }
        Output.write(script.hasSuffix("\n") ? script : script + "\n")
        return ExitCode.success
    }
}
