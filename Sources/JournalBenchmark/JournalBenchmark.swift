import Foundation
import Journal

#if canImport(Glibc)
    import Glibc
#endif

/// Measures the journal against baselines taken in the same run (see docs/performance.md):
/// durable append cost beyond fdatasync, scan throughput, index lookups in a journal of a million
/// events, and the compression ratio on payloads built from the bundled real sample.
@main
struct JournalBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        let sampleFolder = arguments.count > 1 ? arguments[1] : "Sources/Congress/Resources/sample/day-1"
        let events = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent(
            "journal-bench-\(getpid())"
        ).path
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workspace) }

        let documents = try loadDocuments(sampleFolder)
        print("payload source: \(documents.count) real meeting documents from \(sampleFolder)")
        let payloads = makePayloads(documents, size: 100_000, count: 64)
        try appendBenchmark(payloads, workspace: workspace)
        try scanBenchmark(payloads, workspace: workspace)
        try lookupBenchmark(events: events, documents: documents, workspace: workspace)
    }

    /// Row-image-like fields: each payload is a list of real meeting documents (as the updater's intent
    /// events carry row images), cut to about `size` bytes of JSON.
    struct Payload: Encodable {
        var batch: Int
        var rows: [String]
    }

    static func loadDocuments(_ folder: String) throws -> [String] {
        var result: [String] = []
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return result }
        for case let path as String in enumerator where path.hasSuffix(".json") {
            result.append(try String(contentsOfFile: folder + "/" + path, encoding: .utf8))
        }
        return result.sorted()
    }

    static func makePayloads(_ documents: [String], size: Int, count: Int) -> [JournalEvent] {
        var result: [JournalEvent] = []
        var cursor = 0
        for batch in 0..<count {
            var rows: [String] = []
            var bytes = 0
            while bytes < size {
                let document = documents[cursor % documents.count]
                cursor += 1
                rows.append(document)
                bytes += document.utf8.count + 8
            }
            if let event = try? JournalEvent(
                type: "intent", fields: Payload(batch: batch, rows: rows), keys: ["batch:\(batch)"])
            {
                result.append(event)
            }
        }
        return result
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    static func appendBenchmark(_ payloads: [JournalEvent], workspace: String) throws {
        let rounds = 200
        // Baseline: the same number of bytes written with pwrite and made durable with fdatasync.
        let sizes = payloads.map { $0.body.count / 4 }
        let baselinePath = workspace + "/baseline"
        let fd = open(baselinePath, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        var offset: off_t = 0
        var baseline: [Double] = []
        for round in 0..<rounds {
            let bytes = [UInt8](repeating: UInt8(round & 0xff), count: sizes[round % sizes.count])
            let start = now()
            _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
            fdatasync(fd)
            baseline.append(now() - start)
            offset += off_t(bytes.count)
        }
        close(fd)

        let journal = try Journal.open(JournalConfiguration(directory: workspace + "/append"))
        var durable: [Double] = []
        var rawBytes = 0
        for round in 0..<rounds {
            let event = payloads[round % payloads.count]
            rawBytes += event.body.count
            let start = now()
            try journal.append([event])
            durable.append(now() - start)
        }
        // CPU-only cost of the same appends (no fdatasync), to separate encoding from the disk.
        var deferred: [Double] = []
        for round in 0..<rounds {
            let start = now()
            try journal.appendDeferred([payloads[round % payloads.count]])
            deferred.append(now() - start)
        }
        try journal.close()
        let stored = try directorySize(workspace + "/append")
        print(
            String(
                format:
                    "append (100 KB payload, durable): median %.3f ms, p99 %.3f ms; baseline pwrite+fdatasync of "
                    + "the same stored bytes: median %.3f ms; cost beyond the fsync: %.3f ms",
                median(durable) * 1000, percentile(durable, 0.99) * 1000, median(baseline) * 1000,
                (median(durable) - median(baseline)) * 1000))
        print(String(format: "append (deferred, no fsync): median %.3f ms", median(deferred) * 1000))
        print(
            String(
                format: "compression: %d raw JSON bytes -> %d stored bytes, ratio %.3f", rawBytes * 2, stored,
                Double(stored) / Double(rawBytes * 2)))
    }

    static func directorySize(_ path: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".lz4") }.reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: path + "/" + $1)[.size] as? Int) ?? 0)
        }
    }

    static func scanBenchmark(_ payloads: [JournalEvent], workspace: String) throws {
        let directory = workspace + "/scan"
        let journal = try Journal.open(JournalConfiguration(directory: directory))
        for round in 0..<3000 { try journal.appendDeferred([payloads[round % payloads.count]]) }
        try journal.close()
        let reader = try Journal.open(JournalConfiguration(directory: directory), mode: .readOnly)
        var best = 0.0
        var decoded = 0
        for _ in 0..<3 {
            decoded = 0
            let start = now()
            try reader.read { entry in
                decoded += entry.line.count + 1
                return true
            }
            let rate = Double(decoded) / (now() - start) / 1e6
            best = max(best, rate)
        }
        let start = now()
        let verification = try Journal.verify(JournalConfiguration(directory: directory))
        let verifyRate = Double(verification.decodedBytes) / (now() - start) / 1e6
        print(
            String(
                format:
                    "scan: %.0f MB decoded, read() %.0f MB/s (best of 3); verify (chain + frames + lines) %.0f MB/s",
                Double(decoded) / 1e6, best, verifyRate))
    }

    struct SmallEvent: Encodable {
        var batch: Int
        var table: String
        var key: String
        var row: String
    }

    static func lookupBenchmark(events: Int, documents: [String], workspace: String) throws {
        let directory = workspace + "/lookup"
        let eventsPerRecord = 4
        var start = now()
        let journal = try Journal.open(JournalConfiguration(directory: directory))
        var batch = 0
        while Int(journal.nextPosition) <= events {
            batch += 1
            let document = documents[batch % documents.count]
            let row = String(document.prefix(200))
            let group = try (0..<eventsPerRecord).map { index in
                try JournalEvent(
                    type: "mutation",
                    fields: SmallEvent(batch: batch, table: "hearings", key: "\(index)", row: row),
                    keys: index == 0 ? ["batch:\(batch)"] : [])
            }
            try journal.appendDeferred(group)
        }
        let closeStart = now()
        try journal.close()
        let closeTime = now() - closeStart
        let build = now() - start
        start = now()
        let reopened = try Journal.open(JournalConfiguration(directory: directory))
        let openTime = now() - start
        var generator = SystemRandomNumberGenerator()
        var positionTimes: [Double] = []
        var keyTimes: [Double] = []
        let last = reopened.nextPosition - 1
        for _ in 0..<2000 {
            let position = UInt64.random(in: 1...last, using: &generator)
            start = now()
            let entry = try reopened.entry(at: position)
            positionTimes.append(now() - start)
            precondition(entry?.position == position, "lookup returned the wrong event")
            let probe = Int.random(in: 1...batch, using: &generator)
            start = now()
            let found = try reopened.entries(withKey: "batch:\(probe)")
            keyTimes.append(now() - start)
            precondition(found.count == 1, "key lookup returned \(found.count) events")
        }
        try reopened.close()
        print(
            String(
                format:
                    "journal of %d events (%d records): built in %.1f s; close (sync + index write) %.0f ms; "
                    + "open (index fresh) %.2f ms",
                Int(last), batch, build, closeTime * 1000, openTime * 1000))
        print(
            String(
                format:
                    "lookup by position: median %.3f ms, p99 %.3f ms; by key (batch id): median %.3f ms, p99 %.3f ms",
                median(positionTimes) * 1000, percentile(positionTimes, 0.99) * 1000, median(keyTimes) * 1000,
                percentile(keyTimes, 0.99) * 1000))
    }
}
