import Foundation
import Journal
import Store

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The audit benchmark (docs/performance.md; goal: < 50 ms to audit any batch of a journal of a
/// million events). Run it from a release build.
///
/// It writes a journal of the updater's events with the shape of daily runs (`run_started`; batches
/// of one to fifty meetings whose intents carry whole row images of hearings, committee links,
/// witnesses, appearances, documents and transcripts, inserted, updated and deleted; rejected items;
/// outcomes, a few failed; reverts; `run_finished` with metrics), directly through `Journal`, then
/// audits random batches and the largest ones, each with a freshly opened read-only journal as
/// `hearings audit` does.
public enum AuditBenchmark {
    /// Timings of a set of audits, in milliseconds.
    public struct Timings: Sendable, CustomStringConvertible {
        /// Wall-clock time of each audit: open the journal read-only, audit, close.
        public var wall: [Double] = []
        /// The thread's CPU time for the same (on a busy machine, closer to what an idle one shows:
        /// page-cache reads count, waiting for a processor does not).
        public var cpu: [Double] = []

        public var description: String {
            String(
                format:
                    "median %.2f ms, p99 %.2f ms, max %.2f ms (CPU time: median %.2f ms, p99 %.2f ms, max %.2f ms)",
                AuditBenchmark.percentile(wall, 0.5), AuditBenchmark.percentile(wall, 0.99), wall.max() ?? 0,
                AuditBenchmark.percentile(cpu, 0.5), AuditBenchmark.percentile(cpu, 0.99), cpu.max() ?? 0)
        }
    }

    /// What the benchmark measured.
    public struct Result: Sendable {
        public var events: UInt64
        public var runs: Int
        public var batches: Int
        public var mutations: Int
        public var journalBytes: UInt64
        public var buildSeconds: Double
        /// Audits of batches drawn at random.
        public var random: Timings
        /// Audits of the 20 largest batches (the initial load's, with about 900 mutations each).
        public var largest: Timings
        /// The mutation count of the largest batch.
        public var largestMutations: Int
    }

    /// What building the journal produced, kept beside a journal that is reused (`keep`).
    struct Built: Codable {
        /// The events asked for (the journal ends with a whole run, so it holds a few more).
        var requested: Int
        var events: Int
        var runs: Int
        var mutations: Int
        /// Mutation count of each batch, by batch id - 1.
        var batches: [Int]
        var buildSeconds: Double

        static let fileName = "audit-benchmark.json"
    }

    /// Builds a journal of `events` events in a new folder under `directory` (default: the temporary
    /// folder), audits `samples` random batches and the 20 largest, prints a report through `report`,
    /// and removes the folder.
    ///
    /// With `keep`, the journal is built in that folder instead and left there, and a later run with
    /// the same `keep` audits it again without building it (building a million events takes minutes;
    /// the generator is seeded, so the journal is the same).
    public static func run(
        events: Int = 1_000_000, samples: Int = 1_000, directory: String? = nil, keep: String? = nil,
        report: (String) -> Void = { print($0) }
    ) throws -> Result {
        let base = directory ?? FileManager.default.temporaryDirectory.path
        let folder = keep ?? base + "/audit-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let configuration = JournalConfiguration(directory: folder)
        let builtPath = folder + "/" + Built.fileName
        let built: Built
        if keep != nil, let data = FileManager.default.contents(atPath: builtPath),
            let kept = try? JSONDecoder().decode(Built.self, from: data), kept.requested == events
        {
            built = kept
            report("reusing the journal in \(folder)")
        } else {
            if keep != nil, let contents = try? FileManager.default.contentsOfDirectory(atPath: folder),
                !contents.isEmpty
            {
                // Never delete a folder the benchmark did not make as it is.
                throw UpdaterError(
                    .failure,
                    "benchmark: \(folder) is not empty and holds no journal of \(events) events to reuse")
            }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let started = now()
            var generator = Generator(seed: 20_251_013)
            let writer = try Journal.open(configuration)
            while writer.nextPosition <= UInt64(events) {
                try generator.appendRun(to: writer)
                if generator.runs % 10_000 == 0 {
                    report("  built \(writer.nextPosition - 1) events, \(generator.batches.count) batches")
                }
            }
            try writer.close()
            built = Built(
                requested: events, events: generator.eventCount, runs: generator.runs,
                mutations: generator.mutationCount,
                batches: generator.batches, buildSeconds: now() - started)
            if keep != nil {
                try JSONEncoder().encode(built).write(to: URL(fileURLWithPath: builtPath))
            }
        }
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let buildSeconds = built.buildSeconds
        let journalBytes = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0 != Built.fileName
        }.reduce(UInt64(0)) {
            let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/" + $1)
            return $0 + ((attributes[.size] as? NSNumber)?.uint64Value ?? 0)
        }
        report(
            "journal: \(built.events) events, \(built.runs) runs, \(built.batches.count) batches, "
                + "\(built.mutations) mutations, \(journalBytes / 1_000_000) MB on disk, built in "
                + String(format: "%.1f s", buildSeconds))

        func audit(_ batchID: Int64, into timings: inout Timings) throws {
            let start = (wall: now(), cpu: cpuNow())
            let journal = try Journal.open(configuration, mode: .readOnly)
            let audit = try Audit.batch(batchID, in: journal)
            try journal.close()
            timings.wall.append((now() - start.wall) * 1000)
            timings.cpu.append((cpuNow() - start.cpu) * 1000)
            guard audit?.batchID == batchID else {
                throw UpdaterError(.failure, "benchmark: batch \(batchID) not found")
            }
        }
        // One audit first, so that the code and the index's first pages are warm, as for a second command.
        var warmUp = Timings()
        try audit(1, into: &warmUp)
        var random = SplitMix(seed: 42)
        var randomTimings = Timings()
        for _ in 0..<samples {
            try audit(Int64(random.next(below: UInt64(built.batches.count))) + 1, into: &randomTimings)
        }
        let largest = built.batches.enumerated().sorted { $0.element > $1.element }.prefix(20)
        var largestTimings = Timings()
        for (index, _) in largest { try audit(Int64(index) + 1, into: &largestTimings) }
        let result = Result(
            events: UInt64(built.events), runs: built.runs, batches: built.batches.count,
            mutations: built.mutations, journalBytes: journalBytes, buildSeconds: buildSeconds,
            random: randomTimings, largest: largestTimings, largestMutations: largest.first?.element ?? 0)
        report("audit of \(samples) random batches: \(randomTimings)")
        report(
            "audit of the 20 largest batches (up to \(result.largestMutations) mutations): \(largestTimings)")

        // `hearings log`: the newest runs through the index, against one read of the whole journal.
        for limit in [1, 20] {
            var timings = Timings()
            for _ in 0..<20 {
                let start = (wall: now(), cpu: cpuNow())
                let journal = try Journal.open(configuration, mode: .readOnly)
                let log = try JournalLog.read(journal, limit: limit)
                try journal.close()
                timings.wall.append((now() - start.wall) * 1000)
                timings.cpu.append((cpuNow() - start.cpu) * 1000)
                guard log.runs.count == limit, log.totalRuns == built.runs else {
                    throw UpdaterError(
                        .failure, "benchmark: the log lists \(log.runs.count) of \(log.totalRuns) runs")
                }
            }
            report("log --limit \(limit) through the index (20 times): \(timings)")
        }
        var scanTimings = Timings()
        let start = (wall: now(), cpu: cpuNow())
        let journal = try Journal.open(configuration, mode: .readOnly)
        _ = try JournalLog.read(journal, limit: 20, scan: true)
        try journal.close()
        scanTimings.wall.append((now() - start.wall) * 1000)
        scanTimings.cpu.append((cpuNow() - start.cpu) * 1000)
        report("log --limit 20 --scan (whole journal, once): \(scanTimings)")
        return result
    }

    /// Audits batches of the journal kept in `keep` (built by an earlier `run` with that `keep`), in
    /// this process, `repeats` times each, reporting every audit's wall and CPU time. The first audit
    /// of a fresh process is the one `hearings audit` (one process per audit) pays for, so it is
    /// reported apart from the ones after it. Without `batches`, the largest batch is audited.
    public static func inProcess(
        keep: String, batches: [Int64] = [], repeats: Int = 2, report: (String) -> Void = { print($0) }
    ) throws {
        let configuration = JournalConfiguration(directory: keep)
        var chosen = batches
        if chosen.isEmpty {
            guard let data = FileManager.default.contents(atPath: keep + "/" + Built.fileName) else {
                throw UpdaterError(.failure, "benchmark: \(keep) holds no journal built by the benchmark")
            }
            let built = try JSONDecoder().decode(Built.self, from: data)
            guard let largest = built.batches.indices.max(by: { built.batches[$0] < built.batches[$1] })
            else {
                throw UpdaterError(.failure, "benchmark: the journal in \(keep) has no batch")
            }
            chosen = [Int64(largest) + 1]
        }
        for round in 0..<repeats {
            for batchID in chosen {
                let usage = resourceUsage()
                let start = (wall: now(), cpu: cpuNow())
                let journal = try Journal.open(configuration, mode: .readOnly)
                let audit = try Audit.batch(batchID, in: journal)
                try journal.close()
                let wall = (now() - start.wall) * 1000
                let cpu = (cpuNow() - start.cpu) * 1000
                let used = resourceUsage()
                guard let audit else { throw UpdaterError(.failure, "benchmark: batch \(batchID) not found") }
                // Page faults and system time show memory touched for the first time (the kernel zeroes
                // each new page), which later audits of the process no longer pay.
                report(
                    String(
                        format:
                            "round %d: batch %lld (%d mutations): wall %.2f ms, CPU %.2f ms (system %.2f ms), "
                            + "%d page faults", round + 1, batchID, audit.mutations.count, wall, cpu,
                        (used.system - usage.system) * 1000, used.faults - usage.faults))
            }
        }
    }

    /// The process's system CPU time (seconds) and minor page faults so far.
    private static func resourceUsage() -> (system: Double, faults: Int) {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        return (
            Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6, Int(usage.ru_minflt)
        )
    }

    private static func cpuNow() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}

