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
}
