import Foundation
import Testing

@testable import Congress

/// Random ASCII strings, the same for every run: lengths 0–39, every code 0–127, and a bias towards
/// the characters the rules treat specially so that they meet each other often.
private func randomASCIIStrings(count: Int, seed: UInt64) -> [String] {
    let special = Array("-./?#\"()' ,\t\r\nWw0123456789".utf8)
    var state = seed
    func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    return (0..<count).map { _ in
        let length = Int(next() % 40)
        let bytes = (0..<length).map { _ -> UInt8 in
            next() % 2 == 0 ? special[Int(next() % UInt64(special.count))] : UInt8(next() % 128)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Every character alone, between letters and doubled, as in the folding test.
private func everyASCIICharacter() -> [String] {
    (0..<128).flatMap { value -> [String] in
        let character = String(UnicodeScalar(UInt8(value)))
        return [character, "a" + character + "B", "A" + character + character + "9", character + "x."]
    }
}

@Suite("Mapping: byte-wise text paths agree with the general ones")
struct ByteWiseTextTests {
    @Test("letters-only reduction of ASCII text equals folding then dropping the spaces")
    func lettersOnly() {
        for text in everyASCIICharacter() + randomASCIIStrings(count: 2_000, seed: 7) {
            let general = String(TextFolding.fold(text).filter { $0 != " " })
            #expect(TextFolding.lettersOnlyASCII(text) == general, "\(Array(text.utf8))")
        }
        #expect(TextFolding.lettersOnlyASCII("Núñez") == nil)
        #expect(TextFolding.lettersOnly("Núñez") == "nunez")
    }

    @Test("trimming answers as Foundation's trimmingCharacters(in: .whitespacesAndNewlines)")
    func trimming() {
        let unicodeBlanks = ["\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "\u{2009}", "\r\n"]
        var texts = everyASCIICharacter() + randomASCIIStrings(count: 1_000, seed: 11)
        for blank in unicodeBlanks {
            texts += [blank, blank + "x", "x" + blank, blank + "x" + blank, "é" + blank, blank + "\u{301}"]
        }
        for text in texts {
            #expect(
                TextFolding.trimmed(text) == text.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(text.unicodeScalars))")
        }
    }

    @Test("witness name words: the ASCII split equals the split by characters")
    func nameWords() {
        let names = ["Bradley \"Scott\" Dane", "Robert (Bob) Thompson", "A (b (c) d) e", "\"x", "a\r\nb"]
        for text in everyASCIICharacter() + names + randomASCIIStrings(count: 2_000, seed: 13) {
            #expect(
                WitnessName.wordsASCII(of: text) == WitnessName.wordsUnicode(of: text), "\(Array(text.utf8))")
        }
        #expect(WitnessName.wordsASCII(of: "José") == nil)
    }

    @Test("witness file names: the ASCII parse equals the parse by characters on every real URL")
    func fileNames() throws {
        var urls = try fixtureMeetings().flatMap { meeting in
            (meeting.witnessDocuments ?? []).compactMap(\.url)
                + (meeting.meetingDocuments ?? []).compactMap(\.url)
        }
        #expect(urls.count > 1_000)
        let tokens = ["SmithJ2", "SmithJ0", "Gartenstein-RossD", "X", "-", "", "99999999999999999999999A"]
        for token in tokens {
            for kind in ["Wstate", "wbio", "W", "W1"] {
                urls.append("https://x.gov/a-b/HHRG-119-AP06-\(kind)-\(token)-20250225.pdf?y=1#z")
                urls.append("HHRG-\(kind)-\(token)")
            }
        }
        urls += randomASCIIStrings(count: 2_000, seed: 17).map { "HHRG-Wstate-" + $0 }
        urls += randomASCIIStrings(count: 2_000, seed: 19)
        var parsed = 0
        for url in urls {
            let ascii = WitnessDocumentFile.parseASCII(url)
            #expect(ascii == WitnessDocumentFile.parseUnicode(url), "\(url)")
            if ascii != nil { parsed += 1 }
        }
        // The comparison means something only if many URLs do name a witness.
        #expect(parsed > 500)
    }
}

@Suite("Concurrent map")
struct ConcurrentMapTests {
    @Test("results come back in the order of the input, each element transformed once")
    func order() {
        let calls = Counter()
        let input = Array(0..<5_000)
        let output = concurrentMap(input) { value -> String in
            calls.increment()
            return "\(value * 3)"
        }
        #expect(output == input.map { "\($0 * 3)" })
        #expect(calls.value == input.count)
        #expect(concurrentMap([Int]()) { $0 }.isEmpty)
        #expect(concurrentMap([7]) { $0 + 1 } == [8])
    }
}

/// A thread-safe call counter.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
