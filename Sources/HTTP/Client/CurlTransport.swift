#if canImport(Glibc)
import Glibc
#endif

/// Sends `https` requests through libcurl, loaded with `dlopen` the first time one is sent.
///
/// Why not URLSession: linking FoundationNetworking made every `mcpctl` command load libcurl and ~30 other
/// libraries at start-up (~11 ms of each CLI call, bench/README.md) although only the server's https
/// upstreams and client-metadata fetches use TLS. Here the CLI loads nothing of it, and the binary can
/// link the Swift runtime statically. libcurl (Debian `libcurl4`) comes with the Swift toolchain's own
/// dependencies; if it is missing, https requests fail with a message that says so and nothing else does.
///
/// The body is buffered whole (at most `HTTPClientRequest.responseLimit` bytes), redirects are not
/// followed, only https is spoken, and the request's timeout bounds the whole exchange. Easy handles are
/// kept for reuse so that keep-alive TLS connections survive between requests.
final class CurlTransport: @unchecked Sendable {
    private let lock = Guarded<Void>()
    private var idle: [OpaquePointer] = []  // guarded by `lock`
    private static let maxIdle = 32
    /// A CA bundle to trust instead of the system's (PEM file), from `MCPCTL_CA_BUNDLE` when this transport
    /// (its HTTPClient) was made: for upstreams and client-metadata hosts with certificates from a private
    /// CA. A copy (libcurl keeps the pointer), since the environment may change later.
    private let caBundle: UnsafeMutablePointer<CChar>? =
        getenv("MCPCTL_CA_BUNDLE").flatMap { $0.pointee == 0 ? nil : strdup($0) }

    deinit {
        free(caBundle)
        guard case .success(let curl) = CurlTransport.library else { return }
        for handle in idle { curl.cleanup(handle) }
    }

    func send(_ request: HTTPClientRequest) throws(HTTPClientError) -> (Int, HTTPHeaders, [UInt8]) {
        let curl = try CurlTransport.library.get()
        // A pinned address must not stay in a reused handle's DNS cache: such requests get a handle of their own.
        let pooled = request.connectTo == nil ? lock.withLock { idle.popLast() } : nil
        guard let handle = pooled ?? curl.initHandle() else { throw .connectionFailed("libcurl could not start a request") }
        var reusable = false
        defer {
            let kept = reusable && request.connectTo == nil && lock.withLock { () -> Bool in
                guard idle.count < CurlTransport.maxIdle else { return false }
                idle.append(handle)
                return true
            }
            if !kept { curl.cleanup(handle) }
        }

        let sink = Sink(limit: request.responseLimit)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        var headerList: OpaquePointer?
        var resolveList: OpaquePointer?
        defer {
            if let headerList { curl.slistFree(headerList) }
            if let resolveList { curl.slistFree(resolveList) }
        }
        for field in request.headers where !HTTPSyntax.equalsIgnoringCase(field.name, "Content-Length") {
            headerList = curl.slistAppend(headerList, "\(field.name): \(field.value)")
        }
        // No `Expect: 100-continue` round trip before a body.
        headerList = curl.slistAppend(headerList, "Expect:")
        if let address = request.connectTo, let entry = CurlTransport.resolveEntry(host: request.url.host ?? "", port: request.url.port ?? 443,
                                                                                  address: address) {
            resolveList = curl.slistAppend(nil, entry)
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 256)  // CURL_ERROR_SIZE
        defer { errorBuffer.deallocate() }
        errorBuffer.initialize(to: 0)

        // libcurl copies the strings it is given; the lists, the body and the buffer must outlive perform,
        // and `reset` afterwards drops every pointer to them (the handle keeps only its connections).
        let (code, status): (Int32, Int) = request.url.absoluteString.withCString { url in
            request.method.withCString { method in
                request.body.withUnsafeBytes { body -> (Int32, Int) in
                    var rc: Int32 = 0
                    func long(_ option: Int32, _ value: Int) { if rc == 0 { rc = curl.setLong(handle, option, value) } }
                    func pointer(_ option: Int32, _ value: UnsafeRawPointer?) { if rc == 0 { rc = curl.setPointer(handle, option, value) } }
                    pointer(Option.url, UnsafeRawPointer(url))
                    long(Option.protocols, Option.protocolHTTPS)         // https only, here and on any redirect
                    long(Option.followLocation, 0)                        // CIMD §4: redirects are not followed
                    long(Option.noSignal, 1)                              // threads: no SIGALRM-based DNS timeouts
                    long(Option.httpVersion, Option.httpVersion1_1)
                    let millis = max(1, Int(request.timeout * 1000))
                    long(Option.timeoutMillis, millis)
                    long(Option.connectTimeoutMillis, millis)
                    pointer(Option.errorBuffer, UnsafeRawPointer(errorBuffer))
                    pointer(Option.writeFunction, unsafeBitCast(CurlTransport.write, to: UnsafeRawPointer.self))
                    pointer(Option.writeData, UnsafeRawPointer(box.toOpaque()))
                    pointer(Option.headerFunction, unsafeBitCast(CurlTransport.header, to: UnsafeRawPointer.self))
                    pointer(Option.headerData, UnsafeRawPointer(box.toOpaque()))
                    pointer(Option.httpHeader, headerList.map { UnsafeRawPointer($0) })
                    if let caBundle { pointer(Option.caInfo, UnsafeRawPointer(caBundle)) }
                    if let resolveList { pointer(Option.resolve, UnsafeRawPointer(resolveList)) }
                    switch request.method {
                    case "GET": long(Option.httpGet, 1)
                    case "HEAD": long(Option.noBody, 1)
                    default:
                        if request.method != "POST" { pointer(Option.customRequest, UnsafeRawPointer(method)) }
                        long(Option.post, 1)
                        long(Option.postFieldSize, body.count)
                        // Never nil, even for an empty body: with no POSTFIELDS libcurl would read the body from stdin.
                        pointer(Option.postFields, body.baseAddress ?? UnsafeRawPointer(CurlTransport.emptyBody))
                    }
                    if rc == 0 { rc = curl.perform(handle) }
                    var status = 0
                    if rc == 0 { _ = curl.getLong(handle, Option.infoResponseCode, &status) }
                    curl.reset(handle)
                    return (rc, status)
                }
            }
        }
        if sink.tooLarge, let limit = request.responseLimit { throw .bodyTooLarge(limit: limit) }
        guard code == 0 else {
            let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : curl.describe(code)
            throw code == Option.errorTimedOut ? .timedOut : .connectionFailed(detail)
        }
        reusable = true
        return (status, sink.headers, sink.body)
    }