/// A small, seeded random generator (SplitMix64), so every benchmark run builds the same journal.
private struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: UInt64) -> Bool { next(below: 100) < percent }
}

/// Writes runs of realistic shape. Rows are regenerated from their ids and versions (not stored), so
/// memory stays small however long the journal; before-images match what earlier intents wrote.
private struct Generator {
    var random: SplitMix
    /// Mutation count of each batch, by batch id - 1.
    var batches: [Int] = []
    var runs = 0
    var eventCount = 0
    var mutationCount = 0
    /// Version of each hearing (index: hearing id - 1).
    private var hearingVersions: [UInt16] = []
    /// Live supporting documents of each hearing (by hearing id).
    private var documents: [Int64: [Int64]] = [:]
    private var nextDocument: Int64 = 1
    private var nextWitness: Int64 = 1
    private var nextAppearance: Int64 = 1
    private var nextTranscript: Int64 = 1
    /// Recent committed batches' mutations, for reverts.
    private var recent: [(Int64, [Mutation])] = []
    private let committeeCount: Int64 = 250
    private let timestamp = "2025-10-13 06:15:00"

    init(seed: UInt64) { random = SplitMix(seed: seed) }

    mutating func appendRun(to journal: Journal) throws {
        runs += 1
        if runs > 1, random.chance(2), !recent.isEmpty {
            let (target, mutations) = recent[Int(random.next(below: UInt64(recent.count)))]
            try appendRevert(of: target, mutations, to: journal)
            return
        }
        let runID = Int64(journal.nextPosition)
        let started = RunStarted(
            runID: runID, command: "ingest", source: "api", congress: 119, lookbackDays: 2, batchSize: 50,
            atomic: false)
        try append(
            journal,
            [
                try JournalEvent(
                    type: EventType.runStarted, fields: started,
                    keys: [JournalEvent.runKey(runID), JournalEvent.runsKey, "source:api"])
            ])
        if runs == 1 {
            // A first run loads a backlog, as `ingest` of a new data home does: the committees, then
            // batches of 50 meetings with many witnesses and documents (about 1,000 rows per batch,
            // like the bundled sample's largest).
            try appendBatch(runID: runID, mutations: committeeInserts(), to: journal)
            for _ in 0..<6 {
                try appendBatch(
                    runID: runID, mutations: (0..<50).flatMap { _ in newMeeting(rich: true) }, to: journal)
            }
        }
        var metrics = IngestMetrics()
        metrics.runID = runID
        metrics.source = "api"
        for _ in 0..<(1 + random.next(below: 6)) {
            let meetings: Int
            switch random.next(below: 100) {
            case 0..<60: meetings = 1 + Int(random.next(below: 3))
            case 60..<95: meetings = 4 + Int(random.next(below: 12))
            default: meetings = 30 + Int(random.next(below: 21))
            }
            var mutations: [Mutation] = []
            for _ in 0..<meetings {
                if hearingVersions.isEmpty || random.chance(30) {
                    mutations += newMeeting()
                    metrics.hearingsAdded += 1
                } else {
                    mutations += updatedMeeting()
                    metrics.hearingsUpdated += 1
                }
            }
            metrics.hearingsChecked += meetings
            metrics.mutations += mutations.count
            try appendBatch(runID: runID, mutations: mutations, to: journal)
        }
        try append(
            journal,
            [
                try JournalEvent(
                    type: EventType.runFinished,
                    fields: RunFinished(runID: runID, status: "ok", metrics: metrics),
                    keys: ["run:\(runID)"])
            ])
    }

