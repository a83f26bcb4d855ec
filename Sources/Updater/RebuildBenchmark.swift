import Foundation
import GRDB
import Journal
import Store

/// The rebuild benchmark: replay rate of a journal of real-shaped mutations, and snapshot time and size.
///
/// Builds a throwaway data home: the bundled sample's day 1 ingested (real rows), then batches of updates
/// to those real hearing rows (each a whole-row before- and after-image, as ingest journals them) until
/// the journal holds `mutations` changes; then times a full rebuild (replay from an empty database) and
/// a snapshot.
public enum RebuildBenchmark {
    /// Runs the benchmark and prints its results.
    public static func run(mutations target: Int, home path: String) throws {
        let home = DataHome(path: path)
        try? FileManager.default.removeItem(atPath: path)
        let session = try Session(home: home, command: "benchmark")
        var options = IngestOptions()
        options.source = .sample(day: 1)
        _ = try session.ingest(options)
        let runID = try session.startRun(
            RunStarted(
                runID: 0, command: "benchmark", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
                atomic: false))
        var written = 0
        var round = 0
        while written < target {
            round += 1
            let report = try session.commitBatch(runID: runID, items: ["round \(round)"]) { db in
                var mutations: [Mutation] = []
                for row in try Store.allRows(in: Schema.hearings, db).prefix(min(1000, target - written)) {
                    var after = row
                    after["title"] = .text((row["title"].text ?? "") + " ·")
                    after["updated_at"] = .text("2025-10-\(String(format: "%02d", round % 28 + 1)) 06:00:00")
                    mutations.append(
                        Mutation(kind: .update, table: Schema.hearings, before: row, after: after))
                }
                try Store.apply(mutations, db)
                return Session.PreparedBatch(mutations: mutations)
            }
            written += report.mutations.count
        }
        try session.finishRun(RunFinished(runID: runID, status: "ok", metrics: nil))
        let head = session.journal.nextPosition - 1
        try session.close()

        // No snapshot exists yet: the rebuild replays every batch from an empty database.
        let output = path + "/rebuilt.sqlite"
        var started = Date()
        let report = try Rebuild.run(home: home, target: .position(head), output: output, force: true)
        let rebuildSeconds = Date().timeIntervalSince(started)
        let again = try Session(home: home, command: "benchmark")
        started = Date()
        let snapshot = try again.snapshot(reason: "manual")
        let snapshotSeconds = Date().timeIntervalSince(started)
        try again.close()
        print(
            String(
                format:
                    "rebuild: %d batches, %d mutations replayed from %@ in %.2f s: %.0f mutations/s (everything "
                    + "included: journal read and decode, apply with conflict checks, integrity and checksum checks)",
                report.batchesReplayed.count, report.mutationsReplayed,
                report.snapshot ?? "an empty database",
                rebuildSeconds, Double(report.mutationsReplayed) / rebuildSeconds))
        print(
            String(
                format: "snapshot: %d-byte database → %d bytes compressed (%.2f), taken in %.2f s",
                snapshot.databaseBytes,
                snapshot.compressedBytes, Double(snapshot.compressedBytes) / Double(snapshot.databaseBytes),
                snapshotSeconds))
    }
}
