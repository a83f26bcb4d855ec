import Foundation

extension CommitteeMeeting {
    /// A document a committee provided: `{name, description, documentType, format, url}`.
    ///
    /// Every field is optional and kept as given; the API's `documentType` sometimes has trailing spaces
    /// (`Support Document `) and `description` is often empty.
    public struct MeetingDocument: Sendable, Equatable, Codable {
        /// The document's name, e.g. `Hearing Notice`.
        public var name: String?
        /// A description, often empty.
        public var description: String?
        /// The document type, e.g. `Support Document` or `Hearing: Witness List`.
        public var documentType: String?
        /// The file format, e.g. `PDF`.
        public var format: String?
        /// The document's URL on Congress.gov.
        public var url: String?

        /// Makes a meeting document from its parts.
        public init(
            name: String? = nil,
            description: String? = nil,
            documentType: String? = nil,
            format: String? = nil,
            url: String? = nil
        ) {
            self.name = name
            self.description = description
            self.documentType = documentType
            self.format = format
            self.url = url
        }
    }
}
