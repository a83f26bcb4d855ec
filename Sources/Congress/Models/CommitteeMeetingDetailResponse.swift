import Foundation

/// The detail response `{"committeeMeeting": {...}, "request": {...}}`.
///
/// Decode with ``CongressAPIDocument/decode(from:source:)``: a missing or invalid meeting throws a
/// ``CongressDecodingError`` (see ``CommitteeMeeting`` for what is strict and what is tolerated).
public struct CommitteeMeetingDetailResponse: CongressAPIDocument {
    /// The meeting.
    public var committeeMeeting: CommitteeMeeting
    /// The API's echo of the request, loosely typed.
    public var request: JSONValue?

    /// Makes a response from its parts.
    public init(committeeMeeting: CommitteeMeeting, request: JSONValue? = nil) {
        self.committeeMeeting = committeeMeeting
        self.request = request
    }
}
