import Foundation

/// A Congress.gov timestamp: the UTC instant together with the text the API sent.
///
/// The API writes the same kind of value in two forms, `2025-03-24T13:00:00Z` and
/// `2025-03-24 13:00:00+00:00`. ``parse(_:)`` accepts both, with an optional fraction of a second
/// (`.5`, `.123456`) and any offset (`Z`, `z`, `+HH:MM`, `-HHMM`, `+HH`), and normalises the instant to UTC.
/// A time without an offset is rejected: it does not name an instant.
///
/// Equality compares both ``date`` and ``original``: the same instant written in two forms gives two
/// unequal values. Compare ``date`` or ``iso8601UTC`` to compare instants.
///
/// `Codable` as a single string: decoding parses it (a malformed string throws
/// `DecodingError.dataCorrupted`), encoding writes ``original`` back unchanged.
public struct CongressDate: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The instant, in UTC.
    public let date: Date

    /// The text this value was parsed from, or the ``iso8601UTC`` form when made from a `Date`.
    public let original: String

    /// Makes a value for `date`; ``original`` becomes its ``iso8601UTC`` form.
    public init(_ date: Date) {
        self.date = date
        self.original = Self.format(date)
    }

    private init(date: Date, original: String) {
        self.date = date
        self.original = original
    }

    /// The instant as `YYYY-MM-DDTHH:MM:SSZ` in UTC, fractions of a second cut off.
    public var iso8601UTC: String { Self.format(date) }

    public var description: String { iso8601UTC }

    /// Parses a Congress.gov timestamp; returns nil unless `text` is exactly one valid timestamp.
    ///
    /// Accepted: `YYYY-MM-DD`, then `T`, `t` or one space, then `HH:MM:SS`, an optional `.` and 1 to 9
    /// digits, then `Z`/`z` or an offset `±HH:MM`, `±HHMM` or `±HH`. Fields are range-checked
    /// (no 31 April, no hour 24, no leap second); surrounding whitespace is not accepted.
    public static func parse(_ text: String) -> CongressDate? {
        var scanner = TimestampScanner(text)
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2),
            scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2)
        else { return nil }
        guard (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }

        var fraction = 0.0
        if scanner.skip(".") {
            guard let digits = scanner.digitRun(), (1...9).contains(digits.count),
                let value = Double("0." + digits)
            else { return nil }
            fraction = value
        }

        guard let offsetSeconds = scanner.offset(), scanner.isAtEnd else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        let date = Date(timeIntervalSince1970: Double(seconds) + fraction)
        return CongressDate(date: date, original: text)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Self.parse(text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: Self.expectation(found: text)
                )
            )
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(original)
    }

    /// The problem text for a malformed timestamp, e.g. `expected a date like 2025-03-24T13:00:00Z, found "x"`.
    static func expectation(found text: String) -> String {
        "expected a date like 2025-03-24T13:00:00Z or 2025-03-24 13:00:00+00:00, found \(CongressDecodingError.quoted(text))"
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, after H. Hinnant's `days_from_civil`)

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func format(_ date: Date) -> String {
        let total = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondOfDay = total - days * 86_400
        let (year, month, day) = civilFromDays(days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay % 3600 / 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}

/// A forward-only reader over the UTF-8 bytes of a timestamp.
private struct TimestampScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    var isAtEnd: Bool { index == bytes.count }

    /// Consumes `character` (one ASCII character) if it is next.
    mutating func skip(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue, index < bytes.count, bytes[index] == ascii else {
            return false
        }
        index += 1
        return true
    }

    /// Consumes exactly `digits` ASCII digits and returns their value.
    mutating func number(digits: Int) -> Int? {
        guard index + digits <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + digits] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += digits
        return value
    }

    /// Consumes a run of ASCII digits (possibly empty) and returns it as text.
    mutating func digitRun() -> String? {
        let start = index
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
            index += 1
        }
        return String(bytes: bytes[start..<index], encoding: .ascii)
    }

    /// Consumes `Z`, `z`, `±HH:MM`, `±HHMM` or `±HH` and returns the offset east of UTC in seconds.
    mutating func offset() -> Int? {
        if skip("Z") || skip("z") { return 0 }
        let sign: Int
        if skip("+") {
            sign = 1
        } else if skip("-") {
            sign = -1
        } else {
            return nil
        }
        guard let hours = number(digits: 2), hours <= 23 else { return nil }
        var minutes = 0
        if skip(":") {
            guard let value = number(digits: 2) else { return nil }
            minutes = value
        } else if !isAtEnd {
            guard let value = number(digits: 2) else { return nil }
            minutes = value
        }
        guard minutes <= 59 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }
}
