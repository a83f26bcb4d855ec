import Foundation
import GRDB

/// One SQLite value, as stored: the five storage classes.
///
/// JSON form (in journal row images): `null`, an integer as a JSON number, text as a JSON string;
/// a real as `{"real": 1.5}` and a blob as `{"blob": "<base16>"}`, so that every value round-trips
/// exactly, storage class included.
public enum Value: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as GRDB binds it.
    public var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let value): return value.databaseValue
        case .real(let value): return value.databaseValue
        case .text(let value): return value.databaseValue
        case .blob(let bytes): return Data(bytes).databaseValue
        }
    }

    /// The value of a column read by GRDB.
    public init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob(Array(data))
        }
    }

    /// Text, or nil for NULL; other classes render as SQLite's `CAST(… AS TEXT)` would.
    public var text: String? {
        switch self {
        case .null: return nil
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return value
        case .blob(let bytes): return String(decoding: bytes, as: UTF8.self)
        }
    }
}

extension Value: Codable {
    private enum TaggedKey: String, CodingKey {
        case real
        case blob
    }

    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: TaggedKey.self) {
            if let real = try container.decodeIfPresent(Double.self, forKey: .real) {
                self = .real(real)
                return
            }
            if let hex = try container.decodeIfPresent(String.self, forKey: .blob) {
                guard let bytes = bytesFromHex(hex) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .blob, in: container, debugDescription: "bad hex")
                }
                self = .blob(bytes)
                return
            }
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: "unknown tagged value"))
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .integer(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .text(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .real(let value):
            var container = encoder.container(keyedBy: TaggedKey.self)
            try container.encode(value, forKey: .real)
        case .blob(let bytes):
            var container = encoder.container(keyedBy: TaggedKey.self)
            try container.encode(bytes.map { String(format: "%02x", $0) }.joined(), forKey: .blob)
        }
    }
}

extension Value: CustomStringConvertible {
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return "\"\(value)\""
        case .blob(let bytes): return "x'\(bytes.map { String(format: "%02x", $0) }.joined())'"
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension Value {
    /// `.text(value)`, or `.null` for nil.
    public static func optionalText(_ value: String?) -> Value { value.map(Value.text) ?? .null }
    /// `.integer(value)`, or `.null` for nil.
    public static func optionalInteger(_ value: Int64?) -> Value { value.map(Value.integer) ?? .null }
}

func bytesFromHex(_ hex: String) -> [UInt8]? {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = hexDigit(digits[index]), let low = hexDigit(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

private func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x61...0x66: return byte - 0x61 + 10
    case 0x41...0x46: return byte - 0x41 + 10
    default: return nil
    }
}
