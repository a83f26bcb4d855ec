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
        case "ingest":
            try IngestBenchmark.run(arguments: Array(arguments.dropFirst()))
        default:
            print("usage: UpdaterBenchmark rebuild [MUTATIONS] [HOME] | ingest …")
        }
    }
}
