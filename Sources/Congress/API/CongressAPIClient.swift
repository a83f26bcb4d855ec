import Foundation

/// How the live source talks to Congress.gov.
public struct CongressAPIConfiguration: Sendable {
    /// The API root, e.g. `https://api.congress.gov/v3` (tests point it at a local stub).
    public var baseURL: URL
    /// The key, sent in the `X-Api-Key` header.
    public var apiKey: CongressAPIKey
    /// Seconds one request (one attempt) may take, connection to last byte.
    public var requestTimeout: Double = 30
    /// The retry policy for 429, 5xx, connection failures and timeouts.
    public var retry = RetryPolicy()
    /// A response body larger than this is refused (a meeting document is a few kilobytes; a list
    /// page of 250 entries about 60 KiB).
    public var maximumBodySize = 4 << 20
    /// Requests allowed per `rateWindow` seconds (Congress.gov: 5,000 an hour).
    public var requestsPerWindow = 5_000
    /// The rate limit's window, in seconds.
    public var rateWindow: Double = 3_600
    /// Detail requests in flight at once.
    public var concurrency = 4
    /// The clock and the sleep (virtual in tests).
    public var timing = APITiming.system
    /// Uniform in [0, 1): the back-off jitter (fixed in tests).
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    /// The default API root.
    public static let defaultBaseURL = "https://api.congress.gov/v3"

    /// A configuration with the defaults: 30 s per request, 5 attempts, 4 in parallel, 5,000 an hour.
    public init(baseURL: URL, apiKey: CongressAPIKey) {
        self.baseURL = baseURL
        self.apiKey = apiKey
    }
}

/// Why a request failed for good. The text names the endpoint by its path relative to the API root
/// (never a host, query string or key).
public struct CongressAPIError: Error, LocalizedError, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// An HTTP status other than 200 (after the retries, for the retryable ones).
        case status(Int)
        /// Too many requests, and the server asked for a longer pause than the policy waits.
        case rateLimited(retryAfter: Double)
        /// No response within the timeout.
        case timedOut
        /// The connection failed.
        case connection(String)
        /// The response is not `application/json`.
        case contentType(String)
        /// The body is larger than allowed.
        case bodyTooLarge(limit: Int)
        /// The body is not a JSON object (truncated, HTML, empty …).
        case malformedJSON(String)
    }

    /// The endpoint, relative to the API root, e.g. `committee-meeting/119/house/117214`.
    public var endpoint: String
    public var reason: Reason
    /// The attempts made.
    public var attempts: Int

    /// An error from parts.
    public init(endpoint: String, reason: Reason, attempts: Int) {
        self.endpoint = endpoint
        self.reason = reason
        self.attempts = attempts
    }

    public var description: String {
        let what: String
        switch reason {
        case .status(let status): what = "HTTP \(status)"
        case .rateLimited(let seconds):
            what = "rate limited: the server asked to wait \(Int(seconds)) s, longer than the run waits"
        case .timedOut: what = "timed out"
        case .connection(let text): what = "connection failed: \(text)"
        case .contentType(let type): what = "not JSON: content type \"\(type.prefix(60))\""
        case .bodyTooLarge(let limit): what = "the response is larger than \(limit) bytes"
        case .malformedJSON(let text): what = "malformed JSON: \(text)"
        }
        return "GET \(endpoint): \(what)" + (attempts > 1 ? " (\(attempts) attempts)" : "")
    }

    public var errorDescription: String? { description }

    /// Whether another attempt may succeed.
    var isRetryable: Bool {
        switch reason {
        case .status(let status): return status == 429 || (500...599).contains(status)
        case .timedOut, .connection: return true
        case .rateLimited, .contentType, .bodyTooLarge, .malformedJSON: return false
        }
    }
}

/// What the client reports as it works, for the logs. Endpoints only (no host, query or key).
public enum CongressAPIEvent: Sendable, Equatable {
    /// A request failed and will be tried again after `delay` seconds.
    case retrying(endpoint: String, attempt: Int, problem: String, delay: Double)
    /// A request failed for good.
    case failed(endpoint: String, problem: String)
}

/// A polite, resilient Congress.gov client: every request waits for the rate limiter, honours 429 and
/// `Retry-After` (pausing every other request too), retries 5xx, connection failures and timeouts with
/// bounded exponential back-off and jitter, and checks the response (status 200, JSON content type,
/// size, a JSON object) before handing it over.
///
/// Errors and events name endpoints by path; the key travels only in a header and is redacted from
/// any text that could echo it.
public final class CongressAPIClient: Sendable {
    public let configuration: CongressAPIConfiguration
    private let transport: any HTTPTransport
    private let limiter: RateLimiter
    private let events: @Sendable (CongressAPIEvent) -> Void

