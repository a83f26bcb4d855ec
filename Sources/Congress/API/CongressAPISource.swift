import Foundation

/// The live source: the meetings Congress.gov changed in an update-date window, as an offline source
/// would hold them (``SourceContents``), with the request count and the failures.
///
/// 1. The meeting list of each chamber (`house`, `senate`, and `nochamber` when the API has it),
///    `committee-meeting/{congress}/{chamber}?fromDateTime=…&toDateTime=…&limit=250&offset=…`, page
///    after page until `pagination.next` is absent.
/// 2. Every listed meeting's detail, `committee-meeting/{congress}/{chamber}/{eventId}`, a bounded
///    number at once. A detail that cannot be fetched skips its meeting (reported); the list entry
///    never stands in for it: it has no title, date or children.
/// 3. The detail of each committee the meetings name that the database lacks (and of its parent), as
///    committee reference data: the ingest run's committee batch creates the rows, journaled. A
///    committee that cannot be fetched is reported; the meeting's own reference then creates it.
public struct CongressAPISource: Sendable {
    /// The result of one read.
    public struct Result: Sendable {
        /// The meetings and committees read, in the shape an offline source produces.
        public var contents = SourceContents()
        /// HTTP requests sent (retries included).
        public var requests = 0
        /// One line per request that failed for good (redacted), in a stable order.
        public var errors: [String] = []
        /// Meetings listed in the window.
        public var listed = 0
    }

    /// The chambers listed, with their path segment; `nochamber` is listed only if the API knows it.
    static let chambers: [(path: String, optional: Bool)] = [
        ("house", false), ("senate", false), ("nochamber", true),
    ]

    /// The most list pages read per chamber: a guard against a server whose `next` never ends.
    static let maximumPages = 400

    private let client: CongressAPIClient

    /// A source reading through `client`.
    public init(client: CongressAPIClient) { self.client = client }

