import HTTP
import MCPAuth

/// The admin pages, for operators (`admin` on the built-in app): everyone else is answered as if they
/// did not exist.
extension OAuthServer {
    func adminRoute(_ request: HTTPRequest) throws -> HTTPResponse? {
        nil
    }
}
