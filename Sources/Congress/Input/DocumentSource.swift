import Foundation

/// The fields of a meeting document that a run needs before its batches: enough to filter by congress
/// and update date, find duplicates and order the meetings.
public struct MeetingSummary: Sendable, Equatable {
    /// The meeting's event id.
    public var eventId: String
    /// Its congress.
    public var congress: Int
    /// Its `updateDate`, nil when absent or not a valid date.
    public var updateDate: CongressDate?

    /// A summary with these fields.
    public init(eventId: String, congress: Int, updateDate: CongressDate?) {
        self.eventId = eventId
        self.congress = congress
        self.updateDate = updateDate
    }

    /// The summary of a decoded meeting.
    public init(_ meeting: CommitteeMeeting) {
        self.init(eventId: meeting.eventId, congress: meeting.congress, updateDate: meeting.updateDate)
    }
}

/// A meeting document of a source: its summary (or the reason it cannot be used), and a way to read
/// the whole meeting when its batch starts.
///
/// Why two steps: a run orders every meeting by update date before its first batch, and holding every
/// decoded document until then made memory grow with the run (about 4 KB a meeting). A file-backed
/// candidate keeps only its summary and path; the document is read again and decoded in full when its
/// batch needs it, so memory holds one batch.
public struct Candidate: Sendable {
    /// Where the document came from (a path relative to the source's folder), for error messages.
    public var origin: String
    /// What the first read found: the meeting's summary, or the error naming the item and field.
    public var summary: Result<MeetingSummary, CongressDecodingError>
    /// Reads the whole meeting from its origin. The candidates of one folder share it, so a candidate
    /// holds no closure of its own (one per meeting was 64 bytes a meeting, for the whole run).
    public let reader: @Sendable (_ origin: String) -> Result<CommitteeMeeting, CongressDecodingError>

    /// A candidate already decoded (a source that holds its documents in memory).
    public init(origin: String, meeting: Result<CommitteeMeeting, CongressDecodingError>) {
        self.origin = origin
        summary = meeting.map(MeetingSummary.init)
        reader = { _ in meeting }
    }

    /// A candidate whose meeting is read when `load()` is called.
    public init(
        origin: String, summary: Result<MeetingSummary, CongressDecodingError>,
        load: @escaping @Sendable () -> Result<CommitteeMeeting, CongressDecodingError>
    ) {
        self.init(origin: origin, summary: summary, reader: { _ in load() })
    }

    /// A candidate whose meeting `reader` reads from `origin` when `load()` is called.
    public init(
        origin: String, summary: Result<MeetingSummary, CongressDecodingError>,
        reader: @escaping @Sendable (_ origin: String) -> Result<CommitteeMeeting, CongressDecodingError>
    ) {
        self.origin = origin
        self.summary = summary
        self.reader = reader
    }

    /// The whole meeting, decoded (for a file: read again now), or the error naming the item and field.
    public func load() -> Result<CommitteeMeeting, CongressDecodingError> { reader(origin) }

    /// `load` alone, for a caller that keeps it without the rest of the candidate.
    public var deferredLoad: @Sendable () -> Result<CommitteeMeeting, CongressDecodingError> {
        { [reader, origin] in reader(origin) }
    }

    /// The item's name in reports: the event id if known, else the origin.
    public var item: String {
        switch summary {
        case .success(let summary): return summary.eventId
        case .failure(let error): return error.eventId ?? origin
        }
    }
}

/// What an offline source holds: meeting documents and committee reference data.
public struct SourceContents: Sendable {
    /// Every committee-meeting detail document, in a deterministic order (by path).
    public var candidates: [Candidate] = []
    /// Committees from committee list responses (`{"committees": [...]}`) and committee details
    /// (`{"committee": {...}}`).
    public var committees: [CommitteeListItem] = []
    /// Committee entries that could not be read, and files that were not JSON at all.
    public var problems: [CongressDecodingError] = []
    /// JSON files that were neither meeting details nor committee lists (list pages and the like).
    public var ignoredFiles = 0
}

/// Reads a folder of Congress.gov API JSON documents (`dir:PATH` and the bundled sample).
///
/// Every `*.json` file under the folder, recursively, in path order: a top-level `committeeMeeting`
/// object is a candidate meeting; a top-level `committees` array (a committee list) or `committee`
/// object (a committee detail, see ``CommitteeListItem/init(_:)``) is committee reference data; other
/// JSON documents are counted and ignored. A file that cannot be read or parsed becomes a candidate
/// whose error names the file.
public enum DocumentSource {
    /// Files larger than this are refused (a meeting document is a few kilobytes; a committee list a
    /// few hundred).
    public static let maximumFileSize = 16 << 20