    /// The update-date window's bounds as Congress.gov wants them: `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    public static func windowParameters(from start: Date, to end: Date) -> [(String, String)] {
        [("fromDateTime", format(start)), ("toDateTime", format(end))]
    }

    /// `date` as `YYYY-MM-DDTHH:MM:SSZ`, in UTC, seconds truncated.
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: floor(date.timeIntervalSince1970)))
    }

    /// Reads the meetings of `congress` updated from `start` to `end`, and the committees they name
    /// that are not in `knownCommittees` (system codes).
    public func read(congress: Int, from start: Date, to end: Date, knownCommittees: Set<String>) async throws
        -> Result
    {
        var result = Result()
        let window = Self.windowParameters(from: start, to: end)

        // 1. The lists.
        var listed: [CommitteeMeetingListItem] = []
        var seen: Set<String> = []
        for chamber in Self.chambers {
            var offset = 0
            for _ in 0..<Self.maximumPages {
                let path = "committee-meeting/\(congress)/\(chamber.path)"
                let data: Data
                do {
                    data = try await client.getJSON(
                        path, query: window + [("limit", "250"), ("offset", String(offset))])
                } catch let error as CongressAPIError {
                    // An API without a NoChamber list answers 404 (or 400): nothing to list there.
                    if chamber.optional, offset == 0, case .status(let status) = error.reason,
                        status == 404 || status == 400
                    {
                        break
                    }
                    result.errors.append(error.description)
                    break
                }
                let page: CommitteeMeetingListResponse
                do {
                    page = try CommitteeMeetingListResponse.decode(from: data, source: path)
                } catch let error as CongressDecodingError {
                    result.errors.append(
                        "GET \(CongressAPIClient.endpoint(path, query: [("offset", String(offset))])): \(error)"
                    )
                    break
                }
                result.contents.problems += page.invalidItems
                for item in page.committeeMeetings
                where seen.insert("\(item.chamber)/\(item.eventId)").inserted {
                    listed.append(item)
                }
                guard let next = page.pagination?.next, !page.committeeMeetings.isEmpty else { break }
                // The next offset is read from `next` (never requested as is: it may carry a key, or
                // point elsewhere); it must move forward.
                let following = Self.offset(in: next) ?? offset + page.committeeMeetings.count
                guard following > offset else { break }
                offset = following
            }
        }
        result.listed = listed.count

        // 2. The details, a bounded number at once; results are put back in list order.
        let details = await fetchAll(listed.indices.map { listed[$0] }) { item in
            try await self.detail(of: item)
        }
        var meetings: [CommitteeMeeting] = []
        for (item, outcome) in zip(listed, details) {
            switch outcome {
            case .success(let candidate):
                result.contents.candidates.append(candidate)
                if case .success(let meeting) = candidate.load() { meetings.append(meeting) }
            case .failure(let error):
                result.errors.append("meeting \(item.eventId) skipped: \(error)")
            }
        }

        // 3. Committees the database lacks, then their parents (a subcommittee names its parent).
        var known = knownCommittees
        var wanted: [String] = []
        for meeting in meetings {
            for reference in meeting.committees ?? [] {
                guard let code = Self.systemCode(reference.systemCode), !known.contains(code) else {
                    continue
                }
                known.insert(code)
                wanted.append(code)
            }
        }
        var committees: [(path: String, item: CommitteeListItem)] = []
        while !wanted.isEmpty {
            let fetched = await fetchAll(wanted) { code in try await self.committee(code) }
            var parents: [String] = []
            for (code, outcome) in zip(wanted, fetched) {
                switch outcome {
                case .success(let entry):
                    committees.append(entry)
                    if let parent = Self.systemCode(entry.item.parent?.systemCode), !known.contains(parent) {
                        known.insert(parent)
                        parents.append(parent)
                    }
                case .failure(let error):
                    result.errors.append(
                        "committee \(code): \(error); the meeting's reference is used instead")
                }
            }
            wanted = parents
        }
        // The order of a `dir:` source holding the same documents: by path.
        result.contents.committees = committees.sorted { $0.path < $1.path }.map(\.item)
        result.requests = await client.requestsSent
        return result
    }

    /// A meeting's detail as a candidate: decoded, or (when the document is JSON but not a valid
    /// meeting) the decoding error, which the run rejects like that of an offline document.
    private func detail(of item: CommitteeMeetingListItem) async throws -> Candidate {
        let chamber = item.chamber.rawValue.lowercased()
        let path = "committee-meeting/\(item.congress)/\(chamber)/\(item.eventId)"
        let data = try await client.getJSON(path)
        let origin = "\(chamber)/\(item.eventId)"
        do {
            let response = try CommitteeMeetingDetailResponse.decode(from: data, source: origin)
            guard response.committeeMeeting.eventId == item.eventId else {
                throw CongressDecodingError(
                    eventId: item.eventId, source: origin, field: "eventId",
                    problem: "the detail names meeting \(response.committeeMeeting.eventId)")
            }
            return Candidate(origin: origin, meeting: .success(response.committeeMeeting))
        } catch let error as CongressDecodingError {
            return Candidate(origin: origin, meeting: .failure(error))
        }
    }

    /// A committee's detail as a committee list entry, with the path a `dir:` copy would have.
    private func committee(_ code: String) async throws -> (path: String, item: CommitteeListItem) {
        let chamber = Self.chamberPath(of: code)
        let path = "committee/\(chamber)/\(code)"
        let data = try await client.getJSON(path)
        let response = try CommitteeDetailResponse.decode(from: data, source: path)
        return (path, CommitteeListItem(response))
    }

    /// Runs `body` on every element, at most the configured number at once; the results in input order.
    private func fetchAll<Element: Sendable, Value: Sendable>(
        _ elements: [Element], _ body: @escaping @Sendable (Element) async throws -> Value
    ) async -> [Swift.Result<Value, any Error>] {
        var results = [Swift.Result<Value, any Error>?](repeating: nil, count: elements.count)
        let width = max(1, client.configuration.concurrency)
        await withTaskGroup(of: (Int, Swift.Result<Value, any Error>).self) { group in
            var next = 0
            func launch() {
                let index = next
                let element = elements[index]
                next += 1
                group.addTask {
                    do { return (index, .success(try await body(element))) } catch {
                        return (index, .failure(error))
                    }
                }
            }
            while next < min(width, elements.count) { launch() }
            for await (index, outcome) in group {
                results[index] = outcome
                if next < elements.count { launch() }
            }
        }
        return results.map { $0 ?? .failure(CancellationError()) }
    }

    /// The trimmed system code when it is a plain one (ASCII letters and digits): anything else is
    /// never put in a request path, and the meeting's own reference creates the committee.
    static func systemCode(_ text: String?) -> String? {
        guard let code = text?.trimmingCharacters(in: .whitespacesAndNewlines), !code.isEmpty,
            code.count <= 16,
            code.unicodeScalars.allSatisfy({ $0.isASCII && CharacterSet.alphanumerics.contains($0) })
        else { return nil }
        return code
    }

    /// The chamber segment of a committee's API path, from its system code's first letter.
    static func chamberPath(of code: String) -> String {
        switch code.lowercased().first {
        case "h": return "house"
        case "s": return "senate"
        case "j": return "joint"
        default: return "nochamber"
        }
    }

    /// The `offset` query parameter of a `pagination.next` URL.
    static func offset(in next: String) -> Int? {
        URLComponents(string: next)?.queryItems?.first { $0.name == "offset" }?.value.flatMap { Int($0) }
    }
}
