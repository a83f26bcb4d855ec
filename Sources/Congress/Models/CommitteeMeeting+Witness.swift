import Foundation

extension CommitteeMeeting {
    /// A witness at a meeting: `{name, position, organization}`, each optional and kept as given.
    ///
    /// `name` carries honorifics as the API writes them (`Mr. Thomas DiNanno`); splitting is the
    /// mapping layer's job.
    public struct Witness: Sendable, Equatable, Codable {
        /// The witness's name, e.g. `The Honorable John Williams`.
        public var name: String?
        /// The witness's position, e.g. `Vice Chairman`.
        public var position: String?
        /// The witness's organization, e.g. `United Auburn Rancheria`.
        public var organization: String?

        /// Makes a witness from its parts.
        public init(name: String? = nil, position: String? = nil, organization: String? = nil) {
            self.name = name
            self.position = position
            self.organization = organization
        }
    }

    /// A document a witness provided: `{documentType, format, url}`, each optional and kept as given.
    ///
    /// The API's document types are `Witness Biography`, `Witness Supporting Document`,
    /// `Witness Statement` and `Witness Truth in Testimony`; the text is not checked here.
    public struct WitnessDocument: Sendable, Equatable, Codable {
        /// The document type, e.g. `Witness Statement`.
        public var documentType: String?
        /// The file format, e.g. `PDF`.
        public var format: String?
        /// The document's URL on Congress.gov.
        public var url: String?

        /// Makes a witness document from its parts.
        public init(documentType: String? = nil, format: String? = nil, url: String? = nil) {
            self.documentType = documentType
            self.format = format
            self.url = url
        }
    }
}
