import Foundation

/// A client secret kept in a file that mcpctl reads when it needs it (the secret is never copied into
/// the store). The file must be a regular file that neither group nor others may read or write: a
/// secret another local user can read is no longer a secret.
public enum SecretFile {
    /// Why `path` cannot hold a secret, or nil when it can.
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot read \(path): \(String(cString: strerror(errno)))" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "\(path) is not a regular file" }
        guard info.st_mode & 0o077 == 0 else {
            return "\(path) is readable or writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it"
        }
        guard access(path, R_OK) == 0 else { return "cannot read \(path): \(String(cString: strerror(errno)))" }
        return nil
    }

    /// The secret: the file's text without surrounding white space, if the file may hold one and is not empty.
    public static func read(_ path: String) throws -> String {
        if let problem = problem(path) { throw DomainError.invalid("client secret file: \(problem)") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw DomainError.invalid("client secret file \(path) is not UTF-8 text") }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw DomainError.invalid("client secret file \(path) is empty") }
        return secret
    }
}
