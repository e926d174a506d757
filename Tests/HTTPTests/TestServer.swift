import Foundation
import HTTP

/// Starts an `HTTPServer` on an ephemeral loopback port for one test and shuts it down after.
func withServer<Result>(
    configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
    _ body: (HTTPServer, Int) throws -> Result
) throws -> Result {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    let port = try server.start()
    defer { server.shutdown(gracePeriod: 2) }
    return try body(server, port)
}

/// A handler that answers every request with its method, path and body.
let echoHandler: @Sendable (HTTPRequest) -> HTTPResponse = { request in
    HTTPResponse.text("\(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))")
}

func url(_ port: Int, _ path: String = "/") -> URL {
    URL(string: "http://127.0.0.1:\(port)\(path)")!
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
