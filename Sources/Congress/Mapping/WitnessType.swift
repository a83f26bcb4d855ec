import Foundation

/// The kind of organisation a witness speaks for: `witness_appearances.witness_type`.
///
/// Derived from the organisation's name alone, by the first matching rule below, on the folded text
/// (``TextFolding/fold(_:)``: `U.S.` reads `us`) with whole words or phrases compared:
///
/// 1. No organisation (absent, empty or only punctuation): nil (NULL).
/// 2. ``academic`` when it names a `university`, `college`, `school`, `polytechnic` or
///    `institute of technology` (singular: `Association of Public and Land-grant Universities` is not).
/// 3. ``privateSector`` when it carries a company form or is a bank: `Inc`, `Incorporated`, `LLC`,
///    `LLP`, `PLLC`, `LP`, `Ltd`, `Corp`, `Corporation`, `Co`, `Company`, `PLC`, `GmbH`, `Bank`.
/// 4. ``nonprofit`` when it is a membership or charitable body: `Foundation`, `Association`,
///    `Coalition`, `Alliance`, `Society`, `Federation`, `Chamber of Commerce`, `League`, `Trust`,
///    `Fund`, `Network`, `Caucus`, `Advocates`, `Brotherhood`.
/// 5. ``government`` when it names a public body: a part of it starts with `U.S.` or `United States`,
///    or it contains `Department`, `Dept`, `Agency`, `Administration`, `Bureau`, `Office of`,
///    `Office for`, `Division`, `Commission`, `Authority`, `Federal`, `Service` (singular), `Army`,
///    `Navy`, `Air Force`, `Marine Corps`, `Space Force`, `Coast Guard`, `National Guard`, `Command`,
///    `Joint Chiefs`, `Court`, `Judicial`, `Judiciary`, `Police`, `Highway Patrol`, `Sheriff`,
///    `Congress`, `Congressional`, `Senate`, `House of Representatives`, `Legislature`, `Governor`,
///    `Mayor`, `Attorney General`, `Inspector General`, `District Attorney`, `District of`,
///    `State of`, `Commonwealth of`, `County`, `City of`, `Town of`, `Village of`, `Township`,
///    `School District`, `Public Schools`, `Tribe`, `Tribes`, `Tribal`, `Nation`, `Band of`,
///    `Rancheria`, `Pueblo`, `Indian Community`, `Indian Village`, `Embassy`, `Ministry`,
///    `National Laboratory`, `National Lab`, `Government Accountability Office`, `Federal Reserve`,
///    `Homeland Security`, `Smithsonian`.
/// 6. ``nonprofit`` when it names a research or civic body: `Institute`, `Institution`, `Center`,
///    `Centre`, `Council`, `Project`, `Forum`, `Initiative`, `Union`, `Committee`, `Partnership`,
///    `Roundtable`, `Collaborative`, `Organization`, `Organisation`, `Legion`, `of America`, `for`
///    (`Americans for Prosperity`).
/// 7. Otherwise ``privateSector``: most companies carry no marker (`Microsoft`, `Epic Systems`).
///
/// The order settles mixed names: `Mercatus Center at George Mason University` is academic,
/// `Foundation for Government Accountability` nonprofit, `Defense Support Services Center, Department
/// of Defense` government (public-body words win over `Center`). The four values are the predecessor's.
public enum WitnessType: String, Sendable, Hashable, CaseIterable {
    case government = "Government"
    case academic = "Academic"
    case nonprofit = "Nonprofit"
    case privateSector = "Private"

    /// The type for a witness of `organization`; nil when there is no organisation.
    public static func classify(organization: String?) -> WitnessType? {
        guard let organization else { return nil }
        let folded = TextFolding.fold(organization)
        guard !folded.isEmpty else { return nil }
        let padded = Array((" " + folded + " ").utf8)
        // Whole-word phrases, compared as bytes: folded text and the phrases are plain lower-case
        // words, and Foundation's locale-aware `contains` was a fifth of a meeting's mapping time.
        func has(_ phrases: [[UInt8]]) -> Bool { phrases.contains { contains(padded, $0) } }

        if has(Patterns.academic) { return .academic }
        if has(Patterns.company) { return .privateSector }
        if has(Patterns.membership) { return .nonprofit }
        if has(Patterns.government) || startsFederal(organization) { return .government }
        if has(Patterns.civic) { return .nonprofit }
        return .privateSector
    }

