import Foundation
import Journal
import Testing

@testable import Updater

@Suite struct IntentDecodingTests {
    /// Every intent of a two-day sample ingest decodes through the one-pass event reader (audit, rebuild
    /// and the run verify use it) exactly as through JSONDecoder.
    @Test func fastDecodingMatchesJSONDecoder() throws {
        let home = try temporaryHome()
        _ = try ingest(home)
        _ = try ingest(home)
        var checked = 0
        for entry in try events(home, type: EventType.batchIntent) {
            let fast = try EventLineReader.intent(entry.line)
            #expect(fast == (try entry.decode(BatchIntent.self)))
            checked += 1
        }
        #expect(checked == 10)
    }

    /// Skipping a value (what audit does with the images of rows it does not need) ends exactly where
    /// the value ends, whatever its strings hold: escaped quotes and backslashes, brackets, braces;
    /// and a value cut short is an error, never a read past the line.
    @Test func skippingAValueEndsWhereItEnds() throws {
        let values = [
            #"{"a":1,"b":"x"}"#,
            #"{"title":"a \"quoted\" {brace} [bracket]","n":null}"#,
            #"{"path":"C:\\dir\\","next":"\\\"","x":[1,{"y":"]}"}]}"#,
            #"[{"real":1.5},{"blob":"00ff"},"\u0022}",[],{}]"#,
            #"{"":""}"#,
            #""plain \" string""#,
            "12.5e3",
            "true",
            "null",
        ]
        for value in values {
            let line = Array((value + #","after":1}"#).utf8)
            let end = try EventLineReader.with(line) { reader in
                try reader.skipValue()
                return reader.index
            }
            #expect(end == value.utf8.count, "\(value)")
            // Every cut of a container or string inside it is refused.
            guard value.first == "{" || value.first == "[" else { continue }
            for length in 1..<value.utf8.count {
                let cut = Array(value.utf8.prefix(length))
                #expect(throws: EventLineReader.Failure.self, "\(value) cut at \(length)") {
                    try EventLineReader.with(cut) { reader in try reader.skipValue() }
                }
            }
        }
    }
}
