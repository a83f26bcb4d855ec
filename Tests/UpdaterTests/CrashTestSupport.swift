import FaultInjection
import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

#if canImport(Glibc)
    import Glibc
#endif

// Support for CrashRecoveryTests: the workload, a file layer that marks the crash instant, database
// snapshots taken at that instant, and the checks every recovered state must pass.

/// The instant every crash-test session uses: fault-free and recovered runs then write identical rows,
/// timestamps included, so the converged database must equal the fault-free one exactly.
let crashTestClock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_760_335_200) }

/// Where crash tests put their data homes: tmpfs when there is one (SQLite's fsyncs are then cheap; the
/// crash model does not rely on them, since the database is snapshotted at the crash instant).
let crashTestBase =
    FileManager.default.fileExists(atPath: "/dev/shm")
    ? "/dev/shm" : String(NSTemporaryDirectory().reversed().drop { $0 == "/" }.reversed())

/// A fresh data home for a crash test.
func crashTestHome() throws -> DataHome {
    let path = crashTestBase + "/hearings-crash-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return DataHome(path: path)
}

/// The crash-test workload: two ingest runs from `dir:` folders, each in its own session, as two cron
/// runs would be. Run 1: 20 day-1 meetings (15 House meetings that day 2 changes, 5 Senate meetings)
/// in 5 batches of 4; run 2: 10 day-2 meetings (6 of those changed, 4 new) in 3 batches: inserts,
/// updates and deletes (witnesses and documents removed upstream).
struct CrashWorkload: Sendable {
    let runs: [IngestOptions]
    let folder: String

    /// Copies the input documents into a folder of this test process (`hearings-crash-workload-PID`,
    /// next to the crash homes), removing those of test processes that are gone.
    static func make() throws -> CrashWorkload {
        let base = crashTestBase
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: base)) ?? []
        where name.hasPrefix("hearings-crash-workload-") {
            if let pid = Int32(name.dropFirst("hearings-crash-workload-".count)), kill(pid, 0) != 0,
                errno == ESRCH
            {
                try? manager.removeItem(atPath: base + "/" + name)
            }
        }
        let folder = base + "/hearings-crash-workload-\(getpid())"
        try? manager.removeItem(atPath: folder)
        let day1 = sampleFolder(day: 1)
        let day2 = sampleFolder(day: 2)
        let houseDay1 = Set(try manager.contentsOfDirectory(atPath: day1 + "/house"))
        let houseDay2 = try manager.contentsOfDirectory(atPath: day2 + "/house").sorted()
        var changed: [String] = []
        for name in houseDay2 where houseDay1.contains(name) {
            let before = try Data(contentsOf: URL(fileURLWithPath: day1 + "/house/" + name))
            let after = try Data(contentsOf: URL(fileURLWithPath: day2 + "/house/" + name))
            if before != after { changed.append(name) }
        }
        let added = houseDay2.filter { !houseDay1.contains($0) }
        let senate = try manager.contentsOfDirectory(atPath: day1 + "/senate").sorted()
        try #require(changed.count >= 15 && added.count >= 4 && senate.count >= 5)
        let first = folder + "/run-1"
        let second = folder + "/run-2"
        for path in [first, second] {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        for name in changed.prefix(15) {
            try manager.copyItem(atPath: day1 + "/house/" + name, toPath: first + "/" + name)
        }
        for name in senate.prefix(5) {
            try manager.copyItem(atPath: day1 + "/senate/" + name, toPath: first + "/" + name)
        }
        for name in changed.prefix(6) + added.prefix(4) {
            try manager.copyItem(atPath: day2 + "/house/" + name, toPath: second + "/" + name)
        }
        var one = IngestOptions()
        one.source = .directory(first)
        one.batchSize = 4
        var two = one
        two.source = .directory(second)
        return CrashWorkload(runs: [one, two], folder: folder)
    }

    /// What running the workload did: the run that failed (nil: all finished) and the error.
    struct Result {
        var failedRun: Int?
        var error: (any Error)?
    }

    /// Runs `runs[first...]`, each in its own session on `fileSystem`, until one fails. A failed run's
    /// session is closed with `try?`, as the command-line tool does; a crash image does not depend on it
    /// (the file layer refuses every step after the crash) and the database is snapshotted at the crash.
    func run(home: DataHome, fileSystem: any FileSystem, from first: Int = 0) -> Result {
        for index in runs.indices where index >= first {
            do {
                let session = try Session(
                    home: home, command: "ingest", journalFileSystem: fileSystem, clock: crashTestClock)
                do {
                    let metrics = try session.ingest(runs[index])
                    if metrics.batchProcessing.batchesFailed > 0 {
                        throw UpdaterError(.failure, "unexpected failed batch: \(metrics.errors)")
                    }
                } catch {
                    try? session.close()
                    throw error
                }
                try session.close()
            } catch {
                return Result(failedRun: index, error: error)
            }
        }
        return Result(failedRun: nil, error: nil)
    }
}