    /// Reads every document under `folder`.
    public static func read(folder: String) throws -> SourceContents {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CongressDecodingError(eventId: nil, source: folder, field: "", problem: "no such folder")
        }
        var contents = SourceContents()
        let paths = jsonFiles(under: folder, problems: &contents.problems).sorted()
        // A file gives at most one candidate: reserved once, the list never grows by copying itself.
        contents.candidates.reserveCapacity(paths.count)
        // One reader for every candidate of the folder: it joins the path again when called.
        let reader: @Sendable (String) -> Result<CommitteeMeeting, CongressDecodingError> = { origin in
            loadMeeting(file: folder + "/" + origin, origin: origin)
        }
        // Each file is read and probed on its own (on every core), then the results are joined in path
        // order: the same contents as reading them one after the other. One result per group of files
        // (a file's own result, its arrays, cost about 190 bytes on top of its candidate), and a
        // stretch of groups at a time, so that the results waiting to be joined are one stretch's,
        // not the whole source's (they were about a third of the first pass's memory).
        for stretch in stride(from: 0, to: paths.count, by: readGroupSize * readGroupsAtOnce) {
            let groups = stride(
                from: stretch, to: min(paths.count, stretch + readGroupSize * readGroupsAtOnce),
                by: readGroupSize
            ).map { $0..<min(paths.count, $0 + readGroupSize) }
            let parts = concurrentMap(groups) { group in
                var part = SourceContents()
                for path in paths[group] { read(folder: folder, origin: path, reader: reader, into: &part) }
                return part
            }
            for part in parts {
                contents.candidates += part.candidates
                contents.committees += part.committees
                contents.problems += part.problems
                contents.ignoredFiles += part.ignoredFiles
            }
        }
        return contents
    }

    /// Files read one after the other by one task of the first pass.
    static let readGroupSize = 32
    /// Groups read at once (on every core) before their results are joined.
    static let readGroupsAtOnce = 64

    /// Every `*.json` regular file under `folder`, as paths relative to it.
    ///
    /// A subfolder that cannot be listed is a problem naming it, never skipped in silence; symbolic
    /// links are not followed (a path given on the command line must not lead out of its folder) and
    /// are reported.
    static func jsonFiles(under folder: String, problems: inout [CongressDecodingError]) -> [String] {
        let manager = FileManager.default
        var result: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let names: [String]
            do {
                names = try manager.contentsOfDirectory(
                    atPath: relative.isEmpty ? folder : folder + "/" + relative)
            } catch {
                problems.append(
                    CongressDecodingError(
                        eventId: nil, source: relative.isEmpty ? "." : relative, field: "",
                        problem: "cannot list the folder: \(error.localizedDescription)"))
                continue
            }
            for name in names {
                let child = relative.isEmpty ? name : relative + "/" + name
                // `attributesOfItem` does not follow a final symbolic link.
                let type =
                    (try? manager.attributesOfItem(atPath: folder + "/" + child))?[.type]
                    as? FileAttributeType
                switch type {
                case .typeDirectory?: pending.append(child)
                case .typeRegular? where name.hasSuffix(".json"): result.append(child)
                case .typeSymbolicLink?:
                    problems.append(
                        CongressDecodingError(
                            eventId: nil, source: child, field: "", problem: "a symbolic link, not followed"))
                default: continue
                }
            }
        }
        return result
    }

    private static func read(
        folder: String, origin: String,
        reader: @escaping @Sendable (String) -> Result<CommitteeMeeting, CongressDecodingError>,
        into contents: inout SourceContents
    ) {
        let file = folder + "/" + origin
        let data: Data
        switch readFile(file, origin: origin) {
        case .failure(let error):
            contents.candidates.append(Candidate(origin: origin, meeting: .failure(error)))
            return
        case .success(let bytes): data = bytes
        }
        let probe: DocumentProbe
        do {
            probe = try DocumentProbe.decode(from: data, source: origin)
        } catch {
            contents.candidates.append(
                Candidate(
                    origin: origin,
                    meeting: .failure(
                        CongressDecodingError(
                            eventId: nil, source: origin, field: "", problem: "not a JSON object"))))
            return
        }
        switch probe.kind {
        case .meeting(let summary):
            contents.candidates.append(Candidate(origin: origin, summary: summary, reader: reader))
        case .committeeList:
            do {
                let response = try CommitteeListResponse.decode(from: data, source: origin)
                contents.committees += response.committees
                contents.problems += response.invalidItems
            } catch let error as CongressDecodingError {
                contents.problems.append(error)
            } catch {
                contents.problems.append(
                    CongressDecodingError(eventId: nil, source: origin, field: "", problem: "\(error)"))
            }
        case .committeeDetail:
            // A committee detail, as the live source fetches for a committee the database lacks.
            do {
                contents.committees.append(
                    CommitteeListItem(try CommitteeDetailResponse.decode(from: data, source: origin)))
            } catch let error as CongressDecodingError {
                contents.problems.append(error)
            } catch {
                contents.problems.append(
                    CongressDecodingError(eventId: nil, source: origin, field: "", problem: "\(error)"))
            }
        case .other:
            contents.ignoredFiles += 1
        }
    }

    /// The bytes of `file`, refused when larger than `maximumFileSize`.
    private static func readFile(_ file: String, origin: String) -> Result<Data, CongressDecodingError> {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            if let size = attributes[.size] as? Int, size > maximumFileSize {
                return .failure(
                    CongressDecodingError(
                        eventId: nil, source: origin, field: "",
                        problem: "the file is \(size) bytes, more than the \(maximumFileSize) allowed"))
            }
            return .success(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            return .failure(
                CongressDecodingError(
                    eventId: nil, source: origin, field: "", problem: "cannot read the file"))
        }
    }

    /// Reads and decodes a meeting document in full (the second read of a file-backed candidate).
    static func loadMeeting(file: String, origin: String) -> Result<CommitteeMeeting, CongressDecodingError> {
        readFile(file, origin: origin).flatMap { data in
            do {
                return .success(
                    try CommitteeMeetingDetailResponse.decode(from: data, source: origin).committeeMeeting)
            } catch {
                return .failure(CongressDecodingError.wrapping(error, source: origin))
            }
        }
    }
}

