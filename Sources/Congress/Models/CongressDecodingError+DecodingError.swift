import Foundation

extension CongressDecodingError {
    /// Wraps a `DecodingError`, with the field given relative to `base` (the coding path of the item).
    init(_ error: DecodingError, eventId: String?, source: String?, relativeTo base: [any CodingKey] = []) {
        let path: [any CodingKey]
        let problem: String
        switch error {
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
            problem = "missing"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            problem = "expected \(type), found null"
        case .typeMismatch(_, let context):
            path = context.codingPath
            problem = Self.problem(from: context)
        case .dataCorrupted(let context):
            path = context.codingPath
            problem = Self.problem(from: context)
        @unknown default:
            path = []
            problem = String(describing: error)
        }
        self.init(
            eventId: eventId,
            source: source,
            field: Self.render(Self.path(path, relativeTo: base)),
            problem: problem
        )
    }

    /// Wraps any error thrown while decoding a document labelled `source`.
    static func wrapping(_ error: any Error, source: String?) -> CongressDecodingError {
        switch error {
        case let error as CongressDecodingError:
            return error
        case let error as DecodingError:
            return CongressDecodingError(error, eventId: nil, source: source)
        default:
            return CongressDecodingError(
                eventId: nil,
                source: source,
                field: "",
                problem: String(describing: error)
            )
        }
    }

    /// A coding path as text: keys joined by dots, array positions as `[n]`, e.g. `videos.item[0].url`.
    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key.stringValue == "Index \(index)" || key.stringValue == "\(index)"
            {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    private static func path(_ path: [any CodingKey], relativeTo base: [any CodingKey]) -> [any CodingKey] {
        guard path.count >= base.count else { return path }
        for (key, baseKey) in zip(path, base)
        where key.stringValue != baseKey.stringValue || key.intValue != baseKey.intValue {
            return path
        }
        return Array(path.dropFirst(base.count))
    }

    private static func problem(from context: DecodingError.Context) -> String {
        var text = context.debugDescription
        if let underlying = context.underlyingError {
            text += " (\(underlying))"
        }
        return text
    }
}
