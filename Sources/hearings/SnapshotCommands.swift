import ArgumentParser
import Foundation
import Updater

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take a snapshot now (SQLite online backup, LZ4-compressed, with a manifest).",
        discussion: """
            The snapshot is written to snapshots/<name>.sqlite.lz4 with snapshots/<name>.json beside it \
            (journal position, time, state checksum, row counts, schema version, SHA-256 of the file and of \
            the database, sizes), both fsynced and renamed into place, and journaled as a `snapshot` event. \
            Manual restore: lz4 -dc snapshots/NAME.sqlite.lz4 > copy.sqlite && sqlite3 copy.sqlite 'PRAGMA integrity_check'
            """
    )

    @OptionGroup var home: HomeOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let manifest = try withSession(home: home, command: "snapshot") { try $0.snapshot(reason: "manual") }
        switch format {
        case .json: print(try jsonText(manifest))
        case .text:
            print(
                "snapshot \(manifest.name): position \(manifest.position), state checksum \(manifest.stateChecksum), "
                    + "\(manifest.databaseBytes) bytes → \(manifest.compressedBytes) compressed")
        }
    }
}

struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Point-in-time rebuild into a new file: a snapshot plus journal replay, verified.",
        discussion: """
            Exactly one target: --at TIME (RFC 3339 with an offset or Z; every event stamped at or before \
            that instant counts), --batch ID (the state right after that batch committed) or --position N \
            (every event at or before N). The newest snapshot at or before the target is restored, the \
            committed batches and compensations after it are replayed, then integrity_check, the foreign-key \
            check and the state checksum (which must equal the journal's at the target) are run before the \
            file is renamed into place. Never writes the live database. Reads only; needs no lock.
            """
    )

    @OptionGroup var home: HomeOptions

    @Option(help: "Rebuild as of this instant (RFC 3339, e.g. 2025-10-13T06:00:00Z).")
    var at: String?

    @Option(help: "Rebuild as of right after this batch.")
    var batch: Int64?

    @Option(help: "Rebuild as of this journal position.")
    var position: UInt64?

    @Option(help: "The new database file.")
    var output: String

    @Flag(help: "Replace --output if it exists.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Print the plan only.")
    var dryRun = false

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        let given = [at != nil, batch != nil, position != nil].filter { $0 }.count
        if given != 1 { throw ValidationError("give exactly one of --at, --batch or --position") }
        if let at, parseInstant(at) == nil {
            throw ValidationError(
                "--at must be RFC 3339 with an offset or Z, e.g. 2025-10-13T06:00:00Z (got \"\(at)\")")
        }
    }

    func run() throws {
        let target: RebuildTarget
        if let at, let instant = parseInstant(at) {
            target = .time(instant)
        } else if let batch {
            target = .batch(batch)
        } else {
            target = .position(position ?? 0)
        }
        let report: RebuildReport
        do {
            report = try Rebuild.run(
                home: DataHome(path: home.path), target: target, output: output, force: force, dryRun: dryRun)
        } catch let error as UpdaterError {
            printError("error: \(error.message)")
            throw ExitCode(error.exitCode)
        }
        switch format {
        case .json: print(try jsonText(report))
        case .text:
            print(
                "\(dryRun ? "plan: rebuild" : "rebuilt") \(report.target) (journal position \(report.position))"
            )
            print("  from \(report.snapshot.map { "snapshot \($0)" } ?? "an empty database")")
            print(
                "  replay \(report.batchesReplayed.count) batches, \(report.mutationsReplayed) row changes "
                    + "(\(report.eventsRead) events read)")
            if dryRun {
                print("  expected state checksum \(report.expectedChecksum)")
            } else {
                print(
                    "  state checksum \(report.checksum ?? "?") (the journal's: \(report.expectedChecksum)); integrity ok"
                )
                print("  written to \(report.output) in \(String(format: "%.2f", report.seconds)) s")
            }
        }
    }
}

/// Parses RFC 3339 with an offset or `Z`, fractional seconds allowed.
func parseInstant(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check everything: journal, snapshots, database markers, state checksum.",
        discussion: """
            Journal frames, checksums, hash chain, contiguous positions and index freshness; every snapshot \
            against its manifest; every database marker against the journal; the live database's state \
            checksum recomputed from every row against the journal's (this catches edits made behind the \
            journal's back). --drill also rebuilds the head into a temporary file and compares. Changes \
            nothing. Exit 4 when anything is wrong.
            """
    )

    @OptionGroup var home: HomeOptions

    @Flag(help: "Also rebuild the head into a temporary file and compare it with the live database.")
    var drill = false

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let report = try Verifier.run(home: DataHome(path: home.path), drill: drill)
        switch format {
        case .json: print(try jsonText(report))
        case .text:
            for check in report.checks {
                print("\(check.ok ? "ok      " : "PROBLEM ") \(check.name): \(check.detail)")
            }
            print(report.ok ? "verified" : "verification found problems")
        }
        if !report.ok { throw ExitCode(4) }
    }
}

struct ImportLegacyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-legacy",
        abstract: "Adopt a predecessor database as an empty data home's baseline.",
        discussion: """
            Copies the predecessor's committees, hearings, committee links, witnesses, appearances, documents \
            and transcripts into this schema, journals a `genesis` event (the source's SHA-256, row counts \
            and the data flaws it carries) and takes the baseline snapshot. Flaws (empty titles, two primary \
            committees, every status Scheduled, repeated witness names …) are reported, not fixed; later \
            ingest runs correct what the API says.
            """
    )

    @OptionGroup var home: HomeOptions

    @Argument(help: "The predecessor's SQLite database.")
    var path: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let report = try withSession(home: home, command: "import-legacy") { try $0.importLegacy(path: path) }
        switch format {
        case .json: print(try jsonText(report))
        case .text:
            print("adopted \(report.source) (SHA-256 \(report.sourceSHA256))")
            for (table, count) in report.rowCounts.sorted(by: { $0.key < $1.key }) {
                print("  \(table): \(count) rows")
            }
            print("  flaws kept as they are:")
            for flaw in report.flaws {
                print("    \(flaw.count) \(flaw.kind) (e.g. \(flaw.examples.joined(separator: ", ")))")
            }
            print(
                "  genesis at journal position \(report.genesisPosition); baseline snapshot \(report.snapshot)"
            )
            print("  state checksum \(report.stateChecksum)")
        }
    }
}
