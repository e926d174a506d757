import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Sends `https` requests through URLSession, which brings TLS; the body is buffered whole, and
/// the request's timeout bounds the whole exchange.
final class URLSessionTransport: Sendable {
    private let session = Mutex<URLSession?>(nil)

    deinit {
        session.withLock { $0?.finishTasksAndInvalidate() }
    }

    func send(_ request: HTTPClientRequest) throws(HTTPClientError) -> (Int, HTTPHeaders, [UInt8]) {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        for field in request.headers {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name)
        }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }

        let outcome = Mutex<Result<(Int, HTTPHeaders, [UInt8]), HTTPClientError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = currentSession().dataTask(with: urlRequest) { data, response, error in
            let result: Result<(Int, HTTPHeaders, [UInt8]), HTTPClientError>
            if let error {
                let code = (error as NSError).code
                result = .failure(code == NSURLErrorTimedOut ? .timedOut : .connectionFailed(error.localizedDescription))
            } else if let response = response as? HTTPURLResponse {
                var headers = HTTPHeaders()
                for (name, value) in response.allHeaderFields {
                    headers.add(String(describing: name), String(describing: value))
                }
                result = .success((response.statusCode, headers, data.map { [UInt8]($0) } ?? []))
            } else {
                result = .failure(.malformedResponse("not an HTTP response"))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        task.resume()
        // URLSession's own timeout is an inactivity timer that FoundationNetworking does not always
        // honour, so the wait itself is bounded too.
        guard done.wait(timeout: .now() + max(request.timeout, 0.001)) == .success else {
            task.cancel()
            throw .timedOut
        }
        return try outcome.withLock { $0! }.get()
    }

    private func currentSession() -> URLSession {
        session.withLock { session in
            if let session { return session }
            let created = URLSession(configuration: .ephemeral)
            session = created
            return created
        }
    }
}
