import Foundation

/// The clock and the sleep the API client waits with: the system's in production, a virtual one in
/// tests (so a test of a one-hour rate limit or a `Retry-After` takes no real time).
public struct APITiming: Sendable {
    /// A monotonic time in seconds (only differences matter).
    public var now: @Sendable () -> Double
    /// Waits `seconds` (at least); throws when the task is cancelled.
    public var sleep: @Sendable (_ seconds: Double) async throws -> Void

    /// Timing from parts.
    public init(
        now: @escaping @Sendable () -> Double,
        sleep: @escaping @Sendable (_ seconds: Double) async throws -> Void
    ) {
        self.now = now
        self.sleep = sleep
    }

    /// The system's monotonic clock and `Task.sleep`.
    public static let system = APITiming(
        now: { ProcessInfo.processInfo.systemUptime },
        sleep: { seconds in
            guard seconds > 0 else { return }
            try await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1_000_000_000))
        })
}

/// A sliding-window rate limiter: at most `limit` requests in any `window` seconds, and none while a
/// server-imposed pause (`429 Too Many Requests` with `Retry-After`) lasts.
///
/// A sliding window (the times of the last `limit` grants) rather than a token bucket: Congress.gov
/// counts 5,000 requests per rolling hour, and a daily run of a few hundred requests should go at full
/// speed, which a bucket refilling at 5,000/3,600 per second would not allow without also allowing
/// more than 5,000 in some hour. Shared by every concurrent request of a client.
public actor RateLimiter {
    /// The most requests granted in any window.
    public let limit: Int
    /// The window, in seconds.
    public let window: Double
    private let timing: APITiming
    /// Grant times, oldest first; never more than `limit`.
    private var grants: [Double] = []
    private var pausedUntil = -Double.infinity
    /// Requests granted so far.
    public private(set) var granted = 0

    /// A limiter granting `limit` requests per `window` seconds (Congress.gov: 5,000 per 3,600).
    public init(limit: Int = 5_000, window: Double = 3_600, timing: APITiming = .system) {
        self.limit = max(1, limit)
        self.window = window
        self.timing = timing
    }

    /// Waits until a request may be sent, and counts it.
    public func acquire() async throws {
        while true {
            let now = timing.now()
            while let first = grants.first, first <= now - window { grants.removeFirst() }
            var wait = pausedUntil - now
            if grants.count >= limit, let first = grants.first { wait = max(wait, first + window - now) }
            if wait <= 0 {
                grants.append(now)
                granted += 1
                return
            }
            // Another caller may take the slot while this one sleeps: the loop checks again.
            try await timing.sleep(wait)
        }
    }

    /// Holds every request back for `seconds` from now (a server's `Retry-After`).
    public func pause(for seconds: Double) {
        pausedUntil = max(pausedUntil, timing.now() + seconds)
    }
}

/// When to try a failed request again: bounded exponential back-off with full jitter, and the server's
/// `Retry-After` for 429 and 503.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maximumAttempts: Int
    /// The back-off ceiling before the first retry, in seconds; it doubles with every retry.
    public var baseDelay: Double
    /// No back-off is longer than this.
    public var maximumDelay: Double
    /// A `Retry-After` longer than this is not waited for: the request fails (a cron run should not
    /// hang for an hour; the next run picks the meetings up again).
    public var maximumRetryAfter: Double

    /// A policy from parts (defaults: 5 attempts, 1 s doubling to at most 30 s, `Retry-After` up to 5 min).
    public init(
        maximumAttempts: Int = 5, baseDelay: Double = 1, maximumDelay: Double = 30,
        maximumRetryAfter: Double = 300
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// The wait before retry number `retry` (1 for the first retry): "full jitter", a uniformly random
    /// time up to the exponential ceiling, so parallel requests that failed together do not retry in
    /// step. `random` is uniform in [0, 1).
    public func backoff(retry: Int, random: Double) -> Double {
        let ceiling = min(maximumDelay, baseDelay * pow(2, Double(max(0, retry - 1))))
        return ceiling * min(max(random, 0), 1)
    }

    /// The seconds a `Retry-After` header value asks for: delta-seconds (`120`) or an HTTP date
    /// (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`). Nil when absent or unreadable.
    public static func retryAfter(_ value: String?, now: Date = Date()) -> Double? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