    /// A client over `transport` (by default URLSession), reporting retries and failures to `events`.
    public init(
        _ configuration: CongressAPIConfiguration, transport: (any HTTPTransport)? = nil,
        events: @escaping @Sendable (CongressAPIEvent) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.transport = transport ?? URLSessionTransport()
        limiter = RateLimiter(
            limit: configuration.requestsPerWindow, window: configuration.rateWindow,
            timing: configuration.timing)
        self.events = events
    }

    /// Requests sent so far (every attempt counts: it is what the rate limit counts).
    public var requestsSent: Int {
        get async { await limiter.granted }
    }

    /// `GET <root>/<path>?format=json&<query>`: the body of a 200 response that is a JSON object.
    ///
    /// - Throws: ``CongressAPIError`` when the request fails for good; `CancellationError` when the
    ///   task is cancelled.
    public func getJSON(_ path: String, query: [(String, String)] = []) async throws -> Data {
        let endpoint = Self.endpoint(path, query: query)
        var components = URLComponents(
            url: configuration.baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        components?.queryItems = [URLQueryItem(name: "format", value: "json")] + query.map(URLQueryItem.init)
        guard let url = components?.url else {
            throw CongressAPIError(endpoint: endpoint, reason: .connection("invalid URL"), attempts: 0)
        }
        let headers = ["X-Api-Key": configuration.apiKey.value, "Accept": "application/json"]
        let policy = configuration.retry
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            try await limiter.acquire()
            var retryAfter: Double?
            let error: CongressAPIError
            do {
                let response = try await transport.get(
                    url, headers: headers, timeout: configuration.requestTimeout,
                    maximumBodySize: configuration.maximumBodySize)
                if response.status == 200 {
                    return try validated(response, endpoint: endpoint, attempt: attempt)
                }
                error = CongressAPIError(
                    endpoint: endpoint, reason: .status(response.status), attempts: attempt)
                if response.status == 429 || response.status == 503 {
                    retryAfter = RetryPolicy.retryAfter(response.headers["retry-after"])
                }
            } catch let failure as TransportError {
                switch failure {
                case .timedOut:
                    error = CongressAPIError(endpoint: endpoint, reason: .timedOut, attempts: attempt)
                case .connection(let text):
                    error = CongressAPIError(
                        endpoint: endpoint, reason: .connection(configuration.apiKey.redact(text)),
                        attempts: attempt)
                case .bodyTooLarge(let limit):
                    error = CongressAPIError(
                        endpoint: endpoint, reason: .bodyTooLarge(limit: limit), attempts: attempt)
                }
            }
            try Task.checkCancellation()
            guard error.isRetryable, attempt < policy.maximumAttempts else {
                events(.failed(endpoint: endpoint, problem: error.description))
                throw error
            }
            var delay = policy.backoff(retry: attempt, random: configuration.random())
            if let retryAfter {
                guard retryAfter <= policy.maximumRetryAfter else {
                    let refused = CongressAPIError(
                        endpoint: endpoint, reason: .rateLimited(retryAfter: retryAfter), attempts: attempt)
                    events(.failed(endpoint: endpoint, problem: refused.description))
                    throw refused
                }
                // The server's pause holds for every request of this client, not only this one.
                await limiter.pause(for: retryAfter)
                delay = retryAfter
            }
            events(.retrying(endpoint: endpoint, attempt: attempt, problem: error.description, delay: delay))
            try await configuration.timing.sleep(delay)
        }
    }

    /// The body of a 200 response if it is JSON: the content type says so and it parses to an object.
    private func validated(_ response: HTTPResponse, endpoint: String, attempt: Int) throws -> Data {
        let type = response.headers["content-type"] ?? ""
        let mediaType = type.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "application/json" || (mediaType?.hasSuffix("+json") ?? false) else {
            let error = CongressAPIError(
                endpoint: endpoint, reason: .contentType(configuration.apiKey.redact(type)), attempts: attempt
            )
            events(.failed(endpoint: endpoint, problem: error.description))
            throw error
        }
        let problem: String?
        do {
            let object = try JSONSerialization.jsonObject(with: response.body)
            problem = object is [String: Any] ? nil : "not a JSON object"
        } catch {
            problem = response.body.isEmpty ? "empty body" : "cannot parse \(response.body.count) bytes"
        }
        if let problem {
            let error = CongressAPIError(
                endpoint: endpoint, reason: .malformedJSON(problem), attempts: attempt)
            events(.failed(endpoint: endpoint, problem: error.description))
            throw error
        }
        return response.body
    }

    /// `path` with the query parameters that tell requests apart (`offset`), for messages.
    static func endpoint(_ path: String, query: [(String, String)]) -> String {
        let offset = query.first { $0.0 == "offset" }.map { " (offset \($0.1))" } ?? ""
        return path + offset
    }
}
