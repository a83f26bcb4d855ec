import Foundation
import Testing

@testable import Congress

// MARK: - Test doubles

/// Virtual time: `sleep` advances the clock at once and records the wait.
final class VirtualTime: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var time = 0.0
    private var waits: [Double] = []

    var now: Double { lock.withLock { time } }
    var sleeps: [Double] { lock.withLock { waits } }

    var timing: APITiming {
        APITiming(
            now: { self.now },
            sleep: { seconds in
                self.lock.withLock {
                    self.waits.append(seconds)
                    self.time += max(0, seconds)
                }
            })
    }
}

/// A transport answering from a script, one answer per request, recording what was asked.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    enum Answer {
        case response(HTTPResponse)
        case failure(TransportError)
    }

    private let lock = NSLock()
    private var script: [Answer]
    private var fallback: (URL) -> Answer
    private(set) var requests: [(url: URL, headers: [String: String])] = []

    init(_ script: [Answer], fallback: @escaping (URL) -> Answer = { _ in .response(.json("{}")) }) {
        self.script = script
        self.fallback = fallback
    }

    var urls: [URL] { lock.withLock { requests.map(\.url) } }

    func get(_ url: URL, headers: [String: String], timeout: Double, maximumBodySize: Int) async throws
        -> HTTPResponse
    {
        let answer = lock.withLock {
            requests.append((url, headers))
            return script.isEmpty ? fallback(url) : script.removeFirst()
        }
        switch answer {
        case .response(let response): return response
        case .failure(let error): throw error
        }
    }
}

extension HTTPResponse {
    static func json(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "application/json; charset=utf-8"],
            body: Data(text.utf8))
    }
}

let testKey = CongressAPIKey("s3cr3t-KEY-value")!

func client(
    _ transport: ScriptedTransport, time: VirtualTime,
    configure: (inout CongressAPIConfiguration) -> Void = { _ in },
    events: @escaping @Sendable (CongressAPIEvent) -> Void = { _ in }
) -> CongressAPIClient {
    var configuration = CongressAPIConfiguration(
        baseURL: URL(string: "https://api.example/v3")!, apiKey: testKey)
    configuration.timing = time.timing
    configuration.random = { 0.5 }
    configure(&configuration)
    return CongressAPIClient(configuration, transport: transport, events: events)
}

/// Collects events from any thread.
final class EventLog: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var list: [CongressAPIEvent] = []
    var events: [CongressAPIEvent] { lock.withLock { list } }
    func add(_ event: CongressAPIEvent) { lock.withLock { list.append(event) } }
}

// MARK: - Tests