    private mutating func appendRevert(of target: Int64, _ mutations: [Mutation], to journal: Journal) throws
    {
        let runID = Int64(journal.nextPosition)
        let started = RunStarted(
            runID: runID, command: "revert", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
            atomic: false)
        try append(
            journal,
            [
                try JournalEvent(
                    type: EventType.runStarted, fields: started,
                    keys: [JournalEvent.runKey(runID), JournalEvent.runsKey])
            ])
        try appendBatch(
            runID: runID, mutations: mutations.inverse, compensates: target, to: journal)
        recent.removeAll { $0.0 == target }
        try append(
            journal,
            [
                try JournalEvent(
                    type: EventType.runFinished,
                    fields: RunFinished(runID: runID, status: "ok", metrics: nil),
                    keys: ["run:\(runID)"])
            ])
    }

    /// One batch as `Session.commitBatch` journals it: rejections and the intent in one record, then the
    /// outcome in its own.
    private mutating func appendBatch(
        runID: Int64, mutations: [Mutation], compensates: Int64? = nil, to journal: Journal
    ) throws {
        let batchID = Int64(batches.count) + 1
        batches.append(mutations.count)
        mutationCount += mutations.count
        var rejections: [JournalEvent] = []
        if compensates == nil, random.chance(15) {
            for number in 0..<(1 + random.next(below: 4)) {
                let item = Rejected(
                    runID: runID, batchID: batchID, item: "\(900_000 + random.next(below: 100_000))",
                    field: number % 2 == 0 ? "chamber" : "meetingStatus",
                    problem: "\"Hosue\" is not a chamber (expected House, Senate or NoChamber)")
                rejections.append(
                    try JournalEvent(type: EventType.rejected, fields: item, keys: ["run:\(runID)"]))
            }
        }
        let intent = BatchIntent(
            batchID: batchID, runID: runID, kind: compensates == nil ? .ingest : .compensation,
            compensates: compensates, reason: compensates == nil ? nil : "revert",
            items: Array(
                Set(mutations.compactMap { $0.after?["event_id"].text ?? $0.before?["event_id"].text })
            )
            .sorted(),
            mutations: mutations, checksumBefore: String(format: "%016llx", random.next()),
            checksumAfter: String(format: "%016llx", random.next()))
        var keys = ["batch:\(batchID)", "run:\(runID)"]
        var seen = Set<String>()
        for mutation in mutations {
            let key = JournalEvent.rowKey(table: mutation.table, key: mutation.key)
            if seen.insert(key).inserted { keys.append(key) }
        }
        if let compensates { keys.append("batch:\(compensates)") }
        try append(
            journal,
            rejections + [
                JournalEvent(type: EventType.batchIntent, body: intent.journalBody(), keys: keys)
            ])
        let failed = compensates == nil && random.chance(2)
        let outcome = BatchOutcome(
            batchID: batchID, runID: runID, result: failed ? .failed : .committed,
            reason: failed ? "SQLite refused the batch: disk I/O error" : nil, recovered: false,
            stateChecksum: intent.checksumAfter, durationMilliseconds: Double(1 + random.next(below: 40)))
        try append(
            journal,
            [
                try JournalEvent(
                    type: EventType.batchOutcome, fields: outcome, keys: ["batch:\(batchID)", "run:\(runID)"])
            ])
        if !failed && compensates == nil {
            recent.append((batchID, mutations))
            if recent.count > 200 { recent.removeFirst(100) }
        }
    }

