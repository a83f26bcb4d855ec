import Foundation

/// A witness's name as the API writes it, split into the parts the `witnesses` table stores.
///
/// Rules, in order:
/// 1. ``fullName`` is the API's name with surrounding whitespace removed; nothing else changes.
/// 2. The name proper is the text before the first comma (`Kristen Holmes, Ph.D.` →
///    `Kristen Holmes`); after a comma come degrees, suffixes and ranks (`, Jr.`, `, USAF`).
/// 3. Nicknames and remarks in double quotes or parentheses are dropped
///    (`Bradley "Scott" Dane`, `Robert (Bob) Thompson`, `Charles Marino (Did Not Testify)`).
/// 4. Leading honorifics (``honorifics``, compared case-insensitively without full stops, any
///    number of them: `The Honorable`, `Rear Admiral Lower Half`) and trailing suffixes
///    (``suffixes``: `Jr.`, `III`, `Ph.D.`, `M.D.`, `Esq.` …) are removed, always keeping at least
///    one word. A given name spelled like an honorific (`Judge Glock`) is taken as an honorific.
/// 5. One word left: it is the last name and the first name is nil. Otherwise the first word is
///    the first name and the rest, without leading middle initials (`L.`, `A`), is the last name:
///    `Paul L. Mimms` → Paul / Mimms, `Frank Star Comes Out` → Frank / Star Comes Out,
///    `Derrick Van Orden` → Derrick / Van Orden.
///
/// Honorifics stay in ``fullName``: `Mr. Thomas DiNanno` keeps its full name, with first name
/// `Thomas` and last name `DiNanno`.
public struct WitnessName: Sendable, Hashable {
    /// The API's name, trimmed.
    public private(set) var fullName: String
    /// The first name, or nil when the name is a single word after honorifics are removed.
    public private(set) var firstName: String?
    /// The last name; never empty.
    public private(set) var lastName: String
    /// The words of the name without honorifics, suffixes and nicknames, as written.
    public private(set) var words: [String]
    /// The initial Congress.gov puts after the last name in witness file names: the first letter of the
    /// first name, or of the last name when there is no first name (lower case, folded).
    ///
    /// Computed once here: matching documents to witnesses compares every file with every name.
    public private(set) var fileInitial: Character?
    /// The spellings of the last name a file name may use, letters and digits only: the whole last name
    /// (`starcomesout`) and its last word (`out`).
    public private(set) var fileSurnames: Set<String>

    /// Splits `apiName`; nil when it is empty or only whitespace.
    public init?(_ apiName: String) {
        let trimmed = TextFolding.trimmed(apiName)
        guard !trimmed.isEmpty else { return nil }
        fullName = trimmed

        var words = Self.words(of: Self.beforeFirstComma(trimmed))
        if words.isEmpty { words = Self.words(of: trimmed.replacingOccurrences(of: ",", with: " ")) }
        if words.isEmpty { words = trimmed.split(whereSeparator: \.isWhitespace).map(String.init) }
        while words.count > 1, let first = words.first, Self.honorifics.contains(Self.key(first)) {
            words.removeFirst()
        }
        while words.count > 1, let last = words.last, Self.suffixes.contains(Self.key(last)) {
            words.removeLast()
        }
        self.words = words
        if words.count == 1 {
            firstName = nil
            lastName = words[0]
        } else {
            firstName = words[0]
            var rest = Array(words.dropFirst())
            while rest.count > 1, let first = rest.first, Self.isInitial(first) { rest.removeFirst() }
            lastName = rest.joined(separator: " ")
        }
        fileInitial = TextFolding.lettersOnly(firstName ?? lastName).first
        var surnames: Set<String> = [TextFolding.lettersOnly(lastName)]
        if let lastWord = lastName.split(separator: " ").last {
            surnames.insert(TextFolding.lettersOnly(String(lastWord)))
        }
        surnames.remove("")
        fileSurnames = surnames
    }

