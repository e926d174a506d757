import Foundation
import MCPAuth

/// The environment a stdio upstream starts with, for anyone who starts one as `serve` does (`doctor`):
/// only `PATH`, `HOME`, `LANG` and `TZ` of this process, then the environment's own `--env-var` values.
/// Nothing else of the operator's environment (cloud credentials, tokens) reaches the upstream.
public enum StdioEnvironment {
    public static func of(_ e: AppEnvironment, credentials: UpstreamCredentials,
                          parent: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: String] {
        StdioSession.environment(inheriting: parent, try credentials.resolved(e, kind: .environmentVariable))
    }
}

extension StdioEnvironment {
    /// The clean environment without any `--env-var` (when they cannot be resolved).
    public static func bare(parent: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        StdioSession.environment(inheriting: parent, [])
    }
}
