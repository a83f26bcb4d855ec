import Foundation

/// The text normalisation behind witness identity, organisation classification and file-name matching.
///
/// ``fold(_:)``: canonical decomposition, combining marks removed (é → e), a few letters without a
/// decomposition spelled out (ß → ss, æ → ae, ø → o, ł → l, đ → d, œ → oe, þ → th, ı → i), lower case;
/// full stops and apostrophes (`.`, `'`, `’`, `‘`) deleted, so `U.S.` and `US`, `O'Brien` and `OBrien`
/// agree; every other run of characters that are neither letters nor digits becomes one space;
/// leading and trailing spaces removed. Deterministic and locale-independent.
public enum TextFolding {
    /// `text` folded for comparison (see the type's documentation).
    public static func fold(_ text: String) -> String {
        foldASCII(text) ?? foldUnicode(text)
    }

    /// `fold` for any text.
    static func foldUnicode(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        let lowered = text.lowercased().decomposedStringWithCanonicalMapping
        let unmarked = String(String.UnicodeScalarView(lowered.unicodeScalars.filter { !isMark($0) }))
        for character in unmarked {
            if let spelled = spelledOut[character] {
                appendWord(spelled, to: &result, pendingSpace: &pendingSpace)
            } else if deleted.contains(character) {
                continue
            } else if character.isLetter || character.isNumber {
                appendWord(String(character), to: &result, pendingSpace: &pendingSpace)
            } else {
                pendingSpace = !result.isEmpty
            }
        }
        return result
    }

    /// `fold` for ASCII text, byte by byte; nil when `text` has other characters.
    ///
    /// Why: mapping folds every witness name, organisation and document file name, and the general
    /// path (Unicode lower-casing, canonical decomposition, grapheme iteration) was most of a meeting's
    /// mapping time; nearly all of this text is ASCII. For ASCII the two agree exactly (a test checks
    /// every printable and control character): letters are lower-cased, digits kept, `.` and `'`
    /// deleted, and every other run of characters becomes one space between words.
    static func foldASCII(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                if pendingSpace {
                    bytes.append(UInt8(ascii: " "))
                    pendingSpace = false
                }
                bytes.append(byte | (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? 0x20 : 0))
            case UInt8(ascii: "."), UInt8(ascii: "'"):
                continue
            default:
                pendingSpace = !bytes.isEmpty
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` folded and then reduced to its letters and digits: `Gartenstein-Ross` → `gartensteinross`.
    public static func lettersOnly(_ text: String) -> String {
        lettersOnlyASCII(text) ?? String(fold(text).filter { $0 != " " })
    }

    /// `lettersOnly` for ASCII text: its letters, lower-cased, and digits; nil when `text` has other
    /// characters. Why: every witness name word is reduced this way to compare it with the honorific
    /// and suffix lists; for ASCII, folding and dropping the spaces keeps exactly these bytes (a test
    /// checks both agree on every ASCII character).
    static func lettersOnlyASCII(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes.append(byte | 0x20)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
            default: continue
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` without leading and trailing `whitespacesAndNewlines`, as Foundation's
    /// `trimmingCharacters(in:)` returns it.
    ///
    /// Why: Foundation's trim walks the text as UTF-16 even when there is nothing to trim, and most
    /// values the API sends have no blank at either end; those are returned as they are.
    public static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return text }
        if !blanks.contains(first) && !blanks.contains(last) { return text }
        return text.trimmingCharacters(in: blanks)
    }

    /// Foundation's `whitespacesAndNewlines`: what ``trimmed(_:)`` and `nonEmpty` treat as blank.
    static let blanks = CharacterSet.whitespacesAndNewlines

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    private static let spelledOut: [Character: String] = [
        "ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "œ": "oe", "þ": "th", "ı": "i",
    ]

    private static let deleted: Set<Character> = [".", "'", "\u{2019}", "\u{2018}"]

    private static func appendWord(_ text: String, to result: inout String, pendingSpace: inout Bool) {
        if pendingSpace {
            result.append(" ")
            pendingSpace = false
        }
        result += text
    }
}
