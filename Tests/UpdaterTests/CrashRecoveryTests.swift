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

/// Where, relative to journal I/O step k, the process dies.
enum CrashMoment: String, CaseIterable {
    /// Step k does not complete: the simulated disk crashes in it (a write or sync that never
    /// happened, a rename that did not reach the directory).
    case during
    /// Step k completes and the process dies before its next action: e.g. after the intent's
    /// fdatasync and before SQLite's COMMIT, or after a rename before the folder's fsync.
    case after
}

/// The fault-free result of the workload, computed once.
private struct Baseline: Sendable {
    let workload: CrashWorkload
    let steps: Int
    let rows: [String: [RowImage]]

    init() throws {
        workload = try CrashWorkload.make()
        let home = try crashTestHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let fileSystem = SimulatedFileSystem()
        let result = workload.run(home: home, fileSystem: fileSystem)
        try #require(result.error == nil, "the fault-free run failed: \(String(describing: result.error))")
        steps = fileSystem.steps
        rows = try managedRows(try Store(path: home.databasePath))
    }
}

/// Runs the workload with a crash at `step`, then recovers every distinct crash image (each fate of
/// the unsynced writes, with directory changes kept and lost) from the database as the crash left it.
/// With `nested`, the recovery of the first image is itself crashed at each of its steps, and each
/// of those crash images recovered and checked in turn.
private func crashScenario(
    _ baseline: Baseline, step: Int, moment: CrashMoment, nested: Bool, tally: inout CrashTally
) throws {
    let home = try crashTestHome()
    let crashDatabase = home.path + "-at-crash"
    defer {
        try? FileManager.default.removeItem(atPath: home.path)
        try? FileManager.default.removeItem(atPath: crashDatabase)
    }
    let disk = SimulatedFileSystem()
    if moment == .during { disk.inject(.crash, atStep: step) }
    let fileSystem = CrashPointFileSystem(base: disk, crashAfterStep: moment == .after ? step : nil) {
        do {
            try snapshotDatabase(of: home, into: crashDatabase)
        } catch {
            fail("step \(step): cannot snapshot the database: \(error)")
        }
    }
    let result = baseline.workload.run(home: home, fileSystem: fileSystem)
    let context = "crash \(moment.rawValue) step \(step)"
    guard fileSystem.crashed, let interrupted = result.failedRun else {
        fail("\(context): the run did not crash (\(String(describing: result.error)))")
        return
    }
    tally.crashPoints += 1
    let committed = try snapshotMarkers(crashDatabase)
    var seen: [[String: [UInt8]]] = []
    for (name, fate) in crashFates {
        for directoryChangesKept in [true, false] {
            let image = disk.crashImage(directoryChangesKept: directoryChangesKept, fate: fate)
            let files = journalFiles(image, directory: home.journalDirectory)
            if seen.contains(files) { continue }
            seen.append(files)
            tally.images += 1
            // An exact copy (no unsynced writes in an image), for crashing the recovery itself.
            let pristine = image.crashImage(directoryChangesKept: true) { _ in .kept }
            try restoreDatabase(of: home, from: crashDatabase)
            let imageContext =
                "\(context) (unsynced writes \(name), directory changes \(directoryChangesKept ? "kept" : "lost"))"
            let report = checkRecovery(
                home: home, fileSystem: image, workload: baseline.workload, interruptedRun: interrupted,
                committedBeforeCrash: committed, expected: baseline.rows, tally: &tally, imageContext)
            // Crash the recovery itself, once per kind of recovery (what it does decides its steps).
            if nested, let report, report.changedSomething,
                tally.nestedSignatures.insert(recoverySignature(report)).inserted
            {
                try crashRecovery(
                    of: pristine, home: home, crashDatabase: crashDatabase, baseline: baseline,
                    interruptedRun: interrupted, committed: committed, tally: &tally, imageContext)
            }
        }
    }
}