    /// Each phrase list as the bytes of `" phrase "`.
    private enum Patterns {
        static func padded(_ phrases: [String]) -> [[UInt8]] { phrases.map { Array((" " + $0 + " ").utf8) } }
        static let academic = padded(academicWords)
        static let company = padded(companyWords)
        static let membership = padded(membershipWords)
        static let government = padded(governmentWords)
        static let civic = padded(civicWords)
    }

    /// Whether `needle` occurs in `haystack` (both short: a naive search is the fastest).
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        var start = 0
        while start + needle.count <= haystack.count {
            var offset = 0
            while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
            if offset == needle.count { return true }
            start += 1
        }
        return false
    }

    /// Whether any comma-, semicolon- or slash-separated part starts with `U.S.`/`United States`.
    private static func startsFederal(_ organization: String) -> Bool {
        organization.split(whereSeparator: { ",;/".contains($0) }).contains { part in
            let folded = " " + TextFolding.fold(String(part)) + " "
            return ["us", "united states", "the us", "the united states"].contains {
                folded.hasPrefix(" " + $0 + " ")
            }
        }
    }

    static let academicWords = ["university", "college", "school", "polytechnic", "institute of technology"]

    static let companyWords = [
        "inc", "incorporated", "llc", "llp", "pllc", "lp", "ltd", "corp", "corporation", "co", "company",
        "plc",
        "gmbh", "bank",
    ]

    static let membershipWords = [
        "foundation", "association", "coalition", "alliance", "society", "federation", "chamber of commerce",
        "league", "trust", "fund", "network", "caucus", "advocates", "brotherhood",
    ]

    static let governmentWords = [
        "department", "dept", "agency", "administration", "bureau", "office of", "office for", "division",
        "commission", "authority", "federal", "service", "army", "navy", "air force", "marine corps",
        "space force", "coast guard", "national guard", "command", "joint chiefs", "court", "judicial",
        "judiciary", "police", "highway patrol", "sheriff", "sheriffs", "congress", "congressional", "senate",
        "house of representatives", "legislature", "governor", "mayor", "attorney general",
        "inspector general", "district attorney", "district of", "state of", "commonwealth of", "county",
        "city of", "town of", "village of", "township", "school district", "public schools", "tribe",
        "tribes", "tribal", "nation", "band of", "rancheria", "pueblo", "indian community", "indian village",
        "embassy", "ministry", "national laboratory", "national lab", "government accountability office",
        "federal reserve", "homeland security", "smithsonian",
    ]

    static let civicWords = [
        "institute", "institution", "center", "centre", "council", "project", "forum", "initiative", "union",
        "committee", "partnership", "roundtable", "collaborative", "organization", "organisation", "legion",
        "of america", "for",
    ]
}

/// The identity of a witness across meetings: `witnesses.identity_key`.
///
/// Key = ``WitnessName/identityName`` + `|` + the folded organisation (``TextFolding/fold(_:)``; empty
/// when there is none). Honorifics, suffixes, nicknames, letter case, diacritics, full stops,
/// apostrophes and spacing do not count: `Dr. José Núñez, Ph.D.` of `U.S. Dept. of State` and
/// `Jose NUNEZ` of `US Dept of State` are one witness, `jose nunez|us dept of state`. Middle names and
/// initials do count, and so does the organisation: the same name at another organisation is another
/// witness (two people share names more often than one person changes employer between hearings).
public enum WitnessIdentity {
    /// The identity key of a witness named `name` speaking for `organization`.
    public static func key(name: WitnessName, organization: String?) -> String {
        name.identityName + "|" + TextFolding.fold(organization ?? "")
    }
}
