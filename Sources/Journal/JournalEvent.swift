import Foundation

/// An event to append: a type, its own fields as one JSON object, and optional index keys.
///
/// The journal stores each event as one JSON line, `{"position":…,"time":…,"type":…, <fields>}`; the
/// fields must not use those three names. Keys (for example `batch:42`) are kept in the record header so
/// that `entries(withKey:)` finds the event without scanning the journal.
public struct JournalEvent: Sendable {
    /// The event's type: letters, digits, `_`, `-` and `.`, at most 64 characters.
    public let type: String
    /// The event's fields: the UTF-8 bytes of one compact JSON object, without newlines.
    public let body: [UInt8]
    /// Index keys under which `entries(withKey:)` finds this event.
    public let keys: [String]

    /// An event whose fields are already encoded as a compact JSON object.
    public init(type: String, body: [UInt8], keys: [String] = []) {
        self.type = type
        self.body = body
        self.keys = keys
    }

    /// An event whose fields are the encoding of `fields` (keys sorted, so equal values give equal bytes).
    public init<Fields: Encodable>(type: String, fields: Fields, keys: [String] = []) throws {
        self.init(type: type, body: Array(try JournalEvent.encoder.encode(fields)), keys: keys)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func validate() throws(JournalError) {
        guard !type.isEmpty, type.utf8.count <= 64,
            type.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a)
                    || (byte >= 0x61 && byte <= 0x7a)
                    || byte == 0x5f || byte == 0x2d || byte == 0x2e
            })
        else { throw JournalError(.invalidArgument, "event type \"\(type)\" is not a plain identifier") }
        if let problem = topLevelProblem(body) {
            throw JournalError(.invalidArgument, "event \(type): fields \(problem)")
        }
        for key in keys where key.utf8.isEmpty || key.utf8.count > RecordFormat.maximumKeyLength {
            throw JournalError(
                .invalidArgument, "event \(type): index key is empty or longer than 1024 bytes")
        }
    }

    /// Checks, in one pass over the bytes, that `body` is one compact JSON object (no whitespace
    /// around its braces, properly nested brackets, no raw newline) whose top-level names are plain
    /// (no escapes), unique, and not the envelope's (`position`, `time`, `type`), so that splicing it
    /// after the envelope gives one valid JSON line. Values are not otherwise parsed: the body comes
    /// from an encoder.
    func topLevelProblem(_ body: [UInt8]) -> String? {
        guard body.count >= 2, body[0] == UInt8(ascii: "{"), body[body.count - 1] == UInt8(ascii: "}") else {
            return "are not one JSON object"
        }
        if body.count == 2 { return nil }
        guard body[1] == UInt8(ascii: "\"") else { return "are not compact JSON (expected {\" or {})" }
        let reserved: Set<[UInt8]> = [Array("position".utf8), Array("time".utf8), Array("type".utf8)]
        var names = Set<[UInt8]>()
        var closers: [UInt8] = []
        var inString = false
        var escaped = false
        var nameEscaped = false
        var stringStart = 0
        var expectingName = false
        for (index, byte) in body.enumerated() {
            if byte == 0x0a { return "contain a raw newline" }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                    nameEscaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if closers.count == 1 && expectingName {
                        let name = Array(body[(stringStart + 1)..<index])
                        if nameEscaped { return "use an escaped top-level name" }
                        if reserved.contains(name) {
                            return "use the reserved name \"\(String(decoding: name, as: UTF8.self))\""
                        }
                        if !names.insert(name).inserted {
                            return "repeat the name \"\(String(decoding: name, as: UTF8.self))\""
                        }
                        expectingName = false
                    }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                nameEscaped = false
                stringStart = index
            case UInt8(ascii: "{"):
                closers.append(UInt8(ascii: "}"))
                expectingName = closers.count == 1
            case UInt8(ascii: "["):
                closers.append(UInt8(ascii: "]"))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard closers.popLast() == byte, !closers.isEmpty || index == body.count - 1 else {
                    return "are not one JSON object"
                }
            case UInt8(ascii: ","):
                if closers.count == 1 { expectingName = true }
            default:
                break
            }
        }
        return closers.isEmpty && !inString ? nil : "are not one JSON object"
    }

    /// The JSON line for this event at `position` and `time`, newline included.
    func line(position: UInt64, time: String, into output: inout [UInt8]) {
        output += Array("{\"position\":\(position),\"time\":\"\(time)\",\"type\":\"\(type)\"".utf8)
        if body.count > 2 {
            output.append(UInt8(ascii: ","))
            output += body[1...]
        } else {
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "\n"))
    }
}

/// One stored event, as read back from the journal.
public struct JournalEntry: Sendable {
    /// The event's position: gap-free and increasing across the whole journal.
    public let position: UInt64
    /// The event's JSON line, without the trailing newline.
    public let line: [UInt8]

    /// The common fields of every event line.
    public struct Envelope: Decodable, Sendable {
        /// The event's position.
        public var position: UInt64
        /// When the event was appended (RFC 3339, UTC, milliseconds).
        public var time: String
        /// The event's type.
        public var type: String
    }

    /// Decodes the line as `T` (unknown fields are ignored by `Decodable` types).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(line))
    }

    /// The position, time and type of the event.
    public func envelope() throws -> Envelope {
        try decode(Envelope.self)
    }
}

/// Formats an instant as RFC 3339 in UTC with milliseconds, e.g. `2025-10-13T06:00:00.000Z`.
public func rfc3339Milliseconds(_ date: Date) -> String {
    let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
    let fraction = Int(milliseconds - Int64(seconds) * 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(fraction), 3))Z"
}
