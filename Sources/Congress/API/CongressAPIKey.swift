import Foundation

/// A Congress.gov (api.data.gov) API key: a secret that never reaches a log, an error, the metrics or
/// the journal.
///
/// The key is sent in the `X-Api-Key` header, so request URLs never carry it; ``redact(_:)`` removes
/// it from any text that might still echo it (a server's error body, a `pagination.next` URL).
/// `description` never shows the value, so interpolating the key by mistake prints `<redacted>`.
public struct CongressAPIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The key itself; read it only to send it.
    public let value: String

    /// A key from `text`: surrounding white space and one pair of matching quotes (`"…"` or `'…'`, as a
    /// `.env` file or a cron line may carry them) removed. Nil when nothing is left.
    public init?(_ text: String) {
        var trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count >= 2, let first = trimmed.first, first == "\"" || first == "'", trimmed.last == first
        {
            trimmed = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !trimmed.isEmpty else { return nil }
        value = trimmed
    }

    /// The key from `CONGRESS_API_KEY`, else `API_KEY` (the predecessor's names); nil when neither holds
    /// one.
    public static func fromEnvironment(_ environment: [String: String]) -> CongressAPIKey? {
        for name in ["CONGRESS_API_KEY", "API_KEY"] {
            if let text = environment[name], let key = CongressAPIKey(text) { return key }
        }
        return nil
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// `text` with every occurrence of the key (as is and percent-encoded) replaced by `REDACTED`, and
    /// the value of any `api_key=` parameter removed.
    public func redact(_ text: String) -> String {
        var result = text
        var forms = [value]
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != value
        {
            forms.append(encoded)
        }
        for form in forms where result.contains(form) {
            result = result.replacingOccurrences(of: form, with: "REDACTED")
        }
        return CongressDecodingError.redacted(result)
    }
}