/// A file layer over a `SimulatedFileSystem` that knows the crash instant: when the simulated disk
/// crashes (an injected `.crash`), or right after step `crashAfterStep` completes, it calls `atCrash`
/// once, before the error reaches any caller, and refuses every later operation. `atCrash` snapshots
/// the SQLite files: the database as the dying process left it.
///
/// "Right after step k" is the crash between two journal I/O steps: e.g. after the intent's fdatasync
/// and before SQLite's COMMIT. `@unchecked Sendable`: the state is guarded by `lock`.
final class CrashPointFileSystem: FileSystem, @unchecked Sendable {
    let base: SimulatedFileSystem
    private let lock = NSLock()
    private let crashAfterStep: Int?
    private var atCrash: (() -> Void)?
    private var stopped = false

    init(base: SimulatedFileSystem, crashAfterStep: Int? = nil, atCrash: @escaping () -> Void) {
        self.base = base
        self.crashAfterStep = crashAfterStep
        self.atCrash = atCrash
    }

    /// Whether the crash happened.
    var crashed: Bool { lock.withLock { stopped } }

    private func stop() {
        let action: (() -> Void)? = lock.withLock {
            defer {
                stopped = true
                atCrash = nil
            }
            return atCrash
        }
        action?()
    }

    private var crashError: JournalError { JournalError(.io, "simulated crash (process killed)", errno: EIO) }

    func perform<T>(_ body: () throws(JournalError) -> T) throws(JournalError) -> T {
        if lock.withLock({ stopped }) { throw crashError }
        let before = base.steps
        let result: T
        do throws(JournalError) {
            result = try body()
        } catch {
            if base.crashed { stop() }
            throw error
        }
        if let step = crashAfterStep, base.steps > before, base.steps == step + 1 {
            stop()
            throw crashError
        }
        return result
    }

    func contentsOfDirectory(_ directory: String) throws(JournalError) -> [String] {
        try perform { () throws(JournalError) in try base.contentsOfDirectory(directory) }
    }
    func createDirectory(_ directory: String) throws(JournalError) {
        try perform { () throws(JournalError) in try base.createDirectory(directory) }
    }
    func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    func openFile(_ path: String, writable: Bool) throws(JournalError) -> any File {
        CrashPointFile(
            base: try perform { () throws(JournalError) in try base.openFile(path, writable: writable) },
            owner: self)
    }
    func createFile(_ path: String) throws(JournalError) -> any File {
        CrashPointFile(
            base: try perform { () throws(JournalError) in try base.createFile(path) }, owner: self)
    }
    func rename(_ source: String, to destination: String) throws(JournalError) {
        try perform { () throws(JournalError) in try base.rename(source, to: destination) }
    }
    func removeFile(_ path: String) throws(JournalError) {
        try perform { () throws(JournalError) in try base.removeFile(path) }
    }
    func syncDirectory(_ directory: String) throws(JournalError) {
        try perform { () throws(JournalError) in try base.syncDirectory(directory) }
    }
}

/// An open file of a `CrashPointFileSystem`.
final class CrashPointFile: File {
    let base: any File
    let owner: CrashPointFileSystem

    init(base: any File, owner: CrashPointFileSystem) {
        self.base = base
        self.owner = owner
    }

    func size() throws(JournalError) -> UInt64 {
        try owner.perform { () throws(JournalError) in try base.size() }
    }
    func read(at offset: UInt64, count: Int) throws(JournalError) -> [UInt8] {
        try owner.perform { () throws(JournalError) in try base.read(at: offset, count: count) }
    }
    func write(_ bytes: [UInt8], at offset: UInt64) throws(JournalError) {
        try owner.perform { () throws(JournalError) in try base.write(bytes, at: offset) }
    }
    func truncate(to size: UInt64) throws(JournalError) {
        try owner.perform { () throws(JournalError) in try base.truncate(to: size) }
    }
    func sync() throws(JournalError) { try owner.perform { () throws(JournalError) in try base.sync() } }
    func close() throws(JournalError) { try base.close() }
}

/// The SQLite files of a data home (the shared-memory index is rebuilt from the WAL when reopened).
private let databaseSuffixes = ["", "-wal"]