/// What a recovery did, without batch numbers: the kinds of its actions and whether it cut a tail.
private func recoverySignature(_ report: RecoveryReport) -> String {
    let kinds = report.actions.map { action in
        action.split(separator: ":", maxSplits: 1).last.map(String.init) ?? action
    }
    return "\(report.tornBytesCut > 0) " + kinds.joined(separator: ",")
}

/// Crashes the recovery of `image` (with the database of `crashDatabase`) at each of its I/O steps,
/// then recovers and checks each result: a crash during recovery is repaired by the next one.
private func crashRecovery(
    of image: SimulatedFileSystem, home: DataHome, crashDatabase: String, baseline: Baseline,
    interruptedRun: Int, committed: [Int64: Int64], tally: inout CrashTally, _ context: String
) throws {
    let secondCrash = home.path + "-at-second-crash"
    defer { try? FileManager.default.removeItem(atPath: secondCrash) }
    // Count the recovery's steps (opening, recovering, closing).
    let probe = image.crashImage(directoryChangesKept: true) { _ in .kept }
    try restoreDatabase(of: home, from: crashDatabase)
    try Session(home: home, command: "recover", journalFileSystem: probe, clock: crashTestClock).close()
    for step in 0..<probe.steps {
        let disk = image.crashImage(directoryChangesKept: true) { _ in .kept }
        disk.inject(.crash, atStep: step)
        try restoreDatabase(of: home, from: crashDatabase)
        let fileSystem = CrashPointFileSystem(base: disk) {
            do {
                try snapshotDatabase(of: home, into: secondCrash)
            } catch {
                fail("\(context): cannot snapshot the database: \(error)")
            }
        }
        do {
            try Session(home: home, command: "recover", journalFileSystem: fileSystem, clock: crashTestClock)
                .close()
        } catch {}
        guard fileSystem.crashed else {
            fail("\(context): recovery did not crash at its step \(step)")
            continue
        }
        tally.nestedCrashPoints += 1
        let committedBefore = committed.merging(try snapshotMarkers(secondCrash)) { $1 }
        for (name, fate, directoryChangesKept) in [
            ("kept", crashFates[0].fate, true), ("dropped", crashFates[1].fate, false),
        ] {
            let secondImage = disk.crashImage(directoryChangesKept: directoryChangesKept, fate: fate)
            try restoreDatabase(of: home, from: secondCrash)
            checkRecovery(
                home: home, fileSystem: secondImage, workload: baseline.workload,
                interruptedRun: interruptedRun,
                committedBeforeCrash: committedBefore, expected: baseline.rows, tally: &tally,
                "\(context), then recovery crashed at its step \(step) (unsynced writes \(name))")
        }
    }
}

/// The first executable `name` on the search path.
private func executable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
        let candidate = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Whether the SIGKILL harness can run here: it needs strace and python3.
private let sigkillHarnessAvailable = executable("strace") != nil && executable("python3") != nil

/// The repository root: this file is Tests/UpdaterTests/CrashRecoveryTests.swift.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// The workload's fault-free result, shared by the tests.
private let sharedBaseline = Result { try Baseline() }

@Suite struct CrashRecoveryTests {
    /// The harness: a crash during and right after every journal I/O step of two ingest runs (8
    /// batches), each crash image recovered and checked (see `checkRecovery`); for crashes during a
    /// step, the first recovery that has work to do is also crashed at each of its own steps.
    @Test(arguments: CrashMoment.allCases)
    func crashAtEveryJournalStepRecoversAndConverges(moment: CrashMoment) throws {
        let started = Date()
        let baseline = try sharedBaseline.get()
        #expect(baseline.rows["hearings"]?.count == 24)
        var tally = CrashTally()
        for step in 0..<baseline.steps {
            try crashScenario(baseline, step: step, moment: moment, nested: moment == .during, tally: &tally)
        }
        print(
            "crash \(moment.rawValue) each of \(baseline.steps) journal I/O steps: \(tally); "
                + "\(Int(Date().timeIntervalSince(started))) s")
        #expect(tally.crashPoints == baseline.steps)
        switch moment {
        case .during:
            // The SQLite boundary "COMMIT done, outcome not written" was crashed at.
            #expect(tally.committedWithoutOutcome > 0)
            #expect(tally.nestedCrashPoints > 0)
        case .after:
            // The SQLite boundary "intent durable, COMMIT not done" was crashed at.
            #expect(tally.abortedAfterDurableIntent > 0)
        }
    }

