import Foundation

/// A request for `HTTPClient`: method, absolute `http` or `https` URL, header fields and body.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: URL
    /// Sent as given; `Host` is added when missing, and `Content-Length` is always computed from `body`.
    public var headers: HTTPHeaders
    /// Up to two more fields, sent after `headers` without being added to them (adding a field to a copy
    /// of someone's headers copies the whole list first).
    public var extraFields = ExtraFields()
    public var body: [UInt8]
    /// Seconds allowed for connecting, for each send that blocks, and for each wait on the server (not
    /// for the whole exchange, so a long Server-Sent-Events stream is fine as long as something arrives);
    /// set per request. Running out throws `HTTPClientError.timedOut`, never another case.
    public var timeout: Double
    /// https only: the most body bytes to accept; beyond it the exchange stops with `bodyTooLarge`.
    /// (Plain http bodies are read on demand: `HTTPClientResponse.readAll(limit:)`.)
    public var responseLimit: Int?
    /// Connect to this IP address instead of resolving the URL's host (the host still names the server
    /// for TLS and `Host`): pins a request to an address that was checked, against DNS rebinding.
    public var connectTo: String?
    /// Where the body of an answer a server's loop thread collects before handing it on
    /// (`HTTPClient.send(_:then:)`) is charged while the loop waits for it; an answer whose body does not
    /// fit fails with `budgetExceeded` as soon as its head is read. (What the caller then keeps of a body it
    /// reads is its own to charge.)
    public var budget: ByteBudget?

    public init(method: String = "GET", url: URL, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                timeout: Double = 30) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// Nil when `url` is not a valid URL.
    public init?(method: String = "GET", url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                 timeout: Double = 30) {
        guard let parsed = URL(string: url) else { return nil }
        self.init(method: method, url: parsed, headers: headers, body: body, timeout: timeout)
    }
}

extension HTTPClientRequest {
    /// At most two header fields held inline (no list of their own), written straight into the request
    /// after `HTTPClientRequest.headers`. Checked like `HTTPHeaders.add`: a field whose name is not a token
    /// or whose value holds a control character (RFC 9110 §5.5) is not taken, nor one of the fields the
    /// client writes itself (`Host`, `Content-Length`, `Transfer-Encoding`).
    public struct ExtraFields: Sendable {
        private(set) var first: HTTPHeaders.Element?
        private(set) var second: HTTPHeaders.Element?

        public init() {}

        /// Adds a field; false (and nothing added) when it is refused or both places are taken.
        @discardableResult
        public mutating func add(_ name: String, _ value: String) -> Bool {
            guard HTTPHeaders.isValidName(name), HTTPHeaders.isValidValue(value),
                  !Self.writtenByClient(name), second == nil else { return false }
            if first == nil { first = (name, value) } else { second = (name, value) }
            return true
        }

        public var isEmpty: Bool { first == nil }

        /// The fields in order.
        public var fields: [HTTPHeaders.Element] { [first, second].compactMap { $0 } }

        static func writtenByClient(_ name: String) -> Bool {
            HTTPSyntax.equalsIgnoringCase(name, "Host") || HTTPSyntax.equalsIgnoringCase(name, "Content-Length")
                || HTTPSyntax.equalsIgnoringCase(name, "Transfer-Encoding")
        }
    }
}
