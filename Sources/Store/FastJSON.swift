/// A small, strict JSON parser for the journal's row images.
///
/// Why not `JSONDecoder`: replaying a journal decodes every intent's whole-row images, and measured on
/// this project's intents `JSONDecoder` reaches about 20,000 row images per second (its `Value`
/// decoding probes each value's type through thrown errors); `JSONSerialization` about twice that.
/// Rebuild must replay 100,000 mutations per second. This parser builds a light tree over the bytes in
/// one pass; a test checks that it decodes every intent exactly as `JSONDecoder` does.
public enum FastJSON {
    /// A parsed JSON value.
    public indirect enum Node: Equatable, Sendable {
        case null
        case bool(Bool)
        /// An integer that fits in 64 bits.
        case integer(Int64)
        /// Any other number.
        case number(Double)
        case string(String)
        case array([Node])
        /// Members in document order.
        case object([(String, Node)])

        public static func == (lhs: Node, rhs: Node) -> Bool {
            switch (lhs, rhs) {
            case (.null, .null): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.integer(let a), .integer(let b)): return a == b
            case (.number(let a), .number(let b)): return a == b
            case (.string(let a), .string(let b)): return a == b
            case (.array(let a), .array(let b)): return a == b
            case (.object(let a), .object(let b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: return false
            }
        }

        /// The member `name` of an object (the last one, as JSON decoders do), or nil.
        public subscript(name: String) -> Node? {
            guard case .object(let members) = self else { return nil }
            return members.last { $0.0 == name }?.1
        }
    }

    /// Why bytes are not valid JSON.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var offset: Int
        public var problem: String
        public var description: String { "invalid JSON at byte \(offset): \(problem)" }
    }

    /// Parses one JSON document (surrounding whitespace allowed).
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> Node {
        try bytes.withUnsafeBufferPointer { buffer throws(ParseError) -> Node in
            var parser = Parser(bytes: buffer)
            parser.skipWhitespace()
            let node = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.error("trailing bytes") }
            return node
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        func error(_ problem: String) -> ParseError { ParseError(offset: index, problem: problem) }

        mutating func skipWhitespace() {
            while index < bytes.count,
                bytes[index] == 0x20 || bytes[index] == 0x0a || bytes[index] == 0x0d || bytes[index] == 0x09
            {
                index += 1
            }
        }

        mutating func expect(_ literal: StaticString) throws(ParseError) {
            let count = literal.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw error("unexpected end") }
            for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
                throw error("unexpected byte")
            }
            index += count
        }

        mutating func value(depth: Int) throws(ParseError) -> Node {
            guard depth < 64 else { throw error("nested too deeply") }
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, Node)] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                        throw error("expected a name")
                    }
                    let name = try string()
                    skipWhitespace()
                    try expect(":")
                    skipWhitespace()
                    members.append((name, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                    } else if bytes[index] == UInt8(ascii: "}") {
                        index += 1
                        return .object(members)
                    } else {
                        throw error("expected , or }")
                    }
                }
            case UInt8(ascii: "["):
                index += 1
                var elements: [Node] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                }
                while true {
                    skipWhitespace()
                    elements.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                    } else if bytes[index] == UInt8(ascii: "]") {
                        index += 1
                        return .array(elements)
                    } else {
                        throw error("expected , or ]")
                    }
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            default:
                return try number()
            }
        }

        mutating func number() throws(ParseError) -> Node {
            let start = index
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > digitsStart else { throw error("expected a value") }
            if bytes[digitsStart] == 0x30 && index - digitsStart > 1 { throw error("leading zero") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                let fraction = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > fraction else { throw error("expected digits after .") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
                {
                    index += 1
                }
                let exponent = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > exponent else { throw error("expected exponent digits") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let integer = Int64(text) { return .integer(integer) }
            guard let number = Double(text) else { throw error("bad number") }
            return .number(number)
        }

        mutating func string() throws(ParseError) -> String {
            index += 1  // the opening quote
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(
                        decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw error("control character in a string") }
                index += 1
            }
            var scalars = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: scalars, as: UTF8.self)
                }
                if byte < 0x20 { throw error("control character in a string") }
                guard byte == UInt8(ascii: "\\") else {
                    scalars.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5c)
                case UInt8(ascii: "/"): scalars.append(0x2f)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0c)
                case UInt8(ascii: "n"): scalars.append(0x0a)
                case UInt8(ascii: "r"): scalars.append(0x0d)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00 {
                        try expect("\\u")
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if code >= 0xDC00 && code < 0xE000 {
                        throw error("unpaired surrogate")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("bad \\u escape") }
                    scalars += Array(String(Character(scalar)).utf8)
                default:
                    throw error("bad escape")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                default: throw error("bad \\u escape")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }
    }
}

extension Value {
    /// The value a row image's JSON node stands for (see `Value`'s JSON form).
    public init(node: FastJSON.Node) throws {
        switch node {
        case .null: self = .null
        case .integer(let integer): self = .integer(integer)
        case .string(let text): self = .text(text)
        case .object:
            if case .number(let real)? = node["real"] {
                self = .real(real)
            } else if case .integer(let real)? = node["real"] {
                self = .real(Double(real))
            } else if case .string(let hex)? = node["blob"], let bytes = bytesFromHex(hex) {
                self = .blob(bytes)
            } else {
                throw StoreError("a row value is an object but neither {\"real\": …} nor {\"blob\": …}")
            }
        default:
            throw StoreError("a row value must be null, an integer, a string, or a tagged real or blob")
        }
    }
}

extension RowImage {
    /// The row image a JSON object node stands for.
    public init(node: FastJSON.Node) throws {
        guard case .object(let members) = node else { throw StoreError("a row image must be a JSON object") }
        var columns: [String: Value] = [:]
        columns.reserveCapacity(members.count)
        for (name, value) in members { columns[name] = try Value(node: value) }
        self.init(columns)
    }
}

extension Mutation {
    /// The mutation a JSON object node stands for (the form `Mutation`'s `Codable` conformance writes).
    public init(node: FastJSON.Node) throws {
        guard case .string(let kindName)? = node["kind"], let kind = Kind(rawValue: kindName),
            case .string(let table)? = node["table"], let key = node["key"]
        else { throw StoreError("a mutation needs kind, table and key") }
        self.kind = kind
        self.table = table
        self.key = try RowImage(node: key)
        before = try node["before"].flatMap { $0 == .null ? nil : try RowImage(node: $0) }
        after = try node["after"].flatMap { $0 == .null ? nil : try RowImage(node: $0) }
    }
}
