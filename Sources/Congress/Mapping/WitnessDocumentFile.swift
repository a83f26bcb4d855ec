import Foundation

/// The witness named in a witness document's file name, as Congress.gov spells it.
///
/// Congress.gov names witness files `HHRG-119-AP06-Wstate-NatcheesM-20250225.pdf`: after the
/// document-kind part (`W` and letters: `Wstate`, `Wbio`, `Wtruth`, `Wsupp` …) comes the witness's
/// last name run together with the initial of the first name, then the date (eight digits). A second
/// witness with the same token gets a number (`SmithJ2`). Parsing takes the last path component of the
/// URL (query and fragment dropped), the parts between the kind and the date (hyphens inside the name
/// kept out: `Gartenstein-RossD`), a trailing number as the ``ordinal`` (default 1), the last letter as
/// the ``initial`` and the rest as the ``surname``, both folded to lower-case letters and digits.
public struct WitnessDocumentFile: Sendable, Hashable {
    /// The last name as written in the file name, folded to letters and digits: `natchees`.
    public var surname: String
    /// The initial after the last name, folded: `m`.
    public var initial: Character
    /// Which of the witnesses with this surname and initial, counting from 1 in appearance order.
    public var ordinal: Int

    /// Parses the witness token of `url`; nil when the file name has none.
    public init?(url: String) {
        let isASCII = url.utf8.allSatisfy { $0 < 0x80 }
        guard let parsed = isASCII ? Self.parseASCII(url) : Self.parseUnicode(url) else { return nil }
        self = parsed
    }

    private init(surname: String, initial: Character, ordinal: Int) {
        self.surname = surname
        self.initial = initial
        self.ordinal = ordinal
    }

    /// The parse for any text, by characters.
    static func parseUnicode(_ url: String) -> WitnessDocumentFile? {
        var name = Substring(url)
        if let cut = name.firstIndex(where: { $0 == "?" || $0 == "#" }) { name = name[..<cut] }
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if let dot = name.lastIndex(of: ".") { name = name[..<dot] }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let kind = parts.firstIndex(where: Self.isKind) else { return nil }
        let afterKind = parts[(kind + 1)...]
        let end = afterKind.firstIndex(where: Self.isDate) ?? parts.endIndex
        var token = parts[(kind + 1)..<end].joined()
        var digits = ""
        while let last = token.last, last.isASCII, last.isNumber {
            digits.insert(last, at: digits.startIndex)
            token.removeLast()
        }
        let letters = TextFolding.lettersOnly(token)
        guard letters.count >= 2, let initial = letters.last else { return nil }
        let ordinal = Int(digits) ?? 1
        guard ordinal >= 1 else { return nil }
        return WitnessDocumentFile(surname: String(letters.dropLast()), initial: initial, ordinal: ordinal)
    }

    /// The same parse as ``parseUnicode(_:)`` on the bytes of an ASCII URL.
    ///
    /// Why: every witness document's URL is parsed, nearly all are ASCII, and the character-based parse
    /// was two fifths of a meeting's mapping time. For ASCII text the steps are the same (a test checks
    /// both parses agree on every URL of the fixtures and on edge cases).
    static func parseASCII(_ url: String) -> WitnessDocumentFile? {
        var bytes = Array(url.utf8)
        if let cut = bytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            bytes.removeSubrange(cut...)
        }
        if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) { bytes.removeSubrange(...slash) }
        if let dot = bytes.lastIndex(of: UInt8(ascii: ".")) { bytes.removeSubrange(dot...) }
        let parts = bytes.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard let kind = parts.firstIndex(where: isKindASCII) else { return nil }
        let end = parts[(kind + 1)...].firstIndex(where: isDateASCII) ?? parts.endIndex
        var token = Array(parts[(kind + 1)..<end].joined())
        var digitCount = 0
        while digitCount < token.count, isDigit(token[token.count - 1 - digitCount]) { digitCount += 1 }
        let digits = String(decoding: token.suffix(digitCount), as: UTF8.self)
        token.removeLast(digitCount)
        let letters = token.compactMap { byte -> UInt8? in
            if isDigit(byte) { return byte }
            if isLetter(byte) { return byte | 0x20 }
            return nil
        }
        guard letters.count >= 2, let initial = letters.last else { return nil }
        let ordinal = Int(digits) ?? 1
        guard ordinal >= 1 else { return nil }
        return WitnessDocumentFile(
            surname: String(decoding: letters.dropLast(), as: UTF8.self),
            initial: Character(Unicode.Scalar(initial)), ordinal: ordinal)
    }

    /// Index into `names` of the witness this file belongs to: among the names whose
    /// ``WitnessName/fileSurnames`` contain ``surname`` and whose ``WitnessName/fileInitial`` is
    /// ``initial``, the ``ordinal``-th in order; nil when there are fewer.
    public func match(in names: [WitnessName]) -> Int? {
        let candidates = names.indices.filter { index in
            names[index].fileInitial == initial && names[index].fileSurnames.contains(surname)
        }
        return ordinal <= candidates.count ? candidates[ordinal - 1] : nil
    }

    private static func isKind(_ part: String) -> Bool {
        guard part.count >= 2, part.first == "W" || part.first == "w" else { return false }
        return part.dropFirst().allSatisfy { $0.isASCII && $0.isLetter }
    }

    private static func isDate(_ part: String) -> Bool {
        part.count == 8 && part.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func isKindASCII(_ part: ArraySlice<UInt8>) -> Bool {
        guard part.count >= 2, let first = part.first, first | 0x20 == UInt8(ascii: "w") else { return false }
        return part.dropFirst().allSatisfy(isLetter)
    }

    private static func isDateASCII(_ part: ArraySlice<UInt8>) -> Bool {
        part.count == 8 && part.allSatisfy(isDigit)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }
}
