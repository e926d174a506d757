import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where `serve` finds a value an upstream needs (an HTTP header such as its API key, or an environment
/// variable of a stdio server): an environment variable of `serve` or a file. Only this reference is
/// stored, shown and audited; the value is read when `serve` starts and goes only to that upstream.
public struct UpstreamCredential: Sendable, Equatable, CustomStringConvertible {
    public enum Source: Sendable, Equatable {
        case environment(String)
        case file(String)
    }

    /// Which kind of setting the reference fills in: a request header or a process environment variable.
    public enum Kind: Sendable {
        case header
        case environmentVariable

        var option: String { self == .header ? "--upstream-header" : "--env-var" }
    }

    /// The header or variable name, as given.
    public let name: String
    public let source: Source

    public init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    /// `env:VAR` or `file:PATH`, as it is stored and shown.
    public var reference: String {
        switch source {
        case .environment(let v): return "env:" + v
        case .file(let p): return "file:" + p
        }
    }

    /// `NAME=env:VAR`, the form the options take.
    public var description: String { name + "=" + reference }

    public var json: JSON { .object([("name", .string(name)), ("reference", .string(reference))]) }

    // MARK: Parsing and validation

    /// Parses `NAME=env:VAR` or `NAME=file:PATH`; with `allowRemoval`, `NAME=` (no reference) means "remove
    /// NAME" and is returned with a nil source.
    public static func parse(_ text: String, kind: Kind, allowRemoval: Bool = false) throws -> (name: String, credential: UpstreamCredential?) {
        guard let eq = text.firstIndex(of: "=") else {
            // Not echoed: a mistaken value here is often the secret itself.
            throw DomainError.invalid("\(kind.option) takes NAME=env:VAR or NAME=file:PATH (a reference, never the secret itself)")
        }
        let name = String(text[..<eq]), reference = String(text[text.index(after: eq)...])
        try validate(name: name, kind: kind)
        if reference.isEmpty && allowRemoval { return (name, nil) }
        let source: Source
        if reference.hasPrefix("env:") {
            let variable = String(reference.dropFirst(4))
            guard isVariableName(variable) else {
                throw DomainError.invalid("\(kind.option) \(name): env: must be followed by an environment variable name (letters, digits and '_', not starting with a digit)")
            }
            source = .environment(variable)
        } else if reference.hasPrefix("file:") {
            let path = String(reference.dropFirst(5))
            guard path.hasPrefix("/"), !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw DomainError.invalid("\(kind.option) \(name): 'file:' needs an absolute path (serve may run in another directory)")
            }
            source = .file(path)
        } else {
            throw DomainError.invalid("\(kind.option) \(name): the value must be a reference, env:VAR or file:PATH, never the secret itself")
        }
        return (name, UpstreamCredential(name: name, source: source))
    }

    /// Headers an upstream credential may not set: framing and connection headers (RFC 9110 §7.6.1,
    /// RFC 9112 §6–7), the ones the gateway sets itself, cookies, and the MCP transport's own `Mcp-*`.
    static let refusedHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "trailer",
        "upgrade", "cookie", "content-type", "accept", "expect", "last-event-id",
    ]

    static func validate(name: String, kind: Kind) throws {
        switch kind {
        case .header:
            // RFC 9110 §5.1: a field name is a token.
            let tchar = Set("!#$%&'*+-.^_`|~".unicodeScalars)
            guard !name.isEmpty, name.count <= 128, name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || tchar.contains($0)) }) else {
                throw DomainError.invalid("--upstream-header: the name before '=' is not a valid HTTP header name (RFC 9110 token characters, e.g. X-Api-Key)")
            }
            let lower = name.lowercased()
            guard !refusedHeaders.contains(lower), !lower.hasPrefix("mcp-"), !lower.hasPrefix("proxy-") else {
                throw DomainError.invalid("--upstream-header may not set '\(name)': the gateway controls framing, connection, cookie and Mcp-* headers")
            }
        case .environmentVariable:
            guard isVariableName(name) else {
                throw DomainError.invalid("--env-var: the name before '=' is not a valid environment variable name (letters, digits and '_', not starting with a digit)")
            }
        }
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.count <= 128, !(first.value >= 0x30 && first.value <= 0x39) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }

    // MARK: Resolution

    /// Why a reference could not be resolved; names the reference (and the app/env), never a value.
    public struct ResolutionError: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Reads the value: the variable from `environment`, or the file (which must belong to no one else:
    /// not readable by group or others) with one trailing line break stripped. The value must be usable
    /// as it is meant to be: no CR, LF or NUL in a header, no NUL in an environment variable.
    public func resolve(environment: [String: String], kind: Kind, app: String, env: String) throws -> String {
        let value: String
        let at = "\(app)/\(env) \(kind.option) \(description)"
        switch source {
        case .environment(let variable):
            guard let v = environment[variable] else { throw ResolutionError(description: "\(at): environment variable \(variable) is not set") }
            value = v
        case .file(let path):
            var info = stat()
            guard stat(path, &info) == 0 else { throw ResolutionError(description: "\(at): cannot read \(path): \(String(cString: strerror(errno)))") }
            guard info.st_mode & S_IFMT == S_IFREG else { throw ResolutionError(description: "\(at): \(path) is not a regular file") }
            guard info.st_mode & 0o077 == 0 else {
                throw ResolutionError(description: "\(at): \(path) is readable or writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
            }
            guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
                throw ResolutionError(description: "\(at): cannot read \(path) as UTF-8 text")
            }
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            value = text
        }
        let forbidden: Set<UInt32> = kind == .header ? [0x0D, 0x0A, 0x00] : [0x00]
        guard !value.unicodeScalars.contains(where: { forbidden.contains($0.value) }) else {
            throw ResolutionError(description: "\(at): the value contains \(kind == .header ? "a line break or NUL" : "a NUL byte"), which cannot be sent")
        }
        guard !value.isEmpty else { throw ResolutionError(description: "\(at): the value is empty") }
        return value
    }

    /// Adds, replaces (same name; header names compare case-insensitively) or removes references.
    public static func merge(_ current: [UpstreamCredential], _ changes: [(name: String, credential: UpstreamCredential?)], kind: Kind) -> [UpstreamCredential] {
        var out = current
        for change in changes {
            let same: (UpstreamCredential) -> Bool = kind == .header ? { $0.name.lowercased() == change.name.lowercased() } : { $0.name == change.name }
            if let i = out.firstIndex(where: same) {
                if let c = change.credential { out[i] = c } else { out.remove(at: i) }
            } else if let c = change.credential {
                out.append(c)
            }
        }
        return out
    }

    /// The stored form: a JSON array of `{"name", "reference"}`.
    static func encode(_ list: [UpstreamCredential]) -> String? {
        list.isEmpty ? nil : JSON.array(list.map(\.json)).encoded()
    }

    /// The references stored in an environment row's JSON column; a column that breaks this shape is a
    /// malformed row, never an empty list (a dropped reference would silently call the upstream without its key).
    static func decode(_ text: String?, column: String) throws -> [UpstreamCredential] {
        guard let text else { return [] }
        guard let items = (try? JSON.parse(text))?.arrayValue else { throw MalformedRow(table: "environments", column: column) }
        return try items.map { item in
            guard let name = item["name"]?.stringValue, let ref = item["reference"]?.stringValue else {
                throw MalformedRow(table: "environments", column: column)
            }
            if ref.hasPrefix("env:") { return UpstreamCredential(name: name, source: .environment(String(ref.dropFirst(4)))) }
            if ref.hasPrefix("file:") { return UpstreamCredential(name: name, source: .file(String(ref.dropFirst(5)))) }
            throw MalformedRow(table: "environments", column: column)
        }
    }
}
