import Foundation

/// Any JSON value, for the loosely typed parts of a response (`relatedItems`, `request`).
///
/// Numbers are kept as `Double`; object keys are unordered. Encodes back to the same JSON value.
public enum JSONValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value of `key` when this is an object, else nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// Compact JSON-like text (object keys sorted), for messages and debugging.
    public var description: String {
        switch self {
        case .null:
            return "null"
        case .bool(let value):
            return String(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .string(let value):
            return CongressDecodingError.quoted(value)
        case .array(let values):
            return "[" + values.map(\.description).joined(separator: ",") + "]"
        case .object(let object):
            let members = object.keys.sorted().map { key in
                "\(CongressDecodingError.quoted(key)):\(object[key]?.description ?? "null")"
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
}
