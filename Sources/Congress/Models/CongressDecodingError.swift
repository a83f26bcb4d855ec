import Foundation

/// Why a Congress.gov document, or one item in it, could not be decoded.
///
/// The message names the item, the field and the problem, e.g.
/// `meeting 117214: field "chamber": expected House, Senate or NoChamber, found "Hosue"`.
/// The item is the meeting's event id when it was read before the failure, otherwise the source label
/// the caller passed in (a file name, a request path). ``field`` is the coding path relative to that
/// item: `chamber` or `videos.item[0].url` inside a named meeting, `committeeMeeting.eventId` or
/// `committeeMeetings[3].eventId` from the document root.
///
/// Texts echoed from the input are shortened, and URLs lose their query string and any `api_key=` value,
/// so an error never carries an API key.
public struct CongressDecodingError: Error, LocalizedError, CustomStringConvertible, Sendable, Equatable {
    /// The event id of the meeting the error belongs to, when it is known.
    public let eventId: String?

    /// The label of the document that was being decoded (redacted), when one was given.
    public let source: String?

    /// The coding path of the offending field relative to ``item``; empty for the document as a whole.
    public let field: String

    /// What is wrong, e.g. `missing` or `expected a positive integer, found "abc"`.
    public let problem: String

    /// Makes an error; every text is redacted (query strings and `api_key` values removed).
    public init(eventId: String?, source: String?, field: String, problem: String) {
        self.eventId = eventId.map(Self.redacted)
        self.source = source.map(Self.redacted)
        self.field = Self.redacted(field)
        self.problem = Self.redacted(problem)
    }

    /// `meeting <eventId>` when the event id is known, else the source label, else `document`.
    public var item: String {
        if let eventId { return "meeting \(eventId)" }
        return source ?? "document"
    }

    public var description: String {
        field.isEmpty ? "\(item): \(problem)" : "\(item): field \"\(field)\": \(problem)"
    }

    public var errorDescription: String? { description }

    // MARK: - Text helpers

    /// The longest stretch of input text echoed in a message.
    static let maximumEchoLength = 80

    /// `text` in double quotes, shortened to ``maximumEchoLength`` characters and redacted.
    static func quoted(_ text: String) -> String {
        let shortened =
            text.count > maximumEchoLength ? String(text.prefix(maximumEchoLength)) + "…" : text
        let escaped = shortened.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
        return "\"\(redacted(escaped))\""
    }

    /// `text` without URL query strings and without the value of any `api_key=` parameter.
    ///
    /// A query string is cut from `?` to the next space or quote in any word that contains `://`;
    /// an `api_key=` anywhere else keeps its name and loses its value.
    static func redacted(_ text: String) -> String {
        guard text.contains("://") || text.localizedCaseInsensitiveContains("api_key") else { return text }
        var result = ""
        var remaining = Substring(text)
        let stops: Set<Character> = [" ", "\"", "'", "\n", "\t", ">", ")"]
        while let scheme = remaining.range(of: "://") {
            let wordStart =
                remaining[..<scheme.lowerBound].lastIndex(where: { stops.contains($0) })
                .map { remaining.index(after: $0) } ?? remaining.startIndex
            let wordEnd =
                remaining[scheme.upperBound...].firstIndex(where: { stops.contains($0) })
                ?? remaining.endIndex
            result += remaining[..<wordStart]
            let word = remaining[wordStart..<wordEnd]
            if let query = word.firstIndex(of: "?") {
                result += word[..<query]
            } else {
                result += word
            }
            remaining = remaining[wordEnd...]
        }
        result += remaining
        return redactingAPIKeys(result)
    }

    /// Replaces the value after every `api_key=` (any case) with `REDACTED`.
    private static func redactingAPIKeys(_ text: String) -> String {
        var result = ""
        var remaining = Substring(text)
        while let key = remaining.range(of: "api_key=", options: .caseInsensitive) {
            result += remaining[..<key.upperBound]
            result += "REDACTED"
            let valueEnd =
                remaining[key.upperBound...].firstIndex(where: { "&\"' \n\t".contains($0) })
                ?? remaining.endIndex
            remaining = remaining[valueEnd...]
        }
        result += remaining
        return result
    }
}
