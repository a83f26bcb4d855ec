import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// The run verify from the run's own ledger (`RunLedger`): what it checks at the end of a run, without
/// reading the run's intents back, must find what the verify from the journal finds.
@Suite struct RunHealthLedgerTests {
    /// Ingests `source` in batches of `batchSize`; `afterLastBatch` runs on the session once the last
    /// meeting batch has committed, before the run's health check.
    private func ingest(
        _ home: DataHome, _ source: IngestOptions.Source, batchSize: Int = 50,
        afterLastBatch: @escaping (Session) throws -> Void = { _ in }
    ) throws -> IngestMetrics {
        let session = try Session(home: home, command: "ingest")
        defer { try? session.close() }
        var options = IngestOptions()
        options.source = source
        options.batchSize = batchSize
        var failure: (any Error)?
        let metrics = try session.ingest(options) { event in
            if case .batch(_, let number, let count, _, _) = event, number == count {
                do { try afterLastBatch(session) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return metrics
    }

    private func verifyAlert(_ metrics: IngestMetrics) -> RunAlert? {
        metrics.alerts.first { $0.name == "verify" }
    }

    @Test func soundRunsRaiseNoVerifyAlertEitherWay() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        // Day 1 adds meetings, day 2 updates many of them: small batches touch rows again and again.
        for day in [1, 2] {
            let metrics = try ingest(home, .sample(day: day), batchSize: 7)
            #expect(verifyAlert(metrics) == nil, "\(metrics.alerts)")
            let session = try Session(home: home, command: "test")
            defer { try? session.close() }
            #expect(try session.verifyRun(metrics.runID) == [], "read from the journal")
        }
    }

    @Test func aRowChangedBehindTheRunsBackIsFoundAtItsEnd() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let metrics = try ingest(home, .sample(day: 1), batchSize: 20) { session in
            try session.store.queue.write { db in
                try db.execute(sql: "UPDATE hearings SET title = 'edited by hand' WHERE hearing_id = 1")
            }
        }
        let alert = try #require(verifyAlert(metrics), "\(metrics.alerts)")
        #expect(alert.message.contains("no longer holds what it left"), "\(alert.message)")
        #expect(alert.message.contains("title"), "\(alert.message)")
        #expect(alert.value == 1)
        // The same problem, read from the journal by another session.
        let session = try Session(home: home, command: "test")
        defer { try? session.close() }
        let problems = try session.verifyRun(metrics.runID)
        #expect(problems.count == 1)
        #expect(problems.first.map { alert.message.contains($0) } == true, "\(problems) vs \(alert.message)")
    }

    @Test func aRowOfATwoColumnKeyDeletedBehindTheRunsBackIsFound() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let metrics = try ingest(home, .sample(day: 1)) { session in
            try session.store.queue.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM hearing_committees WHERE (hearing_id, committee_id) =
                          (SELECT hearing_id, committee_id FROM hearing_committees ORDER BY hearing_id DESC LIMIT 1)
                        """)
                #expect(db.changesCount == 1)
            }
        }
        let alert = try #require(verifyAlert(metrics), "\(metrics.alerts)")
        #expect(alert.message.contains("hearing_committees"), "\(alert.message)")
    }

    @Test func aRowTheRunDeletedThatIsBackIsFound() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        _ = try ingest(home, .sample(day: 1))
        // A second run that deletes one supporting document; the row is put back after its last batch.
        let session = try Session(home: home, command: "ingest")
        defer { try? session.close() }
        let row = try #require(
            try session.store.queue.read { db in
                try Store.allRows(in: Schema.supportingDocuments, db).first
            })
        let runID = try session.startRun(
            RunStarted(
                runID: 0, command: "ingest", source: "test", congress: nil, lookbackDays: nil, batchSize: 1,
                atomic: false))
        session.runLedger = RunLedger(runID: runID)
        let report = try session.commitBatch(runID: runID, items: ["delete"]) { db in
            let mutation = Mutation(kind: .delete, table: Schema.supportingDocuments, before: row, after: nil)
            try Store.apply([mutation], db)
            return Session.PreparedBatch(mutations: [mutation])
        }
        #expect(report.result == .committed, "\(report.reason ?? "")")
        let ledger = try #require(session.runLedger)
        #expect(try session.verifyRun(runID, ledger: ledger) == [])
        #expect(try session.verifyRun(runID) == [])
        try session.store.queue.write { db in
            let insert = Mutation(kind: .insert, table: Schema.supportingDocuments, before: nil, after: row)
            try Store.apply([insert], db)
        }
        for problems in [try session.verifyRun(runID, ledger: ledger), try session.verifyRun(runID)] {
            #expect(problems.count == 1, "\(problems)")
            #expect(problems.first?.contains("supporting_documents") == true, "\(problems)")
        }
    }

    @Test func rowHashesReadByRangeAreTheStateChecksumsHashes() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        _ = try ingest(home, .sample(day: 1))
        let store = try Store(path: home.databasePath)
        try store.queue.read { db in
            var xor: UInt64 = 0
            for table in Schema.managedTables {
                var expected: [[Int64?]: UInt64] = [:]
                for row in try Store.allRows(in: table, db) {
                    let key = table.primaryKey.map { column -> Int64? in
                        if case .integer(let value) = row[column] { return value }
                        return nil
                    }
                    expected[key] = StateChecksum.rowHash(table: table, row: row)
                }
                var found: [[Int64?]: UInt64] = [:]
                try StateChecksum.forEachRowHash(
                    in: table, from: table.primaryKey.map { _ in 0 },
                    through: table.primaryKey.map { _ in Int64.max }, db
                ) { key, hash in found[key] = hash }
                #expect(found == expected, "\(table.name)")
                #expect(
                    !found.isEmpty || table.name == Schema.hearingTranscripts.name, "\(table.name) has rows")
                for hash in found.values { xor ^= hash }
            }
            #expect(xor == (try StateChecksum.compute(db)).value)
        }
    }

    @Test func touchedRowsAreTheKeysAddedAsRanges() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var rows = TouchedRows()
            var oracle = Set<UInt64>()
            var next: UInt64 = UInt64(round) * 1000
            // New rows (ascending ids, some skipped) mixed with older ones touched again; enough of the
            // older ones to merge them into the ranges several times.
            for _ in 0..<12_000 {
                let key: UInt64
                if Bool.random(using: &generator) {
                    next += UInt64.random(in: 1...3, using: &generator)
                    key = next
                } else {
                    key = UInt64.random(in: 0...max(1, next), using: &generator)
                }
                #expect(rows.insert(key) == oracle.insert(key).inserted)
            }
            let ranges = rows.ranges()
            #expect(ranges.flatMap { Array($0) } == oracle.sorted())
            for (left, right) in zip(ranges, ranges.dropFirst()) {
                #expect(left.upperBound + 1 < right.lowerBound, "disjoint and not adjacent")
            }
        }
    }

    @Test func keysPackIntoSixtyFourBitsOnlyWhenTheyFit() {
        let hearings = Schema.hearings
        let links = Schema.hearingCommittees
        #expect(RunLedger.packedKey([42], in: hearings) == 42)
        #expect(RunLedger.packedKey([-1], in: hearings) == nil)
        #expect(RunLedger.packedKey([nil], in: hearings) == nil)
        #expect(RunLedger.packedKey([3, 7], in: links) == 3 << 32 | 7)
        #expect(RunLedger.packedKey([3, 1 << 32], in: links) == nil)
        #expect(RunLedger.packedKey([1 << 32, 1], in: links) == nil)
        #expect(RunLedger.keyValues(3 << 32 | 7, in: links) == [3, 7])
        #expect(RunLedger.keyValues(42, in: hearings) == [42])
        let key = RowImage(["hearing_id": .integer(5), "committee_id": .integer(9)])
        #expect(RunLedger.packedKey(of: key, in: links) == 5 << 32 | 9)
        #expect(RunLedger.packedKey(of: RowImage(["hearing_id": .text("5")]), in: hearings) == nil)
    }
}
