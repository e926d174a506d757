import Foundation
import HTTP
import MCPAuth

extension OAuthServer {
    /// RFC 7591 dynamic client registration, with abuse limits: a body cap, a per-address rate limit
    /// (429 + Retry-After), deduplication of identical public registrations, and a cap on never-used clients.
    func register(_ request: HTTPRequest) throws -> HTTPResponse {
        if let wait = registrationLimiter.take("addr:" + clientAddress(request)) {
            return OAuthResponse.tooManyRequests(retryAfter: wait, what: "registrations from this address")
        }
        guard request.body.count <= configuration.maxRegistrationBodyBytes else {
            return OAuthResponse.error(.invalidClientMetadata("the registration request is larger than \(configuration.maxRegistrationBodyBytes) bytes"), status: 413)
        }
        // RFC 7591 §3.1: the client metadata is sent as a JSON document.
        let type = request.headers["Content-Type"]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            return OAuthResponse.error(.invalidClientMetadata("send the client metadata as application/json"))
        }
        guard let json = try? JSON.parse(request.body, maxDepth: 16) else {
            return OAuthResponse.error(.invalidClientMetadata("the body is not valid JSON"))
        }
        let metadata: ClientMetadata
        switch ClientMetadata.parse(json, defaultAuthMethod: "client_secret_basic") {
        case .success(let m): metadata = m
        case .failure(let e):
            // RFC 7591 §3.2.2: invalid_redirect_uri / invalid_client_metadata, status 400.
            return OAuthResponse.error(e)
        }
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
}
