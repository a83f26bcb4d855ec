import Congress
import Foundation
import Testing

/// The URLSession transport and the client's response checks against `tools/congress_stub.py`: the
/// parts a scripted transport cannot show (a real socket, a real timeout, a body cut off at the limit).
@Suite(.enabled(if: python3Path != nil, "needs python3"))
struct URLSessionTransportTests {
    let key = "transportkey-\(UUID().uuidString.prefix(8))"

    func client(_ stub: CongressStub, configure: (inout CongressAPIConfiguration) -> Void = { _ in }) throws
        -> CongressAPIClient
    {
        var configuration = CongressAPIConfiguration(
            baseURL: try #require(URL(string: stub.baseURL)), apiKey: try #require(CongressAPIKey(key)))
        configuration.retry = RetryPolicy(maximumAttempts: 1)
        configure(&configuration)
        return CongressAPIClient(configuration)
    }

    @Test func detailsArriveByteForByte() async throws {
        let stub = try CongressStub(["--key", key])
        defer { stub.stop() }
        let data = try await client(stub).getJSON("committee-meeting/119/house/117214")
        let sample = try Data(
            contentsOf: URL(fileURLWithPath: sampleFolder(day: 1) + "/house/117214.json"))
        #expect(data == sample)
        #expect(try stub.requests().first?["key_ok"] as? Bool == true)
    }

    @Test func anOverLargeBodyIsRefused() async throws {
        // Declared too large (refused at the headers), and streamed without a length (cut at the limit).
        let stub = try CongressStub([
            "--key", key, "--fault", "huge:committee-meeting/119/house/117214:3000000",
            "--fault", "hugestream:committee-meeting/119/house/117822:30000000",
        ])
        defer { stub.stop() }
        let api = try client(stub) { $0.maximumBodySize = 1 << 20 }
        for id in ["117214", "117822"] {
            let error = await #expect(throws: CongressAPIError.self) {
                try await api.getJSON("committee-meeting/119/house/\(id)")
            }
            #expect(error?.reason == .bodyTooLarge(limit: 1 << 20))
        }
        // The other requests of the run are not affected.
        _ = try await api.getJSON("committee-meeting/119/house/117818")
    }

    @Test func aSlowAnswerTimesOutThenTheRetrySucceeds() async throws {
        let stub = try CongressStub([
            "--key", key, "--fault", "slowonce:committee-meeting/119/house/117214:3",
            "--fault", "slowonce:committee-meeting/119/house/117818:3",
        ])
        defer { stub.stop() }
        let once = try client(stub) { $0.requestTimeout = 0.5 }
        let error = await #expect(throws: CongressAPIError.self) {
            try await once.getJSON("committee-meeting/119/house/117214")
        }
        // The stub answers after 3 s: a timeout means the client gave up first. (No bound on the
        // elapsed time: with tests running in parallel, resuming this task may itself wait.)
        #expect(error?.reason == .timedOut)
        let retrying = try client(stub) {
            $0.requestTimeout = 1
            $0.retry = RetryPolicy(maximumAttempts: 4, baseDelay: 0.05, maximumDelay: 0.1)
        }
        _ = try await retrying.getJSON("committee-meeting/119/house/117818")
        let attempts = try stub.requests().filter {
            $0["path"] as? String == "committee-meeting/119/house/117818"
        }
        // The first attempt met the slow answer and timed out; a later one was answered (on a loaded
        // machine an ordinary answer may take longer than the timeout too, hence not exactly two).
        #expect(attempts.first?["status"] as? String == "slow")
        #expect(attempts.count >= 2 && attempts.last?["status"] as? Int == 200, "\(attempts)")
    }
}