/// Copies the database files of `home` into `folder`, as they are on disk now.
func snapshotDatabase(of home: DataHome, into folder: String) throws {
    let manager = FileManager.default
    try? manager.removeItem(atPath: folder)
    try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for suffix in databaseSuffixes where manager.fileExists(atPath: home.databasePath + suffix) {
        try manager.copyItem(atPath: home.databasePath + suffix, toPath: folder + "/db" + suffix)
    }
}

/// Replaces the database files of `home` with a snapshot.
func restoreDatabase(of home: DataHome, from folder: String) throws {
    let manager = FileManager.default
    for suffix in databaseSuffixes + ["-shm"] { try? manager.removeItem(atPath: home.databasePath + suffix) }
    for suffix in databaseSuffixes where manager.fileExists(atPath: folder + "/db" + suffix) {
        try manager.copyItem(atPath: folder + "/db" + suffix, toPath: home.databasePath + suffix)
    }
}

/// The batch markers (`journal_batches`): batch id → intent position.
func markers(_ db: Database) throws -> [Int64: Int64] {
    var result: [Int64: Int64] = [:]
    for row in try Row.fetchAll(db, sql: "SELECT batch_id, intent_position FROM journal_batches") {
        result[row["batch_id"]] = row["intent_position"]
    }
    return result
}

/// The markers of the database snapshot in `folder` (read-only; no database there: none).
func snapshotMarkers(_ folder: String) throws -> [Int64: Int64] {
    guard FileManager.default.fileExists(atPath: folder + "/db") else { return [:] }
    let scratch = folder + "-read"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.copyItem(atPath: folder, toPath: scratch)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let queue = try DatabaseQueue(path: scratch + "/db")
    return try queue.read { db in
        guard try db.tableExists("journal_batches") else { return [:] }
        return try markers(db)
    }
}

/// The updater's events in a journal: intents with their positions, the last outcome of each batch.
struct JournalContents {
    var intents: [(position: UInt64, intent: BatchIntent)] = []
    var outcomes: [Int64: BatchOutcome] = [:]

    init(_ journal: Journal) throws {
        try journal.read { entry in
            switch try DecodedLines.shared.event(entry) {
            case .intent(let intent): intents.append((entry.position, intent))
            case .outcome(let outcome): outcomes[outcome.batchID] = outcome
            case .other: break
            }
            return true
        }
    }

    /// The intents in a journal folder of `fileSystem`, read-only (the torn tail ignored).
    static func durableIntents(directory: String, fileSystem: any FileSystem) throws -> [Int64: UInt64] {
        let journal = try Journal.open(
            JournalConfiguration(directory: directory, fileSystem: fileSystem, clock: crashTestClock),
            mode: .readOnly)
        var result: [Int64: UInt64] = [:]
        for (position, intent) in try JournalContents(journal).intents { result[intent.batchID] = position }
        return result
    }
}

/// Decoded journal lines by their bytes. With the fixed clock every run writes byte-identical lines,
/// so each is decoded once per test process (JSON decoding dominates the checks in a debug build).
/// `@unchecked Sendable`: the table is guarded by `lock`.
final class DecodedLines: @unchecked Sendable {
    enum Event {
        case intent(BatchIntent)
        case outcome(BatchOutcome)
        case other
    }

    static let shared = DecodedLines()
    private let lock = NSLock()
    private var events: [[UInt8]: Event] = [:]

    func event(_ entry: JournalEntry) throws -> Event {
        if let known = lock.withLock({ events[entry.line] }) { return known }
        let event: Event
        switch try entry.decode(EventEnvelope.self).type {
        case EventType.batchIntent: event = .intent(try entry.decode(BatchIntent.self))
        case EventType.batchOutcome: event = .outcome(try entry.decode(BatchOutcome.self))
        default: event = .other
        }
        lock.withLock { events[entry.line] = event }
        return event
    }
}

/// A row's identity in the replay model.
struct RowSlot: Hashable {
    var table: String
    var key: RowImage
}

/// The managed rows as a map from table and primary key to the row.
func rowMap(_ rows: [String: [RowImage]]) -> [RowSlot: RowImage] {
    var result: [RowSlot: RowImage] = [:]
    for (name, images) in rows {
        guard let table = Schema.table(named: name) else { continue }
        for image in images {
            let key = RowImage(Dictionary(uniqueKeysWithValues: table.primaryKey.map { ($0, image[$0]) }))
            result[RowSlot(table: name, key: key)] = image
        }
    }
    return result
}

