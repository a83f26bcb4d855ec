import Foundation

extension CommitteeListItem {
    /// The committee of a detail response (`GET /committee/{chamber}/{code}`) as a list entry, so that
    /// committees fetched one by one are reference data like those of a committee list.
    ///
    /// The detail has no name or chamber of its own in the OpenAPI shape: the name is the current
    /// `history` entry's Library of Congress name (else its official name, else the first entry's);
    /// the chamber is the request's (`request.chamber`), else the system code's first letter; the URL
    /// is the committee's canonical API URL. Type, parent, subcommittees and update date as sent.
    public init(_ response: CommitteeDetailResponse) {
        let detail = response.committee
        let history = detail.history ?? []
        let current = history.first { $0.endDate == nil } ?? history.first
        let name = detail.name ?? current?.libraryOfCongressName ?? current?.officialName
        var chamber = detail.chamber
        if chamber == nil, case .object(let request)? = response.request,
            case .string(let text)? = request["chamber"]
        {
            chamber = text
        }
        let code = detail.systemCode.map(TextFolding.trimmed)
        if chamber == nil, let first = code?.lowercased().first {
            chamber = ["h": "House", "s": "Senate", "j": "Joint"][String(first)]
        }
        let url = code.flatMap { code in
            chamber.map { "https://api.congress.gov/v3/committee/\($0.lowercased())/\(code)?format=json" }
        }
        self.init(
            systemCode: detail.systemCode, name: name, chamber: chamber, committeeTypeCode: detail.type,
            url: url,
            parent: detail.parent, subcommittees: detail.subcommittees, updateDate: detail.updateDate,
            rawUpdateDate: detail.rawUpdateDate)
    }
}