/// What a JSON document is, read in one decode: a meeting detail (with its summary, or the error in
/// the summary's fields), a committee list, a committee detail, or something else.
private struct DocumentProbe: Decodable {
    enum Kind {
        case meeting(Result<MeetingSummary, CongressDecodingError>)
        case committeeList
        case committeeDetail
        case other
    }

    var kind: Kind

    private enum CodingKeys: String, CodingKey {
        case committeeMeeting, committees, committee
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.committeeMeeting) {
            do {
                // A list entry holds exactly the summary's fields, decoded by the meeting's rules.
                let entry = try container.decode(CommitteeMeetingListItem.self, forKey: .committeeMeeting)
                kind = .meeting(
                    .success(
                        MeetingSummary(
                            eventId: entry.eventId, congress: entry.congress, updateDate: entry.updateDate)))
            } catch {
                kind = .meeting(
                    .failure(
                        CongressDecodingError.wrapping(error, source: CongressDecodingContext(decoder).source)
                    ))
            }
        } else if container.contains(.committees) {
            kind = .committeeList
        } else if container.contains(.committee) {
            kind = .committeeDetail
        } else {
            kind = .other
        }
    }

    /// Decodes the probe of JSON `data`, labelled `source` in errors.
    static func decode(from data: Data, source: String) throws -> DocumentProbe {
        let decoder = JSONDecoder()
        decoder.userInfo[CongressDecodingContext.sourceKey] = source
        return try decoder.decode(DocumentProbe.self, from: data)
    }
}

/// The bundled sample: real meetings of the 119th Congress as Congress.gov detail documents, in days.
public enum BundledSample {
    /// The sample's folder inside the package resources.
    public static var folder: String? {
        Bundle.module.url(forResource: "sample", withExtension: nil)?.path
    }

    /// The days available (`day-1`, `day-2`, … → 1, 2, …), ascending.
    public static func days() -> [Int] {
        guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            return []
        }
        return names.compactMap { $0.hasPrefix("day-") ? Int($0.dropFirst(4)) : nil }.sorted()
    }

    /// The contents of day `day`, with the committee reference data.
    public static func read(day: Int) throws -> SourceContents {
        guard let folder else {
            throw CongressDecodingError(
                eventId: nil, source: "sample", field: "", problem: "the bundled sample is missing")
        }
        guard days().contains(day) else {
            throw CongressDecodingError(
                eventId: nil, source: "sample:\(day)", field: "",
                problem: "no such day; the sample has days \(days().map(String.init).joined(separator: ", "))"
            )
        }
        var contents = try DocumentSource.read(folder: folder + "/day-\(day)")
        let committees = try DocumentSource.read(folder: folder).committees
        contents.committees = committees
        return contents
    }
}
