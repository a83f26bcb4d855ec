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
        surname = String(letters.dropLast())
        self.initial = initial
        ordinal = Int(digits) ?? 1
        guard ordinal >= 1 else { return nil }
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
}
