import Foundation
import MCPAuth
#if canImport(Glibc)
import Glibc
#endif

/// `mcpctl init`: creates the store on purpose; on an existing store it changes nothing and says so.
enum InitCommand {
    static func run(_ c: Context) throws -> Int32 {
        let existed = Store.exists(at: c.storePath)
        let store = try c.store()
        if c.json {
            c.out.emit(.object([("path", .string(store.displayPath)), ("created", .bool(!existed)),
                                ("apps", .int(Int64(try Apps(store: store).list().count)))]))
        } else if existed {
            c.out.line("Store already exists at \(store.displayPath); nothing changed")
        } else {
            c.out.line("Created store at \(store.displayPath)")
        }
        return ExitCode.success
    }
}
