import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP response: status, headers (names lower-cased) and the body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    /// A response from parts; header names are lower-cased.
    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        self.body = body
    }
}

/// Why a request got no HTTP response. Messages never carry a URL.
public enum TransportError: Error, Sendable, Equatable {
    /// No complete response within the request's timeout.
    case timedOut
    /// The connection failed or was reset (the text is the system's, without the URL).
    case connection(String)
    /// The body grew beyond the allowed size; the transfer was stopped.
    case bodyTooLarge(limit: Int)
}

/// Sends GET requests. The seam between the client's policy (rate limit, retries, validation) and the
/// network: production uses ``URLSessionTransport``; unit tests substitute scripted responses.
public protocol HTTPTransport: Sendable {
    /// Sends `GET url` with `headers`; a response of any status is returned, a missing one throws a
    /// ``TransportError``. The transfer stops after `timeout` seconds or `maximumBodySize` bytes.
    func get(_ url: URL, headers: [String: String], timeout: Double, maximumBodySize: Int) async throws
        -> HTTPResponse
}

/// ``HTTPTransport`` over Foundation's `URLSession` (FoundationNetworking on Linux).
///
/// A data delegate receives the body piece by piece so that an over-large body is cut off at the limit
/// instead of being buffered whole; a watchdog cancels a transfer that outlives its timeout even when
/// data trickles in (URLSession's own timeout counts only idle time).
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let delegate: Delegate

    /// A transport with its own session: no cookies, no cache, no credential store.
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        delegate = Delegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    deinit { session.invalidateAndCancel() }

    public func get(_ url: URL, headers: [String: String], timeout: Double, maximumBodySize: Int) async throws
        -> HTTPResponse
    {
        var request = URLRequest(
            url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "GET"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let task = session.dataTask(with: request)
        let delegate = self.delegate
        // A Dispatch timer, not a task: it must fire even when every thread of the cooperative pool is
        // busy. Firing after the transfer ended does nothing.
        let watchdog = DispatchWorkItem { delegate.fail(task, with: .timedOut) }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0.001, timeout), execute: watchdog)
        defer { watchdog.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                delegate.register(task, limit: maximumBodySize, continuation: continuation)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// Routes the session's callbacks to the waiting requests.
    ///
    /// `@unchecked Sendable`: URLSession calls it on its own queue while requests register from tasks;
    /// every access to `pending` holds `lock`.
    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        private struct Pending {
            var continuation: CheckedContinuation<HTTPResponse, any Error>
            var limit: Int
            var body = Data()
            var response: HTTPURLResponse?
            /// Set when the transfer was stopped on purpose: the error to report instead of "cancelled".
            var failure: TransportError?
        }

        private let lock = NSLock()
        private var pending: [Int: Pending] = [:]

        func register(
            _ task: URLSessionTask, limit: Int, continuation: CheckedContinuation<HTTPResponse, any Error>
        ) {
            lock.lock()
            pending[task.taskIdentifier] = Pending(continuation: continuation, limit: limit)
            lock.unlock()
        }

        /// Stops `task`, reporting `error` for it (if it is still running).
        func fail(_ task: URLSessionTask, with error: TransportError) {
            lock.lock()
            let running = pending[task.taskIdentifier] != nil
            if running, pending[task.taskIdentifier]?.failure == nil {
                pending[task.taskIdentifier]?.failure = error
            }
            lock.unlock()
            if running { task.cancel() }
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            lock.lock()
            let limit = pending[dataTask.taskIdentifier]?.limit ?? 0
            pending[dataTask.taskIdentifier]?.response = response as? HTTPURLResponse
            lock.unlock()
            // A declared length over the limit is refused before any of the body is read.
            if response.expectedContentLength > Int64(limit) {
                fail(dataTask, with: .bodyTooLarge(limit: limit))
                completionHandler(.cancel)
                return
            }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            lock.lock()
            var over = false
            if var entry = pending[dataTask.taskIdentifier], entry.failure == nil {
                if entry.body.count + data.count > entry.limit {
                    over = true
                } else {
                    entry.body.append(data)
                    pending[dataTask.taskIdentifier] = entry
                }
            }
            let limit = pending[dataTask.taskIdentifier]?.limit ?? 0
            lock.unlock()
            if over { fail(dataTask, with: .bodyTooLarge(limit: limit)) }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?)
        {
            lock.lock()
            let entry = pending.removeValue(forKey: task.taskIdentifier)
            lock.unlock()
            guard let entry else { return }
            if let failure = entry.failure {
                entry.continuation.resume(throwing: failure)
            } else if let error {
                entry.continuation.resume(throwing: Self.transportError(error))
            } else if let response = entry.response {
                var headers: [String: String] = [:]
                for (name, value) in response.allHeaderFields {
                    if let name = name as? String, let value = value as? String { headers[name] = value }
                }
                entry.continuation.resume(
                    returning: HTTPResponse(status: response.statusCode, headers: headers, body: entry.body))
            } else {
                entry.continuation.resume(throwing: TransportError.connection("no HTTP response"))
            }
        }

        /// The system error as a ``TransportError``, its text without the URL.
        private static func transportError(_ error: any Error) -> TransportError {
            guard let error = error as? URLError else { return .connection("\(type(of: error))") }
            switch error.code {
            case .timedOut: return .timedOut
            case .cancelled: return .connection("cancelled")
            case .networkConnectionLost: return .connection("connection lost")
            case .cannotConnectToHost: return .connection("cannot connect to host")
            case .cannotFindHost, .dnsLookupFailed: return .connection("cannot find host")
            case .notConnectedToInternet: return .connection("not connected to the network")
            case .badServerResponse: return .connection("bad server response")
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
                return .connection("TLS failure (\(error.code.rawValue))")
            default: return .connection("URL error \(error.code.rawValue)")
            }
        }
    }
}