    private mutating func append(_ journal: Journal, _ events: [JournalEvent]) throws {
        // Deferred appends: the benchmark measures audit, not fdatasync; close() syncs once.
        try journal.appendDeferred(events)
        eventCount += events.count
    }

    // MARK: Rows

    private func committeeInserts() -> [Mutation] {
        (1...committeeCount).map { id in
            Mutation(
                kind: .insert, table: Schema.committees, before: nil,
                after: RowImage([
                    "committee_id": .integer(id),
                    "system_code": .text("hs\(String(format: "%02lld", id % 40))\(id / 40)0"),
                    "name": .text("Committee on Oversight and Government Reform, Subcommittee \(id)"),
                    "chamber": id % 3 == 0 ? "Senate" : "House", "type": "Standing",
                    "parent_committee_id": nil,
                    "is_current": 1, "url": .text("https://api.congress.gov/v3/committee/house/hsgo\(id)"),
                    "congress": 119, "created_at": .text(timestamp), "updated_at": .text(timestamp),
                ]))
        }
    }

    private func hearing(_ id: Int64, version: UInt16) -> RowImage {
        let statuses: [Value] = ["Scheduled", "Rescheduled", "Postponed", "Canceled"]
        return RowImage([
            "hearing_id": .integer(id), "event_id": .text(String(100_000 + id)), "congress": 119,
            "chamber": id % 2 == 0 ? "House" : "Senate",
            "title": .text(
                "Oversight of the Department of Agriculture's Implementation of the Farm Bill, Part \(id % 7)"
                    + (version > 0 ? " (revised \(version))" : "")),
            "hearing_type": "Hearing", "status": statuses[Int(version) % statuses.count],
            "hearing_date": .text("2025-03-\(10 + id % 18) 1\(version % 8):00:00"),
            "location": "2154 Rayburn House Office Building, Washington, DC 20515", "jacket_number": nil,
            "url": .text("https://api.congress.gov/v3/committee-meeting/119/house/\(100_000 + id)"),
            "congress_gov_url": .text(
                "https://www.congress.gov/event/119th-congress/house-event/\(100_000 + id)"),
            "update_date": .text("2025-10-\(10 + version % 18) 06:00:00"), "created_at": .text(timestamp),
            "updated_at": .text(timestamp), "hearing_date_only": .text("2025-03-\(10 + id % 18)"),
            "hearing_time": .text("1\(version % 8):00:00"),
        ])
    }

