import Foundation

/// A meeting document read from a source, or the reason it could not be read.
public struct Candidate: Sendable {
    /// Where the document came from (a path relative to the source's folder), for error messages.
    public var origin: String
    /// The decoded meeting, or the error naming the item and field.
    public var meeting: Result<CommitteeMeeting, CongressDecodingError>

    /// The item's name in reports: the event id if known, else the origin.
    public var item: String {
        switch meeting {
        case .success(let meeting): return meeting.eventId
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
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw CongressDecodingError(
                eventId: nil, source: folder, field: "", problem: "cannot list the folder")
        }
        var paths: [String] = []
        for case let path as String in enumerator where path.hasSuffix(".json") { paths.append(path) }
        var contents = SourceContents()
        for path in paths.sorted() {
            read(file: folder + "/" + path, origin: path, into: &contents)
        }
        return contents
    }

    private static func read(file: String, origin: String, into contents: inout SourceContents) {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            if let size = attributes[.size] as? Int, size > maximumFileSize {
                contents.candidates.append(
                    Candidate(
                        origin: origin,
                        meeting: .failure(
                            CongressDecodingError(
                                eventId: nil, source: origin, field: "",
                                problem: "the file is \(size) bytes, more than the \(maximumFileSize) allowed"
                            ))))
                return
            }
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            contents.candidates.append(
                Candidate(
                    origin: origin,
                    meeting: .failure(
                        CongressDecodingError(
                            eventId: nil, source: origin, field: "", problem: "cannot read the file"))))
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            contents.candidates.append(
                Candidate(
                    origin: origin,
                    meeting: .failure(
                        CongressDecodingError(
                            eventId: nil, source: origin, field: "", problem: "not a JSON object"))))
            return
        }
        if object["committeeMeeting"] != nil {
            do {
                let response = try CommitteeMeetingDetailResponse.decode(from: data, source: origin)
                contents.candidates.append(
                    Candidate(origin: origin, meeting: .success(response.committeeMeeting)))
            } catch let error as CongressDecodingError {
                contents.candidates.append(Candidate(origin: origin, meeting: .failure(error)))
            } catch {
                contents.candidates.append(
                    Candidate(
                        origin: origin,
                        meeting: .failure(
                            CongressDecodingError(
                                eventId: nil, source: origin, field: "", problem: "\(error)"))))
            }
        } else if object["committees"] != nil {
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
        } else if object["committee"] != nil {
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
        } else {
            contents.ignoredFiles += 1
        }
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