/// Tallies over a harness run, printed at the end.
struct CrashTally: CustomStringConvertible {
    var crashPoints = 0
    var images = 0
    var recoveries = 0
    var actions: [String: Int] = [:]
    var tornTails = 0
    var abortedAfterDurableIntent = 0
    var committedWithoutOutcome = 0
    var nestedCrashPoints = 0
    /// Kinds of recovery (actions and whether a torn tail was cut) already crashed at each step.
    var nestedSignatures = Set<String>()
    var reruns = 0
    /// Recovered states already shown to converge: the re-run's rows are a function of the rows and
    /// the row-id sequences it starts from (a `dir:` source does not consult the journal).
    var converged = Set<ConvergenceKey>()

    mutating func note(_ report: RecoveryReport) {
        recoveries += 1
        if report.tornBytesCut > 0 { tornTails += 1 }
        for action in report.actions {
            let kind = action.split(separator: ":", maxSplits: 1).last.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            actions[kind ?? action, default: 0] += 1
        }
    }

    var description: String {
        "\(crashPoints) crash points, \(images) distinct journal images, \(recoveries) recoveries; "
            + "torn tails cut \(tornTails); recovery actions "
            + actions.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            + "; intent durable but no COMMIT \(abortedAfterDurableIntent), COMMIT but no outcome "
            + "\(committedWithoutOutcome); crashes during recovery \(nestedCrashPoints); re-runs \(reruns)"
    }
}

/// Opens a session on a crashed (or failed) data home, which runs recovery, and checks the result:
/// (a) the database equals the replay of exactly the batches with a marker, in journal order, each
/// applied whole (so every batch is wholly present or wholly absent, and every before-image held);
/// (b) every marker has its intent in the journal, every batch the journal says committed has a
/// marker and vice versa, every intent has an outcome, and no batch committed before the crash was
/// lost; the state checksum agrees with the rows; (c) the journal verifies; (d) `integrity_check` and
/// `foreign_key_check`; then recovery is idempotent and (e) re-running the interrupted run and those
/// after it converges to the fault-free rows (run once per distinct recovered state, unless
/// `CRASH_TEST_EXHAUSTIVE=1`; otherwise a run that changes nothing proves the journal takes appends).
///
/// - Returns: what recovery did, or nil when it failed.
@discardableResult
func checkRecovery(
    home: DataHome, fileSystem: any FileSystem, workload: CrashWorkload, interruptedRun: Int,
    committedBeforeCrash: [Int64: Int64], expected: [String: [RowImage]], tally: inout CrashTally,
    _ context: String
) -> RecoveryReport? {
    let configuration = JournalConfiguration(
        directory: home.journalDirectory, fileSystem: fileSystem, clock: crashTestClock)
    do {
        // What the crash left: intents whose transaction did not commit, commits without an outcome.
        let left = try JournalContents(
            try Journal.open(configuration, mode: .readOnly))
        for (_, intent) in left.intents where left.outcomes[intent.batchID] == nil {
            if committedBeforeCrash[intent.batchID] == nil {
                tally.abortedAfterDurableIntent += 1
            } else {
                tally.committedWithoutOutcome += 1
            }
        }
        let session: Session
        do {
            session = try Session(
                home: home, command: "recover", journalFileSystem: fileSystem, clock: crashTestClock)
        } catch {
            fail("\(context): recovery failed: \(error)")
            return nil
        }
        let report = session.recovery
        tally.note(session.recovery)
        let contents = try JournalContents(session.journal)
        let rows = try managedRows(session.store)
        let (found, scratch, integrity, foreignKeys) = try session.store.queue.read { db in
            (
                try markers(db), try StateChecksum.compute(db),
                try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            )
        }
        // (b)
        let intentPositions = Dictionary(
            contents.intents.map { ($0.intent.batchID, Int64($0.position)) }, uniquingKeysWith: { $1 })
        for (batch, position) in found.sorted(by: { $0.key < $1.key })
        where intentPositions[batch] != position {
            fail("\(context): batch \(batch) has a marker at \(position) but no intent there in the journal")
        }
        for (_, intent) in contents.intents {
            let outcome = contents.outcomes[intent.batchID]
            if outcome == nil { fail("\(context): batch \(intent.batchID) has no outcome after recovery") }
            if (outcome?.result == .committed) != (found[intent.batchID] != nil) {
                fail(
                    "\(context): batch \(intent.batchID): outcome \(outcome?.result.rawValue ?? "none") but "
                        + (found[intent.batchID] == nil ? "no marker" : "a marker"))
            }
        }
        for batch in committedBeforeCrash.keys.sorted() where found[batch] == nil {
            fail("\(context): batch \(batch) was committed before the crash and is lost")
        }
        #expect(scratch == session.checksum, "\(context): the state checksum does not match the rows")
        // (a) the replay model: start empty, apply each batch that has a marker, whole, in order.
        var model: [RowSlot: RowImage] = [:]
        for (_, intent) in contents.intents where found[intent.batchID] != nil {
            for mutation in intent.mutations {
                let slot = RowSlot(table: mutation.table, key: mutation.key)
                if model[slot] != mutation.before {
                    fail(
                        "\(context): batch \(intent.batchID): the before-image of \(mutation.table) "
                            + "\(mutation.key.columns) does not follow from the batches before it")
                }
                model[slot] = mutation.after
            }
        }
        let actual = rowMap(rows)
        if actual != model {
            let differing = Set(actual.keys).union(model.keys).filter { actual[$0] != model[$0] }
            fail(
                "\(context): the database is not the committed batches applied whole: \(differing.count) rows "
                    + "differ, e.g. "
                    + differing.prefix(3).map { "\($0.table) \($0.key.columns)" }.joined(separator: "; "))
        }
        // (d)
        #expect(integrity == ["ok"], "\(context): integrity_check \(integrity)")
        #expect(foreignKeys.isEmpty, "\(context): foreign_key_check found \(foreignKeys.count) rows")
        try session.close()
        // (c)
        let verification = try Journal.verify(configuration)
        #expect(verification.isSound, "\(context): journal verify: \(verification.problems)")
        // Idempotent: a second recovery finds nothing to do.
        let again = try Session(
            home: home, command: "recover", journalFileSystem: fileSystem, clock: crashTestClock)
        #expect(
            !again.recovery.changedSomething, "\(context): a second recovery acted: \(again.recovery.actions)"
        )
        // (e)
        let sequences = try again.store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence").reduce(into: [String: Int64]())
            {
                $0[$1["name"]] = $1["seq"]
            }
        }
        let key = ConvergenceKey(run: interruptedRun, rows: rows, sequences: sequences)
        guard exhaustiveCrashTests || tally.converged.insert(key).inserted else {
            // Shown to converge already; a run that changes nothing proves the journal takes appends.
            let runID = try again.startRun(
                RunStarted(
                    runID: 0, command: "probe", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
                    atomic: false))
            try again.finishRun(RunFinished(runID: runID, status: "ok", metrics: nil))
            try again.close()
            #expect(try Journal.verify(configuration).isSound, "\(context): journal verify after a run")
            return report
        }
        try again.close()
        tally.reruns += 1
        let rerun = workload.run(home: home, fileSystem: fileSystem, from: interruptedRun)
        if let error = rerun.error {
            fail("\(context): the re-run failed: \(error)")
            return report
        }
        let converged = try managedRows(try Store(path: home.databasePath))
        if converged != expected {
            let got = rowMap(converged)
            let want = rowMap(expected)
            let differing = Set(got.keys).union(want.keys).filter { got[$0] != want[$0] }
            fail(
                "\(context): the re-run did not converge to the fault-free database: \(differing.count) rows "
                    + "differ, e.g. "
                    + differing.prefix(3).map { "\($0.table) \($0.key.columns)" }.joined(separator: "; "))
        }
        #expect(try Journal.verify(configuration).isSound, "\(context): journal verify after the re-run")
        return report
    } catch {
        fail("\(context): \(error)")
        return nil
    }
}

