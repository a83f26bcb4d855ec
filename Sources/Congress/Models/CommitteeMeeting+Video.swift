import Foundation

extension CommitteeMeeting {
    /// A video of a meeting: `{name, url}`, each optional and kept as given.
    ///
    /// The API gives a meeting's videos as an array, as `{"item": [...]}` or as `{"item": {...}}`; the
    /// meeting's decoder accepts all three (see ``CommitteeMeeting/videos``).
    public struct Video: Sendable, Equatable, Codable {
        /// The video's title.
        public var name: String?
        /// The video's URL on Congress.gov.
        public var url: String?

        /// Makes a video from its parts.
        public init(name: String? = nil, url: String? = nil) {
            self.name = name
            self.url = url
        }
    }
}
