import Foundation
import HTTP
import MCPAuth

/// Form and header helpers.
enum FormFields {
    /// RFC 6749 §3.1 / §3.2: request parameters MUST NOT be included more than once. Returns the first
    /// repeated name among `names`, if any.
    static func repeated(_ fields: [(name: String, value: String)], among names: Set<String>? = nil) -> String? {
        var seen = Set<String>()
        for f in fields where names?.contains(f.name) ?? true {
            if !seen.insert(f.name).inserted { return f.name }
        }
        return nil
    }

    static func value(_ fields: [(name: String, value: String)], _ name: String) -> String? {
        fields.first { $0.name == name }.map(\.value).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The parameters of a back-channel request (token, revocation, introspection): OAuth 2.1 §3.2.2 form
    /// encoding in the body; RFC 6749 §3.2 no parameter more than once (unless `checkRepeats` is false, for an
    /// endpoint that must authenticate its caller first). At the token endpoint (`resourceIsTarget`) a
    /// repeated `resource` is RFC 8707 §2's `invalid_target`.
    static func backChannel(_ request: HTTPRequest, checkRepeats: Bool = true,
                            resourceIsTarget: Bool = false) throws(OAuthError) -> [(name: String, value: String)] {
        guard isForm(request) else {
            throw .invalidRequest("send the parameters as application/x-www-form-urlencoded in the body")
        }
        let form = request.formFields()
        if checkRepeats { try refuseRepeats(form, resourceIsTarget: resourceIsTarget) }
        return form
    }

    /// RFC 6749 §3.2: no parameter more than once; RFC 8707 §2: a repeated `resource` at the token endpoint
    /// is `invalid_target`.
    static func refuseRepeats(_ form: [(name: String, value: String)], resourceIsTarget: Bool = false) throws(OAuthError) {
        guard let name = repeated(form) else { return }
        throw name == "resource" && resourceIsTarget ? .invalidTarget("give exactly one resource")
                                                     : .invalidRequest("the parameter \(name) was sent more than once")
    }

    /// A required parameter, or `invalid_request` naming it.
    static func require(_ fields: [(name: String, value: String)], _ name: String, _ description: String? = nil) throws(OAuthError) -> String {
        guard let v = value(fields, name) else { throw .invalidRequest(description ?? "\(name) is required") }
        return v
    }

    /// Whether the body is a form post (`application/x-www-form-urlencoded`, parameters ignored).
    static func isForm(_ request: HTTPRequest) -> Bool {
        guard let type = request.headers["Content-Type"] else { return false }
        return type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } == "application/x-www-form-urlencoded"
    }

    /// Cookie values by name (RFC 6265 §5.4 `Cookie` header).
    static func cookies(_ request: HTTPRequest) -> [String: String] {
        var out: [String: String] = [:]
        for header in request.headers.values(for: "Cookie") {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let name = kv[0].trimmingCharacters(in: .whitespaces)
                if out[name] == nil { out[name] = kv[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return out
    }
}