    /// The SIGKILL harness, reduced (`tools/crash-test --quick --stride 2`): a child `hearings ingest`
    /// (the binary built with the tests) of 10 meetings in batches of 5 killed at every other fdatasync
    /// and rename, and failed with ENOSPC at every other one of its first 6 pwrite64 calls; each time
    /// recovered, checked by tools/crash_check.py and re-run to the fault-free database. Runs when
    /// strace and python3 are installed.
    @Test(.enabled(if: sigkillHarnessAvailable))
    func sigkillAtFdatasyncAndRename() throws {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent()
            .appendingPathComponent("hearings").path
        try #require(
            FileManager.default.isExecutableFile(atPath: binary),
            "\(binary): build the hearings product first")
        let scratch = try crashTestHome().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let output = scratch + "/output.txt"
        try #require(FileManager.default.createFile(atPath: output, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: repositoryRoot + "/tools/crash-test")
        process.arguments = [
            "--quick", "--stride", "2", "--hearings", binary, "--jobs", "2", "--work", scratch + "/work",
        ]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
        print(text)
        #expect(process.terminationStatus == 0, "tools/crash-test --quick failed:\n\(text)")
        #expect(text.contains("kill at fdatasync:"))
    }

    /// EIO and ENOSPC at every journal write and fsync: the run stops with an `UpdaterError` naming
    /// the failure (exit status 1), the database holds no batch whose intent is not durable, nothing
    /// committed is lost, and the next run on the same (not crashed) disk recovers and converges.
    @Test(arguments: [EIO, ENOSPC])
    func ioErrorAtEveryJournalStepStopsCleanly(code: Int32) throws {
        let started = Date()
        let baseline = try sharedBaseline.get()
        let reason = String(cString: strerror(code))
        var tally = CrashTally()
        var stopped = 0
        for step in 0..<baseline.steps {
            let home = try crashTestHome()
            defer { try? FileManager.default.removeItem(atPath: home.path) }
            let disk = SimulatedFileSystem()
            disk.inject(.error(code), atStep: step)
            let result = baseline.workload.run(home: home, fileSystem: disk)
            let context = "\(reason) at step \(step)"
            guard let error = result.error, let interrupted = result.failedRun else {
                fail("\(context): the run did not stop")
                continue
            }
            stopped += 1
            if let error = error as? UpdaterError {
                #expect(error.kind == .failure, "\(context)")
                #expect(error.exitCode == 1, "\(context)")
                #expect(error.message.contains(reason), "\(context): \(error.message)")
            } else {
                fail("\(context): not an UpdaterError: \(type(of: error)): \(error)")
            }
            // The database holds no batch whose intent is not durable: a power cut now would keep it.
            let live = try Store(path: home.databasePath).queue.read { db in try markers(db) }
            let durable = try JournalContents.durableIntents(
                directory: home.journalDirectory,
                fileSystem: disk.crashImage(directoryChangesKept: false) { _ in .dropped })
            for (batch, position) in live where durable[batch] != UInt64(position) {
                fail("\(context): batch \(batch) is committed but its intent is not durable")
            }
            checkRecovery(
                home: home, fileSystem: disk, workload: baseline.workload, interruptedRun: interrupted,
                committedBeforeCrash: live, expected: baseline.rows, tally: &tally, context)
        }
        print(
            "\(reason) at each of \(baseline.steps) journal I/O steps: \(stopped) stopped the run; \(tally); "
                + "\(Int(Date().timeIntervalSince(started))) s")
        #expect(stopped == baseline.steps)
    }
}
