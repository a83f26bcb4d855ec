import Congress
import Foundation
import Journal

#if canImport(Glibc)
    import Glibc
#endif

/// The ingest benchmarks of docs/performance.md ("Ingest"), run by `tools/bench-ingest` through the
/// `UpdaterBenchmark` executable (`UpdaterBenchmark ingest MODE [options]`, release build).
///
/// Inputs are real Congress.gov meetings (the fixture `meetings-119.jsonl`, one detail response per
/// line) written as a `dir:` source, and every run goes through `Session.ingest` on a data home on the
/// disk the work folder is on (not tmpfs, unless you point it there):
///
/// - `workload`: the predecessor's 201-change workload: 151 meetings with witnesses, documents and
///   committee links are loaded first (not timed), then one ingest run applies 151 edited versions of
///   them and 50 new meetings. Timed: open the session (lock, recovery) → ingest → close.
/// - `journal`: the same workload, journaled and with the journal switched off
///   (`Session.journalingDisabledForBenchmark`), alternately, in one process: the throughput ratio.
/// - `scale`: `--changes N` (default 100,000) new meetings built from the real ones with new event ids,
///   in batches of `--batch-size`: changes/s, and memory (VmHWM, and VmRSS as the batches go).
/// - `all`: `workload` then `journal`.
///
/// Options: `--fixtures PATH`, `--committees PATH` (reference data, default the sample's),
/// `--work DIR` (default `.build/bench-ingest-work`, removed afterwards), `--repeat N` (default 7),
/// `--changes N`, `--batch-size N`.
public enum IngestBenchmark {
    /// Runs the benchmark `arguments` name (the words after `ingest`) and prints its report on stdout.
    ///
    /// - Throws: `UpdaterError` on a bad argument or when a run does not do what the workload expects.
    public static func run(arguments: [String]) throws {
        let options = try Options(arguments)
        try FileManager.default.createDirectory(atPath: options.work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: options.work) }
        print("input: real meetings from \(options.fixtures); work folder \(options.work)")
        switch options.mode {
        case "workload": try workload(options)
        case "journal": try journalRatio(options)
        case "scale": try scale(options)
        default:
            try workload(options)
            try journalRatio(options)
        }
    }

    struct Options {
        var mode = "all"
        var fixtures = "Tests/CongressTests/Fixtures/meetings-119.jsonl"
        var committees = "Sources/Congress/Resources/sample/committees.json"
        var work = ".build/bench-ingest-work"
        var repetitions = 7
        var changes = 100_000
        var batchSize = 50

        init(_ arguments: [String]) throws {
            var rest = arguments[...]
            if let first = rest.first, !first.hasPrefix("--") {
                guard ["workload", "journal", "scale", "all"].contains(first) else {
                    throw UpdaterError(
                        .failure, "unknown benchmark \"\(first)\": workload, journal, scale or all")
                }
                mode = first
                rest = rest.dropFirst()
            }
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else {
                    throw UpdaterError(.failure, "\(flag) needs a value")
                }
                switch flag {
                case "--fixtures": fixtures = value
                case "--committees": committees = value
                case "--work": work = value
                case "--repeat": repetitions = try Self.positive(flag, value)
                case "--changes": changes = try Self.positive(flag, value)
                case "--batch-size": batchSize = try Self.positive(flag, value)
                default: throw UpdaterError(.failure, "unknown option \(flag)")
                }
            }
        }

        static func positive(_ flag: String, _ value: String) throws -> Int {
            guard let number = Int(value), number > 0 else {
                throw UpdaterError(.failure, "\(flag) must be a positive integer (got \"\(value)\")")
            }
            return number
        }
    }

    // MARK: (a) The predecessor's workload

    /// A prepared workload: a folder loaded first, and the folder of the timed run.
    struct Workload {
        var base: String
        var changes: String
        var updates: Int
        var additions: Int
    }

    static func workload(_ options: Options) throws {
        let prepared = try makeWorkload(options, updates: 151, additions: 50)
        print(
            "\n(a) the predecessor's workload: \(prepared.updates) updates + \(prepared.additions) additions "
                + "of real meetings with witnesses, documents and committee links; \(options.repetitions) runs, "
                + "each on a fresh data home")
        var totals: [Double] = []
        var ingests: [Double] = []
        var reads: [Double] = []
        var batches: [Double] = []
        var cpus: [Double] = []
        var readCPUs: [Double] = []
        var ends: [Double] = []
        var endCPUs: [Double] = []
        var mutations = 0
        for round in 0..<options.repetitions {
            let home = try freshHome(options, "a-\(round)")
            try load(prepared.base, into: home)
            let started = Date()
            let session = try Session(home: home, command: "benchmark")
            let ingestStarted = Date()
            let cpuStarted = cpuSeconds()
            var sourceDone = ingestStarted
            var sourceCPU = cpuStarted
            var batchesDone = ingestStarted
            var batchesCPU = cpuStarted
            let metrics = try session.ingest(ingestOptions(for: prepared.changes)) { event in
                switch event {
                case .started:
                    sourceDone = Date()
                    sourceCPU = cpuSeconds()
                case .batch, .committees:
                    batchesDone = Date()
                    batchesCPU = cpuSeconds()
                default: break
                }
            }
            let ingestSeconds = Date().timeIntervalSince(ingestStarted)
            let ingestCPU = cpuSeconds()
            cpus.append(ingestCPU - cpuStarted)
            // The end of the run: its health check (history, alerts, run verify) and `run_finished`.
            ends.append(Date().timeIntervalSince(batchesDone))
            endCPUs.append(ingestCPU - batchesCPU)
            readCPUs.append(sourceCPU - cpuStarted)
            try session.close()
            totals.append(Date().timeIntervalSince(started))
            ingests.append(ingestSeconds)
            reads.append(sourceDone.timeIntervalSince(ingestStarted))
            batches.append(batchesDone.timeIntervalSince(sourceDone))
            try expect(metrics, updated: prepared.updates, added: prepared.additions)
            mutations = metrics.mutations
            try? FileManager.default.removeItem(atPath: home.path)
        }
        let total = Summary(totals)
        print("  row mutations per run: \(mutations)")
        print("  session open + ingest + close: \(total)")
        print("  ingest call alone:             \(Summary(ingests))")
        print("    of which the first pass:  \(Summary(reads))")
        print("    of which the batches:         \(Summary(batches))")
        print("    of which the end of the run:  \(Summary(ends))")
        print("  CPU time of the ingest call:   \(Summary(cpus))")
        print("    of which the first pass:  \(Summary(readCPUs))")
        print("    of which the end of the run (health check, run_finished): \(Summary(endCPUs))")
        print(
            String(
                format:
                    "  vs the predecessor (3.5–4.4 s on tmpfs, 9.5–33 s on disk): %.2f %% of 3.5 s, %.2f %% of 9.5 s",
                total.median / 3.5 * 100, total.median / 9.5 * 100))
    }

    // MARK: (b) Journal on vs off

    static func journalRatio(_ options: Options) throws {
        let prepared = try makeWorkload(options, updates: 151, additions: 50)
        print(
            "\n(b) journaled vs the same batches without the journal (intent not encoded, written or synced); "
                + "\(options.repetitions) alternating pairs, the order flipped each round")
        var batchTimes: [Bool: [Double]] = [true: [], false: []]
        var runTimes: [Bool: [Double]] = [true: [], false: []]
        for round in 0..<options.repetitions {
            for journaled in round % 2 == 0 ? [true, false] : [false, true] {
                let home = try freshHome(options, "b-\(round)-\(journaled)")
                try load(prepared.base, into: home)
                let session = try Session(home: home, command: "benchmark")
                session.journalingDisabledForBenchmark = !journaled
                let started = Date()
                let metrics = try session.ingest(ingestOptions(for: prepared.changes))
                runTimes[journaled, default: []].append(Date().timeIntervalSince(started))
                try session.close()
                try expect(metrics, updated: prepared.updates, added: prepared.additions)
                // The batches proper: BEGIN … prepare … (intent) … COMMIT, summed over the run.
                batchTimes[journaled, default: []].append(
                    metrics.batches.map(\.durationMilliseconds).reduce(0, +) / 1000)
                try? FileManager.default.removeItem(atPath: home.path)
            }
        }
        let batchesOn = Summary(batchTimes[true] ?? [])
        let batchesOff = Summary(batchTimes[false] ?? [])
        let runOn = Summary(runTimes[true] ?? [])
        let runOff = Summary(runTimes[false] ?? [])
        print("  batches, journaled:      \(batchesOn)")
        print("  batches, no journal:     \(batchesOff)")
        print("  whole ingest, journaled: \(runOn)")
        print("  whole ingest, no journal: \(runOff)")
        print(
            String(
                format:
                    "  throughput ratio journaled / no journal: batches %.2f, whole ingest %.2f (goal ≥ 0.8)",
                batchesOff.median / batchesOn.median, runOff.median / runOn.median))
    }

    // MARK: (c) Scale

    static func scale(_ options: Options) throws {
        let (folder, usable) = try makeScaleInput(options)
        let memoryBefore = Memory.read()
        print(
            "\n(c) scale: \(options.changes) new meetings built from \(usable) real ones (new event ids), "
                + "batches of \(options.batchSize), on a fresh data home")
        let home = try freshHome(options, "c")
        var sourceRead: Memory?
        var sourceSeconds = 0.0
        var samples: [(batch: Int, memory: Memory)] = []
        var next = 0.0
        let session = try Session(home: home, command: "benchmark")
        let started = Date()
        let cpuStarted = cpuSeconds()
        var ingestOptions = IngestOptions()
        ingestOptions.source = .directory(folder)
        ingestOptions.batchSize = options.batchSize
        let metrics = try session.ingest(ingestOptions) { event in
            switch event {
            case .started:
                sourceRead = Memory.read()
                sourceSeconds = Date().timeIntervalSince(started)
            case .batch(_, let number, let count, _, _):
                if Double(number) >= next * Double(count) {
                    samples.append((number, Memory.read()))
                    next += 0.1
                }
            default: break
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let cpu = cpuSeconds() - cpuStarted
        let afterRun = Memory.read()
        try session.close()
        let afterClose = Memory.read()
        try? FileManager.default.removeItem(atPath: home.path)
        guard metrics.hearingsAdded == options.changes, metrics.batchProcessing.batchesFailed == 0 else {
            throw UpdaterError(
                .failure,
                "scale run: \(metrics.hearingsChecked) checked, \(metrics.hearingsAdded) added, "
                    + "\(metrics.hearingsUpdated) updated, \(metrics.batchProcessing.batchesFailed) batches failed, "
                    + "\(metrics.validationIssues.count) rejected (first: \(metrics.validationIssues.first.map { "\($0)" } ?? "-"))"
            )
        }
        let batchSeconds = seconds - sourceSeconds
        print(
            String(
                format: "  %d changes (%d row mutations) in %.1f s: %.0f changes/s, %.0f mutations/s",
                options.changes, metrics.mutations, seconds, Double(options.changes) / seconds,
                Double(metrics.mutations) / seconds))
        print(
            String(
                format:
                    "  first pass (listing, summaries): %.1f s; the batches (read, validate, map, apply): %.1f s (%.0f changes/s, %.0f mutations/s)",
                sourceSeconds, batchSeconds, Double(options.changes) / batchSeconds,
                Double(metrics.mutations) / batchSeconds))
        print(
            String(
                format:
                    "  CPU time (user + system) of the run: %.1f s (the rest of the wall time is waiting: disk, other processes)",
                cpu))
        print("  memory before the run:      \(memoryBefore)")
        if let sourceRead { print("  after the first pass:       \(sourceRead)") }
        for sample in samples {
            print(
                "  after batch \(String(sample.batch).padding(toLength: 6, withPad: " ", startingAt: 0)): \(sample.memory)"
            )
        }
        print("  after the run's end (health check, run_finished): \(afterRun)")
        print("  after closing the session (journal index written): \(afterClose)")
        let peak = Memory.read()
        print("  peak (VmHWM) for the run:   \(peak.peakMegabytes) MB (goal < 100 MB)")
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: Inputs

    /// Writes `options.changes` new meetings (real ones with new event ids, 1,000 files a folder) and
    /// returns the folder and how many real meetings they cycle through. The fixtures are let go before
    /// the run, so the memory measured is the run's.
    static func makeScaleInput(_ options: Options) throws -> (folder: String, usable: Int) {
        let folder = options.work + "/scale-\(options.changes)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try copyCommittees(options, to: folder)
        let usable = try loadFixtures(options.fixtures).filter(isUsable)
        for index in 0..<options.changes {
            var meeting = usable[index % usable.count]
            // A new meeting: a new event id; the rest (witnesses, documents, links) stays real.
            let eventID = String(1_000_000 + index)
            meeting["eventId"] = eventID
            try write(meeting, to: folder + "/\(index / 1000)", name: eventID)
        }
        return (folder, usable.count)
    }

    /// The fixture's meetings (the `committeeMeeting` objects), in file order.
    static func loadFixtures(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var result: [[String: Any]] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let document = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let meeting = document?["committeeMeeting"] as? [String: Any] { result.append(meeting) }
        }
        guard !result.isEmpty else { throw UpdaterError(.failure, "no meetings in \(path)") }
        return result
    }

    /// A meeting the ingest run accepts (it decodes, validates and maps): some fixture meetings are
    /// real-world broken (no title…) and would be rejected, not applied.
    static func isUsable(_ meeting: [String: Any]) -> Bool {
        guard let data = try? JSONSerialization.data(withJSONObject: ["committeeMeeting": meeting]),
            let decoded = try? CommitteeMeetingDetailResponse.decode(from: data, source: "fixture")
        else { return false }
        return MeetingValidator.problems(of: decoded.committeeMeeting).isEmpty
            && (try? MappedMeeting(decoded.committeeMeeting)) != nil
    }

    /// A usable meeting with witnesses and documents: the predecessor's heavy case.
    static func isRich(_ meeting: [String: Any]) -> Bool {
        isUsable(meeting) && !((meeting["witnesses"] as? [Any])?.isEmpty ?? true)
            && (!((meeting["witnessDocuments"] as? [Any])?.isEmpty ?? true)
                || !((meeting["meetingDocuments"] as? [Any])?.isEmpty ?? true))
    }

    /// `base`: `updates` rich meetings; `changes`: an edited version of each (title, status, time,
    /// witnesses, documents, in turn) and `additions` rich meetings not in `base`.
    static func makeWorkload(_ options: Options, updates: Int, additions: Int) throws -> Workload {
        let rich = try loadFixtures(options.fixtures).filter(isRich)
        guard rich.count >= updates + additions else {
            throw UpdaterError(
                .failure,
                "the fixture has \(rich.count) meetings with witnesses and documents; \(updates + additions) needed"
            )
        }
        let workload = Workload(
            base: options.work + "/workload-base", changes: options.work + "/workload-changes",
            updates: updates,
            additions: additions)
        for folder in [workload.base, workload.changes] {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try copyCommittees(options, to: folder)
        }
        for (index, meeting) in rich.prefix(updates).enumerated() {
            let eventID = meeting["eventId"] as? String ?? String(index)
            try write(meeting, to: workload.base, name: eventID)
            try write(edited(meeting, index), to: workload.changes, name: eventID)
        }
        for meeting in rich.dropFirst(updates).prefix(additions) {
            try write(meeting, to: workload.changes, name: meeting["eventId"] as? String ?? UUID().uuidString)
        }
        return workload
    }

    /// The next day's version of `meeting`: a later `updateDate` and one of the changes a daily run
    /// sees (the sample's day 2 has the same kinds).
    static func edited(_ meeting: [String: Any], _ index: Int) -> [String: Any] {
        var copy = meeting
        copy["updateDate"] = "2025-12-01T06:00:00Z"
        switch index % 6 {
        case 0: copy["title"] = (meeting["title"] as? String ?? "Hearing") + " (revised)"
        case 1: copy["meetingStatus"] = "Postponed"
        case 2: copy["date"] = "2025-12-15T15:00:00Z"
        case 3:
            var witnesses = meeting["witnesses"] as? [Any] ?? []
            if !witnesses.isEmpty { witnesses.removeLast() }
            copy["witnesses"] = witnesses
        case 4:
            var witnesses = meeting["witnesses"] as? [Any] ?? []
            witnesses.append([
                "name": "Jordan Q. Benchmark", "position": "Director",
                "organization": "Institute of Examples",
            ])
            copy["witnesses"] = witnesses
            var documents = meeting["witnessDocuments"] as? [Any] ?? []
            documents.append([
                "documentType": "Witness Statement", "format": "PDF",
                "url":
                    "https://www.congress.gov/119/meeting/bench/\(index)/HHRG-119-XX00-Wstate-BenchmarkJ-20251201.pdf",
            ])
            copy["witnessDocuments"] = documents
        default:
            var documents = meeting["meetingDocuments"] as? [Any] ?? []
            documents.append([
                "name": "Hearing Memo", "description": "", "documentType": "Support Document",
                "format": "PDF",
                "url": "https://www.congress.gov/119/meeting/bench/\(index)/HHRG-119-XX00-20251201-SD999.pdf",
            ])
            copy["meetingDocuments"] = documents
        }
        return copy
    }

    static func write(_ meeting: [String: Any], to folder: String, name: String) throws {
        if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let data = try JSONSerialization.data(withJSONObject: ["committeeMeeting": meeting])
        try data.write(to: URL(fileURLWithPath: folder + "/" + name + ".json"))
    }

    static func copyCommittees(_ options: Options, to folder: String) throws {
        guard FileManager.default.fileExists(atPath: options.committees) else { return }
        let target = folder + "/committees.json"
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: options.committees, toPath: target)
    }

    // MARK: Runs

    static func freshHome(_ options: Options, _ name: String) throws -> DataHome {
        let path = options.work + "/home-" + name
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return DataHome(path: path)
    }

    static func ingestOptions(for folder: String) -> IngestOptions {
        var options = IngestOptions()
        options.source = .directory(folder)
        return options
    }

    static func load(_ folder: String, into home: DataHome) throws {
        let session = try Session(home: home, command: "benchmark-load")
        let metrics = try session.ingest(ingestOptions(for: folder))
        try session.close()
        guard metrics.batchProcessing.batchesFailed == 0, metrics.validationIssues.isEmpty else {
            throw UpdaterError(
                .failure, "loading the base failed: \(metrics.errors) \(metrics.validationIssues)")
        }
    }

    static func expect(_ metrics: IngestMetrics, updated: Int, added: Int) throws {
        guard metrics.hearingsUpdated == updated, metrics.hearingsAdded == added,
            metrics.batchProcessing.batchesFailed == 0, metrics.validationIssues.isEmpty
        else {
            throw UpdaterError(
                .failure,
                "the workload did not apply as expected: \(metrics.hearingsUpdated) updated, "
                    + "\(metrics.hearingsAdded) added, \(metrics.errors), \(metrics.validationIssues)")
        }
    }

    // MARK: Measures

    /// User plus system CPU time of the process so far, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
    }

    /// Median, minimum and maximum of a series of durations in seconds.
    struct Summary: CustomStringConvertible {
        var median: Double
        var minimum: Double
        var maximum: Double

        init(_ values: [Double]) {
            let sorted = values.sorted()
            median =
                sorted.isEmpty
                ? 0
                : sorted.count % 2 == 1
                    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            minimum = sorted.first ?? 0
            maximum = sorted.last ?? 0
        }

        var description: String {
            String(
                format: "median %.1f ms (min %.1f, max %.1f)", median * 1000, minimum * 1000, maximum * 1000)
        }
    }

    /// The process's resident memory (VmRSS) and its peak (VmHWM), from /proc/self/status.
    struct Memory: CustomStringConvertible {
        var residentKilobytes = 0
        var peakKilobytes = 0

        static func read() -> Memory {
            var memory = Memory()
            guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
                return memory
            }
            for line in text.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count >= 2, let value = Int(parts[1]) else { continue }
                if parts[0] == "VmRSS:" { memory.residentKilobytes = value }
                if parts[0] == "VmHWM:" { memory.peakKilobytes = value }
            }
            return memory
        }

        var peakMegabytes: String { String(format: "%.1f", Double(peakKilobytes) / 1024) }

        var description: String {
            String(
                format: "VmRSS %.1f MB, VmHWM %.1f MB", Double(residentKilobytes) / 1024,
                Double(peakKilobytes) / 1024)
        }
    }
}