    private func document(_ id: Int64, hearing: Int64) -> RowImage {
        RowImage([
            "document_id": .integer(id), "hearing_id": .integer(hearing), "document_type": "Hearing: Memo",
            "title": .text("Hearing Memo \(id)"),
            "description": .text("Memorandum for the hearing \(100_000 + hearing)"),
            "document_url": .text(
                "https://www.congress.gov/119/meeting/house/\(100_000 + hearing)/documents/HHRG-119-\(id).pdf"
            ),
            "format_type": "PDF", "created_at": .text(timestamp), "updated_at": .text(timestamp),
        ])
    }

    private mutating func newMeeting(rich: Bool = false) -> [Mutation] {
        hearingVersions.append(0)
        let id = Int64(hearingVersions.count)
        var result = [
            Mutation(kind: .insert, table: Schema.hearings, before: nil, after: hearing(id, version: 0))
        ]
        for link in 0..<(1 + random.next(below: 2)) {
            result.append(
                Mutation(
                    kind: .insert, table: Schema.hearingCommittees, before: nil,
                    after: RowImage([
                        "hearing_id": .integer(id),
                        "committee_id": .integer(
                            Int64(
                                1 + (random.next(below: UInt64(committeeCount)) + link)
                                    % UInt64(committeeCount))),
                        "is_primary": link == 0 ? 1 : 0, "created_at": .text(timestamp),
                    ])))
        }
        for order in 0..<(rich ? 3 + random.next(below: 8) : random.next(below: 5)) {
            let witness: Int64
            if nextWitness > 1, random.chance(50) {
                witness = 1 + Int64(random.next(below: UInt64(nextWitness - 1)))
            } else {
                witness = nextWitness
                nextWitness += 1
                result.append(
                    Mutation(
                        kind: .insert, table: Schema.witnesses, before: nil,
                        after: RowImage([
                            "witness_id": .integer(witness), "first_name": "Jane",
                            "last_name": .text("Doe\(witness)"),
                            "full_name": .text("Dr. Jane Doe\(witness)"), "title": "Director",
                            "organization": .text("Center for Public Policy \(witness % 500)"),
                            "created_at": .text(timestamp), "updated_at": .text(timestamp),
                            "identity_key": .text(
                                "jane doe\(witness)|center for public policy \(witness % 500)"),
                        ])))
            }
            result.append(
                Mutation(
                    kind: .insert, table: Schema.witnessAppearances, before: nil,
                    after: RowImage([
                        "appearance_id": .integer(nextAppearance), "witness_id": .integer(witness),
                        "hearing_id": .integer(id), "position": "Director", "witness_type": "Witness",
                        "appearance_order": .integer(Int64(order) + 1), "created_at": .text(timestamp),
                    ])))
            nextAppearance += 1
        }
        for _ in 0..<(rich ? 2 + random.next(below: 8) : random.next(below: 4)) {
            result.append(
                Mutation(
                    kind: .insert, table: Schema.supportingDocuments, before: nil,
                    after: document(nextDocument, hearing: id)))
            documents[id, default: []].append(nextDocument)
            nextDocument += 1
        }
        if random.chance(20) {
            result.append(
                Mutation(
                    kind: .insert, table: Schema.hearingTranscripts, before: nil,
                    after: RowImage([
                        "transcript_id": .integer(nextTranscript), "hearing_id": .integer(id),
                        "jacket_number": .text("\(60_000 + nextTranscript)"), "title": "Hearing transcript",
                        "document_url": .text(
                            "https://www.congress.gov/event/119th-congress/\(id)/transcript"),
                        "pdf_url": nil, "html_url": nil, "format_type": "PDF", "created_at": .text(timestamp),
                        "updated_at": .text(timestamp),
                    ])))
            nextTranscript += 1
        }
        return result
    }

    private mutating func updatedMeeting() -> [Mutation] {
        // Upstream updates meetings around their date: nearly all changes touch the 3,000 newest meetings
        // (about a year of them), a few an old one.
        let count = UInt64(hearingVersions.count)
        let index =
            random.chance(98) ? count - 1 - random.next(below: min(count, 3_000)) : random.next(below: count)
        let id = Int64(index) + 1
        let version = hearingVersions[Int(index)]
        hearingVersions[Int(index)] = version &+ 1
        var result = [
            Mutation(
                kind: .update, table: Schema.hearings, before: hearing(id, version: version),
                after: hearing(id, version: version &+ 1))
        ]
        if random.chance(30) {
            result.append(
                Mutation(
                    kind: .insert, table: Schema.supportingDocuments, before: nil,
                    after: document(nextDocument, hearing: id)))
            documents[id, default: []].append(nextDocument)
            nextDocument += 1
        }
        if random.chance(20), let last = documents[id]?.popLast() {
            // A document the meeting no longer lists.
            result.append(
                Mutation(
                    kind: .delete, table: Schema.supportingDocuments, before: document(last, hearing: id),
                    after: nil))
        }
        return result
    }
}
