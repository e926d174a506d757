import Foundation

/// OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00, adopted by MCP
/// 2025-11-25): a client id that is an https URL names a JSON document holding the client's metadata.
/// This is the network-free half: URL rules, document rules, and recording the client as `cimd`.
public enum ClientMetadataDocument {
    /// Whether a client id should be treated as a metadata URL (https; http only in test mode).
    public static func isURL(_ clientID: String, allowInsecure: Bool) -> Bool {
        let lower = clientID.prefix(8).lowercased()
        return lower.hasPrefix("https://") || (allowInsecure && lower.hasPrefix("http://"))
    }

    /// The reason a client id URL is unacceptable, or nil. CIMD §3: https scheme, a path component, no
    /// single- or double-dot path segments, no fragment, no userinfo.
    public static func urlProblem(_ url: String, allowInsecure: Bool) -> String? {
        guard url.utf8.count <= 2000 else { return "the client_id URL is longer than 2000 bytes" }
        guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7f }) else {
            return "the client_id URL contains whitespace, control or non-ASCII characters"
        }
        guard let c = URLComponents(string: url), let scheme = c.scheme, let host = c.host, !host.isEmpty else {
            return "the client_id is not an absolute URL"
        }
        guard scheme == "https" || (allowInsecure && scheme == "http") else { return "a client_id URL must use https" }
        guard c.user == nil, c.password == nil else { return "a client_id URL must not contain userinfo" }
        guard c.fragment == nil, !url.contains("#") else { return "a client_id URL must not contain a fragment" }
        let path = c.percentEncodedPath
        guard !path.isEmpty, path != "/" else { return "a client_id URL must contain a path" }
        guard !path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) else {
            return "a client_id URL must not contain . or .. path segments"
        }
        return nil
    }

    /// Validates a fetched document for the client id `url`. Errors are `invalid_client_metadata`.
    public static func validate(_ document: JSON, url: String) throws(OAuthError) -> ClientMetadata {
        guard document.objectValue != nil else { throw .invalidClientMetadata("the client metadata document is not a JSON object") }
        // CIMD §4.1: client_id MUST equal the document URL by simple string comparison (RFC 3986 §6.2.1).
        guard document["client_id"]?.stringValue == url else {
            throw .invalidClientMetadata("the client metadata document's client_id does not equal its URL")
        }
        // CIMD §4.1: no shared secret can exist for such a client.
        if document["client_secret"] != nil || document["client_secret_expires_at"] != nil {
            throw .invalidClientMetadata("a client metadata document must not contain a client secret")
        }
        if let m = document["token_endpoint_auth_method"]?.stringValue, m != "none" {
            throw .invalidClientMetadata("token_endpoint_auth_method '\(m)' is not supported for metadata-document clients (use none)")
        }
        return try ClientMetadata.parse(document, defaultAuthMethod: "none")
    }

    /// Records (or refreshes) the client `url` as registration `cimd`; unchanged metadata writes nothing.
    /// A blocked client stays blocked.
    public static func record(_ metadata: ClientMetadata, url: String, store: Store, remoteAddr: String?) throws -> ClientRecord {
        if let existing = try ClientRecord.find(url, db: store.db) {
            guard existing.registration == .cimd else { throw DomainError.conflict("client id \(url) is already registered another way") }
            let stored = try store.db.first("SELECT metadata FROM clients WHERE client_id = ?", [.text(url)])?.string("metadata")
            if stored == metadata.json.encoded() { return existing }
        }
        _ = try Clients(store: store).register(name: metadata.name, redirectURIs: metadata.redirectURIs, confidential: false,
                                               registration: .cimd, clientID: url, metadata: metadata.json, source: .oauth,
                                               remoteAddr: remoteAddr)
        guard let client = try ClientRecord.find(url, db: store.db) else { throw DomainError.notFound("client \(url) vanished") }
        return client
    }
}