    /// The folded name without honorifics and suffixes, the name half of a witness identity:
    /// `Dr. José A. Núñez, Ph.D.` → `jose a nunez`.
    public var identityName: String { TextFolding.fold(words.joined(separator: " ")) }

    /// Honorifics and ranks removed from the front of a name, folded (lower case, no full stops).
    public static let honorifics: Set<String> = [
        "mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor", "the", "honorable", "hon",
        "rev", "reverend", "rabbi", "imam", "pastor", "bishop", "sen", "senator", "rep", "representative",
        "congressman", "congresswoman", "gov", "governor", "lt", "lieutenant", "gen", "general", "adm",
        "admiral", "rear", "vice", "lower", "upper", "half", "col", "colonel", "maj", "major", "capt",
        "captain", "cmdr", "cdr", "commander", "sgt", "sergeant", "master", "staff", "command", "chief",
        "brig", "brigadier", "petty", "officer", "ambassador", "amb", "judge", "mayor", "sheriff",
        "secretary", "commissioner", "councilman", "councilwoman", "councilmember", "chairman",
        "chairwoman", "deputy",
    ]

    /// Suffixes, degrees and service branches removed from the end of a name, folded.
    public static let suffixes: Set<String> = [
        "jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "jd", "dvm", "mph", "mhs", "mba", "edd", "drph",
        "dnp", "rn", "pe", "cpa", "faap", "facs", "facp", "usa", "usaf", "usn", "usmc", "uscg", "ussf", "ret",
    ]

    /// A word as the lists spell it: folded, with no spaces (`Ph.D.` → `phd`, `Lt.` → `lt`).
    static func key(_ word: String) -> String { TextFolding.lettersOnly(word) }

    /// A middle initial: one letter, with or without a full stop.
    private static func isInitial(_ word: String) -> Bool {
        let letters = word.filter { $0 != "." }
        return letters.count == 1 && letters.first?.isLetter == true
    }

    private static func beforeFirstComma(_ text: String) -> String {
        text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? text
    }

    /// The words of `text` outside double quotes and parentheses.
    static func words(of text: String) -> [String] {
        wordsASCII(of: text) ?? wordsUnicode(of: text)
    }

    /// `words(of:)` on the bytes of ASCII text; nil when `text` has other characters.
    ///
    /// Why: every witness name is split this way, nearly all are ASCII, and walking them by characters
    /// was most of a witness's mapping time. For ASCII the rules are the same (the curly quotes are not
    /// ASCII; the blanks are the ASCII `Character.isWhitespace` ones); a test checks both agree.
    static func wordsASCII(of text: String) -> [String]? {
        var words: [String] = []
        var word: [UInt8] = []
        var depth = 0
        var inQuotes = false
        func endWord() {
            guard !word.isEmpty else { return }
            let candidate = String(decoding: word, as: UTF8.self)
            if !key(candidate).isEmpty { words.append(candidate) }
            word.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "("):
                depth += 1
                endWord()
            case UInt8(ascii: ")"):
                depth = max(0, depth - 1)
                endWord()
            case UInt8(ascii: "\""):
                inQuotes.toggle()
                endWord()
            case 0x09...0x0D, UInt8(ascii: " "):
                endWord()
            default:
                if depth == 0 && !inQuotes { word.append(byte) } else { endWord() }
            }
        }
        endWord()
        return words
    }

    /// `words(of:)` for any text, by characters.
    static func wordsUnicode(of text: String) -> [String] {
        var kept = ""
        var depth = 0
        var inQuotes = false
        for character in text {
            switch character {
            case "(":
                depth += 1
                kept.append(" ")
            case ")":
                depth = max(0, depth - 1)
                kept.append(" ")
            case "\"", "\u{201C}", "\u{201D}":
                inQuotes.toggle()
                kept.append(" ")
            default:
                kept.append(depth == 0 && !inQuotes ? character : " ")
            }
        }
        return kept.split(whereSeparator: \.isWhitespace).map(String.init).filter { !key($0).isEmpty }
    }
}
