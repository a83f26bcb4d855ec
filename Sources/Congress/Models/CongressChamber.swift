import Foundation

/// The chamber of a committee meeting: `House`, `Senate` or `NoChamber`.
///
/// Input is matched case-insensitively (`house`, `SENATE`, `nochamber`); the raw value is always the
/// API's own spelling. Decoding any other text throws `DecodingError.dataCorrupted`; inside a meeting
/// the meeting's decoder reports it as a ``CongressDecodingError`` naming the meeting instead.
public enum CongressChamber: String, Sendable, Hashable, Codable, CaseIterable {
    case house = "House"
    case senate = "Senate"
    case noChamber = "NoChamber"

    /// The chamber spelled `text` in any letter case, or nil.
    public init?(apiValue text: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() })
        else { return nil }
        self = match
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let chamber = Self(apiValue: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: Self.expectation(found: CongressDecodingError.quoted(text))
                )
            )
        }
        self = chamber
    }

    /// The problem text for an unknown chamber; `found` is already rendered (quoted string or JSON).
    static func expectation(found: String) -> String {
        "expected House, Senate or NoChamber, found \(found)"
    }
}