    /// The `CURLOPT_RESOLVE` entry that pins `host` to `address`: `HOST:PORT:ADDRESS`, an IPv6 ADDRESS in
    /// brackets (libcurl ≥ 7.57.0). Nil when the URL's host is itself an IP literal: nothing is resolved
    /// then, so there is nothing to pin, and libcurl before 8.13.0 cannot parse an IPv6 HOST there.
    static func resolveEntry(host: String, port: Int, address: String) -> String? {
        let isIPv4Literal = !host.isEmpty && host.utf8.allSatisfy { $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) }
        guard !host.isEmpty, !host.contains(":"), !host.hasPrefix("["), !isIPv4Literal else { return nil }
        let bare = address.hasPrefix("[") && address.hasSuffix("]") ? String(address.dropFirst().dropLast()) : address
        return "\(host):\(port):" + (bare.contains(":") ? "[\(bare)]" : bare)
    }

    // MARK: Callbacks

    /// What one exchange received.
    private final class Sink {
        let limit: Int?
        var body: [UInt8] = []
        var headers = HTTPHeaders()
        var tooLarge = false
        init(limit: Int?) { self.limit = limit }
    }

    private static let write: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, user in
        guard let data, let user else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
        let n = size * count
        if let limit = sink.limit, sink.body.count + n > limit {
            sink.tooLarge = true
            return 0  // makes libcurl stop with CURLE_WRITE_ERROR
        }
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
        return n
    }

    private static let header: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, user in
        guard let data, let user else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
        let n = size * count
        let line = UnsafeRawBufferPointer(start: data, count: n)
        if line.starts(with: "HTTP/".utf8) {
            sink.headers = HTTPHeaders()  // a new status line (after 1xx): only the final response's fields count
            return n
        }
        guard let colon = line.firstIndex(of: HTTPSyntax.colon) else { return n }
        var end = n
        while end > colon + 1, HTTPSyntax.isWhitespace(line[end - 1]) || line[end - 1] == HTTPSyntax.cr || line[end - 1] == HTTPSyntax.lf {
            end -= 1
        }
        var start = colon + 1
        while start < end, HTTPSyntax.isWhitespace(line[start]) { start += 1 }
        // `add` refuses names and values that are not valid header syntax.
        sink.headers.add(HTTPSyntax.string(line[0..<colon]), HTTPSyntax.string(line[start..<end]))
        return n
    }

    // MARK: The library


    nonisolated(unsafe) private static let emptyBody = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    /// libcurl's entry points, looked up once.
    static let library: Result<Library, HTTPClientError> = Library.load()

    struct Library: @unchecked Sendable {
        typealias SetLong = @convention(c) (OpaquePointer, Int32, Int) -> Int32
        typealias SetPointer = @convention(c) (OpaquePointer, Int32, UnsafeRawPointer?) -> Int32
        typealias GetLong = @convention(c) (OpaquePointer, Int32, UnsafeMutablePointer<Int>) -> Int32

        let initHandle: @convention(c) () -> OpaquePointer?
        let cleanup: @convention(c) (OpaquePointer) -> Void
        let reset: @convention(c) (OpaquePointer) -> Void
        let perform: @convention(c) (OpaquePointer) -> Int32
        // curl_easy_setopt and curl_easy_getinfo are variadic in C; on the Linux x86-64 and AArch64 ABIs an
        // integer or pointer argument is passed the same way to a variadic and to a fixed-argument function.
        let setLong: SetLong
        let setPointer: SetPointer
        let getLong: GetLong
        let slistAppendC: @convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> OpaquePointer?
        let slistFree: @convention(c) (OpaquePointer) -> Void
        let strerror: @convention(c) (Int32) -> UnsafePointer<CChar>?

        func slistAppend(_ list: OpaquePointer?, _ line: String) -> OpaquePointer? {
            line.withCString { slistAppendC(list, $0) } ?? list
        }

        func describe(_ code: Int32) -> String {
            strerror(code).map { String(cString: $0) } ?? "libcurl error \(code)"
        }

        static func load() -> Result<Library, HTTPClientError> {
            guard let lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL) ?? dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL) else {
                return .failure(.connectionFailed("https needs libcurl, which is not installed (Debian: apt-get install libcurl4)"))
            }
            func symbol<T>(_ name: String, as type: T.Type) -> T? {
                dlsym(lib, name).map { unsafeBitCast($0, to: type) }
            }
            guard let globalInit = symbol("curl_global_init", as: (@convention(c) (Int) -> Int32).self),
                  let initHandle = symbol("curl_easy_init", as: (@convention(c) () -> OpaquePointer?).self),
                  let cleanup = symbol("curl_easy_cleanup", as: (@convention(c) (OpaquePointer) -> Void).self),
                  let reset = symbol("curl_easy_reset", as: (@convention(c) (OpaquePointer) -> Void).self),
                  let perform = symbol("curl_easy_perform", as: (@convention(c) (OpaquePointer) -> Int32).self),
                  let setLong = symbol("curl_easy_setopt", as: SetLong.self),
                  let setPointer = symbol("curl_easy_setopt", as: SetPointer.self),
                  let getLong = symbol("curl_easy_getinfo", as: GetLong.self),
                  let slistAppend = symbol("curl_slist_append", as: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> OpaquePointer?).self),
                  let slistFree = symbol("curl_slist_free_all", as: (@convention(c) (OpaquePointer) -> Void).self),
                  let strerror = symbol("curl_easy_strerror", as: (@convention(c) (Int32) -> UnsafePointer<CChar>?).self)
            else {
                return .failure(.connectionFailed("the installed libcurl lacks a needed function"))
            }
            // Once, before any handle exists (Swift runs this initializer exactly once, thread-safely).
            guard globalInit(Option.globalAll) == 0 else { return .failure(.connectionFailed("libcurl failed to initialize")) }
            return .success(Library(initHandle: initHandle, cleanup: cleanup, reset: reset, perform: perform, setLong: setLong,
                                    setPointer: setPointer, getLong: getLong, slistAppendC: slistAppend, slistFree: slistFree,
                                    strerror: strerror))
        }
    }

    /// The libcurl constants used here (curl/curl.h of libcurl 7.88; stable across 7.x and 8.x).
    enum Option {
        static let writeData: Int32 = 10_001
        static let url: Int32 = 10_002
        static let errorBuffer: Int32 = 10_010
        static let postFields: Int32 = 10_015
        static let httpHeader: Int32 = 10_023
        static let headerData: Int32 = 10_029
        static let customRequest: Int32 = 10_036
        static let caInfo: Int32 = 10_065
        static let resolve: Int32 = 10_203
        static let writeFunction: Int32 = 20_011
        static let headerFunction: Int32 = 20_079
        static let noBody: Int32 = 44
        static let post: Int32 = 47
        static let followLocation: Int32 = 52
        static let postFieldSize: Int32 = 60
        static let httpGet: Int32 = 80
        static let httpVersion: Int32 = 84
        static let noSignal: Int32 = 99
        static let timeoutMillis: Int32 = 155
        static let connectTimeoutMillis: Int32 = 156
        static let protocols: Int32 = 181
        static let protocolHTTPS = 1 << 1
        static let httpVersion1_1 = 2
        static let infoResponseCode: Int32 = 0x200000 + 2
        static let errorTimedOut: Int32 = 28
        static let globalAll = 3
    }
}
