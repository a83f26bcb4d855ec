import FaultInjection
import Foundation
import Journal
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The workload every fault test runs: durable and deferred appends, segment rolls, a reopen, a close.
private struct Workload {
    /// The events of each append, in order, and whether the append was durable.
    var appends: [(events: [JournalEvent], durable: Bool)] = []

    init(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        for batch in 1...14 {
            let events = try (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                try randomEvent(&generator, batch: batch)
            }
            appends.append((events, batch % 3 != 0))
        }
    }

    /// Runs the workload until it completes or an I/O step fails; returns how many appends returned.
    func run(on fileSystem: SimulatedFileSystem) -> (acknowledged: Int, error: JournalError?) {
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 1500)
        var acknowledged = 0
        do throws(JournalError) {
            var journal = try Journal.open(configuration)
            for (number, append) in appends.enumerated() {
                if number == 7 {
                    try journal.close()
                    journal = try Journal.open(configuration)
                }
                if append.durable {
                    try journal.append(append.events)
                } else {
                    try journal.appendDeferred(append.events)
                }
                acknowledged += 1
            }
            try journal.close()
            return (acknowledged, nil)
        } catch {
            return (acknowledged, error)
        }
    }

    /// The bodies of the first `count` appends' events, flattened.
    func bodies(ofFirst count: Int) -> [[UInt8]] {
        appends.prefix(count).flatMap { $0.events.map(\.body) }
    }

    /// How many appends must survive: every append up to the last durable one acknowledged (deferred
    /// ones before it were flushed by its fdatasync); all of them after a clean close.
    func mustSurvive(acknowledged: Int, completed: Bool) -> Int {
        if completed { return appends.count }
        var count = 0
        for index in 0..<acknowledged where appends[index].durable || index == 6 { count = index + 1 }
        return count
    }
}

/// The events in a reopened journal, as (body without envelope) for comparison with what was appended.
private func storedBodies(_ journal: Journal) throws -> [[UInt8]] {
    var bodies: [[UInt8]] = []
    try journal.read { entry in
        // Strip `{"position":…,"time":"…","type":"…"` and put the `{` back.
        let line = entry.line
        var quotes = 0
        var cut = 0
        for (index, byte) in line.enumerated() where byte == UInt8(ascii: "\"") {
            quotes += 1
            if quotes == 10 {
                cut = index + 1
                break
            }
        }
        bodies.append(
            line[cut] == UInt8(ascii: "}") ? Array("{}".utf8) : [UInt8(ascii: "{")] + line[(cut + 1)...])
        return true
    }
    return bodies
}

@Suite struct JournalFaultTests {
    /// Crash at every I/O step of the workload, then for several choices of what happened to the unsynced
    /// writes: the journal always opens (never "corrupt"), everything acknowledged durable is there, and
    /// what is there is exactly the first k appends for some k (no half append, no garbage).
    @Test(arguments: [11, 12])
    func crashAtEveryStepRecovers(seed: UInt64) throws {
        let workload = try Workload(seed: seed)
        let probe = SimulatedFileSystem()
        let clean = workload.run(on: probe)
        #expect(clean.error == nil)
        let steps = probe.steps
        #expect(steps > 40)
        let fates: [(String, (Int) -> UnsyncedWriteFate)] = [
            ("kept", { _ in .kept }), ("dropped", { _ in .dropped }), ("garbled", { _ in .garbled }),
            ("alternate", { $0 % 2 == 0 ? .kept : .dropped }),
            ("last garbled", { $0 % 3 == 2 ? .garbled : .kept }),
        ]
        for step in 0..<steps {
            let fileSystem = SimulatedFileSystem()
            fileSystem.inject(.crash, atStep: step)
            let result = workload.run(on: fileSystem)
            #expect(result.error != nil)
            #expect(fileSystem.crashed)
            let required = workload.mustSurvive(acknowledged: result.acknowledged, completed: false)
            for (name, fate) in fates {
                for directoryChangesKept in [true, false] {
                    let image = fileSystem.crashImage(directoryChangesKept: directoryChangesKept, fate: fate)
                    let context =
                        "crash at step \(step), unsynced writes \(name), directory kept \(directoryChangesKept)"
                    let journal: Journal
                    do {
                        journal = try Journal.open(simulatedConfiguration(image, segmentSizeLimit: 1500))
                    } catch {
                        Issue.record("\(context): open failed: \(error)")
                        continue
                    }
                    let bodies = try storedBodies(journal)
                    let survivors = (0...workload.appends.count).first {
                        workload.bodies(ofFirst: $0) == bodies
                    }
                    #expect(survivors != nil, "\(context): the journal is not a prefix of the appends")
                    #expect((survivors ?? 0) >= required, "\(context): lost an acknowledged durable append")
                    #expect(
                        (survivors ?? 0) <= result.acknowledged + 1, "\(context): more appends than attempted"
                    )
                    #expect(try Journal.verify(simulatedConfiguration(image, segmentSizeLimit: 1500)).isSound)
                    // Recovery leaves a journal that takes appends and reopens clean.
                    try journal.append([JournalEvent(type: "after", body: Array("{}".utf8))])
                    try journal.close()
                    let reopened = try Journal.open(simulatedConfiguration(image, segmentSizeLimit: 1500))
                    #expect(reopened.openReport.tornBytesCut == 0, "\(context)")
                }
            }
        }
    }

    /// EIO or ENOSPC at any step: the failing call throws `.io`, every later call `.unusable`; reopening
    /// the same disk keeps every acknowledged append and only whole appends.
    @Test(arguments: [EIO, ENOSPC])
    func ioErrorAtEveryStepStopsCleanly(code: Int32) throws {
        let workload = try Workload(seed: 13)
        let probe = SimulatedFileSystem()
        _ = workload.run(on: probe)
        for step in 0..<probe.steps {
            let fileSystem = SimulatedFileSystem()
            fileSystem.inject(.error(code), atStep: step)
            let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 1500)
            var acknowledged = 0
            var failure: JournalError?
            var journal: Journal?
            do throws(JournalError) {
                journal = try Journal.open(configuration)
                for (number, append) in workload.appends.enumerated() {
                    if number == 7, let open = journal {
                        try open.close()
                        journal = try Journal.open(configuration)
                    }
                    if append.durable {
                        try journal?.append(append.events)
                    } else {
                        try journal?.appendDeferred(append.events)
                    }
                    acknowledged += 1
                }
                try journal?.close()
            } catch {
                failure = error
            }
            guard let failure else { continue }  // the step was in a path that tolerates it (index write)
            #expect(failure.kind == .io, "step \(step): \(failure)")
            #expect(failure.errno == code)
            if let journal {
                #expect(throws: JournalError.self) {
                    try journal.append([JournalEvent(type: "retry", body: Array("{}".utf8))])
                }
                do {
                    try journal.append([JournalEvent(type: "retry", body: Array("{}".utf8))])
                } catch {
                    #expect(error.kind == .unusable || error.kind == .closed)
                }
            }
            let reopened = try Journal.open(configuration)
            let bodies = try storedBodies(reopened)
            let survivors = (0...workload.appends.count).first { workload.bodies(ofFirst: $0) == bodies }
            #expect(survivors != nil, "step \(step): not a prefix")
            #expect((survivors ?? 0) >= acknowledged, "step \(step): an acknowledged append is missing")
        }
    }
}
