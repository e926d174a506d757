import Foundation
import HTTP
import MCPAuth

extension OAuthServer {
    /// RFC 7591 dynamic client registration, with abuse limits: a body cap, a per-address rate limit
    /// (429 + Retry-After), deduplication of identical public registrations, and a cap on never-used clients.
    func register(_ request: HTTPRequest) throws -> HTTPResponse {
        if let wait = registrationLimiter.take("addr:" + clientAddress(request)) {
            throw OAuthError.tooManyRequests(retryAfter: wait, what: "registrations from this address")
        }
        // RFC 7591 §3.2.2: invalid_redirect_uri / invalid_client_metadata, status 400 (413 for an oversized body).
        let metadata = try registrationMetadata(request)
        let outcome = try writing { store in
            try ClientRegistration(store: store).register(metadata, maxUnusedClients: configuration.maxUnusedClients,
                                                          remoteAddr: clientAddress(request))
        }
        // RFC 7591 §3.2.1: 201 Created with the client information and the registered metadata.
        var body: [(String, JSON)] = [("client_id", .string(outcome.record.clientID)),
                                      ("client_id_issued_at", .int(outcome.record.createdAt / 1000))]
        if let secret = outcome.secret {
            body += [("client_secret", .string(secret)), ("client_secret_expires_at", .int(0))]
        }
        var echoed = metadata
        if outcome.deduplicated { echoed.name = outcome.record.name }
        body += echoed.json.objectValue ?? []
        return OAuthResponse.json(.object(body), status: 201)
    }

    /// RFC 7591 §3.1: the client metadata, sent as a JSON document within the size cap.
    private func registrationMetadata(_ request: HTTPRequest) throws(OAuthError) -> ClientMetadata {
        guard request.body.count <= configuration.maxRegistrationBodyBytes else {
            throw OAuthError.invalidClientMetadata("the registration request is larger than \(configuration.maxRegistrationBodyBytes) bytes")
                .with(status: 413)
        }
        let type = request.headers["Content-Type"]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else { throw .invalidClientMetadata("send the client metadata as application/json") }
        guard let json = try? JSON.parse(request.body, maxDepth: 16) else { throw .invalidClientMetadata("the body is not valid JSON") }
        return try ClientMetadata.parse(json, defaultAuthMethod: "client_secret_basic")
    }
}
