import Foundation

/// One entry of the committee list (`GET /v3/committee/{congress}/{chamber}`):
/// `{systemCode, name, chamber, committeeTypeCode, url, parent?, subcommittees?, updateDate}`.
///
/// Every field is optional and kept as given; ``chamber`` is text because committees also have
/// `Joint`. ``updateDate`` never fails decoding: nil when absent or malformed, with the text as sent in
/// ``rawUpdateDate``. Unknown fields are ignored; `subcommittees` may be an array or `{"item": ...}`.
public struct CommitteeListItem: Sendable, Equatable, Codable {
    /// The system code, e.g. `hspw00`.
    public var systemCode: String?
    /// The name, e.g. `Transportation and Infrastructure Committee`.
    public var name: String?
    /// The chamber as sent: `House`, `Senate` or `Joint`.
    public var chamber: String?
    /// The committee type, e.g. `Standing`, `Select`, `Subcommittee`.
    public var committeeTypeCode: String?
    /// The committee's API URL.
    public var url: String?
    /// The parent committee of a subcommittee.
    public var parent: CommitteeReference?
    /// The subcommittees of a full committee.
    public var subcommittees: [CommitteeReference]?
    /// When Congress.gov last updated the committee; nil when absent or malformed.
    public var updateDate: CongressDate?
    /// The `updateDate` field as sent; nil only when it is absent or null.
    public var rawUpdateDate: String?

    /// Makes a list entry from its parts; `rawUpdateDate` defaults to the date's original text.
    public init(
        systemCode: String? = nil,
        name: String? = nil,
        chamber: String? = nil,
        committeeTypeCode: String? = nil,
        url: String? = nil,
        parent: CommitteeReference? = nil,
        subcommittees: [CommitteeReference]? = nil,
        updateDate: CongressDate? = nil,
        rawUpdateDate: String? = nil
    ) {
        self.systemCode = systemCode
        self.name = name
        self.chamber = chamber
        self.committeeTypeCode = committeeTypeCode
        self.url = url
        self.parent = parent
        self.subcommittees = subcommittees
        self.updateDate = updateDate
        self.rawUpdateDate = rawUpdateDate ?? updateDate?.original
    }

    private enum CodingKeys: String, CodingKey {
        case systemCode
        case name
        case chamber
        case committeeTypeCode
        case url
        case parent
        case subcommittees
        case updateDate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        systemCode = try container.decodeIfPresent(String.self, forKey: .systemCode)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        chamber = try container.decodeIfPresent(String.self, forKey: .chamber)
        committeeTypeCode = try container.decodeIfPresent(String.self, forKey: .committeeTypeCode)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        parent = try container.decodeIfPresent(CommitteeReference.self, forKey: .parent)
        subcommittees = try container.decodeItemList(CommitteeReference.self, forKey: .subcommittees)
        (updateDate, rawUpdateDate) = try container.decodeLenientDate(forKey: .updateDate)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(systemCode, forKey: .systemCode)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(chamber, forKey: .chamber)
        try container.encodeIfPresent(committeeTypeCode, forKey: .committeeTypeCode)
        try container.encodeIfPresent(url, forKey: .url)
        try container.encodeIfPresent(parent, forKey: .parent)
        try container.encodeIfPresent(subcommittees, forKey: .subcommittees)
        try container.encodeIfPresent(rawUpdateDate ?? updateDate?.original, forKey: .updateDate)
    }
}
