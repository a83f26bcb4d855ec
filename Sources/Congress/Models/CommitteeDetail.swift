import Foundation

/// One committee as the detail endpoint returns it (`committee` in
/// `GET /v3/committee/{congress}/{chamber}/{committeeCode}`), loosely modelled.
///
/// Every field is optional and kept as given; unknown fields are ignored. Dates inside ``history`` are
/// kept as text; ``updateDate`` follows the lenient pair (nil when malformed, text in
/// ``rawUpdateDate``). Counted links (`bills`, `reports`, `communications`) keep only count and URL.
public struct CommitteeDetail: Sendable, Equatable, Codable {
    /// The system code, e.g. `hspw00`.
    public var systemCode: String?
    /// The name, when the API gives one at this level.
    public var name: String?
    /// The chamber as sent, when the API gives one at this level.
    public var chamber: String?
    /// The committee type, e.g. `Standing`.
    public var type: String?
    /// Whether the committee still exists.
    public var isCurrent: Bool?
    /// The parent committee of a subcommittee.
    public var parent: CommitteeReference?
    /// The subcommittees of a full committee.
    public var subcommittees: [CommitteeReference]?
    /// The committee's names over time, newest first as the API sends them.
    public var history: [History]?
    /// Bills referred to the committee.
    public var bills: CountedLink?
    /// The committee's reports.
    public var reports: CountedLink?
    /// Communications referred to the committee.
    public var communications: CountedLink?
    /// When Congress.gov last updated the committee; nil when absent or malformed.
    public var updateDate: CongressDate?
    /// The `updateDate` field as sent; nil only when it is absent or null.
    public var rawUpdateDate: String?

    /// Makes a committee from its parts; `rawUpdateDate` defaults to the date's original text.
    public init(
        systemCode: String? = nil,
        name: String? = nil,
        chamber: String? = nil,
        type: String? = nil,
        isCurrent: Bool? = nil,
        parent: CommitteeReference? = nil,
        subcommittees: [CommitteeReference]? = nil,
        history: [History]? = nil,
        bills: CountedLink? = nil,
        reports: CountedLink? = nil,
        communications: CountedLink? = nil,
        updateDate: CongressDate? = nil,
        rawUpdateDate: String? = nil
    ) {
        self.systemCode = systemCode
        self.name = name
        self.chamber = chamber
        self.type = type
        self.isCurrent = isCurrent
        self.parent = parent
        self.subcommittees = subcommittees
        self.history = history
        self.bills = bills
        self.reports = reports
        self.communications = communications
        self.updateDate = updateDate
        self.rawUpdateDate = rawUpdateDate ?? updateDate?.original
    }

    /// One name period of a committee: official and Library of Congress names, start and end.
    public struct History: Sendable, Equatable, Codable {
        /// The official name, e.g. `Committee on Transportation and Infrastructure`.
        public var officialName: String?
        /// The Library of Congress name, e.g. `Transportation and Infrastructure`.
        public var libraryOfCongressName: String?
        /// When the name took effect, as sent.
        public var startDate: String?
        /// When the name ended, as sent; nil for the current name.
        public var endDate: String?
        /// When Congress.gov last updated this entry, as sent.
        public var updateDate: String?

        /// Makes a history entry from its parts.
        public init(
            officialName: String? = nil,
            libraryOfCongressName: String? = nil,
            startDate: String? = nil,
            endDate: String? = nil,
            updateDate: String? = nil
        ) {
            self.officialName = officialName
            self.libraryOfCongressName = libraryOfCongressName
            self.startDate = startDate
            self.endDate = endDate
            self.updateDate = updateDate
        }
    }

    /// A count with the API URL that lists the counted items: `{count, url}`.
    public struct CountedLink: Sendable, Equatable, Codable {
        /// How many items there are.
        public var count: Int?
        /// The API URL listing them.
        public var url: String?

        /// Makes a counted link from its parts.
        public init(count: Int? = nil, url: String? = nil) {
            self.count = count
            self.url = url
        }
    }

    private enum CodingKeys: String, CodingKey {
        case systemCode
        case name
        case chamber
        case type
        case isCurrent
        case parent
        case subcommittees
        case history
        case bills
        case reports
        case communications
        case updateDate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        systemCode = try container.decodeIfPresent(String.self, forKey: .systemCode)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        chamber = try container.decodeIfPresent(String.self, forKey: .chamber)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        isCurrent = try container.decodeIfPresent(Bool.self, forKey: .isCurrent)
        parent = try container.decodeIfPresent(CommitteeReference.self, forKey: .parent)
        subcommittees = try container.decodeItemList(CommitteeReference.self, forKey: .subcommittees)
        history = try container.decodeItemList(History.self, forKey: .history)
        bills = try container.decodeIfPresent(CountedLink.self, forKey: .bills)
        reports = try container.decodeIfPresent(CountedLink.self, forKey: .reports)
        communications = try container.decodeIfPresent(CountedLink.self, forKey: .communications)
        (updateDate, rawUpdateDate) = try container.decodeLenientDate(forKey: .updateDate)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(systemCode, forKey: .systemCode)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(chamber, forKey: .chamber)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(isCurrent, forKey: .isCurrent)
        try container.encodeIfPresent(parent, forKey: .parent)
        try container.encodeIfPresent(subcommittees, forKey: .subcommittees)
        try container.encodeIfPresent(history, forKey: .history)
        try container.encodeIfPresent(bills, forKey: .bills)
        try container.encodeIfPresent(reports, forKey: .reports)
        try container.encodeIfPresent(communications, forKey: .communications)
        try container.encodeIfPresent(rawUpdateDate ?? updateDate?.original, forKey: .updateDate)
    }
}