@Suite struct CongressAPIClientTests {
    @Test func theKeyIsReadFromTheEnvironmentWithQuotesStripped() {
        #expect(CongressAPIKey.fromEnvironment(["CONGRESS_API_KEY": "\"abc\""])?.value == "abc")
        #expect(CongressAPIKey.fromEnvironment(["CONGRESS_API_KEY": " 'abc' \n"])?.value == "abc")
        #expect(CongressAPIKey.fromEnvironment(["API_KEY": "xyz"])?.value == "xyz")
        #expect(CongressAPIKey.fromEnvironment(["CONGRESS_API_KEY": "a", "API_KEY": "b"])?.value == "a")
        #expect(CongressAPIKey.fromEnvironment(["CONGRESS_API_KEY": "\"\"", "API_KEY": " "]) == nil)
        #expect(CongressAPIKey.fromEnvironment([:]) == nil)
        #expect("\(testKey)" == "<redacted>")
        #expect(
            testKey.redact("GET https://h/v3/x?api_key=s3cr3t-KEY-value&offset=2 said s3cr3t-KEY-value")
                == "GET https://h/v3/x said REDACTED")
    }

    @Test func theWindowIsFormattedAsTheAPIWantsIt() {
        let end = Date(timeIntervalSince1970: 1_759_384_800.75)  // 2025-10-02T06:00:00.75Z
        let parameters = CongressAPISource.windowParameters(
            from: end.addingTimeInterval(-7 * 86_400), to: end)
        #expect(parameters.map(\.0) == ["fromDateTime", "toDateTime"])
        #expect(parameters.map(\.1) == ["2025-09-25T06:00:00Z", "2025-10-02T06:00:00Z"])
    }

    @Test func aCommitteeDetailBecomesAListEntry() throws {
        // The OpenAPI CommitteeDetail: no name or chamber of its own.
        let json = """
            {"committee": {"history": [
                {"endDate": "2023-01-03T05:00:00Z", "libraryOfCongressName": "Old Name", "officialName": "Old"},
                {"libraryOfCongressName": "Interior, Environment, and Related Agencies Subcommittee",
                 "officialName": "Subcommittee on Interior, Environment, and Related Agencies"}],
              "isCurrent": true, "systemCode": "hsap06", "type": "Subcommittee",
              "parent": {"name": "Appropriations Committee", "systemCode": "hsap00"},
              "updateDate": "2025-10-01T20:06:23Z"},
             "request": {"chamber": "house", "committeeCode": "hsap06", "format": "json"}}
            """
        let item = CommitteeListItem(try CommitteeDetailResponse.decode(from: Data(json.utf8), source: "t"))
        #expect(item.name == "Interior, Environment, and Related Agencies Subcommittee")
        #expect(item.chamber == "house")
        #expect(item.url == "https://api.congress.gov/v3/committee/house/hsap06?format=json")
        let mapped = try MappedCommittee(item, congress: 119)
        #expect(mapped.chamber == "House")
        #expect(mapped.type == "Subcommittee")
        #expect(mapped.parentSystemCode == "hsap00")
        // Without a request echo the chamber comes from the code.
        let bare = CommitteeListItem(
            CommitteeDetailResponse(committee: CommitteeDetail(systemCode: "jslc00", type: "Joint")))
        #expect(bare.chamber == "Joint")
        #expect(bare.name == nil)
    }

    @Test func theRateLimiterAllowsAtMostTheLimitInAnyWindow() async throws {
        let time = VirtualTime()
        let limiter = RateLimiter(limit: 3, window: 10, timing: time.timing)
        var granted: [Double] = []
        for _ in 0..<7 {
            try await limiter.acquire()
            granted.append(time.now)
        }
        #expect(granted == [0, 0, 0, 10, 10, 10, 20])
        #expect(await limiter.granted == 7)
        // A server's pause holds every request back.
        await limiter.pause(for: 30)
        try await limiter.acquire()
        #expect(time.now == 50)
    }

    @Test func fiveThousandAnHourAtFullSpeedThenWaits() async throws {
        let time = VirtualTime()
        let limiter = RateLimiter(timing: time.timing)
        for _ in 0..<5_000 { try await limiter.acquire() }
        #expect(time.now == 0, "a run under the limit is never slowed")
        try await limiter.acquire()
        #expect(time.now == 3_600)
    }

    @Test func backoffIsExponentialBoundedAndJittered() {
        let policy = RetryPolicy(maximumAttempts: 5, baseDelay: 1, maximumDelay: 30)
        #expect(
            (1...6).map { policy.backoff(retry: $0, random: 0.999_999) }.map { $0.rounded() } == [
                1, 2, 4, 8, 16, 30,
            ])
        #expect(policy.backoff(retry: 3, random: 0) == 0)
        #expect(policy.backoff(retry: 3, random: 0.5) == 2)
        #expect(RetryPolicy.retryAfter("7") == 7)
        #expect(RetryPolicy.retryAfter(" 0 ") == 0)
        #expect(RetryPolicy.retryAfter("soon") == nil)
        #expect(RetryPolicy.retryAfter(nil) == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_450)  // 2015-10-21T07:27:30Z
        #expect(RetryPolicy.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == 30)
    }

    @Test func fiveHundredsAreRetriedThenSucceed() async throws {
        let time = VirtualTime()
        let transport = ScriptedTransport([
            .response(.json("{}", status: 500)), .failure(.timedOut),
            .failure(.connection("connection reset")),
            .response(.json("{\"ok\": true}")),
        ])
        let log = EventLog()
        let api = client(transport, time: time, events: { log.add($0) })
        let data = try await api.getJSON("committee-meeting/119/house/1")
        #expect(String(decoding: data, as: UTF8.self) == "{\"ok\": true}")
        #expect(transport.urls.count == 4)
        #expect(await api.requestsSent == 4)
        // random 0.5: half of 1, 2, 4 s.
        #expect(time.sleeps == [0.5, 1, 2])
        #expect(log.events.count == 3)
        // The key goes in a header, never in the URL.
        #expect(transport.urls.allSatisfy { !$0.absoluteString.contains(testKey.value) })
        #expect(transport.requests.allSatisfy { $0.headers["X-Api-Key"] == testKey.value })
        #expect(
            transport.urls.first?.absoluteString
                == "https://api.example/v3/committee-meeting/119/house/1?format=json")
    }

    @Test func retriesAreBounded() async throws {
        let time = VirtualTime()
        let transport = ScriptedTransport([], fallback: { _ in .response(.json("{}", status: 503)) })
        let api = client(transport, time: time) {
            $0.retry = RetryPolicy(maximumAttempts: 4, baseDelay: 1, maximumDelay: 3)
        }
        let error = await #expect(throws: CongressAPIError.self) { try await api.getJSON("x") }
        #expect(error?.reason == .status(503))
        #expect(error?.attempts == 4)
        #expect(transport.urls.count == 4)
        #expect(time.sleeps == [0.5, 1, 1.5])
    }

    @Test func a429WaitsForRetryAfter() async throws {
        let time = VirtualTime()
        let limited = HTTPResponse(status: 429, headers: ["Retry-After": "7"], body: Data())
        let transport = ScriptedTransport([.response(limited), .response(.json("{}"))])
        let api = client(transport, time: time)
        _ = try await api.getJSON("x")
        #expect(time.now >= 7)
        #expect(transport.urls.count == 2)
        // A pause longer than the policy waits fails the request at once.
        let long = ScriptedTransport([
            .response(HTTPResponse(status: 429, headers: ["Retry-After": "3600"], body: Data()))
        ])
        let error = await #expect(throws: CongressAPIError.self) {
            try await client(long, time: VirtualTime()).getJSON("x")
        }
        #expect(error?.reason == .rateLimited(retryAfter: 3600))
        #expect(long.urls.count == 1)
    }

    @Test(arguments: [
        (HTTPResponse.json("{}", status: 404), CongressAPIError.Reason.status(404)),
        (HTTPResponse.json("{}", status: 403), .status(403)),
        (
            HTTPResponse(status: 200, headers: ["Content-Type": "text/html"], body: Data("<html>".utf8)),
            .contentType("text/html")
        ),
        (
            HTTPResponse.json("{\"committeeMeeting\": {\"eventId\": \"1"),
            .malformedJSON("cannot parse 35 bytes")
        ),
        (HTTPResponse.json("[1, 2]"), .malformedJSON("not a JSON object")),
        (HTTPResponse.json(""), .malformedJSON("empty body")),
    ])
    func badAnswersFailTheirRequestOnlyWithoutRetry(answer: HTTPResponse, reason: CongressAPIError.Reason)
        async throws
    {
        let transport = ScriptedTransport([.response(answer)])
        let error = await #expect(throws: CongressAPIError.self) {
            try await client(transport, time: VirtualTime()).getJSON("committee-meeting/119/house/7")
        }
        #expect(error?.reason == reason)
        #expect(transport.urls.count == 1)
        #expect(error?.description.hasPrefix("GET committee-meeting/119/house/7: ") == true)
    }

    @Test func errorTextsNeverCarryTheKey() async throws {
        let transport = ScriptedTransport([
            .failure(.connection("reset by https://api.example/v3/x?api_key=\(testKey.value)"))
        ])
        let log = EventLog()
        let api = client(
            transport, time: VirtualTime(), configure: { $0.retry.maximumAttempts = 1 },
            events: { log.add($0) })
        let error = await #expect(throws: CongressAPIError.self) { try await api.getJSON("x") }
        #expect(!"\(String(describing: error))".contains(testKey.value))
        #expect(!"\(log.events)".contains(testKey.value))
    }

    @Test func pagesAreFollowedToTheEndAndDetailsFetchedInParallel() async throws {
        // Three pages of house meetings (the offsets come from `next`), an empty senate list, no
        // NoChamber list; a detail that 404s is skipped and reported.
        func page(_ ids: [Int], next: Int?) -> HTTPResponse {
            let items = ids.map {
                "{\"chamber\": \"House\", \"congress\": 119, \"eventId\": \"\($0)\", \"updateDate\": \"2025-10-01T00:00:00Z\"}"
            }
            let nextText =
                next.map {
                    ", \"next\": \"https://api.congress.gov/v3/committee-meeting/119/house?offset=\($0)&api_key=\(testKey.value)\""
                } ?? ""
            return .json(
                "{\"committeeMeetings\": [\(items.joined(separator: ","))], \"pagination\": {\"count\": 5\(nextText)}}"
            )
        }
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(
                "Sources/Congress/Resources/sample/day-1/house")
        let transport = ScriptedTransport([]) { url in
            let path = url.path
            let offset = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?
                .first { $0.name == "offset" }?.value
            switch (path, offset) {
            case ("/v3/committee-meeting/119/house", "0"): return .response(page([117214, 117818], next: 2))
            case ("/v3/committee-meeting/119/house", "2"): return .response(page([117822, 117824], next: 4))
            case ("/v3/committee-meeting/119/house", "4"): return .response(page([117825], next: nil))
            case ("/v3/committee-meeting/119/senate", _): return .response(page([], next: nil))
            case ("/v3/committee-meeting/119/nochamber", _): return .response(.json("{}", status: 404))
            default:
                let id = url.lastPathComponent
                if path.hasPrefix("/v3/committee-meeting/"), id != "117824",
                    let data = try? Data(contentsOf: folder.appendingPathComponent("\(id).json"))
                {
                    return .response(
                        HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: data))
                }
                return .response(.json("{}", status: 404))
            }
        }
        let source = CongressAPISource(client: client(transport, time: VirtualTime()) { $0.concurrency = 3 })
        let result = try await source.read(
            congress: 119, from: Date(timeIntervalSince1970: 0),
            to: Date(timeIntervalSince1970: 1_759_384_800),
            knownCommittees: [
                "hsap06", "hsap00", "hsju00", "hsju01", "hsju03", "hsju05", "hsju08", "hsju10", "hsii00",
            ])
        #expect(result.listed == 5)
        #expect(
            result.contents.candidates.map(\.origin) == [
                "house/117214", "house/117818", "house/117822", "house/117825",
            ])
        #expect(result.errors.count >= 1)
        #expect(
            result.errors.first == "meeting 117824 skipped: GET committee-meeting/119/house/117824: HTTP 404")
        #expect(!result.errors.joined().contains(testKey.value))
        let lists = transport.urls.filter {
            $0.path.hasPrefix("/v3/committee-meeting/") && $0.path.split(separator: "/").count == 4
        }
        #expect(lists.count == 5)
        for list in lists {
            let query = URLComponents(url: list, resolvingAgainstBaseURL: false)?.queryItems ?? []
            #expect(query.first { $0.name == "limit" }?.value == "250")
            #expect(query.first { $0.name == "fromDateTime" }?.value == "1970-01-01T00:00:00Z")
            #expect(query.first { $0.name == "toDateTime" }?.value == "2025-10-02T06:00:00Z")
            #expect(!query.contains { $0.name == "api_key" }, "`next` is never requested as sent")
        }
    }

    @Test func aNextThatDoesNotMoveForwardEndsTheList() async throws {
        let stuck = HTTPResponse.json(
            "{\"committeeMeetings\": [{\"chamber\": \"House\", \"congress\": 119, \"eventId\": \"1\"}], "
                + "\"pagination\": {\"count\": 9, \"next\": \"https://x/v3/committee-meeting/119/house?offset=0\"}}"
        )
        let transport = ScriptedTransport([]) { url in
            url.path.hasSuffix("/house") ? .response(stuck) : .response(.json("{}", status: 404))
        }
        let result = try await CongressAPISource(client: client(transport, time: VirtualTime())).read(
            congress: 119, from: Date(), to: Date(), knownCommittees: [])
        #expect(transport.urls.filter { $0.path.hasSuffix("/house") }.count == 1)
        #expect(result.listed == 1)
    }
}
