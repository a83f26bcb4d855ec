import Foundation

/// Field readers shared by the models: strict identity fields, lenient dates, tolerant lists.
extension KeyedDecodingContainer {
    /// The value at `key` as loose JSON, or nil when the key is absent or null.
    func rawValue(forKey key: Key) throws -> JSONValue? {
        try decodeIfPresent(JSONValue.self, forKey: key)
    }

    /// The first present key of `keys` (e.g. `eventId`, then the spec's `eventid`).
    func firstPresentKey(_ keys: [Key]) -> Key? {
        keys.first { contains($0) }
    }

    /// A meeting's event id: a non-empty string of at most 18 ASCII digits, or a non-negative JSON integer.
    ///
    /// Throws a ``CongressDecodingError`` naming `context`'s source (the id is not known yet).
    func decodeEventId(_ keys: [Key], context: CongressDecodingContext) throws -> String {
        let key = firstPresentKey(keys) ?? keys[0]
        let expectation = "expected a non-empty string of at most 18 digits"
        guard let raw = try rawValue(forKey: key) else {
            throw context.error(eventId: nil, field: key.stringValue, problem: "missing")
        }
        let text: String
        switch raw {
        case .string(let value):
            text = value
        case .number:
            guard let value = try? decode(Int.self, forKey: key), value >= 0 else {
                throw context.error(
                    eventId: nil,
                    field: key.stringValue,
                    problem: "\(expectation), found \(raw)"
                )
            }
            text = String(value)
        default:
            throw context.error(eventId: nil, field: key.stringValue, problem: "\(expectation), found \(raw)")
        }
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else {
            throw context.error(eventId: nil, field: key.stringValue, problem: "\(expectation), found \(raw)")
        }
        return text
    }

    /// A chamber, matched case-insensitively; failures name meeting `eventId`.
    func decodeChamber(
        forKey key: Key,
        eventId: String?,
        context: CongressDecodingContext
    ) throws -> CongressChamber {
        guard let raw = try rawValue(forKey: key) else {
            throw context.error(eventId: eventId, field: key.stringValue, problem: "missing")
        }
        guard case .string(let text) = raw, let chamber = CongressChamber(apiValue: text) else {
            throw context.error(
                eventId: eventId,
                field: key.stringValue,
                problem: CongressChamber.expectation(found: raw.description)
            )
        }
        return chamber
    }

    /// A congress number: a positive JSON integer or a string of ASCII digits; failures name `eventId`.
    func decodeCongress(forKey key: Key, eventId: String?, context: CongressDecodingContext) throws -> Int {
        guard let raw = try rawValue(forKey: key) else {
            throw context.error(eventId: eventId, field: key.stringValue, problem: "missing")
        }
        var number: Int?
        switch raw {
        case .number:
            number = try? decode(Int.self, forKey: key)
        case .string(let text) where !text.isEmpty && text.utf8.allSatisfy({ (0x30...0x39).contains($0) }):
            number = Int(text)
        default:
            number = nil
        }
        guard let number, number > 0 else {
            throw context.error(
                eventId: eventId,
                field: key.stringValue,
                problem: "expected a positive integer, found \(raw)"
            )
        }
        return number
    }

    /// A timestamp that never fails decoding: the parsed value (nil when absent or malformed) and the
    /// raw text (nil when absent or null; a non-string value is kept in its JSON form).
    func decodeLenientDate(forKey key: Key) throws -> (date: CongressDate?, raw: String?) {
        switch try rawValue(forKey: key) {
        case nil:
            return (nil, nil)
        case .string(let text):
            return (CongressDate.parse(text), text)
        case let other?:
            return (nil, other.description)
        }
    }

    /// An integer given as a JSON integer or a string of ASCII digits; an empty string counts as absent.
    func decodeLenientInt(forKey key: Key) throws -> Int? {
        switch try rawValue(forKey: key) {
        case nil:
            return nil
        case .number:
            return try decode(Int.self, forKey: key)
        case .string(let text) where text.trimmingCharacters(in: .whitespaces).isEmpty:
            return nil
        case .string(let text):
            guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key,
                    in: self,
                    debugDescription:
                        "expected an integer or a string of digits, found \(CongressDecodingError.quoted(text))"
                )
            }
            return value
        case let other?:
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "expected an integer or a string of digits, found \(other)"
            )
        }
    }

    /// A list given as an array, as `{"item": [...]}` or as `{"item": {...}}`; nil when absent or null.
    func decodeItemList<Element: Decodable>(_ type: Element.Type, forKey key: Key) throws -> [Element]? {
        try decodeIfPresent(CongressItemList<Element>.self, forKey: key)?.elements
    }
}

/// A list in any of the shapes the API uses: `[...]`, `{"item": [...]}`, `{"item": {...}}`, `{}`.
struct CongressItemList<Element: Decodable>: Decodable {
    let elements: [Element]

    /// Any key, so that `allKeys` lists every member of the object.
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        static var item: Key { Key(stringValue: "item") }
    }

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            elements = try Self.decodeAll(&array)
            return
        }
        let object = try decoder.container(keyedBy: Key.self)
        if object.contains(.item) {
            if try object.decodeNil(forKey: .item) {
                elements = []
            } else if var array = try? object.nestedUnkeyedContainer(forKey: .item) {
                elements = try Self.decodeAll(&array)
            } else {
                elements = [try object.decode(Element.self, forKey: .item)]
            }
        } else if object.allKeys.isEmpty {
            elements = []
        } else {
            throw DecodingError.typeMismatch(
                [Element].self,
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected an array, {\"item\": [...]} or {\"item\": {...}}"
                )
            )
        }
    }

    private static func decodeAll(_ array: inout any UnkeyedDecodingContainer) throws -> [Element] {
        var elements: [Element] = []
        if let count = array.count { elements.reserveCapacity(count) }
        while !array.isAtEnd {
            elements.append(try array.decode(Element.self))
        }
        return elements
    }
}

/// One list element decoded without failing the list: the value, or the error naming the element.
struct CongressFailableItem<Element: Decodable>: Decodable {
    let result: Result<Element, CongressDecodingError>

    init(from decoder: any Decoder) {
        do {
            result = .success(try Element(from: decoder))
        } catch {
            let context = CongressDecodingContext(decoder)
            result = .failure(CongressDecodingError.wrapping(error, source: context.source))
        }
    }

    /// Splits decoded list elements into the values and the errors, each in input order.
    static func partition(_ items: [CongressFailableItem]) -> (
        values: [Element], errors: [CongressDecodingError]
    ) {
        var values: [Element] = []
        var errors: [CongressDecodingError] = []
        for item in items {
            switch item.result {
            case .success(let value): values.append(value)
            case .failure(let error): errors.append(error)
            }
        }
        return (values, errors)
    }
}
