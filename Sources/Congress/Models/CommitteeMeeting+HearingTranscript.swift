import Foundation

extension CommitteeMeeting {
    /// A printed hearing transcript of a meeting: `{jacketNumber, url}`.
    ///
    /// `jacketNumber` is accepted as a JSON integer or as a string of digits (`"48144"`); an empty
    /// string counts as absent; any other value fails decoding with the field named. Encodes as an integer.
    public struct HearingTranscript: Sendable, Equatable, Codable {
        /// The jacket number printed on the transcript's cover, usually five digits.
        public var jacketNumber: Int?
        /// The hearing's API URL.
        public var url: String?

        /// Makes a transcript reference from its parts.
        public init(jacketNumber: Int? = nil, url: String? = nil) {
            self.jacketNumber = jacketNumber
            self.url = url
        }

        private enum CodingKeys: String, CodingKey {
            case jacketNumber
            case url
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            jacketNumber = try container.decodeLenientInt(forKey: .jacketNumber)
            url = try container.decodeIfPresent(String.self, forKey: .url)
        }
    }
}
