import Foundation
import Updater

/// Benchmarks of the jobs (release build; see docs/performance.md and the `tools/bench-*` scripts).
///
///     UpdaterBenchmark rebuild MUTATIONS HOME
@main
struct UpdaterBenchmark {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "rebuild":
            let mutations = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
            let home = arguments.count > 2 ? arguments[2] : NSTemporaryDirectory() + "hearings-bench-rebuild"
            try RebuildBenchmark.run(mutations: mutations, home: home)
        case "audit":
            let events = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
            let samples = arguments.count > 2 ? Int(arguments[2]) ?? 1_000 : 1_000
            let keep = arguments.count > 3 ? arguments[3] : nil
            _ = try AuditBenchmark.run(events: events, samples: samples, keep: keep)
        case "audit-in-process":
            // A fresh process per call: its first audit is what `hearings audit` pays.
            guard arguments.count > 1 else {
                print("usage: UpdaterBenchmark audit-in-process KEEP_DIR [BATCH,…] [REPEATS]")
                return
            }
            let batches =
                arguments.count > 2 ? arguments[2].split(separator: ",").compactMap { Int64($0) } : []
            let repeats = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2
            try AuditBenchmark.inProcess(keep: arguments[1], batches: batches, repeats: repeats)
        case "recovery":
            let events = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
            for measurement in try RecoveryBenchmark.run(events: events) {
                print(
                    "recovery: \(measurement.events) events, \(measurement.batches) batches, \(measurement.journalBytes) "
                        + "journal bytes: clean open median \(measurement.cleanMedianMilliseconds) ms "
                        + "(max \(measurement.cleanMaximumMilliseconds) ms)")
            }
        case "ingest":
            try IngestBenchmark.run(arguments: Array(arguments.dropFirst()))
        default:
            print(
                "usage: UpdaterBenchmark rebuild [MUTATIONS] [HOME] | audit [EVENTS] [SAMPLES] [KEEP_DIR] | audit-in-process KEEP_DIR [BATCH,…] [REPEATS] | recovery [EVENTS] | ingest …"
            )
        }
    }
}
