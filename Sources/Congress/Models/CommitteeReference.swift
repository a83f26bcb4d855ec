import Foundation

/// A reference to a committee or subcommittee: `{systemCode, name, url}`.
///
/// Used for a meeting's `committees`, a committee's `parent` and its `subcommittees`. Every field is
/// optional and kept as given (empty strings included); unknown fields are ignored.
public struct CommitteeReference: Sendable, Equatable, Codable {
    /// The committee's system code, e.g. `hsii24`.
    public var systemCode: String?
    /// The committee's name, e.g. `House Natural Resources Subcommittee on Indian and Insular Affairs`.
    public var name: String?
    /// The committee's API URL.
    public var url: String?

    /// Makes a reference from its parts.
    public init(systemCode: String? = nil, name: String? = nil, url: String? = nil) {
        self.systemCode = systemCode
        self.name = name
        self.url = url
    }
}
