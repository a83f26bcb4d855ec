import Foundation

/// A top-level Congress.gov API response that can be decoded from JSON with a source label for errors.
///
/// Conforming types: ``CommitteeMeetingDetailResponse``, ``CommitteeMeetingListResponse``,
/// ``CommitteeListResponse`` and ``CommitteeDetailResponse``.
public protocol CongressAPIDocument: Codable, Sendable, Equatable {}

extension CongressAPIDocument {
    /// Decodes a response from JSON `data`; every failure is thrown as a ``CongressDecodingError``.
    ///
    /// `source` labels the document in errors (a file path, `house/117214`); it is redacted like every
    /// other text in an error, so a request URL with its `api_key` may be passed safely. Strict-field
    /// failures inside a meeting name the meeting; other failures name `source` and the coding path.
    public static func decode(from data: Data, source: String) throws -> Self {
        let decoder = JSONDecoder()
        decoder.userInfo[CongressDecodingContext.sourceKey] = source
        do {
            return try decoder.decode(Self.self, from: data)
        } catch {
            throw CongressDecodingError.wrapping(error, source: source)
        }
    }
}

/// What a decoder knows about the document it reads: the source label set by
/// ``CongressAPIDocument/decode(from:source:)``, if any.
struct CongressDecodingContext {
    /// The `userInfo` key under which the source label (a `String`) travels.
    static let sourceKey: CodingUserInfoKey = {
        guard let key = CodingUserInfoKey(rawValue: "Congress.sourceLabel") else {
            preconditionFailure("CodingUserInfoKey rejected a constant raw value")
        }
        return key
    }()

    /// The source label, or nil when the caller decoded with a plain `JSONDecoder`.
    let source: String?

    /// The coding path of the value being decoded.
    let codingPath: [any CodingKey]

    init(_ decoder: any Decoder) {
        source = decoder.userInfo[Self.sourceKey] as? String
        codingPath = decoder.codingPath
    }

    /// An error for `field` (relative to the item) of the meeting `eventId`, or of the document when the
    /// event id is unknown (then `field` is prefixed with the item's own coding path).
    func error(eventId: String?, field: String, problem: String) -> CongressDecodingError {
        let fullField: String
        if eventId == nil, !codingPath.isEmpty {
            let base = CongressDecodingError.render(codingPath)
            fullField = field.isEmpty ? base : base + "." + field
        } else {
            fullField = field
        }
        return CongressDecodingError(eventId: eventId, source: source, field: fullField, problem: problem)
    }

    /// Wraps an error thrown while decoding the rest of meeting `eventId`.
    func wrap(_ error: any Error, eventId: String?) -> any Error {
        switch error {
        case let error as DecodingError:
            return CongressDecodingError(
                error,
                eventId: eventId,
                source: source,
                relativeTo: eventId == nil ? [] : codingPath
            )
        default:
            return error
        }
    }
}