/// A recovered state whose re-run was checked.
struct ConvergenceKey: Hashable {
    var run: Int
    var rows: [String: [RowImage]]
    var sequences: [String: Int64]
}

/// `CRASH_TEST_EXHAUSTIVE=1`: re-run the workload after every recovery, not once per distinct state.
let exhaustiveCrashTests = ProcessInfo.processInfo.environment["CRASH_TEST_EXHAUSTIVE"] == "1"

/// The fates of unsynced writes a crash image is taken with (SQLite's crash-test VFS choices).
let crashFates: [(name: String, fate: @Sendable (Int) -> UnsyncedWriteFate)] = [
    ("kept", { _ in .kept }),
    ("dropped", { _ in .dropped }),
    ("garbled", { _ in .garbled }),
    ("alternate", { $0 % 2 == 0 ? .kept : .dropped }),
]

/// The files of a journal image, for telling identical crash images apart.
func journalFiles(_ fileSystem: SimulatedFileSystem, directory: String) -> [String: [UInt8]] {
    var result: [String: [UInt8]] = [:]
    for name in (try? fileSystem.contentsOfDirectory(directory)) ?? [] {
        result[name] = fileSystem.contents(of: directory + "/" + name) ?? []
    }
    return result
}

/// Records a test failure whose message is built at run time.
func fail(_ message: String) { Issue.record(Comment(rawValue: message)) }
