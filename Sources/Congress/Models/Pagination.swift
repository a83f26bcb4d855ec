import Foundation

/// The paging block of a list response: `{count, next, prev}`.
///
/// ``next`` and ``prev`` are kept as sent. The API builds them from the request, so they may carry the
/// caller's `api_key`: never log them as they are.
public struct Pagination: Sendable, Equatable, Codable {
    /// The total number of items across all pages.
    public var count: Int?
    /// The URL of the next page; nil on the last page.
    public var next: String?
    /// The URL of the previous page; nil on the first page.
    public var prev: String?

    /// Makes a paging block from its parts.
    public init(count: Int? = nil, next: String? = nil, prev: String? = nil) {
        self.count = count
        self.next = next
        self.prev = prev
    }
}
